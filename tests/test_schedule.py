"""Schedules fire on the virtual clock exactly when AWS would, with AWS's payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from eventsim import Outcome, Simulator
from eventsim.testing import SimulatorFactory
from eventsim.triggers.schedule import ScheduleBinding

from .helpers import function

pytestmark = pytest.mark.asyncio

START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)  # a Monday


async def scheduled(
    factory: SimulatorFactory,
    schedule: dict[str, Any],
    handler: str = "echo",
    **function_options: Any,
) -> Simulator:
    config = {
        "functions": {
            "tick": function(handler, triggers=[{"schedule": schedule}], **function_options)
        }
    }
    return await factory(config, start_time=START)


def times(sim: Simulator) -> list[datetime]:
    return [a.started_at for a in sim.ledger.for_function("tick")]


async def test_a_day_of_rate_1_minute(eventsim_factory: SimulatorFactory) -> None:
    sim = await scheduled(
        eventsim_factory, {"expression": "rate(1 minute)", "name": "every-minute"}
    )
    await sim.advance(days=1)
    attempts = sim.ledger.for_function("tick")
    assert len(attempts) == 1440
    expected = [START + timedelta(minutes=n) for n in range(1, 1441)]
    assert times(sim) == expected
    assert [a.event["time"] for a in attempts[:2]] == [
        "2026-01-05T00:01:00Z",
        "2026-01-05T00:02:00Z",
    ]
    event = attempts[0].event
    assert event["detail-type"] == "Scheduled Event" and event["detail"] == {}
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/every-minute"]
    EventBridgeModel.model_validate(event)
    assert all(
        a.source == "schedule:every-minute" and a.invocation_type == "Event" for a in attempts
    )


async def test_cron_over_a_working_week(eventsim_factory: SimulatorFactory) -> None:
    sim = await scheduled(eventsim_factory, {"expression": "cron(0/15 8-17 ? * MON-FRI *)"})
    await sim.advance(days=7)
    fired = times(sim)
    assert len(fired) == 5 * 10 * 4
    assert fired[0] == START + timedelta(hours=8)
    assert fired[-1] == START + timedelta(days=4, hours=17, minutes=45)
    assert {t.weekday() for t in fired} == {0, 1, 2, 3, 4}


async def test_time_zone_schedule(eventsim_factory: SimulatorFactory) -> None:
    sim = await scheduled(
        eventsim_factory, {"expression": "cron(0 9 * * ? *)", "timezone": "Asia/Tokyo"}
    )
    await sim.advance(days=3)
    # 09:00 JST is 00:00 UTC; START itself is 09:00 JST, and firings come strictly after it.
    assert times(sim) == [
        START + timedelta(days=1),
        START + timedelta(days=2),
        START + timedelta(days=3),
    ]


async def test_input_replaces_the_event(eventsim_factory: SimulatorFactory) -> None:
    sim = await scheduled(
        eventsim_factory, {"expression": "rate(1 hour)", "input": {"job": "nightly"}}
    )
    await sim.advance(hours=1)
    assert [a.event for a in sim.ledger.for_function("tick")] == [{"job": "nightly"}]


async def test_scheduler_style_fills_placeholders(eventsim_factory: SimulatorFactory) -> None:
    sim = await scheduled(
        eventsim_factory,
        {
            "expression": "at(2026-01-05T06:30:00)",
            "style": "scheduler",
            "name": "once",
            "input": {"at": "<aws.scheduler.scheduled-time>", "arn": "<aws.scheduler.schedule-arn>",
                      "n": "<aws.scheduler.attempt-number>"},
        },
    )  # fmt: skip
    await sim.advance(days=1)
    [attempt] = sim.ledger.for_function("tick")
    assert attempt.event == {
        "at": "2026-01-05T06:30:00Z",
        "arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/once",
        "n": "1",
    }
    assert attempt.started_at == START + timedelta(hours=6, minutes=30)


async def test_run_on_start_start_end_and_disabled(eventsim_factory: SimulatorFactory) -> None:
    sim = await scheduled(
        eventsim_factory,
        {
            "expression": "rate(1 hour)",
            "run_on_start": True,
            "start": "2026-01-05T10:00:00Z",
            "end": "2026-01-05T13:00:00Z",
        },
    )
    await sim.advance(days=1)
    assert times(sim) == [START] + [START + timedelta(hours=h) for h in (11, 12, 13)]
    off = await eventsim_factory(
        {"functions": {"tick": function("echo", triggers=[{"schedule": {
            "expression": "rate(1 minute)", "enabled": False}}])}},
        start_time=START,
    )  # fmt: skip
    await off.advance(hours=1)
    assert len(off.ledger) == 0


async def test_jitter_fires_within_the_minute(eventsim_factory: SimulatorFactory) -> None:
    sim = await scheduled(eventsim_factory, {"expression": "cron(* * * * ? *)", "jitter": True})
    await sim.advance(minutes=30)
    fired = times(sim)
    assert len(fired) in (29, 30)
    assert all(0 <= (t - START).total_seconds() % 60 < 60 for t in fired)
    assert len({t.second for t in fired}) > 1
    # the event's time is still the scheduled minute
    assert all(a.event["time"].endswith(":00Z") for a in sim.ledger.for_function("tick"))


async def test_failing_scheduled_function_retries(eventsim_factory: SimulatorFactory) -> None:
    sim = await scheduled(eventsim_factory, {"expression": "rate(1 day)"}, handler="fail")
    await sim.advance(days=1, minutes=3)
    attempts = sim.ledger.for_function("tick")
    assert [(a.attempt, a.outcome) for a in attempts] == [
        (1, Outcome.ERROR), (2, Outcome.ERROR), (3, Outcome.ERROR),
    ]  # fmt: skip
    assert [(a.started_at - START).total_seconds() for a in attempts] == [86400, 86460, 86580]
    assert json.dumps(attempts[0].event)  # the Scheduled Event, unchanged across retries
    assert attempts[0].event == attempts[2].event


async def test_fire_now_is_a_firing_like_a_due_one(eventsim_factory: SimulatorFactory) -> None:
    sim = await scheduled(
        eventsim_factory, {"expression": "rate(1 day)", "name": "daily"}, handler="fail"
    )
    [binding] = [b for b in sim.bindings if isinstance(b, ScheduleBinding)]
    before = binding.next_times(2)
    request_id, event = binding.fire()
    assert binding.next_times(2) == before  # the schedule's own instants do not move
    await sim.advance(minutes=3)  # asynchronous: Lambda's two retries, 1 and 2 minutes apart
    fired = sim.ledger.for_function("tick")
    assert [(a.request_id, a.attempt, a.outcome) for a in fired] == [
        (request_id, 1, Outcome.ERROR), (request_id, 2, Outcome.ERROR),
        (request_id, 3, Outcome.ERROR),
    ]  # fmt: skip
    assert [(a.started_at - START).total_seconds() for a in fired] == [0, 60, 180]
    assert fired[0].event == event and event["time"] == "2026-01-05T00:00:00Z"

    await sim.advance(days=1)  # the due firing, for comparison
    due = [a for a in sim.ledger.for_function("tick") if a.request_id != request_id]
    assert len(due) == 3
    shape = {(a.source, a.invocation_type, a.attempt) for a in due}
    assert shape == {(a.source, a.invocation_type, a.attempt) for a in fired}
    assert shape == {("schedule:daily", "Event", n) for n in (1, 2, 3)}
    assert due[0].event.keys() == event.keys()
