"""Asynchronous invocation: AWS's retry schedule, event age, throttles and destinations,
driven by the virtual clock."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest

from eventsim import Outcome, Simulator
from eventsim.ledger import Code

from .helpers import MakeSim, function

pytestmark = pytest.mark.asyncio


def fail(**options: Any) -> dict[str, Any]:
    return function("fail", on_failure="function:dlq", on_success="function:ok", **options)


FUNCS = {"dlq": function("echo"), "ok": function("echo")}


def offsets(sim: Simulator, name: str, start: Any) -> list[float]:
    """When each attempt ran (entries of the event's moves to a destination left out)."""
    return [
        (a.started_at - start).total_seconds()
        for a in sim.ledger.for_function(name)
        if a.outcome is not Outcome.MOVED
    ]


async def test_function_errors_are_retried_at_60_then_120_seconds(make_sim: MakeSim) -> None:
    sim = await make_sim({"f": fail(), **FUNCS})
    start = sim.clock.now()
    accepted = await sim.invoke("f", {"action_missing": 1}, invocation_type="Event")
    await sim.settle()

    # The first attempt ran; the retry waits on the clock, so settle() returned.
    assert offsets(sim, "f", start) == [0.0]
    await sim.advance(seconds=59)
    assert len(sim.ledger.for_function("f")) == 1
    await sim.advance(seconds=1)
    assert offsets(sim, "f", start) == [0.0, 60.0]
    await sim.advance(minutes=2)
    assert offsets(sim, "f", start) == [0.0, 60.0, 180.0]

    *attempts, moved = sim.ledger.for_function("f")
    assert [a.attempt for a in attempts] == [1, 2, 3]
    assert {a.request_id for a in attempts} == {accepted.request_id}
    assert [a.code for a in attempts] == [Code.RETRY_SCHEDULED] * 2 + [Code.RETRIES_EXHAUSTED]
    assert (moved.outcome, moved.code) == (Outcome.MOVED, Code.DESTINATION)
    assert [a.reason for a in attempts] == [
        "retry 1 of 2 in 60 s", "retry 2 of 2 in 120 s", "RetriesExhausted",
    ]  # fmt: skip
    assert all(a.outcome is Outcome.ERROR for a in attempts)

    [delivery] = sim.ledger.for_function("dlq")
    record = delivery.event
    assert delivery.source == "destination:f" and delivery.invocation_type == "Event"
    assert record["requestContext"] == {
        "requestId": accepted.request_id,
        "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == {"action_missing": 1}
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "KeyError"
    assert record["timestamp"].startswith((start + timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M"))
    # Nothing more happens, however long we wait.
    await sim.advance(hours=6)
    assert len(sim.ledger.for_function("f")) == 4 and not sim.ledger.for_function("ok")


async def test_no_retries(make_sim: MakeSim) -> None:
    sim = await make_sim({"f": fail(retries=0), **FUNCS})
    await sim.invoke("f", {}, invocation_type="Event")
    await sim.settle()
    attempt, moved = sim.ledger.for_function("f")
    assert (attempt.reason, attempt.code) == ("RetriesExhausted", Code.RETRIES_EXHAUSTED)
    assert (moved.outcome, moved.code) == (Outcome.MOVED, Code.DESTINATION)
    assert moved.reason == "RetriesExhausted: the invocation record was sent to function:dlq"
    assert sim.ledger.for_function("dlq")[0].event["requestContext"]["approximateInvokeCount"] == 1


async def test_success_goes_to_on_success(make_sim: MakeSim) -> None:
    sim = await make_sim(
        {"f": function("echo", on_success="function:ok", on_failure="function:dlq"), **FUNCS}
    )
    await sim.invoke("f", {"n": 1}, invocation_type="Event")
    await sim.settle()
    [delivery] = sim.ledger.for_function("ok")
    assert delivery.event["requestContext"]["condition"] == "Success"
    assert delivery.event["requestContext"]["approximateInvokeCount"] == 1
    assert delivery.event["responsePayload"] == {"n": 1}
    assert "functionError" not in delivery.event["responseContext"]
    assert not sim.ledger.for_function("dlq")


async def test_max_event_age_is_checked_before_each_attempt(make_sim: MakeSim) -> None:
    sim = await make_sim({"f": fail(max_event_age=60), **FUNCS})
    await sim.invoke("f", {}, invocation_type="Event")
    await sim.advance(minutes=1)  # the first retry falls due exactly at the age limit
    first, dropped, moved = sim.ledger.for_function("f")
    assert (first.outcome, first.code) == (Outcome.ERROR, Code.RETRY_SCHEDULED)
    assert dropped.outcome is Outcome.DROPPED and dropped.reason == "EventAgeExceeded"
    assert dropped.code is Code.EVENT_AGE_EXCEEDED and moved.outcome is Outcome.MOVED
    record = sim.ledger.for_function("dlq")[0].event
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 1


async def test_throttles_back_off_without_using_retries(make_sim: MakeSim) -> None:
    sim = await make_sim({"busy": function("slow", reserved_concurrency=1, timeout=5), **FUNCS})
    start = sim.clock.now()
    holding = asyncio.ensure_future(sim.invoke("busy", {"seconds": 0.3}))
    queued = await sim.invoke("busy", {"seconds": 0}, invocation_type="Event")
    await holding
    await sim.settle()
    assert [a.outcome for a in sim.ledger.for_request(queued.request_id)] == [Outcome.THROTTLED]
    await sim.advance(seconds=1)  # back-off starts at 1 s
    throttled, ran = sim.ledger.for_request(queued.request_id)
    assert throttled.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert ran.outcome is Outcome.SUCCESS and ran.attempt == 1  # a throttle is no retry
    assert (ran.started_at - start).total_seconds() == 1.0


async def test_zero_reserved_concurrency_goes_straight_to_on_failure(make_sim: MakeSim) -> None:
    sim = await make_sim({"f": fail(reserved_concurrency=0), **FUNCS})
    await sim.invoke("f", {}, invocation_type="Event")
    await sim.settle()
    dropped, moved = sim.ledger.for_function("f")
    assert dropped.outcome is Outcome.DROPPED and dropped.reason == "ZeroReservedConcurrency"
    assert dropped.code is Code.ZERO_CONCURRENCY and moved.code is Code.DESTINATION
    record = sim.ledger.for_function("dlq")[0].event
    assert "responsePayload" not in record  # it never ran


async def test_waiting_for_an_environment_is_not_throttling(make_sim: MakeSim) -> None:
    # More events than environments and than account concurrency: they queue, none throttle.
    sim = await make_sim({"f": function("echo")}, max_environments=1, account_concurrency=2)
    for n in range(6):
        await sim.invoke("f", n, invocation_type="Event")
    await sim.settle()
    assert sorted(a.event for a in sim.ledger.for_function("f")) == list(range(6))
    assert {a.outcome for a in sim.ledger.for_function("f")} == {Outcome.SUCCESS}


async def test_queue_destinations_get_the_record_as_a_message(make_sim: MakeSim) -> None:
    sim = await make_sim(
        {"f": function("fail", retries=0, on_failure="queue:failures")}, queues={"failures": {}}
    )
    accepted = await sim.invoke("f", {"n": 1}, invocation_type="Event")
    await sim.settle()
    [message] = await sim.queue("failures").receive_messages()
    record = json.loads(message.body)
    assert record["requestContext"]["requestId"] == accepted.request_id
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"] == {"n": 1}


# --- destinations of every kind and the dead-letter target (§6.2, §6.3) ---------------------


async def test_topic_destinations_publish_the_record(make_sim: MakeSim) -> None:
    sim = await make_sim(
        {"f": function("echo", on_success="topic:results")},
        topics={"results": {"subscriptions": [{"queue": "seen", "raw_message_delivery": True}]}},
        queues={"seen": {}},
    )
    accepted = await sim.invoke("f", {"n": 2}, invocation_type="Event")
    await sim.settle()
    [message] = await sim.queue("seen").receive_messages()
    record = json.loads(message.body)
    assert record["requestContext"]["requestId"] == accepted.request_id
    assert record["requestContext"]["condition"] == "Success"
    assert record["responsePayload"] == {"n": 2}


async def test_bus_destinations_put_the_record_as_an_event_from_lambda(make_sim: MakeSim) -> None:
    rule = {"pattern": {"source": ["lambda"]}, "targets": [{"queue": "seen"}]}
    sim = await make_sim(
        {"f": function("fail", retries=0, on_failure="bus:results")},
        buses={"results": {"rules": {"all": rule}}},
        queues={"seen": {}},
    )
    await sim.invoke("f", {"n": 3}, invocation_type="Event")
    await sim.settle()
    [message] = await sim.queue("seen").receive_messages()
    event = json.loads(message.body)
    assert event["source"] == "lambda"
    assert event["detail-type"] == "Lambda Function Invocation Result - Failure"
    assert event["resources"] == [sim.function("f").arn, sim.bus("results").arn]
    assert event["detail"]["requestContext"]["condition"] == "RetriesExhausted"
    assert event["detail"]["requestPayload"] == {"n": 3}


async def test_the_dead_letter_queue_gets_the_event_itself_with_what_went_wrong(
    make_sim: MakeSim,
) -> None:
    sim = await make_sim(
        {"f": function("fail", retries=1, dead_letter_queue="queue:dlq")}, queues={"dlq": {}}
    )
    accepted = await sim.invoke("f", {"action_missing": 1}, invocation_type="Event")
    await sim.settle()
    assert await sim.queue("dlq").receive_messages(wait_seconds=0) == []  # a retry is due
    await sim.advance(minutes=1)
    [message] = await sim.queue("dlq").receive_messages()
    assert json.loads(message.body) == {"action_missing": 1}
    attributes = {k: v["StringValue"] for k, v in message.message_attributes.items()}
    error = sim.ledger.for_function("f")[-2].payload
    assert attributes == {
        "RequestID": accepted.request_id,
        "ErrorCode": "200",
        "ErrorMessage": error["errorMessage"],
    }
    moved = sim.ledger.for_function("f")[-1]
    assert (moved.outcome, moved.code) == (Outcome.MOVED, Code.DEAD_LETTERED)


async def test_a_dead_letter_topic_and_an_on_failure_destination_both_get_theirs(
    make_sim: MakeSim,
) -> None:
    sim = await make_sim(
        {"f": function("fail", retries=0, dead_letter_queue="topic:dead",
                       on_failure="queue:records")},
        topics={"dead": {"subscriptions": [{"queue": "events", "raw_message_delivery": True}]}},
        queues={"events": {}, "records": {}},
    )  # fmt: skip
    await sim.invoke("f", {"n": 4}, invocation_type="Event")
    await sim.settle()
    [event] = await sim.queue("events").receive_messages()
    assert json.loads(event.body) == {"n": 4}
    assert set(event.message_attributes) == {"RequestID", "ErrorCode", "ErrorMessage"}
    [record] = await sim.queue("records").receive_messages()
    assert json.loads(record.body)["requestPayload"] == {"n": 4}
    codes = [a.code for a in sim.ledger.for_function("f") if a.outcome is Outcome.MOVED]
    assert codes == [Code.DESTINATION, Code.DEAD_LETTERED]


async def test_a_success_goes_to_no_dead_letter_queue(make_sim: MakeSim) -> None:
    sim = await make_sim({"f": function("echo", dead_letter_queue="queue:dlq")}, queues={"dlq": {}})
    await sim.invoke("f", {}, invocation_type="Event")
    await sim.settle()
    assert await sim.queue("dlq").receive_messages(wait_seconds=0) == []


async def test_a_dead_letter_queue_deleted_at_run_time_is_recorded_not_raised(
    make_sim: MakeSim,
) -> None:
    sim = await make_sim(
        {"f": function("fail", retries=0, dead_letter_queue="queue:dlq")}, queues={"dlq": {}}
    )
    sim.queues.delete(sim.queue("dlq"))
    await sim.invoke("f", {}, invocation_type="Event")
    await sim.settle()
    last = sim.ledger.for_function("f")[-1]
    assert (last.outcome, last.code) == (Outcome.DROPPED, Code.DEAD_LETTERED)
    assert "queue:dlq" in last.reason and "no longer exists" in last.reason
