"""The SQS event source mapping: batches, AWS's failure rules, filters, redrive; virtual clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import SqsModel

from eventsim import Outcome, Simulator
from eventsim.ledger import Code
from eventsim.testing import SimulatorFactory

from .helpers import demo, function

pytestmark = pytest.mark.asyncio


async def mapped(
    factory: SimulatorFactory, handler: str, trigger: dict[str, Any] | None = None, **queue: Any
) -> Simulator:
    options = {"queue": "jobs", **(trigger or {})}
    config = {
        "functions": {"worker": function(f"batches.{handler}", triggers=[{"sqs": options}])},
        "queues": {
            "jobs": {"visibility_timeout": 30, **queue},
            "jobs-dlq": {},
        },
    }
    return await factory(config)


def batches(sim: Simulator) -> list[list[str]]:
    return [
        [r["body"] for r in a.event["Records"]]
        for a in sim.ledger.for_function("worker")
        if a.outcome is not Outcome.DROPPED
    ]


async def test_messages_arrive_in_batches_and_are_deleted(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await mapped(eventsim_factory, "bodies", {"batch_size": 2})
    jobs = sim.queue("jobs")
    for n in range(5):
        jobs.send_message(f"m{n}")
    await sim.settle()
    delivered = sorted(body for batch in batches(sim) for body in batch)
    assert delivered == [f"m{n}" for n in range(5)]
    assert all(len(batch) <= 2 for batch in batches(sim))
    assert len(jobs) == 0
    event = sim.ledger.for_function("worker")[0].event
    SqsModel.model_validate(event)
    assert event["Records"][0]["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:jobs"
    assert sim.ledger.for_function("worker")[0].source == "sqs:jobs"


async def test_a_failed_batch_reappears_and_moves_to_the_dlq(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await mapped(
        eventsim_factory,
        "fail_all",
        redrive={"dead_letter_queue": "jobs-dlq", "max_receive_count": 3},
    )
    sim.queue("jobs").send_message("poison")
    await sim.settle()
    counts = [a.event["Records"][0]["attributes"]["ApproximateReceiveCount"]
              for a in sim.ledger.for_function("worker")]  # fmt: skip
    assert counts == ["1"]
    await sim.advance(seconds=30)
    await sim.advance(seconds=30)
    counts = [a.event["Records"][0]["attributes"]["ApproximateReceiveCount"]
              for a in sim.ledger.for_function("worker")]  # fmt: skip
    assert counts == ["1", "2", "3"]
    assert all(a.outcome is Outcome.ERROR for a in sim.ledger.for_function("worker"))
    await sim.advance(seconds=30)  # the fourth receive moves it to the DLQ
    *runs, moved = sim.ledger.for_function("worker")
    assert len(runs) == 3 and (moved.outcome, moved.code) == (Outcome.MOVED, Code.DEAD_LETTERED)
    assert sim.queue("jobs-dlq").snapshot()["visible"] == ["poison"]


async def test_powertools_batch_processor_partial_failures(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await mapped(eventsim_factory, "partial", {"report_batch_item_failures": True})
    jobs = sim.queue("jobs")
    for body in ("ok-1", "fail-2", "ok-3"):
        jobs.send_message(body)
    await sim.settle()
    assert jobs.snapshot() == {"visible": [], "in_flight": ["fail-2"], "delayed": []}
    await sim.advance(seconds=30)
    assert batches(sim)[-1] == ["fail-2"]

    # The ledger tells each message's story: its receive count is its attempt number.
    first, second = sim.ledger.for_function("worker")
    ids = {r.id: r for r in first.records}
    assert first.code is Code.PARTIAL_FAILURE and "1 of 3 message(s) reported failed" in str(
        first.reason
    )
    assert sorted(r.outcome for r in ids.values()) == ["failed", "succeeded", "succeeded"]
    [again] = second.records  # alone in its batch, it fails it: powertools raises
    assert (again.outcome, again.attempt, second.attempt) == ("retried", 2, 2)
    assert second.code is Code.VISIBILITY_TIMEOUT
    assert ids[again.id].outcome == "failed" and ids[again.id].attempt == 1


@pytest.mark.parametrize("handler", ["malformed", "wrong_key"])
async def test_a_malformed_response_fails_the_whole_batch(
    eventsim_factory: SimulatorFactory, handler: str
) -> None:
    sim = await mapped(eventsim_factory, handler, {"report_batch_item_failures": True})
    jobs = sim.queue("jobs")
    jobs.send_message("a")
    jobs.send_message("b")
    await sim.settle()
    assert sorted(jobs.snapshot()["in_flight"]) == ["a", "b"]


async def test_reported_ids_stay_and_the_rest_is_deleted(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await mapped(eventsim_factory, "report", {"report_batch_item_failures": True})
    jobs = sim.queue("jobs")
    for body in ("fine", "fail"):
        jobs.send_message(body)
    await sim.settle()
    assert jobs.snapshot()["in_flight"] == ["fail"] and len(jobs) == 1


async def test_without_reporting_a_response_is_ignored(eventsim_factory: SimulatorFactory) -> None:
    sim = await mapped(eventsim_factory, "report")
    sim.queue("jobs").send_message("fail")
    await sim.settle()
    assert len(sim.queue("jobs")) == 0


async def test_filters_delete_what_they_drop(eventsim_factory: SimulatorFactory) -> None:
    sim = await mapped(
        eventsim_factory, "json_bodies", {"filters": [{"body": {"kind": ["resize"]}}]}
    )
    jobs = sim.queue("jobs")
    jobs.send_message('{"kind": "resize", "n": 1}')
    jobs.send_message('{"kind": "crop", "n": 2}')
    jobs.send_message("not json")
    await sim.settle()
    ran = [a for a in sim.ledger.for_function("worker") if a.outcome is Outcome.SUCCESS]
    assert [a.payload for a in ran] == [[{"kind": "resize", "n": 1}]]
    dropped = [a for a in sim.ledger.for_function("worker") if a.outcome is Outcome.DROPPED]
    assert sorted(a.event["body"] for a in dropped) == sorted(
        ['{"kind": "crop", "n": 2}', "not json"]
    )
    assert all(a.reason and a.reason.startswith("filtered out") for a in dropped)
    assert len(jobs) == 0


async def test_batching_window_waits_on_the_clock(eventsim_factory: SimulatorFactory) -> None:
    sim = await mapped(eventsim_factory, "bodies", {"batch_size": 20, "batching_window": 5})
    jobs = sim.queue("jobs")
    for n in range(3):
        jobs.send_message(f"m{n}")
    await sim.settle()
    assert batches(sim) == []
    await sim.advance(seconds=5)
    assert batches(sim) == [["m0", "m1", "m2"]]


async def test_fifo_groups_keep_their_order(eventsim_factory: SimulatorFactory) -> None:
    config = {
        "functions": {
            "worker": function(
                "batches.bodies", triggers=[{"sqs": {"queue": "jobs.fifo", "batch_size": 1}}]
            )
        },
        "queues": {"jobs.fifo": {"content_based_deduplication": True}},
    }
    sim = await eventsim_factory(config)
    for n in range(4):
        sim.queue("jobs.fifo").send_message(f"a{n}", group_id="a")
    await sim.settle()
    assert batches(sim) == [["a0"], ["a1"], ["a2"], ["a3"]]


async def test_every_message_is_processed_dead_lettered_or_queued(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await mapped(
        eventsim_factory,
        "report",
        {"report_batch_item_failures": True, "batch_size": 3},
        redrive={"dead_letter_queue": "jobs-dlq", "max_receive_count": 2},
    )
    sent = [f"ok-{n}" if n % 3 else f"fail-{n}" for n in range(30)]
    for body in sent:
        sim.queue("jobs").send_message(body)
    await sim.advance(minutes=5)
    processed = [
        r["body"]
        for a in sim.ledger.for_function("worker")
        if a.ran
        for r in a.event["Records"]
        if not r["body"].startswith("fail")
    ]
    dead = sim.queue("jobs-dlq").snapshot()["visible"]
    assert sorted(processed) == sorted(b for b in sent if b.startswith("ok"))  # once each
    assert sorted(dead) == sorted(b for b in sent if b.startswith("fail"))
    assert len(sim.queue("jobs")) == 0


async def test_the_readme_example_on_the_demo(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    sim = await eventsim_factory(demo(tmp_path))
    sim.queue("orders").send_message('{"id": 6, "total": 10}')
    sim.queue("orders").send_message('{"id": 7, "total": -1}')
    await sim.settle()
    await sim.advance(seconds=60)
    await sim.advance(seconds=30)
    assert sim.queue("orders-dlq").snapshot()["visible"] == ['{"id": 7, "total": -1}']
    assert len(sim.queue("orders")) == 0
    receives = [
        r["attributes"]["ApproximateReceiveCount"]
        for a in sim.ledger.for_function("orders")
        if a.ran
        for r in a.event["Records"]
        if '"id": 7' in r["body"]
    ]
    assert receives == ["1", "2", "3"]


async def test_the_life_of_a_message_reported_failed_then_dead_lettered(
    eventsim_factory: SimulatorFactory,
) -> None:
    """Issue 20's example: told as it happened, not as 'attempt 1 succeeded' twice."""
    sim = await mapped(
        eventsim_factory, "report", {"report_batch_item_failures": True},
        redrive={"dead_letter_queue": "jobs-dlq", "max_receive_count": 2},
    )  # fmt: skip
    jobs = sim.queue("jobs")
    keep = jobs.send_message("ok")
    poison = jobs.send_message("fail me")
    await sim.settle()
    await sim.advance(seconds=30)  # the second receive: reported failed again
    await sim.advance(seconds=30)  # the third receive would exceed 2: to the dead-letter queue
    assert sim.queue("jobs-dlq").snapshot()["visible"] == ["fail me"]

    story = sim.explain(message_id=poison).splitlines()
    assert story[1].endswith("attempt 1 reported failed by the batch response; it comes back")
    assert story[2].endswith("attempt 2 reported failed by the batch response; it comes back")
    assert story[3].endswith("moved: moved to the dead-letter queue 'jobs-dlq' (max receive count)")
    assert len(story) == 4
    [moved] = sim.ledger.query("worker", code=Code.DEAD_LETTERED)
    assert (moved.outcome, moved.request_id) == (Outcome.MOVED, poison)
    assert sim.explain(message_id=keep).splitlines()[1:] == [
        story[1].replace("reported failed by the batch response; it comes back", "succeeded")
    ]
