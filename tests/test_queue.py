"""In-memory SQS queues through the Python API, on the virtual clock."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from eventsim import Simulator
from eventsim.errors import QueueError, ValueRejected
from eventsim.events.sqs import md5_of_body
from eventsim.testing import SimulatorFactory

pytestmark = pytest.mark.asyncio


async def queues(factory: SimulatorFactory, **queues: Any) -> Simulator:
    return await factory({"queues": queues})


async def test_send_receive_delete(eventsim_factory: SimulatorFactory) -> None:
    sim = await queues(eventsim_factory, jobs={})
    jobs = sim.queue("jobs")
    attributes = {"kind": {"DataType": "String", "StringValue": "resize"}}
    message_id = jobs.send_message('{"n": 1}', attributes=attributes)
    [message] = await jobs.receive_messages(max_messages=10)
    assert message.message_id == message_id
    assert message.body == '{"n": 1}' and message.md5_of_body == md5_of_body('{"n": 1}')
    assert message.message_attributes == attributes
    assert message.attributes["ApproximateReceiveCount"] == "1"
    assert message.attributes["SentTimestamp"] == str(int(sim.clock.time() * 1000))
    assert jobs.counts().in_flight == 1
    jobs.delete_message(message.receipt_handle)
    assert len(jobs) == 0 and await jobs.receive_messages() == []


async def test_visibility_timeout_and_receive_count(eventsim_factory: SimulatorFactory) -> None:
    sim = await queues(eventsim_factory, jobs={"visibility_timeout": 30})
    jobs = sim.queue("jobs")
    jobs.send_message("work")
    first = (await jobs.receive_messages())[0]
    assert await jobs.receive_messages() == []  # hidden
    await sim.advance(seconds=29)
    assert await jobs.receive_messages() == []
    await sim.advance(seconds=1)
    second = (await jobs.receive_messages())[0]
    assert second.attributes["ApproximateReceiveCount"] == "2"
    assert second.receipt_handle != first.receipt_handle
    first_receive = second.attributes["ApproximateFirstReceiveTimestamp"]
    assert first_receive == first.attributes["ApproximateFirstReceiveTimestamp"]
    jobs.change_message_visibility(second.receipt_handle, 0)
    assert (await jobs.receive_messages(visibility_timeout=5))[0].body == "work"
    await sim.advance(seconds=5)
    assert jobs.snapshot() == {"visible": ["work"], "in_flight": [], "delayed": []}


async def test_delays(eventsim_factory: SimulatorFactory) -> None:
    sim = await queues(eventsim_factory, slow={"delay_seconds": 10})
    slow = sim.queue("slow")
    slow.send_message("queue delay")
    slow.send_message("own delay", delay_seconds=0)
    assert [m.body for m in await slow.receive_messages(10)] == ["own delay"]
    assert slow.counts().delayed == 1
    await sim.advance(seconds=10)
    assert [m.body for m in await slow.receive_messages(10)] == ["queue delay"]


async def test_long_polling_waits_on_the_clock(eventsim_factory: SimulatorFactory) -> None:
    sim = await queues(eventsim_factory, jobs={})
    jobs = sim.queue("jobs")
    jobs.send_message("later", delay_seconds=3)
    receiving = asyncio.ensure_future(jobs.receive_messages(wait_seconds=20))
    await sim.settle()
    assert not receiving.done()
    await sim.advance(seconds=3)
    assert [m.body for m in await receiving] == ["later"]
    # A send wakes a waiting receive at once.
    waiting = asyncio.ensure_future(jobs.receive_messages(wait_seconds=20))
    await sim.settle()
    jobs.send_message("now")
    assert [m.body for m in await waiting] == ["now"]
    # Nothing arrives: returns empty when the wait is over.
    empty = asyncio.ensure_future(jobs.receive_messages(wait_seconds=20))
    await sim.advance(seconds=20)
    assert await empty == []


async def test_redrive_to_the_dead_letter_queue(eventsim_factory: SimulatorFactory) -> None:
    sim = await queues(
        eventsim_factory,
        jobs={
            "visibility_timeout": 10,
            "redrive": {"dead_letter_queue": "dlq", "max_receive_count": 2},
        },
        dlq={},
    )
    jobs, dlq = sim.queue("jobs"), sim.queue("dlq")
    jobs.send_message("poison")
    for receive in (1, 2):
        [message] = await jobs.receive_messages()
        assert message.attributes["ApproximateReceiveCount"] == str(receive)
        await sim.advance(seconds=10)
    assert await jobs.receive_messages() == []  # the third receive moves it instead
    [moved] = await dlq.receive_messages()
    assert moved.body == "poison"
    assert moved.attributes["DeadLetterQueueSourceArn"].endswith(":jobs")
    # The receive count carries on in the dead-letter queue, as in SQS.
    assert moved.attributes["ApproximateReceiveCount"] == "3"


async def test_retention(eventsim_factory: SimulatorFactory) -> None:
    sim = await queues(eventsim_factory, short={"message_retention_period": 60})
    short = sim.queue("short")
    short.send_message("old")
    await sim.advance(seconds=60)
    assert await short.receive_messages() == [] and len(short) == 0


async def test_fifo_order_groups_and_dedup(eventsim_factory: SimulatorFactory) -> None:
    sim = await queues(eventsim_factory, **{"orders.fifo": {"content_based_deduplication": True}})
    orders = sim.queue("orders.fifo")
    for n in range(3):
        orders.send_message(f"a{n}", group_id="a")
    orders.send_message("b0", group_id="b")
    orders.send_message("a0", group_id="a")  # same body within 5 minutes: deduplicated
    first = await orders.receive_messages(max_messages=2)
    assert [m.body for m in first] == ["a0", "a1"]
    assert [m.attributes["MessageGroupId"] for m in first] == ["a", "a"]
    assert int(first[0].attributes["SequenceNumber"]) < int(first[1].attributes["SequenceNumber"])
    # Group a is in flight: only b is handed out.
    assert [m.body for m in await orders.receive_messages(max_messages=10)] == ["b0"]
    assert await orders.receive_messages(max_messages=10) == []
    for message in first:
        orders.delete_message(message.receipt_handle)
    assert [m.body for m in await orders.receive_messages(max_messages=10)] == ["a2"]
    await sim.advance(minutes=5)
    orders.send_message("a0", group_id="a")  # the dedup window has passed
    assert len(orders) == 3


async def test_fifo_failed_messages_come_back_first(eventsim_factory: SimulatorFactory) -> None:
    sim = await queues(eventsim_factory, **{"q.fifo": {"visibility_timeout": 30}})
    q = sim.queue("q.fifo")
    for n in range(3):
        q.send_message(f"m{n}", group_id="g", deduplication_id=str(n))
    [m0] = await q.receive_messages()
    await sim.advance(seconds=30)  # not deleted: it reappears, still ahead of m1
    assert [m.body for m in await q.receive_messages(max_messages=10)] == ["m0", "m1", "m2"]


@pytest.mark.parametrize(
    ("queue", "kwargs", "code"),
    [
        ("std", {"body": ""}, "MissingParameter"),
        ("std", {"body": "x" * 2000}, "InvalidParameterValue"),
        ("std", {"body": "x", "attributes": {"AWS.x": {"DataType": "String", "StringValue": "v"}}},
         "InvalidParameterValue"),
        ("std", {"body": "x", "attributes": {"a": {"DataType": "Float", "StringValue": "1"}}},
         "InvalidParameterValue"),
        ("std", {"body": "x", "deduplication_id": "d"}, "InvalidParameterValue"),
        ("q.fifo", {"body": "x"}, "MissingParameter"),
        ("q.fifo", {"body": "x", "group_id": "g"}, "InvalidParameterValue"),  # no dedup id
        ("q.fifo", {"body": "x", "group_id": "g", "deduplication_id": "d", "delay_seconds": 1},
         "InvalidParameterValue"),
    ],
)  # fmt: skip
async def test_requests_sqs_refuses(
    eventsim_factory: SimulatorFactory, queue: str, kwargs: dict[str, Any], code: str
) -> None:
    sim = await queues(eventsim_factory, std={"maximum_message_size": 1024}, **{"q.fifo": {}})
    with pytest.raises(QueueError) as info:
        sim.queue(queue).send_message(**kwargs)
    assert info.value.code == code


async def test_receive_limits_and_stale_handles(eventsim_factory: SimulatorFactory) -> None:
    sim = await queues(eventsim_factory, jobs={})
    jobs = sim.queue("jobs")
    for bad in (0, 11):
        with pytest.raises(QueueError):
            jobs.receive_now(bad)
    with pytest.raises(QueueError, match="receipt handle"):
        jobs.change_message_visibility("nope", 10)
    with pytest.raises(QueueError, match="receipt handle"):
        jobs.delete_message("nope")  # malformed
    jobs.send_message("x")
    [message] = jobs.receive_now()
    jobs.delete_message(message.receipt_handle)
    jobs.delete_message(message.receipt_handle)  # a standard queue accepts a stale handle
    jobs.send_message("x")
    jobs.purge()
    assert len(jobs) == 0


async def test_persisted_queues_survive_a_restart(
    eventsim_factory: SimulatorFactory, tmp_path: Any
) -> None:
    config = {
        "queues": {
            "kept": {"persist": True, "visibility_timeout": 60},
            "kept.fifo": {"persist": True, "content_based_deduplication": True},
            "lost": {},
        }
    }
    state = tmp_path / "state"
    first = await eventsim_factory(config, state_dir=state)
    blob = {"blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}}
    for body in ("a", "b", "c"):
        first.queue("kept").send_message(body, attributes=blob)
    first.queue("kept.fifo").send_message("f1", group_id="g")
    first.queue("lost").send_message("gone")
    [received] = await first.queue("kept").receive_messages()
    first.queue("kept").delete_message(received.receipt_handle)  # "a" is done
    await first.queue("kept").receive_messages()  # "b" is in flight for 60 s
    await first.close()

    second = await eventsim_factory(config, state_dir=state)
    kept = second.queue("kept")
    assert kept.snapshot() == {"visible": ["c"], "in_flight": ["b"], "delayed": []}
    assert [(p.body, p.state) for p in kept.peek(5)] == [("b", "in_flight"), ("c", "visible")]
    [c] = await kept.receive_messages()
    assert c.message_attributes == blob
    assert second.queue("kept.fifo").snapshot()["visible"] == ["f1"]
    assert len(second.queue("lost")) == 0
    await second.advance(seconds=60)
    [b] = await kept.receive_messages()
    assert b.body == "b" and b.attributes["ApproximateReceiveCount"] == "2"


async def test_persisted_messages_survive_a_killed_process(
    eventsim_factory: SimulatorFactory, tmp_path: Any
) -> None:
    state = tmp_path / "state"
    script = textwrap.dedent(
        f"""
        import asyncio, os
        from eventsim import Simulator

        async def main():
            sim = Simulator.from_dict({{"queues": {{"kept": {{"persist": True}}}}}},
                                      virtual_time=True, state_dir={str(state)!r})
            await sim.start()
            for n in range(3):
                sim.queue("kept").send_message(f"m{{n}}")
            os._exit(0)  # no close, no flush: as if killed

        asyncio.run(main())
        """
    )
    await asyncio.to_thread(subprocess.run, [sys.executable, "-c", script], check=True, timeout=60)
    sim = await eventsim_factory({"queues": {"kept": {"persist": True}}}, state_dir=state)
    assert sim.queue("kept").snapshot()["visible"] == ["m0", "m1", "m2"]


async def test_peek_shows_messages_as_they_stand_without_receiving(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await queues(eventsim_factory, jobs={"visibility_timeout": 30})
    jobs = sim.queue("jobs")
    kind = {"kind": {"DataType": "String", "StringValue": "resize"}}
    first = jobs.send_message("first", attributes=kind)
    jobs.send_message("second")
    jobs.send_message("later", delay_seconds=60)
    [received] = await jobs.receive_messages()
    assert received.message_id == first
    peeked = jobs.peek(10)
    assert [(p.body, p.state, p.receive_count) for p in peeked] == [
        ("first", "in_flight", 1), ("second", "visible", 0), ("later", "delayed", 0),
    ]  # fmt: skip
    assert peeked[0].message_id == first and peeked[0].attributes == kind
    assert peeked[0].available_at == sim.clock.time() + 30 and peeked[1].available_at is None
    assert peeked[1].sent_at == sim.clock.time() and peeked[0].group_id is None
    peeked[0].attributes["kind"]["StringValue"] = "changed"  # a copy: the queue keeps its own
    assert [p.body for p in jobs.peek(2)] == ["first", "second"] and jobs.peek(0) == []

    # Nothing was received: the counts, and the next receive, are as without the peeks.
    assert (jobs.counts().visible, jobs.counts().in_flight, jobs.counts().delayed) == (1, 1, 1)
    [second] = await jobs.receive_messages()
    assert second.body == "second" and second.attributes["ApproximateReceiveCount"] == "1"
    await sim.advance(seconds=60)  # the delay ends, the visibility timeouts expire
    assert [(p.body, p.state) for p in jobs.peek(3)] == [
        ("first", "visible"), ("second", "visible"), ("later", "visible"),
    ]  # fmt: skip
    [again, *_] = await jobs.receive_messages(max_messages=3)
    assert again.message_attributes == kind
    with pytest.raises(ValueRejected, match="jobs: peek's limit"):
        jobs.peek(-1)


async def test_peek_reads_the_oldest_of_a_deep_queue_in_order(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await queues(eventsim_factory, deep={}, **{"deep.fifo": {}})
    deep = sim.queue("deep")
    deep.send_message_batch([{"body": "gone"}] * 10)
    for start in range(0, 40_000, 10):  # past two of the queue's 16k-message shards
        deep.send_message_batch([{"body": str(n)} for n in range(start, start + 10)])
    # Take out the oldest 20,000 and 10 (the first shard and more): peek starts after them.
    while len(deep) > 20_000:
        for message in await deep.receive_messages(max_messages=10):
            deep.delete_message(message.receipt_handle)
    assert [p.body for p in deep.peek(3)] == ["20000", "20001", "20002"]
    assert len(deep.peek(1000)) == 1000 and deep.peek(1000)[-1].body == "20999"

    fifo = sim.queue("deep.fifo")
    for n in range(4):
        fifo.send_message(f"m{n}", group_id="ab"[n % 2], deduplication_id=str(n))
    assert [(p.body, p.group_id) for p in fifo.peek(3)] == [("m0", "a"), ("m1", "b"), ("m2", "a")]
