"""Message move tasks (the console's "redrive") through boto3, on the virtual clock."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from eventsim import Simulator
from eventsim.testing import SimulatorFactory

from .test_sqs_api import ACCOUNT, Sqs

pytestmark = pytest.mark.asyncio

CONFIG = {
    "queues": {
        "jobs": {"visibility_timeout": 0,
                 "redrive": {"dead_letter_queue": "dlq", "max_receive_count": 1}},
        "other": {"visibility_timeout": 0,
                  "redrive": {"dead_letter_queue": "dlq", "max_receive_count": 1}},
        "dlq": {},
        "elsewhere": {},
    }
}  # fmt: skip


def arn(name: str) -> str:
    return f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"


async def dead_letters(sim: Simulator, queue: str, count: int) -> None:
    """``count`` messages of ``queue`` moved to the dead-letter queue (received once, then
    moved by the next receive)."""
    for n in range(count):
        sim.queue(queue).send_message(f"{queue}-{n}")
    assert len(sim.queue(queue).receive_now(10)) == count
    assert sim.queue(queue).receive_now(10) == []  # each receive moves them on
    assert len(sim.queue(queue)) == 0


async def test_redrive_to_the_queues_they_came_from(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory(CONFIG)
    await dead_letters(sim, "jobs", 2)
    await dead_letters(sim, "other", 2)
    sqs = Sqs(sim)
    client = sqs.client()
    started = await sqs(client.start_message_move_task, SourceArn=arn("dlq"))
    task_id = json.loads(base64.b64decode(started["TaskHandle"]))
    assert task_id["sourceArn"] == arn("dlq") and len(task_id["taskId"]) == 36
    await sim.settle()
    assert sorted(sim.queue("jobs").snapshot()["visible"]) == ["jobs-0", "jobs-1"]
    assert sorted(sim.queue("other").snapshot()["visible"]) == ["other-0", "other-1"]
    assert len(sim.queue("dlq")) == 0
    [task] = (await sqs(client.list_message_move_tasks, SourceArn=arn("dlq")))["Results"]
    assert task == {
        "Status": "COMPLETED", "SourceArn": arn("dlq"), "ApproximateNumberOfMessagesMoved": 4,
        "ApproximateNumberOfMessagesToMove": 4, "StartedTimestamp": int(sim.clock.time() * 1000),
    }  # fmt: skip
    # Back where they came from, received afresh.
    [message] = sim.queue("jobs").receive_now(1)
    assert message.attributes["ApproximateReceiveCount"] == "1"
    assert "DeadLetterQueueSourceArn" not in message.attributes


async def test_a_rate_on_the_clock_and_cancel(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory(CONFIG)
    await dead_letters(sim, "jobs", 10)
    sqs = Sqs(sim)
    client = sqs.client()
    started = await sqs(
        client.start_message_move_task,
        SourceArn=arn("dlq"),
        DestinationArn=arn("elsewhere"),
        MaxNumberOfMessagesPerSecond=3,
    )
    await sim.settle()
    assert len(sim.queue("elsewhere")) == 3  # the first second's worth
    await sim.advance(seconds=1)
    assert len(sim.queue("elsewhere")) == 6
    error = await sqs.refused(client.start_message_move_task, SourceArn=arn("dlq"))
    assert error["Message"] == ("There is already a task running. Only one active task is "
                                "allowed for a source queue arn at a given time.")  # fmt: skip
    [running] = (await sqs(client.list_message_move_tasks, SourceArn=arn("dlq")))["Results"]
    assert running["Status"] == "RUNNING" and running["TaskHandle"] == started["TaskHandle"]
    assert running["MaxNumberOfMessagesPerSecond"] == 3
    assert running["DestinationArn"] == arn("elsewhere")
    assert running["ApproximateNumberOfMessagesMoved"] == 6
    cancelled = await sqs(client.cancel_message_move_task, TaskHandle=started["TaskHandle"])
    assert cancelled["ApproximateNumberOfMessagesMoved"] == 6
    await sim.advance(seconds=5)
    assert len(sim.queue("elsewhere")) == 6 and len(sim.queue("dlq")) == 4
    [done] = (await sqs(client.list_message_move_tasks, SourceArn=arn("dlq")))["Results"]
    assert done["Status"] == "CANCELLED" and "TaskHandle" not in done
    # A new task may start now; the list shows the newest first.
    await sqs(client.start_message_move_task, SourceArn=arn("dlq"))
    await sim.settle()
    both = await sqs(client.list_message_move_tasks, SourceArn=arn("dlq"), MaxResults=10)
    assert [t["Status"] for t in both["Results"]] == ["COMPLETED", "CANCELLED"]
    assert len(sim.queue("jobs")) == 4


async def test_a_deleted_destination_fails_the_task(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory(CONFIG)
    await dead_letters(sim, "jobs", 4)
    sqs = Sqs(sim)
    client = sqs.client()
    await sqs(client.start_message_move_task, SourceArn=arn("dlq"),
              DestinationArn=arn("elsewhere"), MaxNumberOfMessagesPerSecond=1)  # fmt: skip
    await sim.settle()
    url = (await sqs(client.get_queue_url, QueueName="elsewhere"))["QueueUrl"]
    await sqs(client.delete_queue, QueueUrl=url)
    await sim.advance(seconds=1)
    [task] = (await sqs(client.list_message_move_tasks, SourceArn=arn("dlq")))["Results"]
    assert task["Status"] == "FAILED"
    assert task["FailureReason"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert task["ApproximateNumberOfMessagesMoved"] == 1 and len(sim.queue("dlq")) == 3


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        ({"SourceArn": arn("jobs")}, "InvalidParameterValue",
         "Source queue must be configured as a Dead Letter Queue."),
        ({"SourceArn": arn("missing")}, "ResourceNotFoundException",
         "The resource that you specified for the SourceArn parameter doesn't exist."),
        ({"SourceArn": arn("dlq"), "DestinationArn": arn("missing")}, "ResourceNotFoundException",
         "The resource that you specified for the DestinationArn parameter doesn't exist."),
        ({"SourceArn": arn("dlq"), "MaxNumberOfMessagesPerSecond": 501}, "InvalidParameterValue",
         None),
    ],
)  # fmt: skip
async def test_start_refusals(
    eventsim_factory: SimulatorFactory, kwargs: dict[str, Any], code: str, message: str | None
) -> None:
    sim = await eventsim_factory(CONFIG)
    sqs = Sqs(sim)
    error = await sqs.refused(sqs.client().start_message_move_task, **kwargs)
    assert error["Code"] == code
    if message is not None:
        assert error["Message"] == message


async def test_cancel_refusals(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory(CONFIG)
    sqs = Sqs(sim)
    client = sqs.client()
    error = await sqs.refused(client.cancel_message_move_task, TaskHandle="foobared")
    assert (error["Code"], error["Message"]) == (
        "InvalidParameterValue",
        "Value for parameter TaskHandle is invalid.",
    )

    def handle(source: str) -> str:
        doc = {"taskId": "10f57157-fc38-4da9-a113-4de7e12d05aa", "sourceArn": source}
        return base64.b64encode(json.dumps(doc).encode()).decode()

    error = await sqs.refused(client.cancel_message_move_task, TaskHandle=handle(arn("nope")))
    assert error["Code"] == "ResourceNotFoundException" and error["Status"] == 404
    error = await sqs.refused(client.cancel_message_move_task, TaskHandle=handle(arn("dlq")))
    assert (error["Code"], error["Message"]) == (
        "ResourceNotFoundException",
        "Task does not exist.",
    )
