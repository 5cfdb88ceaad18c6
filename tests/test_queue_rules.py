"""The queue refuses what SQS refuses, for every sender (the Python API here), and keeps its
counts as it goes."""

from __future__ import annotations

from typing import Any

import pytest

from eventsim import Simulator
from eventsim.errors import QueueError
from eventsim.testing import SimulatorFactory

pytestmark = pytest.mark.asyncio


async def queues(factory: SimulatorFactory, **queues: Any) -> Simulator:
    return await factory({"queues": queues}, edge=False)


def text(value: str) -> dict[str, Any]:
    return {"DataType": "String", "StringValue": value}


@pytest.mark.parametrize(
    ("kwargs", "code", "words"),
    [
        ({"body": "nul \x00"}, "InvalidMessageContents", "Invalid binary character '#x0'"),
        ({"body": "\ufffe"}, "InvalidMessageContents", "'#xFFFE'"),
        ({"body": "x", "attributes": {"a": text("bell \x07")}}, "InvalidParameterValue",
         "'#x7'"),
        ({"body": "x", "attributes": {"n": {"DataType": "Number", "StringValue": "twelve"}}},
         "InvalidParameterValue", "Can't cast the value of message (user) attribute 'n'"),
        ({"body": "x", "attributes": {"n": {"DataType": "Number", "StringValue": "1" * 39}}},
         "InvalidParameterValue", "38 digits"),
        ({"body": "x", "attributes": {"s": text("")}}, "InvalidParameterValue",
         "must contain a non-empty value of type 'String'"),
        ({"body": "x", "attributes": {"b": {"DataType": "Binary", "BinaryValue": b""}}},
         "InvalidParameterValue", "non-empty value of type 'Binary'"),
        ({"body": "x", "attributes": {"a": {"DataType": "Float", "StringValue": "1"}}},
         "InvalidParameterValue", "supported type prefixes: Binary, Number, String"),
        ({"body": "x", "attributes": {"a": {"StringValue": "1"}}}, "InvalidParameterValue",
         "must contain non-empty message attribute type"),
        ({"body": "x", "attributes": {"Number.int": {"DataType": "Number." + "L" * 256,
                                                      "StringValue": "1"}}},
         "InvalidParameterValue", "is invalid"),
        ({"body": "x", "attributes": {"aWs.x": text("v")}}, "InvalidParameterValue", "aWs.x"),
        ({"body": "x", "attributes": {"ends.": text("v")}}, "InvalidParameterValue", "ends."),
        ({"body": "x", "attributes": {"a..b": text("v")}}, "InvalidParameterValue", "a..b"),
        ({"body": "x", "attributes": {"a!": text("v")}}, "InvalidParameterValue", "a!"),
        ({"body": "x", "attributes": {f"a{n}": text("v") for n in range(11)}},
         "InvalidParameterValue", "Number of message attributes [11] exceeds the allowed maximum"),
        ({"body": "x", "group_id": "group 123"}, "InvalidParameterValue",
         "MessageGroupId can only include alphanumeric and punctuation characters"),
        ({"body": "x", "group_id": "a" * 129}, "InvalidParameterValue", "1 to 128 in length"),
        ({"body": "x", "deduplication_id": "d"}, "InvalidParameterValue",
         "not valid for this queue type"),
        ({"body": "x", "delay_seconds": 901}, "InvalidParameterValue", "DelaySeconds"),
        ({"body": "x", "system_attributes": {"Other": text("v")}}, "InvalidParameterValue",
         "'Other' is invalid"),
    ],
)  # fmt: skip
async def test_the_python_api_refuses_what_the_edge_refuses(
    eventsim_factory: SimulatorFactory, kwargs: dict[str, Any], code: str, words: str
) -> None:
    sim = await queues(eventsim_factory, jobs={})
    with pytest.raises(QueueError) as refused:
        sim.queue("jobs").send_message(**kwargs)
    assert refused.value.code == code and words in str(refused.value)
    assert len(sim.queue("jobs")) == 0


