"""Synchronous invocation (``RequestResponse``): run a handler once and record the attempt.

Every path that runs a handler goes through ``Invoker.invoke``: the Invoke API, the async queue's
poller, and (later) event source mappings. It enforces payload limits, asks the function's pool
for an environment (which may throttle), records the attempt in the ledger and turns the
execution into an ``InvokeResult``.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from typing import Any

from .. import unconfirmed
from ..activity import Activity
from ..clock import Clock
from ..errors import InvalidRequestContent, RequestTooLarge, TooManyRequests
from ..faults import Faults
from ..ledger import Attempt, Code, Ledger, Outcome
from ..runtime.base import Execution, InvokeRequest, Status
from ..runtime.logs import billed_duration_ms, max_memory_used_mb
from ..runtime.pool import Runtime
from ..runtime.spec import VERSION, FunctionSpec
from ..types import Tasks

#: §8.5: 6 MB request and response for synchronous invocations.
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
#: §6.1: 1 MB for asynchronous invocations.
ASYNC_PAYLOAD_LIMIT = 1024 * 1024

_OUTCOMES = {
    Status.OK: Outcome.SUCCESS,
    Status.ERROR: Outcome.ERROR,
    Status.TIMEOUT: Outcome.TIMEOUT,
    Status.CRASH: Outcome.CRASH,
}


@dataclass(frozen=True, slots=True)
class InvokeResult:
    """What Lambda's Invoke API answers.

    ``payload`` is the decoded result or, when ``function_error`` is ``"Unhandled"``, the AWS
    error object (``errorMessage``, ``errorType``, ...). Asynchronous and dry-run invocations
    have ``status_code`` 202 and 204 and no payload.
    """

    request_id: str
    payload: Any = None
    function_error: str | None = None
    status_code: int = 200
    executed_version: str = VERSION
    duration_ms: float = 0.0
    billed_duration_ms: int = 0
    init_duration_ms: float | None = None
    max_memory_used_mb: int | None = None
    log_tail: str = ""
    raw_payload: bytes = b""

    @property
    def ok(self) -> bool:
        return self.function_error is None


# Ids need to be unique, not unpredictable: random.getrandbits costs no system call, which
# matters on the invoke path.
_random = random.Random()


_V4 = (0x4000 << 64) | (0x8000 << 48)  # version 4, RFC 4122 variant
_V4_MASK = ~((0xF000 << 64) | (0xC000 << 48))


@dataclass(frozen=True)
class Delivery:
    """What an event source mapping needs to deliver batches: the invoker, the ledger, the
    activity tracker, the clock and the simulator's supervised tasks."""

    invoker: Invoker
    ledger: Ledger
    activity: Activity
    clock: Clock
    tasks: Tasks


def new_request_id() -> str:
    """A random UUID4 string, as Lambda's request ids are."""
    h = f"{(_random.getrandbits(128) & _V4_MASK) | _V4:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_trace_id() -> str:
    return (
        f"Root=1-{int(time.time()):08x}-{_random.getrandbits(96):024x};"
        f"Parent={_random.getrandbits(64):016x};Sampled=0"
    )


def encode_event(event: Any) -> tuple[bytes, Any]:
    """An event as Invoke takes it: the JSON bytes and the decoded value, from either a value
    or JSON text (``InvalidRequestContent`` for neither); empty text is ``{}``."""
    if isinstance(event, bytes | bytearray):
        body = bytes(event)
        if not body.strip():
            body = unconfirmed.EMPTY_PAYLOAD
        try:
            return body, json.loads(body)
        except ValueError as exc:
            raise InvalidRequestContent(f"the event is not valid JSON: {exc}") from None
        except RecursionError:
            raise InvalidRequestContent("the event is nested too deeply to decode") from None
    try:
        return json.dumps(event).encode(), event
    except (TypeError, ValueError) as exc:
        raise InvalidRequestContent(f"the event cannot be encoded as JSON: {exc}") from None
    except RecursionError:
        raise InvalidRequestContent("the event is nested too deeply to encode") from None


def decode_payload(raw: bytes) -> Any:
    """A result as boto3 users see it: JSON decoded where it is JSON, else the text."""
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")


