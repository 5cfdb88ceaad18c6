"""Asynchronous invocation (``Event``): accept now, run later, retry as AWS does (§6).

``submit`` checks the 1 MB limit and hands the event to a task of the simulator's task group;
the caller gets the request id at once (HTTP 202 in the Invoke API). Then, for each event:

* before every attempt, an event older than the function's ``max_event_age`` is discarded
  (``EventAgeExceeded``);
* a function error is retried up to ``retries`` times, about 1 minute and then 2 minutes after
  the failed attempt, on the injected clock, with the same request id;
* a throttle puts the event back with exponential back-off (1 s doubling, capped at 5 min)
  without using up a retry, bounded only by the event's age;
* a function whose reserved concurrency is 0 never runs it;
* the outcome goes to the ``on_success`` / ``on_failure`` destination as the invocation record
  of §6.2 (a ``function:NAME`` destination is invoked asynchronously with it; a ``queue:NAME``
  destination gets it as a message body).

Every attempt is in the ledger; a failed one says in ``reason`` what happens next, and an event
that never ran is recorded as ``dropped`` with the condition as reason.

While an event waits for its retry it is not pending work: ``settle()`` returns, and
``advance()`` moves the clock to the retry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from ..activity import Activity
from ..clock import Clock
from ..config import Destination
from ..errors import RequestTooLarge, TooManyRequests
from ..events import destinations
from ..ledger import Attempt, Ledger, Outcome
from ..runtime.spec import FunctionSpec
from ..types import Spawn
from ..unconfirmed import ZERO_CONCURRENCY_CONDITION
from .sync import ASYNC_PAYLOAD_LIMIT, Invoker, InvokeResult, new_request_id

log = structlog.get_logger("eventsim.invocation")


#: §6.1: waits before the first and second retry of a function error.
RETRY_DELAYS_S = (60.0, 120.0)
#: §6.1: back-off after a throttle: starts at 1 s, doubles, capped at 5 minutes.
THROTTLE_BACKOFF_S = (1.0, 300.0)


@dataclass
class _Event:
    spec: FunctionSpec
    body: bytes
    event: Any
    source: str
    request_id: str
    enqueued_at: float
    runs: int = 0  # attempts that reached the handler
    retries: int = 0
    throttles: int = 0
    last: InvokeResult | None = field(default=None, repr=False)


class AsyncInvoker:
    """Lambda's internal event queue, one task per queued event."""

    def __init__(
        self,
        invoker: Invoker,
        functions: Mapping[str, FunctionSpec],
        *,
        ledger: Ledger,
        activity: Activity,
        clock: Clock,
        spawn: Spawn,
        send_to_queue: Callable[[str, str], object] | None = None,
    ) -> None:
        self._invoker = invoker
        self._send_to_queue = send_to_queue
        self._functions = functions
        self._ledger = ledger
        self._activity = activity
        self._clock = clock
        self._spawn = spawn

    def submit(
        self,
        spec: FunctionSpec,
        body: bytes,
        *,
        event: Any,
        source: str = "invoke",
        request_id: str | None = None,
    ) -> str:
        """Queue one event for ``spec``; return its request id."""
        if len(body) > ASYNC_PAYLOAD_LIMIT:
            raise RequestTooLarge(
                f"{spec.name}: asynchronous payload must be at most {ASYNC_PAYLOAD_LIMIT} bytes "
                f"(got {len(body)})"
            )
        item = _Event(spec, body, event, source, request_id or new_request_id(), self._clock.time())
        self._activity.begin("event")
        self._spawn(self._deliver(item))
        return item.request_id

    async def _deliver(self, item: _Event) -> None:
        try:
            while (delay := await self._attempt(item)) is not None:
                # Waiting on the clock is not pending work.
                self._activity.end("event")
                try:
                    await self._clock.sleep(delay)
                finally:
                    self._activity.begin("event")
        except Exception:
            log.exception(
                "event.delivery_failed", function=item.spec.name, request_id=item.request_id
            )
        finally:
            self._activity.end("event")

    async def _attempt(self, item: _Event) -> float | None:
        """Try once; return how long to wait before the next try, or None when done."""
        spec = item.spec
        if self._clock.time() - item.enqueued_at >= spec.max_event_age_s:
            self._drop(item, "EventAgeExceeded")
            return None
        if spec.reserved_concurrency == 0:
            self._drop(item, ZERO_CONCURRENCY_CONDITION)
            return None
        will_retry = item.retries < spec.retries
        reason = (
            f"retry {item.retries + 1} of {spec.retries} in {RETRY_DELAYS_S[item.retries]:.0f} s"
            if will_retry
            else "RetriesExhausted"
        )
        try:
            result = await self._invoker.invoke(
                spec,
                item.body,
                event=item.event,
                invocation_type="Event",
                source=item.source,
                attempt=item.runs + 1,
                request_id=item.request_id,
                reason_if_failed=reason,
            )
        except TooManyRequests:
            item.throttles += 1
            first, cap = THROTTLE_BACKOFF_S
            return min(first * 2.0 ** (item.throttles - 1), cap)
        item.runs += 1
        item.last = result
        if result.ok:
            self._send(item, spec.on_success, "Success", result)
            return None
        if will_retry:
            item.retries += 1
            return RETRY_DELAYS_S[item.retries - 1]
        self._send(item, spec.on_failure, "RetriesExhausted", result)
        return None

    def _drop(self, item: _Event, condition: str) -> None:
        self._ledger.record(
            Attempt(
                function=item.spec.name,
                request_id=item.request_id,
                invocation_type="Event",
                source=item.source,
                event=item.event,
                attempt=item.runs + 1,
                started_at=self._clock.now(),
                outcome=Outcome.DROPPED,
                reason=condition,
            )
        )
        log.warning(
            "event.dropped", function=item.spec.name, request_id=item.request_id, reason=condition
        )
        self._send(item, item.spec.on_failure, condition, item.last)

    def _send(
        self,
        item: _Event,
        destination: Destination | None,
        condition: str,
        result: InvokeResult | None,
    ) -> None:
        if destination is None:
            return
        response: dict[str, Any] = {}
        if result is not None:
            response = {
                "response_payload": result.payload,
                "function_error": result.function_error,
                "executed_version": result.executed_version,
            }
        record = destinations.invocation_record(
            request_id=item.request_id,
            function_arn=item.spec.qualified_arn,
            condition=condition,  # type: ignore[arg-type]  # conditions are AWS's strings
            approximate_invoke_count=item.runs,
            request_payload=item.event,
            timestamp=self._clock.now(),
            **response,
        )
        body = json.dumps(record)
        if destination.kind == "queue":
            # §6.2: the record is the message body (config allows standard queues only).
            assert self._send_to_queue is not None
            self._send_to_queue(destination.name, body)
            return
        target = self._functions[destination.name]
        self.submit(target, body.encode(), event=record, source=f"destination:{item.spec.name}")
