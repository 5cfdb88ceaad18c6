"""Every invocation attempt, recorded.

The ledger is where tests, logs and (later) the dashboard learn what happened: each attempt to
run a handler, and each event that was throttled, dropped or expired instead, is one
``Attempt``.

Example::

    result = await sim.invoke("hello", {"x": 1})
    [attempt] = sim.ledger.for_function("hello")
    assert attempt.outcome is Outcome.SUCCESS and attempt.event == {"x": 1}
    await sim.ledger.wait_for("worker", count=3, outcome=Outcome.ERROR)
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    SUCCESS = "success"
    ERROR = "error"  # the handler raised, or INIT failed, or the result could not be marshalled
    TIMEOUT = "timeout"
    CRASH = "crash"  # the runtime process exited mid-invocation
    THROTTLED = "throttled"  # no handler ran: concurrency exhausted
    DROPPED = "dropped"  # no handler ran: discarded, see ``reason``

    @property
    def is_failure(self) -> bool:
        return self is not Outcome.SUCCESS


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt to deliver an event to a function."""

    function: str
    request_id: str
    invocation_type: str  # "RequestResponse" | "Event"
    source: str  # which trigger: "invoke", later "s3:uploads", "sqs:jobs", ...
    event: Any  # the exact payload the handler got (decoded JSON)
    attempt: int  # 1-based
    started_at: datetime  # clock time
    outcome: Outcome
    error_type: str | None = None
    payload: Any = None  # decoded result, or the error object
    duration_ms: float = 0.0
    billed_duration_ms: int = 0
    init_duration_ms: float | None = None
    max_memory_used_mb: int | None = None
    log_tail: str = ""
    reason: str | None = None  # why it was retried, dropped or expired

    @classmethod
    def dropped(
        cls, *, function: str, request_id: str, source: str, event: Any, at: datetime,
        reason: str, invocation_type: str = "RequestResponse",
    ) -> Attempt:  # fmt: skip
        """An event no handler ran for (filtered out, expired, discarded, unmatched)."""
        return cls(
            function=function, request_id=request_id, invocation_type=invocation_type,
            source=source, event=event, attempt=0, started_at=at, outcome=Outcome.DROPPED,
            reason=reason,
        )  # fmt: skip

    @property
    def cold_start(self) -> bool:
        return self.init_duration_ms is not None


Observer = Callable[[Attempt], None]


#: How many attempts a ledger keeps by default; the oldest are dropped past it, so that a
#: long-running ``eventsim up`` does not grow without bound.
DEFAULT_LEDGER_LIMIT = 100_000


class Ledger:
    """A record of the most recent attempts (``limit`` of them) with queries and waits."""

    def __init__(self, limit: int | None = DEFAULT_LEDGER_LIMIT) -> None:
        self.limit = limit
        self._attempts: deque[Attempt] = deque(maxlen=limit)
        self._by_function: dict[str, deque[Attempt]] = defaultdict(lambda: deque(maxlen=limit))
        self._observers: list[Observer] = []
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []

    def __len__(self) -> int:
        return len(self._attempts)

    def __iter__(self) -> Iterator[Attempt]:
        return iter(list(self._attempts))

    def record(self, attempt: Attempt) -> None:
        self._attempts.append(attempt)
        self._by_function[attempt.function].append(attempt)
        for observer in list(self._observers):
            observer(attempt)
        for reached, future in self._waiters:
            if not future.done() and reached():
                future.set_result(None)

    def subscribe(self, observer: Observer) -> Callable[[], None]:
        """Call ``observer`` with every new attempt; returns a function that unsubscribes."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer)

    def all(self) -> list[Attempt]:
        return list(self._attempts)

    def for_function(self, function: str, outcome: Outcome | None = None) -> list[Attempt]:
        attempts = self._by_function.get(function, ())
        return [a for a in attempts if outcome is None or a.outcome is outcome]

    def query(
        self,
        function: str | None = None,
        *,
        source: str | None = None,
        outcome: Outcome | None = None,
        attempt: int | None = None,
    ) -> list[Attempt]:
        """Attempts by any of: function, trigger (``source``, e.g. ``"sqs:jobs"``; a prefix
        such as ``"sqs:"`` matches every queue), outcome, attempt number."""
        pool = self._by_function.get(function, ()) if function is not None else self._attempts
        return [
            a
            for a in pool
            if (
                source is None
                or a.source == source
                or (source.endswith(":") and a.source.startswith(source))
            )
            and (outcome is None or a.outcome is outcome)
            and (attempt is None or a.attempt == attempt)
        ]

    def for_request(self, request_id: str) -> list[Attempt]:
        return [a for a in self._attempts if a.request_id == request_id]

    def count(self, function: str, outcome: Outcome | None = None) -> int:
        if outcome is None:
            return len(self._by_function.get(function, ()))
        return len(self.for_function(function, outcome))

    async def wait_for(
        self,
        function: str,
        count: int = 1,
        outcome: Outcome | None = None,
        timeout: float | None = 30.0,  # noqa: ASYNC109 - a shortfall is explained on expiry
    ) -> list[Attempt]:
        """Wait until ``function`` has at least ``count`` attempts (of ``outcome``); return them.

        ``timeout`` is real seconds; on expiry ``TimeoutError`` lists what was recorded.
        """

        def reached() -> bool:
            return self.count(function, outcome) >= count

        if reached():
            return self.for_function(function, outcome)
        waiter = (reached, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter[1], timeout)
            return self.for_function(function, outcome)
        except TimeoutError:
            seen = [f"{a.request_id[:8]} {a.outcome}" for a in self.for_function(function)]
            raise TimeoutError(
                f"{function}: wanted {count} attempt(s)"
                f"{f' with outcome {outcome}' if outcome else ''}, saw {len(seen)}: {seen}"
            ) from None
        finally:
            self._waiters.remove(waiter)
