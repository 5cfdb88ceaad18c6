"""Asynchronous invocation (``Event``): accept now, run later, retry as AWS does (§6).

``submit`` checks the 1 MB limit and writes the event to the state folder's event store
(``event_store``) before it returns the request id (HTTP 202 in the Invoke API): from then on
the event survives any stop. Each function has a lane of ready events worked by at most as many
tasks as it may have environments; then, for each event:

* before every attempt, an event older than the function's ``max_event_age`` is discarded
  (``EventAgeExceeded``);
* a function error is retried up to ``retries`` times, about 1 minute and then 2 minutes after
  the failed attempt, on the injected clock, with the same request id;
* a throttle puts the event back with exponential back-off (1 s doubling, capped at 5 min)
  without using up a retry, bounded only by the event's age;
* a function whose reserved concurrency is 0 never runs it;
* the outcome goes to the ``on_success`` / ``on_failure`` destination as the invocation record
  of §6.2 (a ``function:NAME`` destination is invoked asynchronously with it; a queue, topic or
  bus gets it through the ``Outbox``), a failed event to the ``dead_letter_queue`` unchanged
  (§6.3), and only then is the event removed from the store.

After a restart ``resume()`` puts every stored event back, a chunk at a time: with its request
id, its attempt and retry counts, and its original age, so max event age and retries keep
AWS's meaning. An attempt cut short by the stop is made again under the same attempt number
(at least once).

Every attempt is in the ledger; a failed one says in ``reason`` what happens next, and an event
that never ran is recorded as ``dropped`` with the condition as reason.

While an event waits for its retry it is not pending work: ``settle()`` returns, and
``advance()`` moves the clock to the retry. One timer task (``run_timer``) holds every waiting
event in a heap.
"""

from __future__ import annotations

import asyncio
import heapq
import json
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from ..activity import Activity, Waiter
from ..clock import Clock
from ..config import Destination
from ..errors import RequestTooLarge, TargetRefused, TooManyRequests
from ..events import destinations
from ..ledger import Attempt, Code, Ledger, Outcome
from ..memory import after_bulk_load
from ..runtime.spec import FunctionSpec
from ..supervisor import Supervisor
from ..unconfirmed import DLQ_ERROR_CODE, ZERO_CONCURRENCY_CONDITION
from .event_store import StoredEvent
from .outbox import Outbox
from .sync import ASYNC_PAYLOAD_LIMIT, Invoker, InvokeResult, new_request_id

log = structlog.get_logger("eventsim.invocation")


#: §6.1: waits before the first and second retry of a function error.
RETRY_DELAYS_S = (60.0, 120.0)
#: §6.1: back-off after a throttle: starts at 1 s, doubles, capped at 5 minutes.
THROTTLE_BACKOFF_S = (1.0, 300.0)


#: Stored events read per step when resuming: the loop never stalls for the whole backlog.
RESUME_CHUNK = 500
#: Back-off after an unexpected failure of eventsim itself while handling an event (the event
#: is kept and tried again; the failure is logged and shown in health).
FAILURE_BACKOFF_S = (1.0, 300.0)


class Store(Protocol):
    """What the invoker needs of an event store (``EventStore`` or ``MemoryEventStore``)."""

    def add(
        self, request_id: str, function: str, source: str, body: bytes, enqueued_at: float
    ) -> int: ...

    def update(
        self, id: int, *, runs: int, retries: int, throttles: int, due: float,
        last: dict[str, Any] | None,
    ) -> None: ...  # fmt: skip

    def remove(self, id: int) -> None: ...

    def last_id(self) -> int: ...

    def pending(
        self, after: int = 0, up_to: int | None = None, limit: int = -1
    ) -> list[StoredEvent]: ...


