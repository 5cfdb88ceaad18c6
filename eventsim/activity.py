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