class Invoker:
    """Runs one invocation attempt and records it."""

    def __init__(self, runtime: Runtime, ledger: Ledger, activity: Activity, clock: Clock) -> None:
        self._runtime = runtime
        #: Faults a test injected (``sim.faults``); None outside tests.
        self.faults: Faults | None = None
        self._ledger = ledger
        self._activity = activity
        self._clock = clock

    async def invoke(
        self,
        spec: FunctionSpec,
        body: bytes,
        *,
        event: Any,
        invocation_type: str = "RequestResponse",
        source: str = "invoke",
        attempt: int = 1,
        request_id: str | None = None,
        client_context: dict[str, Any] | None = None,
        invoked_arn: str | None = None,
        reason_if_failed: str | None = None,
        code_if_failed: Code | None = None,
    ) -> InvokeResult:
        """Run the handler once; raise ``RequestTooLarge`` or ``TooManyRequests``.

        ``reason_if_failed`` (and ``code_if_failed``) is recorded on the attempt if the handler
        fails (what happens next: a retry, or why there is none).
        """
        if invocation_type == "RequestResponse" and len(body) > SYNC_PAYLOAD_LIMIT:
            raise RequestTooLarge(
                f"{spec.name}: request must be smaller than {SYNC_PAYLOAD_LIMIT} bytes for the "
                f"InvokeFunction operation (got {len(body)})"
            )
        request = InvokeRequest(
            request_id=request_id or new_request_id(),
            body=body,
            invoked_arn=invoked_arn or spec.arn,
            timeout_s=spec.timeout_s,
            trace_id=new_trace_id(),
            client_context=client_context,
        )
        record = {
            "function": spec.name,
            "request_id": request.request_id,
            "invocation_type": invocation_type,
            "source": source,
            "event": event,
            "attempt": attempt,
            "started_at": self._clock.now(),
        }
        fault = self.faults.take(spec.name) if self.faults is not None else None
        if fault is not None:
            return self._injected(fault, spec, request, record)
        self._activity.begin("invoke")
        try:
            execution, log = await self._runtime.pools[spec.name].run(request)
        except TooManyRequests as exc:
            self._ledger.record(
                Attempt(**record, outcome=Outcome.THROTTLED, reason=exc.reason, code=Code.THROTTLED)
            )
            raise
        finally:
            self._activity.end("invoke")
        self._limit_response(execution, request, invocation_type)
        result = InvokeResult(
            request_id=request.request_id,
            payload=decode_payload(execution.payload),
            function_error=None if execution.status is Status.OK else "Unhandled",
            duration_ms=round(execution.duration_ms, 2),
            billed_duration_ms=billed_duration_ms(execution),
            init_duration_ms=execution.init_duration_ms,
            max_memory_used_mb=max_memory_used_mb(execution),
            log_tail=log.tail(),
            raw_payload=execution.payload,
        )
        self._ledger.record(
            Attempt(
                **record,
                size=len(body) + len(execution.payload) + len(result.log_tail),
                outcome=_OUTCOMES[execution.status],
                error_type=execution.error_type,
                payload=result.payload,
                duration_ms=result.duration_ms,
                billed_duration_ms=result.billed_duration_ms,
                init_duration_ms=result.init_duration_ms,
                max_memory_used_mb=result.max_memory_used_mb,
                log_tail=result.log_tail,
                reason=None if execution.status is Status.OK else reason_if_failed,
                code=None if execution.status is Status.OK else code_if_failed,
            )
        )
        return result

    def _injected(
        self, fault: str, spec: FunctionSpec, request: InvokeRequest, record: dict[str, Any]
    ) -> InvokeResult:
        """An invocation a test asked to fail: what AWS would report, the handler not run."""
        reason = f"injected fault: {fault}"
        if fault == "throttle":
            self._ledger.record(
                Attempt(
                    **record, outcome=Outcome.THROTTLED, reason=reason, code=Code.INJECTED_FAULT
                )
            )
            raise TooManyRequests(f"{spec.name}: {reason}", "InjectedThrottle")
        if fault == "time_out":
            error = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": unconfirmed.timeout_message(request.request_id, spec.timeout_s),
            }
            outcome = Outcome.TIMEOUT
        else:
            error = {"errorType": "InjectedFault", "errorMessage": "eventsim injected a failure"}
            outcome = Outcome.ERROR
        raw = json.dumps(error).encode()
        self._ledger.record(
            Attempt(**record, outcome=outcome, error_type=error["errorType"], payload=error,
                    reason=reason, code=Code.INJECTED_FAULT)
        )  # fmt: skip
        return InvokeResult(
            request_id=request.request_id, payload=error, function_error="Unhandled",
            raw_payload=raw,
        )  # fmt: skip

    @staticmethod
    def _limit_response(execution: Execution, request: InvokeRequest, invocation_type: str) -> None:
        size = len(execution.payload)
        if invocation_type != "RequestResponse" or size <= SYNC_PAYLOAD_LIMIT:
            return
        error = {
            "errorMessage": unconfirmed.response_too_large_message(size, SYNC_PAYLOAD_LIMIT),
            "errorType": unconfirmed.RESPONSE_TOO_LARGE_TYPE,
        }
        execution.status = Status.ERROR
        execution.error_type = unconfirmed.RESPONSE_TOO_LARGE_TYPE
        execution.payload = json.dumps(error).encode()
