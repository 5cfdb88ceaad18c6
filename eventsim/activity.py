"""Counting pending work, so that ``settle()`` can tell when nothing more can happen.

Every unit of pending work (an invocation in flight, an event waiting in a queue, a sleeper the
virtual clock just woke) is ``begin()``-ed when it becomes pending and ``end()``-ed when it is
done. Work must be counted *before* the code that created it awaits anything; then a count of
zero means nothing can make progress until the clock moves.

Example::

    activity = Activity()
    with activity.track("invoke"):
        await run_handler()
    await activity.settle()          # returns at once: nothing pending
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from .clock import Clock


class Activity:
    """A counter of pending work with a wait-for-zero barrier."""

    def __init__(self) -> None:
        self._pending: Counter[str] = Counter()
        self._total = 0
        self._idle: asyncio.Event | None = None

    @property
    def total(self) -> int:
        return self._total

    def pending(self) -> dict[str, int]:
        """Pending work by kind, for error messages and debugging."""
        return {kind: n for kind, n in self._pending.items() if n}

    def begin(self, kind: str = "work") -> None:
        self._pending[kind] += 1
        self._total += 1
        if self._idle is not None:
            self._idle.clear()

    def end(self, kind: str = "work") -> None:
        if self._pending[kind] <= 0:
            raise RuntimeError(f"activity.end({kind!r}) without a matching begin()")
        self._pending[kind] -= 1
        self._total -= 1
        if self._total == 0 and self._idle is not None:
            self._idle.set()

    @contextmanager
    def track(self, kind: str = "work") -> Iterator[None]:
        self.begin(kind)
        try:
            yield
        finally:
            self.end(kind)

    async def settle(self) -> None:
        """Return once no work is pending, after letting just-woken tasks run."""
        if self._idle is None:
            self._idle = asyncio.Event()
        while True:
            # Callbacks already scheduled (a task woken by a future) get to run and count
            # their work before we look.
            for _ in range(2):
                await asyncio.sleep(0)
            if self._total == 0:
                return
            self._idle.clear()
            await self._idle.wait()


class Waiter:
    """The work token of a long-lived task that waits for wake-ups or the clock (a poller).

    The task counts as pending work while it runs, and stops counting while it waits in
    ``wait()``; ``wake()`` (called synchronously by whoever produced something for it) counts
    it again at once, so ``settle()`` cannot return between the wake-up and the task's run.
    """

    def __init__(self, activity: Activity, clock: Clock, kind: str) -> None:
        self._activity = activity
        self._clock = clock
        self._kind = kind
        self._event = asyncio.Event()
        self._busy = False

    def wake(self) -> None:
        self.set_busy(True)
        self._event.set()

    def set_busy(self, busy: bool) -> None:
        if busy and not self._busy:
            self._activity.begin(self._kind)
        elif not busy and self._busy:
            self._activity.end(self._kind)
        self._busy = busy

    async def wait(self, until: float | None = None) -> None:
        """Until ``wake()`` or the clock reaches ``until``; the wait is not work."""
        self._event.clear()
        timer: asyncio.Task[None] | None = None
        if until is not None:
            timer = asyncio.create_task(self._sleep_until(until))
            # One loop turn lets the sleep register with the clock (tasks run in order)
            # before this task stops counting as work; else advance() could pass it by.
            await asyncio.sleep(0)
        self.set_busy(False)
        try:
            await self._event.wait()
        finally:
            if timer is not None:
                timer.cancel()
        self.set_busy(True)  # look again before settling

    async def _sleep_until(self, until: float) -> None:
        await self._clock.sleep_until(until)
        # Still inside the woken sleeper's step: count as work before the clock stops
        # counting the wake-up, so the task runs before time moves on.
        self.set_busy(True)
        self._event.set()
