"""Time, injected.

Everything in eventsim that waits (retry delays, visibility timeouts, schedules, idle expiry)
waits on a ``Clock``. ``RealClock`` is wall time. ``VirtualClock`` only moves when told to:
``advance()`` wakes sleepers in deadline order and, between wake-ups, awaits a *settle* callable
so that the work each wake-up starts finishes before time moves on. Handler execution itself is
always real time.

Example::

    clock = VirtualClock()
    task = asyncio.create_task(clock.sleep(60))
    await clock.advance(60)        # task is now done; clock.time() is 60 s later
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from .errors import ValueRejected

#: 2026-01-01T00:00:00Z: where a virtual clock starts unless told otherwise, so that tests are
#: repeatable run to run.
DEFAULT_VIRTUAL_START = datetime(2026, 1, 1, tzinfo=UTC)


@runtime_checkable
class Clock(Protocol):
    """What eventsim needs of time."""

    def time(self) -> float:
        """Seconds since the epoch."""

    def now(self) -> datetime:
        """The current instant as an aware UTC datetime."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""

    async def sleep_until(self, deadline: float) -> None:
        """Wait until ``time() >= deadline``."""


class RealClock:
    """Wall-clock time."""

    def time(self) -> float:
        return time.time()

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    async def sleep_until(self, deadline: float) -> None:
        await asyncio.sleep(max(0.0, deadline - time.time()))


class WorkTracker(Protocol):
    """The part of the activity tracker the virtual clock uses."""

    def begin(self, kind: str = ...) -> None: ...

    def end(self, kind: str = ...) -> None: ...

    async def settle(self) -> None: ...


async def _yield_a_few_times() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


class VirtualClock:
    """A clock that moves only when ``advance()`` is called.

    After each group of sleepers that share a deadline is woken, ``advance`` waits for the bound
    tracker to settle, so that all work those sleepers start (including real handler execution)
    completes before the next deadline is reached.
    """

    def __init__(self, start: datetime | None = None) -> None:
        start = start or DEFAULT_VIRTUAL_START
        if start.tzinfo is None:
            raise ValueRejected("VirtualClock start must be an aware datetime (with a tzinfo)")
        self._now = start.timestamp()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._tracker: WorkTracker | None = None

    def bind(self, tracker: WorkTracker) -> None:
        """Count each woken sleeper as work in ``tracker`` and settle it between wake-ups.

        A woken sleeper holds one unit of work until its task has run to its next ``await``,
        so work it starts there is counted before the wake-up's unit is released.
        """
        self._tracker = tracker

    def time(self) -> float:
        return self._now

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._now, UTC)

    @property
    def next_deadline(self) -> float | None:
        """The earliest deadline anyone waits for, or None."""
        self._drop_cancelled()
        return self._sleepers[0][0] if self._sleepers else None

    async def sleep(self, seconds: float) -> None:
        await self.sleep_until(self._now + seconds)

    async def sleep_until(self, deadline: float) -> None:
        if deadline <= self._now:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._sleepers, (deadline, next(self._seq), future))
        try:
            await future
        finally:
            if self._tracker is not None and future.done() and not future.cancelled():
                # Released after this task's next step, once the caller counted its own work.
                loop.call_soon(self._tracker.end, "clock")

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking sleepers in deadline order."""
        if seconds < 0:
            raise ValueRejected(f"time only moves forward (asked to advance {seconds} s)")
        await self.advance_to(self._now + seconds)

    async def advance_to(self, target: float) -> None:
        """Move time forward to ``target`` (epoch seconds), waking sleepers in deadline order."""
        await self._settle()
        while True:
            deadline = self.next_deadline
            if deadline is None or deadline > target:
                break
            self._now = max(self._now, deadline)
            while self._sleepers and self._sleepers[0][0] <= self._now:
                _, _, future = heapq.heappop(self._sleepers)
                if not future.done():
                    if self._tracker is not None:
                        self._tracker.begin("clock")
                    future.set_result(None)
            await self._settle()
        self._now = max(self._now, target)
        await self._settle()

    async def _settle(self) -> None:
        if self._tracker is not None:
            await self._tracker.settle()
        else:
            await _yield_a_few_times()

    def _drop_cancelled(self) -> None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