@dataclass(slots=True)
class _Event:
    id: int  # in the store
    spec: FunctionSpec
    body: bytes
    event: Any
    source: str
    request_id: str
    enqueued_at: float
    runs: int = 0  # attempts that reached the handler
    retries: int = 0
    throttles: int = 0
    failures: int = 0  # eventsim's own failures handling it (not persisted)
    last: dict[str, Any] | None = field(default=None, repr=False)  # the last result


@dataclass(slots=True)
class _Lane:
    """One function's ready events and the tasks working them."""

    ready: deque[_Event] = field(default_factory=deque)
    workers: int = 0


class AsyncInvoker:
    """Lambda's internal event queue: durable, with at most ``concurrency`` deliveries of a
    function at once (more would only wait for an execution environment)."""

    def __init__(
        self,
        invoker: Invoker,
        functions: Mapping[str, FunctionSpec],
        *,
        ledger: Ledger,
        activity: Activity,
        clock: Clock,
        supervisor: Supervisor,
        store: Store,
        concurrency: int,
        outbox: Outbox | None = None,
    ) -> None:
        self._invoker = invoker
        self._outbox = outbox
        self._functions = functions
        self._ledger = ledger
        self._activity = activity
        self._clock = clock
        self._supervisor = supervisor
        self._store = store
        self._concurrency = concurrency
        self._lanes: dict[str, _Lane] = {}
        self._delayed: list[tuple[float, int, _Event]] = []  # (due, id, event), a heap
        self._timer = Waiter(activity, clock, "event-timer")

    def submit(
        self,
        spec: FunctionSpec,
        body: bytes,
        *,
        event: Any,
        source: str = "invoke",
        request_id: str | None = None,
    ) -> str:
        """Store one event for ``spec`` and queue it; return its request id."""
        if len(body) > ASYNC_PAYLOAD_LIMIT:
            raise RequestTooLarge(
                f"{spec.name}: asynchronous payload must be at most {ASYNC_PAYLOAD_LIMIT} bytes "
                f"(got {len(body)})"
            )
        request_id = request_id or new_request_id()
        now = self._clock.time()
        id = self._store.add(request_id, spec.name, source, body, now)
        self._ready(_Event(id, spec, body, event, source, request_id, now))
        return request_id

    def resume(self) -> Coroutine[Any, Any, None]:
        """Queue the events a previous run accepted and did not finish: run the returned
        coroutine as a task.

        The events stored by then are the ones to resume (later ones are queued already); it
        reads them ``RESUME_CHUNK`` at a time and lets the loop run in between, so the first
        resumed event is delivered before the last one is read. Counted as pending work from
        this call until done.
        """
        self._activity.begin("resume")
        return self._resume(self._store.last_id())

    async def _resume(self, up_to: int) -> None:
        resumed, after = 0, 0
        try:
            while chunk := self._store.pending(after, up_to, RESUME_CHUNK):
                self._requeue(chunk)
                resumed += len(chunk)
                after = chunk[-1].id
                after_bulk_load(resumed)
                await asyncio.sleep(0)
        finally:
            self._activity.end("resume")
        if resumed:
            log.info("async.resumed", events=resumed)

    def _requeue(self, stored: list[StoredEvent]) -> None:
        now = self._clock.time()
        for row in stored:
            spec = self._functions.get(row.function)
            try:
                event = json.loads(row.body)
            except ValueError:
                event = row.body.decode("utf-8", "replace")
            if spec is None:
                self._ledger.record(
                    Attempt.dropped(
                        function=row.function, request_id=row.request_id, source=row.source,
                        event=event, at=self._clock.now(), invocation_type="Event",
                        reason="the function is no longer in the config",
                        code=Code.FUNCTION_REMOVED,
                    )
                )  # fmt: skip
                log.warning(
                    "event.dropped", function=row.function, request_id=row.request_id,
                    reason="the function is no longer in the config",
                )  # fmt: skip
                self._store.remove(row.id)
                continue
            item = _Event(
                row.id, spec, row.body, event, row.source, row.request_id, row.enqueued_at,
                runs=row.runs, retries=row.retries, throttles=row.throttles, last=row.last,
            )  # fmt: skip
            if row.due <= now:
                self._ready(item)
            else:
                self._later(item, row.due - now)

    # --- lanes ----------------------------------------------------------------------------

    def _ready(self, item: _Event) -> None:
        self._activity.begin("event")  # ended once its attempt is over
        lane = self._lanes.setdefault(item.spec.name, _Lane())
        lane.ready.append(item)
        self._kick(item.spec.name, lane)

    def _kick(self, name: str, lane: _Lane) -> None:
        while lane.workers < min(self._concurrency, len(lane.ready)):
            lane.workers += 1
            self._supervisor.spawn(self._work(name, lane), part=f"async:{name}")

    async def _work(self, name: str, lane: _Lane) -> None:
        try:
            while lane.ready:
                item = lane.ready.popleft()
                try:
                    delay = await self._attempt_safely(item)
                except BaseException:
                    self._activity.end("event")
                    raise
                if delay is None:
                    self._activity.end("event")
                else:
                    self._later(item, delay, counted=True)
        finally:
            lane.workers -= 1

    def _later(self, item: _Event, delay: float, *, counted: bool = False) -> None:
        """Queue ``item`` again ``delay`` seconds from now on the clock (``counted``: it is
        counted as pending work, which ends here: waiting is not pending work)."""
        heapq.heappush(self._delayed, (self._clock.time() + delay, item.id, item))
        self._timer.wake()  # counted busy at once: settle() cannot slip in between
        if counted:
            self._activity.end("event")

    async def run_timer(self) -> None:
        """Forever: move delayed events whose time has come to their lanes. One task for
        every delayed event (retries and throttle back-offs), whatever their number."""
        while True:
            now = self._clock.time()
            while self._delayed and self._delayed[0][0] <= now:
                _, _, item = heapq.heappop(self._delayed)
                self._ready(item)
            await self._timer.wait(self._delayed[0][0] if self._delayed else None)

    # --- one attempt ----------------------------------------------------------------------

    async def _attempt_safely(self, item: _Event) -> float | None:
        """``_attempt``, with eventsim's own failures logged and the event tried again."""
        try:
            return await self._attempt(item)
        except Exception as exc:  # noqa: BLE001 - the event is kept; the failure is reported
            item.failures += 1
            first, cap = FAILURE_BACKOFF_S
            delay = min(first * 2.0 ** (item.failures - 1), cap)
            self._supervisor.report(f"async:{item.spec.name}", exc)
            log.error(
                "event.handling_failed", function=item.spec.name, request_id=item.request_id,
                retry_in_s=delay,
            )  # fmt: skip
            return delay

    async def _attempt(self, item: _Event) -> float | None:
        """Try once; return how long to wait before the next try, or None when done."""
        spec = item.spec
        if self._clock.time() - item.enqueued_at >= spec.max_event_age_s:
            self._drop(item, "EventAgeExceeded", Code.EVENT_AGE_EXCEEDED)
            return None
        if spec.reserved_concurrency == 0:
            self._drop(item, ZERO_CONCURRENCY_CONDITION, Code.ZERO_CONCURRENCY)
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
                code_if_failed=Code.RETRY_SCHEDULED if will_retry else Code.RETRIES_EXHAUSTED,
            )
        except TooManyRequests:
            item.throttles += 1
            first, cap = THROTTLE_BACKOFF_S
            return self._pending(item, min(first * 2.0 ** (item.throttles - 1), cap))
        item.runs += 1
        item.last = _summary(result)
        if result.ok:
            self._finish(item, spec.on_success, "Success")
            return None
        if will_retry:
            item.retries += 1
            return self._pending(item, RETRY_DELAYS_S[item.retries - 1])
        self._finish(item, spec.on_failure, "RetriesExhausted")
        return None

    def _pending(self, item: _Event, delay: float) -> float:
        """Record the event's counts and when it is next due; return ``delay``."""
        self._store.update(
            item.id, runs=item.runs, retries=item.retries, throttles=item.throttles,
            due=self._clock.time() + delay, last=item.last,
        )  # fmt: skip
        return delay

    def _drop(self, item: _Event, condition: str, code: Code) -> None:
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
                code=code,
            )
        )
        log.warning(
            "event.dropped", function=item.spec.name, request_id=item.request_id, reason=condition
        )
        self._finish(item, item.spec.on_failure, condition)

    def _finish(self, item: _Event, destination: Destination | None, condition: str) -> None:
        """The outcome is final: send it to ``destination`` (if any) and a failed event to the
        dead-letter target (if any), then forget the event.

        Sent first, removed second: a stop in between sends again next time (at least once),
        never not at all.
        """
        if destination is not None:
            done = "the invocation record was sent to"
            self._deliver(item, destination, condition, Code.DESTINATION, done, self._send)
        dead_letter = item.spec.dead_letter
        if dead_letter is not None and condition != "Success":
            done = "the event was sent to the dead-letter target"
            self._deliver(item, dead_letter, condition, Code.DEAD_LETTERED, done,
                          self._send_dead_letter)  # fmt: skip
        self._store.remove(item.id)

    def _deliver(
        self,
        item: _Event,
        target: Destination,
        condition: str,
        code: Code,
        done: str,
        send: Callable[[_Event, Destination, str], None],
    ) -> None:
        """Send with ``send`` and record it (or that ``target`` refused) in the ledger."""
        outcome = Outcome.MOVED
        reason = f"{condition}: {done} {target}"
        try:
            send(item, target, condition)
        except TargetRefused as exc:
            outcome, reason = Outcome.DROPPED, f"{condition}: not sent to {exc}"
            log.warning("event.not_sent", function=item.spec.name, request_id=item.request_id,
                        reason=reason)  # fmt: skip
        self._ledger.record(
            Attempt.dropped(
                function=item.spec.name, request_id=item.request_id, source=item.source,
                event=item.event, at=self._clock.now(), invocation_type="Event",
                reason=reason, code=code, outcome=outcome,
            )
        )  # fmt: skip

    def _send(self, item: _Event, destination: Destination, condition: str) -> None:
        record = destinations.invocation_record(
            request_id=item.request_id,
            function_arn=item.spec.qualified_arn,
            condition=condition,  # type: ignore[arg-type]  # conditions are AWS's strings
            approximate_invoke_count=item.runs,
            request_payload=item.event,
            timestamp=self._clock.now(),
            **(item.last or {}),
        )
        if destination.kind == "function":
            target = self._functions.get(destination.name)
            if target is None:
                raise TargetRefused(destination, "no such function")
            body = json.dumps(record).encode()
            self.submit(target, body, event=record, source=f"destination:{item.spec.name}")
            return
        assert self._outbox is not None
        self._outbox.send_record(destination, record, function_arn=item.spec.arn)

    def _send_dead_letter(self, item: _Event, target: Destination, condition: str) -> None:
        """§6.3: the event as it came, with what went wrong as message attributes."""
        payload = (item.last or {}).get("response_payload")
        message = payload.get("errorMessage") if isinstance(payload, dict) else None
        attributes = destinations.dlq_message_attributes(
            request_id=item.request_id,
            error_code=DLQ_ERROR_CODE,
            error_message=str(message) if message is not None else condition,
        )
        assert self._outbox is not None
        self._outbox.dead_letter(target, item.body.decode(), attributes)


def _summary(result: InvokeResult) -> dict[str, Any]:
    """What the invocation record needs of a result (kept in the store between attempts)."""
    return {
        "response_payload": result.payload,
        "function_error": result.function_error,
        "executed_version": result.executed_version,
    }
