"""Fault injection for tests: make functions fail, time out or be throttled, deliver messages
twice, deliver S3 notifications out of order — so users can test idempotency and retries.

``sim.faults`` is a ``Faults``. Injected faults act where AWS's would, and every one is in the
ledger with the reason ``injected fault: ...``::

    sim.faults.fail("resize", times=2)          # the next 2 invocations fail (handler not run)
    sim.faults.time_out("resize")               # the next one times out
    sim.faults.throttle("resize")               # the next one is throttled (429)
    sim.faults.duplicate("jobs", times=1)       # the next message deleted comes back once
    sim.faults.reorder("uploads", count=3)      # the next 3 notifications arrive reversed
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Literal

from .errors import FunctionNotFound, SimulatorStateError, ValueRejected

FunctionFault = Literal["fail", "time_out", "throttle"]


class Faults:
    """Pending faults; each fault is used once."""

    def __init__(
        self,
        *,
        duplicate: Callable[[str, int], None] | None = None,
        reorder: Callable[[str, int], None] | None = None,
        known: Callable[[], set[str]] | None = None,
    ) -> None:
        self._functions: dict[str, deque[FunctionFault]] = {}
        self._duplicate = duplicate
        self._reorder = reorder
        self._known = known

    def _add(self, function: str, fault: FunctionFault, times: int) -> None:
        if self._known is not None and function not in self._known():
            raise FunctionNotFound(function, sorted(self._known()))
        if times < 1:
            raise ValueRejected(f"times must be at least 1 (got {times})")
        self._functions.setdefault(function, deque()).extend([fault] * times)

    def fail(self, function: str, times: int = 1) -> None:
        """The next ``times`` invocations of ``function`` fail with an unhandled error
        (``errorType: InjectedFault``) without running the handler."""
        self._add(function, "fail", times)

    def time_out(self, function: str, times: int = 1) -> None:
        """The next ``times`` invocations of ``function`` time out (``Sandbox.Timedout``)."""
        self._add(function, "time_out", times)

    def throttle(self, function: str, times: int = 1) -> None:
        """The next ``times`` invocations of ``function`` are throttled (429)."""
        self._add(function, "throttle", times)

    def duplicate(self, queue: str, times: int = 1) -> None:
        """The next ``times`` messages deleted from ``queue`` come back once more, as SQS's
        at-least-once delivery allows: the same MessageId, a higher receive count."""
        if self._duplicate is None:
            raise SimulatorStateError("this simulator has no queues")
        self._duplicate(queue, times)

    def reorder(self, bucket: str, count: int = 2) -> None:
        """The next ``count`` notifications of ``bucket`` are held until all ``count``
        happened, then delivered newest first (S3 does not promise order)."""
        if self._reorder is None:
            raise SimulatorStateError("this simulator has no buckets")
        self._reorder(bucket, count)

    def take(self, function: str) -> FunctionFault | None:
        """The fault for this invocation of ``function``, if one is pending (used once)."""
        pending = self._functions.get(function)
        return pending.popleft() if pending else None