async def test_accepted_unusual_but_valid_messages(eventsim_factory: SimulatorFactory) -> None:
    sim = await queues(eventsim_factory, jobs={})
    jobs = sim.queue("jobs")
    attributes = {
        "attr.1øßä": text("Valida"),
        "n": {"DataType": "Number.float", "StringValue": "-1.5e3"},
        "b": {"DataType": "Binary.png", "BinaryValue": b"\x00\x01"},
    }
    jobs.send_message("tab\t newline\n é 😀 \U0010ffff", attributes=attributes, group_id="g")
    [message] = jobs.receive_now()
    assert message.message_attributes == attributes
    assert message.attributes["MessageGroupId"] == "g"  # a fair standard queue


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"max_messages": 11}, "Value 11 for parameter MaxNumberOfMessages is invalid"),
        ({"max_messages": 0}, "Value 0 for parameter MaxNumberOfMessages is invalid"),
        ({"wait_seconds": 21}, "Value 21 for parameter WaitTimeSeconds is invalid. Reason: "
                               "Must be >= 0 and <= 20, if provided."),
        ({"visibility_timeout": -1}, "Value -1 for parameter VisibilityTimeout is invalid"),
        ({"visibility_timeout": 43201}, "Value 43201 for parameter VisibilityTimeout"),
    ],
)  # fmt: skip
async def test_receive_ranges(
    eventsim_factory: SimulatorFactory, kwargs: dict[str, Any], words: str
) -> None:
    sim = await queues(eventsim_factory, jobs={})
    with pytest.raises(QueueError) as refused:
        await sim.queue("jobs").receive_messages(**kwargs)
    assert refused.value.code == "InvalidParameterValue" and str(refused.value).startswith(words)


async def test_fifo_rules(eventsim_factory: SimulatorFactory) -> None:
    sim = await queues(eventsim_factory, **{"q.fifo": {"delay_seconds": 5}})
    q = sim.queue("q.fifo")
    for kwargs, code in [
        ({"body": "x"}, "MissingParameter"),
        ({"body": "x", "group_id": "g"}, "InvalidParameterValue"),  # no deduplication id
        ({"body": "x", "group_id": "g", "deduplication_id": "d", "delay_seconds": 1},
         "InvalidParameterValue"),
    ]:  # fmt: skip
        with pytest.raises(QueueError) as refused:
            q.send_message(**kwargs)
        assert refused.value.code == code, kwargs
    # DelaySeconds=0 is taken and means the queue's delay, as in SQS.
    sent = q.send("x", group_id="g", deduplication_id="d", delay_seconds=0)
    assert sent.sequence_number is not None
    assert q.counts().delayed == 1
    await sim.advance(seconds=5)
    assert [m.body for m in q.receive_now()] == ["x"]


async def test_counts_follow_every_change(eventsim_factory: SimulatorFactory) -> None:
    sim = await queues(eventsim_factory, jobs={"visibility_timeout": 10, "redrive": {
        "dead_letter_queue": "dlq", "max_receive_count": 2}}, dlq={})  # fmt: skip
    jobs = sim.queue("jobs")

    def counts() -> tuple[int, int, int]:
        found = jobs.counts()
        snapshot = jobs.snapshot()
        expected = tuple(len(snapshot[k]) for k in ("visible", "in_flight", "delayed"))
        assert (found.visible, found.in_flight, found.delayed) == expected
        return found.visible, found.in_flight, found.delayed

    for n in range(4):
        jobs.send_message(f"m{n}")
    jobs.send_message("later", delay_seconds=30)
    assert counts() == (4, 0, 1)
    received = jobs.receive_now(3)
    assert counts() == (1, 3, 1)
    jobs.delete_message(received[0].receipt_handle)
    jobs.change_message_visibility(received[1].receipt_handle, 0)
    assert counts() == (2, 1, 1)
    await sim.advance(seconds=10)  # the third's visibility timeout ends
    assert counts() == (3, 0, 1)
    await sim.advance(seconds=20)  # the delay ends
    assert counts() == (4, 0, 0)
    jobs.receive_now(10)
    await sim.advance(seconds=10)
    assert jobs.receive_now(10) != []  # second receives
    await sim.advance(seconds=10)
    assert jobs.receive_now(10) == []  # third: every one moves to the dead-letter queue
    assert counts() == (0, 0, 0) and sim.queue("dlq").counts().visible == 4
    jobs.send_message("x")
    jobs.purge()
    assert counts() == (0, 0, 0)


