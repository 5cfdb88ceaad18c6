"""Schedules: sleep on the injected clock until the next instant, fire, repeat (§4).

Each ``schedule`` trigger is one ``ScheduleSource``. It emits a ``Firing`` at each instant its
expression gives, between ``start`` and ``end``; the function is invoked asynchronously, so a
firing while the function is busy queues rather than being skipped. ``run_on_start`` adds one
firing right after start; ``jitter`` moves each firing to a random second of its minute (AWS
fires somewhere in the minute; eventsim fires at second 0 by default, deterministically).
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from .. import cron
from ..clock import Clock
from ..config import ScheduleTrigger
from ..types import Tasks
from .base import Source

log = structlog.get_logger("eventsim.schedule")

_TINY = timedelta(microseconds=1)


@dataclass(frozen=True)
class Firing:
    function: str
    name: str  # the rule or schedule name
    trigger: ScheduleTrigger
    scheduled: datetime  # the instant the expression gave (UTC)
    attempt: int = 1


Emit = Callable[[Firing], None]


class ScheduleSource(Source):
    def __init__(
        self,
        function: str,
        name: str,
        trigger: ScheduleTrigger,
        *,
        clock: Clock,
        emit: Emit,
        tasks: Tasks | None,
        rng: random.Random,
    ) -> None:
        self.function = function
        self.name = name
        self.trigger = trigger
        self.schedule = cron.parse(trigger.expression, trigger.timezone)
        self._clock = clock
        self._emit = emit
        self._tasks = tasks
        self._rng = rng
        self._task: asyncio.Task[None] | None = None
        self._after: datetime | None = None  # the last instant fired (or the start)
        self.part = f"schedule:{name}"

    def _aware(self, when: datetime | None) -> datetime | None:
        if when is None or when.tzinfo is not None:
            return when
        return when.replace(tzinfo=self.schedule.timezone)

    def instants(self, after: datetime) -> Iterator[datetime]:
        """The instants the expression gives after ``after``, within ``start``..``end``."""
        start, end = self._aware(self.trigger.start), self._aware(self.trigger.end)
        anchor = start or after
        instant = max(after, anchor - _TINY)
        while (scheduled := self.schedule.next_after(instant, start=anchor)) is not None:
            if end is not None and scheduled > end:
                return
            yield scheduled
            instant = scheduled

    def fire_times(self, after: datetime, count: int) -> list[datetime]:
        """The next ``count`` instants after ``after`` (for ``eventsim schedules``)."""
        return list(itertools.islice(self.instants(after), count))

    async def start(self) -> None:
        if not self.trigger.enabled:
            log.info("schedule.disabled", function=self.function, schedule=self.name)
            return
        assert self._tasks is not None, "a schedule that runs needs its simulator's tasks"
        started = self._clock.now()
        if self.trigger.run_on_start:
            self._fire(started)
        self._after = started
        self._task = self._tasks.keep(self.part, self._run)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        """Fire at each instant; restarted after a failure, it goes on from the last one."""
        assert self._after is not None
        for scheduled in self.instants(self._after):
            offset = self._rng.randrange(60) if self.trigger.jitter else 0
            await self._clock.sleep_until(scheduled.timestamp() + offset)
            self._after = scheduled
            self._fire(scheduled)
        log.info("schedule.ended", function=self.function, schedule=self.name)

    def _fire(self, scheduled: datetime) -> None:
        try:
            self._emit(Firing(self.function, self.name, self.trigger, scheduled.astimezone(UTC)))
        except Exception as exc:  # noqa: BLE001 - this firing is lost: say so, keep the schedule
            assert self._tasks is not None
            self._tasks.report(self.part, exc)
