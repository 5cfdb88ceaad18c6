"""The ``schedule`` trigger: sleep on the injected clock until the next instant, fire (§4).

Each ``schedule`` trigger is one ``ScheduleBinding``. It fires at each instant its expression
gives, between ``start`` and ``end``; the function is invoked asynchronously, so a firing
while the function is busy queues rather than being skipped. ``run_on_start`` adds one firing
right after start; ``jitter`` moves each firing to a random second of its minute (AWS fires
somewhere in the minute; eventsim fires at second 0 by default, deterministically).

What the function receives: ``style: rule``: the EventBridge "Scheduled Event", or the
constant ``input`` in its place (a rule target's Input); ``style: scheduler``: the input
verbatim with the ``<aws.scheduler.*>`` placeholders filled.

``ScheduleBinding.fire()`` fires once now, exactly as a due firing does (the same event,
submitted asynchronously with the function's retries, under the schedule's ``source``), and
leaves the schedule's own instants as they were.

Config::

    triggers:
      - schedule: {expression: "rate(5 minutes)", input: {job: nightly}}
      - schedule: {expression: "cron(0 9 ? * MON-FRI *)", timezone: Europe/Paris}
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog
from pydantic import field_validator

from .. import cron
from ..clock import Clock
from ..config import Config, Model, Timestamp
from ..errors import ScheduleExpressionError
from ..events import ids, schedule
from ..runtime.spec import FunctionSpec
from ..types import Tasks
from ..unconfirmed import SCHEDULER_DEFAULT_INPUT
from .base import Binding, Context, Submit, TriggerKind, TriggerRef

log = structlog.get_logger("eventsim.schedule")

_TINY = timedelta(microseconds=1)


class ScheduleTrigger(Model):
    """One schedule's settings: an EventBridge rule (``style: rule``) or an EventBridge
    Scheduler schedule (``style: scheduler``) targeting the function."""

    expression: str
    name: str | None = None
    input: Any = None
    timezone: str = "UTC"
    start: Timestamp | None = None
    end: Timestamp | None = None
    enabled: bool = True
    style: Literal["rule", "scheduler"] = "rule"
    run_on_start: bool = False
    jitter: bool = False  # fire at a random second of the minute, as AWS does; default :00

    @field_validator("expression")
    @classmethod
    def _expression(cls, value: str) -> str:
        try:
            cron.parse(value)
        except ScheduleExpressionError as exc:
            raise ValueError(str(exc)) from None
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value


class ScheduleTimes:
    """The instants one schedule fires at (pure: no clock, no tasks)."""

    def __init__(self, trigger: ScheduleTrigger) -> None:
        self.trigger = trigger
        self.schedule = cron.parse(trigger.expression, trigger.timezone)

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


class Firing(NamedTuple):
    """One firing submitted: the asynchronous request's id and the event it carries."""

    request_id: str
    event: Any


def schedule_name(ref: TriggerRef) -> str:
    """The rule or schedule name: ``name`` if set, else ``eventsim-<function>-<index>``."""
    return ref.spec.name or f"eventsim-{ref.function}-{ref.index}"


def schedule_triggers(config: Config) -> list[tuple[str, str, ScheduleTrigger]]:
    """Every schedule trigger as (function, rule or schedule name, trigger)."""
    found = []
    for name, function in config.functions.items():
        for index, trigger in enumerate(function.triggers):
            if isinstance(spec := trigger.spec, ScheduleTrigger):
                found.append((name, schedule_name(TriggerRef(name, index, spec)), spec))
    return found


class ScheduleBinding(Binding):
    """One schedule firing one function."""

    kind = "schedule"

    def __init__(
        self,
        spec: FunctionSpec,
        name: str,
        trigger: ScheduleTrigger,
        *,
        clock: Clock,
        submit: Submit,
        tasks: Tasks,
        rng: random.Random,
    ) -> None:
        self.name = name
        self.trigger = trigger
        self.times = ScheduleTimes(trigger)
        self.part = f"schedule:{name}"
        self.source = f"schedule:{name}"
        self.functions = (spec.name,)
        self._spec = spec
        self._clock = clock
        self._submit = submit
        self._tasks = tasks
        self._rng = rng
        self._task: asyncio.Task[None] | None = None
        self._after: datetime | None = None  # the last instant fired (or the start)

    def next_times(self, count: int) -> list[datetime]:
        """The next ``count`` instants this running schedule fires at (``rate()`` counts from
        its start, not from now)."""
        if not self.trigger.enabled:
            return []
        return self.times.fire_times(self._after or self._clock.now(), count)

    def describe(self) -> str:
        state = "" if self.trigger.enabled else " (disabled)"
        return f"schedule {self.name}: {self.trigger.expression} -> {self._spec.name}{state}"

    async def start(self) -> None:
        if not self.trigger.enabled:
            log.info("schedule.disabled", function=self._spec.name, schedule=self.name)
            return
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
        for scheduled in self.times.instants(self._after):
            offset = self._rng.randrange(60) if self.trigger.jitter else 0
            await self._clock.sleep_until(scheduled.timestamp() + offset)
            self._after = scheduled
            self._fire(scheduled)
        log.info("schedule.ended", function=self._spec.name, schedule=self.name)

    def fire(self, scheduled: datetime | None = None) -> Firing:
        """Fire once, for the instant ``scheduled`` (default: now), as a due firing does: the
        event goes to the function's asynchronous queue, with its retries and max event age,
        recorded under this schedule's ``source``. The schedule's next instants do not move,
        and a disabled schedule fires too (this is an explicit request).

        Example::

            [binding] = [b for b in sim.bindings if b.source == "schedule:nightly"]
            request_id, event = binding.fire()
        """
        event = self.event((scheduled or self._clock.now()).astimezone(UTC))
        request_id = self._submit(
            self._spec, json.dumps(event).encode(), event=event, source=self.source
        )
        return Firing(request_id, event)

    def _fire(self, scheduled: datetime) -> None:
        try:
            self.fire(scheduled)
        except Exception as exc:  # noqa: BLE001 - this firing is lost: say so, keep the schedule
            self._tasks.report(self.part, exc)

    def event(self, scheduled: datetime, attempt: int = 1) -> Any:
        """What the function receives for the firing at ``scheduled``."""
        trigger, region, account = self.trigger, self._spec.region, self._spec.account
        if trigger.style == "scheduler":
            template = (
                SCHEDULER_DEFAULT_INPUT if trigger.input is None else json.dumps(trigger.input)
            )
            return json.loads(
                schedule.scheduler_payload(
                    template,
                    schedule_arn=schedule.schedule_arn(region, account, self.name),
                    scheduled_time=scheduled,
                    execution_id=ids.uuid4(self._rng),
                    attempt=attempt,
                )
            )
        if trigger.input is not None:
            return trigger.input
        return schedule.scheduled_event(
            event_id=ids.uuid4(self._rng),
            time=scheduled,
            region=region,
            account=account,
            rule_arn=schedule.rule_arn(region, account, self.name),
        )


class ScheduleKind(TriggerKind):
    name = "schedule"
    model = ScheduleTrigger

    def bind(self, context: Context, triggers: Sequence[TriggerRef]) -> list[Binding]:
        return [
            ScheduleBinding(
                context.functions[ref.function],
                schedule_name(ref),
                ref.spec,
                clock=context.delivery.clock,
                submit=context.submit,
                tasks=context.delivery.tasks,
                rng=context.rng,
            )
            for ref in triggers
        ]

    def summary(self, spec: Any) -> str:
        return f"schedule {spec.expression}"