async def test_run_time_queues(eventsim_factory: SimulatorFactory) -> None:
    sim = await queues(eventsim_factory, dlq={})
    made = sim.create_queue("made", {"VisibilityTimeout": "60"}, tags={"team": "a"})
    assert made.config.visibility_timeout == 60 and made.config.tags == {"team": "a"}
    assert sim.create_queue("made") is made
    with pytest.raises(QueueError) as refused:
        sim.create_queue("made", {"VisibilityTimeout": "61"})
    assert refused.value.code == "QueueAlreadyExists"
    with pytest.raises(QueueError) as refused:
        sim.create_queue("bad name")
    assert refused.value.code == "InvalidParameterValue"
    sim.queues.delete(made)
    assert "made" not in sim.queues
    with pytest.raises(QueueError):
        made.send_message("to a deleted queue")


async def test_fifo_groups_as_sqs_hands_them_out(eventsim_factory: SimulatorFactory) -> None:
    sim = await queues(eventsim_factory, **{"q.fifo": {"content_based_deduplication": True,
                                                      "visibility_timeout": 30}})  # fmt: skip
    q = sim.queue("q.fifo")

    def send(*bodies: str) -> None:
        for body in bodies:
            q.send_message(body, group_id=body.split("-")[0])

    def bodies(messages: list[Any]) -> list[str]:
        return [m.body for m in messages]

    # Groups come back after those that were waiting: g3 first, then g1 and g2 in the order
    # their first message became visible again.
    send("g1-m1", "g2-m1", "g2-m2", "g3-m1", "g1-m2")
    assert bodies(q.receive_now(3, visibility_timeout=0)) == ["g1-m1", "g1-m2", "g2-m1"]
    assert bodies(q.receive_now(10, visibility_timeout=0)) == [
        "g3-m1",
        "g1-m1",
        "g1-m2",
        "g2-m1",
        "g2-m2",
    ]
    await sim.advance(seconds=300)
    q.purge()
    # A message back in view makes its group available even while later ones are in flight;
    # those stay hidden, and so does what follows them.
    send("g1-m1", "g1-m2", "g2-m1")
    first, second = q.receive_now(2)
    q.change_message_visibility(first.receipt_handle, 0)
    assert bodies(q.receive_now(3)) == ["g2-m1", "g1-m1"]
    q.change_message_visibility(second.receipt_handle, 0)
    assert q.receive_now(10) == []  # g1-m1 is in flight again: g1-m2 waits behind it


async def test_fifo_deduplication_scope_is_the_one_a_queue_was_made_with(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await queues(
        eventsim_factory,
        **{
            "by-queue.fifo": {},
            "by-group.fifo": {
                "deduplication_scope": "messageGroup",
                "fifo_throughput_limit": "perMessageGroupId",
            },
        },
    )
    for name, delivered in (("by-queue.fifo", ["a"]), ("by-group.fifo", ["a", "b"])):
        q = sim.queue(name)
        q.send_message("a", group_id="g1", deduplication_id="same")
        flipped = "messageGroup" if name == "by-queue.fifo" else "queue"
        sim.queues.set_attributes(q, {"DeduplicationScope": flipped})
        q.send_message("b", group_id="g2", deduplication_id="same")
        assert q.snapshot()["visible"] == delivered, name
        assert q.config.deduplication_scope == flipped  # reported as set
