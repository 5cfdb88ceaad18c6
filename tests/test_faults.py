"""Fault injection and "why didn't it fire" (sim.faults, sim.explain, ledger queries)."""

from __future__ import annotations

from typing import Any

import pytest

from eventsim import Outcome, Simulator
from eventsim.errors import FunctionNotFound, ValueRejected
from eventsim.testing import SimulatorFactory, assert_delivered

from .helpers import function

pytestmark = pytest.mark.asyncio


async def sim_with(factory: SimulatorFactory, tmp_path: Any, **options: Any) -> Simulator:
    return await factory(
        {
            **options,
            "functions": {
                "echo": function("echo", retries=1),
                "worker": function("batches.bodies", triggers=[{"sqs": {"queue": "jobs"}}]),
                "files": function(
                    "echo", triggers=[{"s3": {"bucket": "uploads", "prefix": "in/"}}]
                ),
            },
            "queues": {"jobs": {"visibility_timeout": 30}},
            "buckets": {"uploads": {"path": str(tmp_path / "uploads")}},
        }
    )


async def test_time_outs_and_throttles(eventsim_factory: SimulatorFactory, tmp_path: Any) -> None:
    sim = await sim_with(eventsim_factory, tmp_path)
    sim.faults.time_out("echo")
    result = await sim.invoke("echo", {"a": 1})
    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == "Sandbox.Timedout"
    sim.faults.throttle("echo")
    await sim.invoke("echo", {"b": 1}, invocation_type="Event")  # throttled, retried later
    await sim.advance(minutes=5)
    outcomes = [a.outcome for a in sim.ledger.for_function("echo")]
    assert outcomes == [Outcome.TIMEOUT, Outcome.THROTTLED, Outcome.SUCCESS]
    with pytest.raises(FunctionNotFound, match="no function named 'nope'"):
        sim.faults.fail("nope")
    with pytest.raises(ValueRejected):
        sim.faults.fail("echo", times=0)


async def test_a_duplicated_message_is_delivered_twice(
    eventsim_factory: SimulatorFactory, tmp_path: Any
) -> None:
    sim = await sim_with(eventsim_factory, tmp_path)
    sim.faults.duplicate("jobs")
    message_id = sim.queue("jobs").send_message("once")
    await sim.settle()
    attempts = assert_delivered(sim, "worker", count=2)
    records = [a.event["Records"][0] for a in attempts]
    assert [r["messageId"] for r in records] == [message_id, message_id]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in records] == ["1", "2"]
    assert len(sim.queue("jobs")) == 0


async def test_reordered_s3_notifications(
    eventsim_factory: SimulatorFactory, tmp_path: Any
) -> None:
    # One environment: notifications are handled one at a time, in the order they arrive.
    sim = await sim_with(eventsim_factory, tmp_path, max_environments=1)
    sim.faults.reorder("uploads", count=3)
    for name in ("a", "b", "c"):
        await sim.bucket("uploads").put_object(f"in/{name}.txt", b"x")
    await sim.settle()
    keys = [a.event["Records"][0]["s3"]["object"]["key"] for a in sim.ledger.for_function("files")]
    assert keys == ["in/c.txt", "in/b.txt", "in/a.txt"]


async def test_explain_why_something_did_not_fire(
    eventsim_factory: SimulatorFactory, tmp_path: Any
) -> None:
    sim = await sim_with(eventsim_factory, tmp_path)
    await sim.bucket("uploads").put_object("out/report.txt", b"x")  # no configuration matches
    await sim.bucket("uploads").put_object("in/ok.txt", b"x")
    await sim.settle()
    assert "no notification configuration matches" in sim.explain(key="out/report.txt")
    assert "files: attempt 1 succeeded" in sim.explain(key="in/ok.txt")
    assert "nothing in the ledger" in sim.explain(key="never/written.txt")
    [dropped] = sim.ledger.query(source="s3:uploads", outcome=Outcome.DROPPED)
    assert dropped.function == "" and "out/report.txt" in str(dropped.event)
    sim.faults.fail("worker", times=1)
    message_id = sim.queue("jobs").send_message("retry me")
    await sim.settle()
    await sim.advance(seconds=31)
    story = sim.explain(message_id=message_id)
    # The message's receive count is its attempt number: the second delivery is attempt 2.
    assert "attempt 1 failed with its batch (InjectedFault; injected fault: fail)" in story
    assert "attempt 2 succeeded" in story
    assert sim.ledger.query(source="sqs:") == sim.ledger.for_function("worker")
