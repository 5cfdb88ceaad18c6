"""SQS through boto3 against the edge: what AWS answers, including its refusals' codes and words
(issue 17's SQS list), regions, tags, redrive policies and permissions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from functools import partial
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from eventsim import Simulator
from eventsim.testing import SimulatorFactory

from .helpers import FUNCTIONS

pytestmark = pytest.mark.asyncio

ACCOUNT = "123456789012"
TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


class Sqs:
    """boto3 SQS clients for one simulator's edge, one per region."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def client(self, region: str = "us-east-1") -> Any:
        return boto3.client(
            "sqs", endpoint_url=self.sim.endpoint_url, region_name=region,
            aws_access_key_id="test", aws_secret_access_key="test",
            config=BotoConfig(retries={"max_attempts": 1}),
        )  # fmt: skip

    async def __call__(self, method: Callable[..., Any], **kwargs: Any) -> Any:
        """A blocking boto3 call, off the loop that serves it."""
        return await asyncio.to_thread(partial(method, **kwargs))

    async def refused(self, method: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
        """The error of a call that must fail: Code, Message, QueryErrorCode, status."""
        with pytest.raises(ClientError) as info:
            await self(method, **kwargs)
        response = info.value.response
        return {**response["Error"], "Status": response["ResponseMetadata"]["HTTPStatusCode"]}


async def start(factory: SimulatorFactory, **queues: Any) -> tuple[Simulator, Sqs, Any]:
    sim = await factory({"queues": queues})
    sqs = Sqs(sim)
    return sim, sqs, sqs.client()


async def test_fifo_delay_zero_is_accepted_and_sends_carry_sequence_numbers(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim, sqs, client = await start(eventsim_factory, **{"work.fifo": {}, "plain": {}})
    url = (await sqs(client.get_queue_url, QueueName="work.fifo"))["QueueUrl"]
    first = await sqs(client.send_message, QueueUrl=url, MessageBody="a", MessageGroupId="g",
                      MessageDeduplicationId="1", DelaySeconds=0)  # fmt: skip
    second = await sqs(client.send_message, QueueUrl=url, MessageBody="b", MessageGroupId="g",
                       MessageDeduplicationId="2")  # fmt: skip
    assert int(first["SequenceNumber"]) < int(second["SequenceNumber"])
    batch = await sqs(client.send_message_batch, QueueUrl=url, Entries=[
        {"Id": "c", "MessageBody": "c", "MessageGroupId": "g", "MessageDeduplicationId": "3",
         "DelaySeconds": 0},
    ])  # fmt: skip
    assert int(batch["Successful"][0]["SequenceNumber"]) > int(second["SequenceNumber"])
    duplicate = await sqs(client.send_message, QueueUrl=url, MessageBody="a", MessageGroupId="g",
                          MessageDeduplicationId="1")  # fmt: skip
    assert duplicate["MessageId"] == first["MessageId"]
    assert duplicate["SequenceNumber"] == first["SequenceNumber"]
    error = await sqs.refused(
        client.send_message,
        QueueUrl=url,
        MessageBody="x",
        MessageGroupId="g",
        MessageDeduplicationId="4",
        DelaySeconds=2,
    )
    assert error["Code"] == "InvalidParameterValue"
    assert error["Message"] == (
        "Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter "
        "that is not valid for this queue type."
    )
    plain = (await sqs(client.get_queue_url, QueueName="plain"))["QueueUrl"]
    assert "SequenceNumber" not in await sqs(client.send_message, QueueUrl=plain, MessageBody="x")
    assert [m.body for m in sim.queue("work.fifo").receive_now(10)] == ["a", "b", "c"]


async def test_get_queue_attributes_names(eventsim_factory: SimulatorFactory) -> None:
    sim, sqs, client = await start(eventsim_factory, jobs={}, **{"f.fifo": {}})
    url = (await sqs(client.get_queue_url, QueueName="jobs"))["QueueUrl"]
    assert "Attributes" not in await sqs(client.get_queue_attributes, QueueUrl=url)
    every = (await sqs(client.get_queue_attributes, QueueUrl=url,
                       AttributeNames=["All"]))["Attributes"]  # fmt: skip
    created = str(int(sim.clock.time()))
    assert every["CreatedTimestamp"] == every["LastModifiedTimestamp"] == created
    assert every["SqsManagedSseEnabled"] == "true"
    assert every["QueueArn"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"
    assert "FifoQueue" not in every and "RedrivePolicy" not in every
    two = await sqs(client.get_queue_attributes, QueueUrl=url,
                    AttributeNames=["VisibilityTimeout", "QueueArn"])  # fmt: skip
    assert set(two["Attributes"]) == {"VisibilityTimeout", "QueueArn"}
    error = await sqs.refused(client.get_queue_attributes, QueueUrl=url,
                              AttributeNames=["Foobar"])  # fmt: skip
    assert (error["Code"], error["Message"]) == (
        "InvalidAttributeName",
        "Unknown Attribute Foobar.",
    )
    fifo = (await sqs(client.get_queue_url, QueueName="f.fifo"))["QueueUrl"]
    attributes = (await sqs(client.get_queue_attributes, QueueUrl=fifo,
                            AttributeNames=["All"]))["Attributes"]  # fmt: skip
    assert attributes["FifoQueue"] == "true" and attributes["DeduplicationScope"] == "queue"
    assert attributes["FifoThroughputLimit"] == "perQueue"
    assert attributes["ContentBasedDeduplication"] == "false"


async def test_create_queue_is_idempotent_only_for_the_same_attributes(
    eventsim_factory: SimulatorFactory,
) -> None:
    _, sqs, client = await start(eventsim_factory)
    attributes = {"ReceiveMessageWaitTimeSeconds": "1", "DelaySeconds": "1"}
    url = (await sqs(client.create_queue, QueueName="q", Attributes=attributes))["QueueUrl"]
    assert (await sqs(client.create_queue, QueueName="q"))["QueueUrl"] == url
    again = await sqs(client.create_queue, QueueName="q", Attributes={"DelaySeconds": "1"})
    assert again["QueueUrl"] == url
    error = await sqs.refused(client.create_queue, QueueName="q",
                              Attributes={"ReceiveMessageWaitTimeSeconds": "1",
                                          "DelaySeconds": "2"})  # fmt: skip
    assert error["Code"] == "QueueAlreadyExists" and error["QueryErrorCode"] == "QueueNameExists"
    assert error["Message"] == (
        "A queue already exists with the same name and a different value for attribute DelaySeconds"
    )
    with pytest.raises(client.exceptions.QueueNameExists):
        await sqs(client.create_queue, QueueName="q", Attributes={"DelaySeconds": "2"})
    await sqs(client.set_queue_attributes, QueueUrl=url, Attributes={"DelaySeconds": "2"})
    assert (await sqs(client.create_queue, QueueName="q",
                      Attributes={"DelaySeconds": "2"}))["QueueUrl"] == url  # fmt: skip


@pytest.mark.parametrize(
    ("name", "attributes", "code", "message"),
    [
        ("queue/with/slashes", {}, "InvalidParameterValue",
         "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"),
        ("x" * 81, {}, "InvalidParameterValue", None),
        ("dots.in.name", {}, "InvalidParameterValue", None),
        ("looks.fifo", {}, "InvalidParameterValue", None),
        ("no-suffix", {"FifoQueue": "true"}, "InvalidParameterValue",
         "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
         "underscores, must end with .fifo suffix and be 1 to 80 in length."),
        ("plain", {"FifoQueue": "false"}, "InvalidAttributeName", "Unknown Attribute FifoQueue."),
        ("plain", {"ContentBasedDeduplication": "true"}, "InvalidAttributeName",
         "Unknown Attribute ContentBasedDeduplication."),
        ("plain", {"DeduplicationScope": "queue"}, "InvalidAttributeName",
         "You can specify the DeduplicationScope only when FifoQueue is set to true."),
        ("plain", {"VisibilityTimeout": "43201"}, "InvalidAttributeValue",
         "Invalid value for the parameter VisibilityTimeout."),
        ("plain", {"DelaySeconds": " 6"}, "InvalidAttributeValue",
         "Invalid value for the parameter DelaySeconds."),
        ("plain", {"QueueArn": "x"}, "InvalidAttributeName", "Unknown Attribute QueueArn."),
        ("plain", {"RedrivePolicy": "{}"}, "InvalidParameterValue",
         "Value {} for parameter RedrivePolicy is invalid. Reason: Redrive policy does not "
         "contain mandatory attribute: maxReceiveCount."),
        ("plain", {"RedrivePolicy": "[]"}, "InvalidParameterValue",
         "Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid "
         "JSON map."),
        ("plain", {"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:missing",
             "maxReceiveCount": 5})}, "InvalidParameterValue", None),
        ("plain", {"KmsMasterKeyId": "k", "SqsManagedSseEnabled": "true"},
         "InvalidAttributeName", "You can use one type of server-side encryption (SSE) at one "
         "time. You can either enable KMS SSE or SQS SSE."),
    ],
)  # fmt: skip
async def test_create_queue_refusals(
    eventsim_factory: SimulatorFactory,
    name: str,
    attributes: dict[str, str],
    code: str,
    message: str | None,
) -> None:
    sim, sqs, client = await start(eventsim_factory)
    error = await sqs.refused(client.create_queue, QueueName=name, Attributes=attributes)
    assert error["Code"] == code and error["Status"] == 400
    if message is not None:
        assert error["Message"] == message
    assert name not in sim.queues


async def test_a_fifo_queue_may_not_have_a_standard_dead_letter_queue(
    eventsim_factory: SimulatorFactory,
) -> None:
    _, sqs, client = await start(eventsim_factory, dlq={}, **{"dlq.fifo": {}})
    policy = json.dumps({"deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq",
                         "maxReceiveCount": 3})  # fmt: skip
    error = await sqs.refused(
        client.create_queue,
        QueueName="main.fifo",
        Attributes={"FifoQueue": "true", "RedrivePolicy": policy},
    )
    assert error["Code"] == "InvalidParameterValue"
    assert error["Message"] == (
        f"Value {policy} for parameter RedrivePolicy is invalid. Reason: Dead-letter queue must "
        "be same type of queue as the source.."
    )
    fifo_policy = policy.replace(":dlq", ":dlq.fifo")
    created = await sqs(
        client.create_queue,
        QueueName="main.fifo",
        Attributes={"FifoQueue": "true", "RedrivePolicy": fifo_policy},
    )
    attributes = (await sqs(client.get_queue_attributes, QueueUrl=created["QueueUrl"],
                            AttributeNames=["RedrivePolicy"]))["Attributes"]  # fmt: skip
    assert json.loads(attributes["RedrivePolicy"]) == json.loads(fifo_policy)


async def test_trace_header_is_kept_and_returned(eventsim_factory: SimulatorFactory) -> None:
    _, sqs, client = await start(eventsim_factory, jobs={"visibility_timeout": 0})
    url = (await sqs(client.get_queue_url, QueueName="jobs"))["QueueUrl"]
    number = {"timestamp": {"StringValue": "1493147359900", "DataType": "Number"}}
    sent = await sqs(client.send_message, QueueUrl=url, MessageBody="test",
                     MessageAttributes=number,
                     MessageSystemAttributes={"AWSTraceHeader": {
                         "DataType": "String", "StringValue": TRACE}})  # fmt: skip
    assert sent["MD5OfMessageSystemAttributes"] == "5ae4d5d7636402d80f4eb6d213245a88"
    assert sent["MD5OfMessageAttributes"] == "235c5c510d26fb653d073faed50ae77c"
    [message] = (await sqs(client.receive_message, QueueUrl=url,
                           AttributeNames=["AWSTraceHeader"]))["Messages"]  # fmt: skip
    assert message["Attributes"] == {"AWSTraceHeader": TRACE}
    await sqs(client.delete_message, QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    # The X-Ray header of the request that sent it, as SDKs with tracing send it.
    traced = sqs.client()
    traced.meta.events.register(
        "before-send.sqs.SendMessage",
        lambda request, **_: request.headers.__setitem__("X-Amzn-Trace-Id", TRACE),
    )
    sent = await sqs(traced.send_message, QueueUrl=url, MessageBody="traced")
    assert "MD5OfMessageSystemAttributes" not in sent
    [message] = (await sqs(client.receive_message, QueueUrl=url,
                           MessageSystemAttributeNames=["All"]))["Messages"]  # fmt: skip
    assert message["Attributes"]["AWSTraceHeader"] == TRACE
    assert set(message["Attributes"]) >= {"SentTimestamp", "ApproximateReceiveCount", "SenderId"}


async def test_queues_are_separated_by_region(eventsim_factory: SimulatorFactory) -> None:
    sim, sqs, east = await start(eventsim_factory, jobs={})
    west = sqs.client("eu-west-1")
    here = (await sqs(east.get_queue_url, QueueName="jobs"))["QueueUrl"]
    assert here == f"{sim.endpoint_url}/{ACCOUNT}/jobs"
    with pytest.raises(west.exceptions.QueueDoesNotExist):
        await sqs(west.get_queue_url, QueueName="jobs")
    there = (await sqs(west.create_queue, QueueName="jobs"))["QueueUrl"]
    assert there == f"{sim.endpoint_url}/queue/eu-west-1/{ACCOUNT}/jobs" and there != here
    assert (await sqs(west.list_queues))["QueueUrls"] == [there]
    assert (await sqs(east.list_queues))["QueueUrls"] == [here]
    await sqs(west.send_message, QueueUrl=there, MessageBody="in the west")
    assert "Messages" not in await sqs(east.receive_message, QueueUrl=here, WaitTimeSeconds=0)
    [message] = (await sqs(west.receive_message, QueueUrl=there))["Messages"]
    assert message["Body"] == "in the west"
    arn = (await sqs(west.get_queue_attributes, QueueUrl=there,
                     AttributeNames=["QueueArn"]))["Attributes"]["QueueArn"]  # fmt: skip
    assert arn == f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs"
    # The Python API and the triggers see the config's region.
    assert len(sim.queue("jobs")) == 0 and sim.queues.get_queue("jobs", "eu-west-1") is not None


async def test_every_response_of_every_service_has_a_request_id(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory({
        "functions": {"echo": {"handler": "behaviours.echo", "code": str(FUNCTIONS),
                               "isolation": "thread"}},
        "queues": {"jobs": {}},
        "tables": {"orders": {"partition_key": "pk"}},
    })  # fmt: skip
    options = {"endpoint_url": sim.endpoint_url, "region_name": "us-east-1",
               "aws_access_key_id": "a", "aws_secret_access_key": "b",
               "config": BotoConfig(retries={"max_attempts": 1})}  # fmt: skip
    sqs, lam = boto3.client("sqs", **options), boto3.client("lambda", **options)
    ddb, sts = boto3.client("dynamodb", **options), boto3.client("sts", **options)
    calls: list[Callable[[], Any]] = [
        sqs.list_queues,
        partial(lam.invoke, FunctionName="echo", Payload=b"{}"),
        ddb.list_tables,
        sts.get_caller_identity,
    ]
    for made in calls:
        response = await asyncio.to_thread(made)
        assert response["ResponseMetadata"]["RequestId"], made
    for failing in (
        partial(sqs.get_queue_url, QueueName="missing"),
        partial(lam.invoke, FunctionName="missing"),
        partial(ddb.describe_table, TableName="missing"),
    ):
        with pytest.raises(ClientError) as info:
            await asyncio.to_thread(failing)
        assert info.value.response["ResponseMetadata"]["RequestId"], failing


async def test_aws_words_for_common_refusals(eventsim_factory: SimulatorFactory) -> None:
    _, sqs, client = await start(eventsim_factory, jobs={"maximum_message_size": 1024},
                                 **{"f.fifo": {}})  # fmt: skip
    url = (await sqs(client.get_queue_url, QueueName="jobs"))["QueueUrl"]
    missing = await sqs.refused(client.get_queue_url, QueueName="missing")
    assert missing["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert missing["QueryErrorCode"] == "QueueDoesNotExist"
    assert missing["Message"] == "The specified queue does not exist."
    cases: list[tuple[Callable[..., Any], dict[str, Any], str, str]] = [
        (client.send_message, {"MessageBody": ""}, "MissingParameter",
         "The request must contain the parameter MessageBody."),
        (client.send_message, {"MessageBody": "x" * 1025}, "InvalidParameterValue",
         "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."),
        (client.send_message, {"MessageBody": "x", "MessageAttributes": {
            "ErrorDetails": {"StringValue": "", "DataType": "String"}}}, "InvalidParameterValue",
         "Message (user) attribute 'ErrorDetails' must contain a non-empty value of type "
         "'String'."),
        (client.send_message, {"MessageBody": "x", "MessageGroupId": "group 123"},
         "InvalidParameterValue", "Value group 123 for parameter MessageGroupId is invalid. "
         "Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to "
         "128 in length."),
        (client.receive_message, {"MaxNumberOfMessages": 11}, "InvalidParameterValue",
         "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and "
         "10, if provided."),
        (client.receive_message, {"WaitTimeSeconds": 21}, "InvalidParameterValue",
         "Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if "
         "provided."),
        (client.delete_message, {"ReceiptHandle": "garbage"}, "ReceiptHandleIsInvalid",
         'The input receipt handle "garbage" is not a valid receipt handle.'),
        (client.send_message_batch, {"Entries": [{"Id": "invalid:id", "MessageBody": "x"}]},
         "AWS.SimpleQueueService.InvalidBatchEntryId", "A batch entry id can only contain "
         "alphanumeric characters, hyphens and underscores. It can be at most 80 letters long."),
        (client.delete_message_batch, {"Entries": [
            {"Id": str(n), "ReceiptHandle": "h"} for n in range(20)]},
         "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
         "Maximum number of entries per request are 10. You have sent 20."),
        # the first entry whose id came before, not the first id that repeats
        (client.send_message_batch, {"Entries": [
            {"Id": i, "MessageBody": "x"} for i in ("id_1", "id_2", "id_2", "id_1")]},
         "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Id id_2 repeated."),
    ]  # fmt: skip
    for method, kwargs, code, message in cases:
        error = await sqs.refused(method, QueueUrl=url, **kwargs)
        assert (error["Code"], error["Message"]) == (code, message), kwargs
    batch = await sqs(
        client.send_message_batch,
        QueueUrl=url,
        Entries=[{"Id": "big", "MessageBody": "x" * 1025}, {"Id": "ok", "MessageBody": "y"}],
    )
    assert [s["Id"] for s in batch["Successful"]] == ["ok"]
    assert batch["Failed"] == [{"Id": "big", "SenderFault": True, "Code": "InvalidParameterValue",
                                "Message": "One or more parameters cannot be validated. Reason: "
                                           "Message must be shorter than 1024 bytes."}]  # fmt: skip
    fifo = (await sqs(client.get_queue_url, QueueName="f.fifo"))["QueueUrl"]
    error = await sqs.refused(client.send_message, QueueUrl=fifo, MessageBody="x",
                              MessageGroupId="g")  # fmt: skip
    assert error["Message"] == ("The queue should either have ContentBasedDeduplication enabled "
                                "or MessageDeduplicationId provided explicitly")  # fmt: skip
    error = await sqs.refused(client.send_message_batch, QueueUrl=fifo,
                              Entries=[{"Id": "a", "MessageBody": "x"}])  # fmt: skip
    assert error["Message"] == "The request must contain the parameter MessageGroupId."


async def test_receipt_handles_as_sqs_honours_them(eventsim_factory: SimulatorFactory) -> None:
    sim, sqs, client = await start(eventsim_factory, jobs={"visibility_timeout": 5},
                                   **{"f.fifo": {"content_based_deduplication": True,
                                                 "visibility_timeout": 5}})  # fmt: skip
    url = (await sqs(client.get_queue_url, QueueName="jobs"))["QueueUrl"]
    await sqs(client.send_message, QueueUrl=url, MessageBody="m")
    [first] = (await sqs(client.receive_message, QueueUrl=url))["Messages"]
    await sim.advance(seconds=5)  # its visibility timeout expires
    # A standard queue still takes the handle: the message is hidden again...
    await sqs(client.change_message_visibility, QueueUrl=url,
              ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=30)  # fmt: skip
    assert sim.queue("jobs").counts().in_flight == 1
    # ...and deleted with it.
    await sqs(client.delete_message, QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    await sqs(client.delete_message, QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert len(sim.queue("jobs")) == 0
    error = await sqs.refused(
        client.change_message_visibility,
        QueueUrl=url,
        ReceiptHandle=first["ReceiptHandle"],
        VisibilityTimeout=1,
    )
    assert error["Code"] == "InvalidParameterValue"
    assert error["Message"] == (
        f"Value {first['ReceiptHandle']} for parameter ReceiptHandle is invalid. Reason: Message "
        "does not exist or is not available for visibility timeout change."
    )
    fifo = (await sqs(client.get_queue_url, QueueName="f.fifo"))["QueueUrl"]
    await sqs(client.send_message, QueueUrl=fifo, MessageBody="f", MessageGroupId="g")
    [message] = (await sqs(client.receive_message, QueueUrl=fifo))["Messages"]
    await sim.advance(seconds=5)
    error = await sqs.refused(client.delete_message, QueueUrl=fifo,
                              ReceiptHandle=message["ReceiptHandle"])  # fmt: skip
    assert error["Message"] == (
        f"Value {message['ReceiptHandle']} for parameter ReceiptHandle is invalid. Reason: The "
        "receipt handle has expired."
    )
    assert len(sim.queue("f.fifo")) == 1


async def test_delete_queue_and_recently_deleted(eventsim_factory: SimulatorFactory) -> None:
    sim, sqs, client = await start(eventsim_factory)
    url = (await sqs(client.create_queue, QueueName="short-lived"))["QueueUrl"]
    await sqs(client.send_message, QueueUrl=url, MessageBody="gone with it")
    await sqs(client.delete_queue, QueueUrl=url)
    with pytest.raises(client.exceptions.QueueDoesNotExist):
        await sqs(client.send_message, QueueUrl=url, MessageBody="x")
    error = await sqs.refused(client.create_queue, QueueName="short-lived")
    assert error["Code"] == "AWS.SimpleQueueService.QueueDeletedRecently"
    assert error["Message"] == ("You must wait 60 seconds after deleting a queue before you can "
                                "create another with the same name.")  # fmt: skip
    await sim.advance(seconds=60)
    again = await sqs(client.create_queue, QueueName="short-lived")
    assert "Messages" not in await sqs(client.receive_message, QueueUrl=again["QueueUrl"])


async def test_set_queue_attributes(eventsim_factory: SimulatorFactory) -> None:
    sim, sqs, client = await start(eventsim_factory, dlq={})
    url = (await sqs(client.create_queue, QueueName="jobs"))["QueueUrl"]

    async def attributes() -> dict[str, str]:
        found = await sqs(client.get_queue_attributes, QueueUrl=url, AttributeNames=["All"])
        return dict(found["Attributes"])

    before = await attributes()
    await sim.advance(seconds=10)
    policy = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*"}]}'
    allow = json.dumps({"redrivePermission": "denyAll"})
    redrive = json.dumps({"deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq",
                          "maxReceiveCount": "4"})  # fmt: skip
    await sqs(client.set_queue_attributes, QueueUrl=url, Attributes={
        "VisibilityTimeout": "69", "MaximumMessageSize": "2048", "DelaySeconds": "420",
        "Policy": policy, "RedriveAllowPolicy": allow, "RedrivePolicy": redrive,
    })  # fmt: skip
    after = await attributes()
    assert int(after["LastModifiedTimestamp"]) == int(before["LastModifiedTimestamp"]) + 10
    assert after["CreatedTimestamp"] == before["CreatedTimestamp"]
    assert (after["VisibilityTimeout"], after["MaximumMessageSize"], after["DelaySeconds"]) == (
        "69", "2048", "420")  # fmt: skip
    assert after["Policy"] == policy and after["RedriveAllowPolicy"] == allow
    assert json.loads(after["RedrivePolicy"]) == {
        "deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq",
        "maxReceiveCount": 4,
    }
    assert sim.queue("jobs").config.redrive is not None
    # KMS settings are stored; they turn SQS-managed encryption off.
    await sqs(
        client.set_queue_attributes,
        QueueUrl=url,
        Attributes={"KmsMasterKeyId": "testKeyId", "KmsDataKeyReusePeriodSeconds": "6000"},
    )
    kms = await attributes()
    assert (kms["KmsMasterKeyId"], kms["KmsDataKeyReusePeriodSeconds"]) == ("testKeyId", "6000")
    assert kms["SqsManagedSseEnabled"] == "false"
    # Empty values remove a policy or key.
    await sqs(
        client.set_queue_attributes,
        QueueUrl=url,
        Attributes={"Policy": "", "RedrivePolicy": "", "KmsMasterKeyId": ""},
    )
    cleared = await attributes()
    assert not {"Policy", "RedrivePolicy", "KmsMasterKeyId"} & set(cleared)
    error = await sqs.refused(client.set_queue_attributes, QueueUrl=url,
                              Attributes={"FifoQueue": "true"})  # fmt: skip
    assert error["Message"] == "Unknown Attribute FifoQueue."
    error = await sqs.refused(
        client.set_queue_attributes,
        QueueUrl=url,
        Attributes={"RedriveAllowPolicy": '{"redrivePermission": "byQueue"}'},
    )
    assert error["Code"] == "InvalidParameterValue" and "sourceQueueArns" in error["Message"]


async def test_tags(eventsim_factory: SimulatorFactory) -> None:
    _, sqs, client = await start(eventsim_factory)
    url = (await sqs(client.create_queue, QueueName="tagged",
                     tags={"team": "a"}))["QueueUrl"]  # fmt: skip
    assert (await sqs(client.list_queue_tags, QueueUrl=url))["Tags"] == {"team": "a"}
    await sqs(client.tag_queue, QueueUrl=url,
              Tags={"team": "b", "MyTag": "1", "mytag": "2", "empty": ""})  # fmt: skip
    assert (await sqs(client.list_queue_tags, QueueUrl=url))["Tags"] == {
        "team": "b",
        "MyTag": "1",
        "mytag": "2",
        "empty": "",
    }
    await sqs(client.untag_queue, QueueUrl=url, TagKeys=["team", "MyTag", "mytag", "empty", "no"])
    assert "Tags" not in await sqs(client.list_queue_tags, QueueUrl=url)


async def test_more_than_50_tags_are_refused_in_sqs_words(
    eventsim_factory: SimulatorFactory,
) -> None:
    _, sqs, client = await start(eventsim_factory)
    many = {f"k{n}": "v" for n in range(51)}
    error = await sqs.refused(client.create_queue, QueueName="crowded", tags=many)
    assert (error["Code"], error["Message"]) == (
        "InvalidParameterValue",
        "Too many tags added for queue crowded.",
    )
    url = (await sqs(client.create_queue, QueueName="tagged", tags={"k": "v"}))["QueueUrl"]
    fifty = {f"k{n}": "v" for n in range(50)}  # k0..k49 and the k it has: 51
    error = await sqs.refused(client.tag_queue, QueueUrl=url, Tags=fifty)
    assert (error["Code"], error["Message"]) == (
        "InvalidParameterValue",
        "Too many tags added for queue tagged.",
    )
    assert (await sqs(client.list_queue_tags, QueueUrl=url))["Tags"] == {"k": "v"}
    del fifty["k0"]
    await sqs(client.tag_queue, QueueUrl=url, Tags=fifty)  # 50 with the one it has
    assert len((await sqs(client.list_queue_tags, QueueUrl=url))["Tags"]) == 50


async def test_list_queues_pages_and_dead_letter_sources(
    eventsim_factory: SimulatorFactory,
) -> None:
    _, sqs, client = await start(eventsim_factory, dlq={})
    redrive = json.dumps({"deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq",
                          "maxReceiveCount": 5})  # fmt: skip
    urls = [
        (await sqs(client.create_queue, QueueName=f"src-{n}",
                   Attributes={"RedrivePolicy": redrive}))["QueueUrl"]
        for n in range(3)
    ]  # fmt: skip
    first = await sqs(client.list_queues, QueueNamePrefix="src-", MaxResults=2)
    assert first["QueueUrls"] == urls[:2]
    rest = await sqs(client.list_queues, QueueNamePrefix="src-", MaxResults=2,
                     NextToken=first["NextToken"])  # fmt: skip
    assert rest["QueueUrls"] == urls[2:] and "NextToken" not in rest
    assert "QueueUrls" not in await sqs(client.list_queues, QueueNamePrefix="none-")
    dlq = (await sqs(client.get_queue_url, QueueName="dlq"))["QueueUrl"]
    sources = await sqs(client.list_dead_letter_source_queues, QueueUrl=dlq)
    assert sources["queueUrls"] == urls
    lonely = await sqs(client.list_dead_letter_source_queues, QueueUrl=urls[0])
    assert lonely["queueUrls"] == []


async def test_permissions_write_the_policy(eventsim_factory: SimulatorFactory) -> None:
    _, sqs, client = await start(eventsim_factory, jobs={})
    url = (await sqs(client.get_queue_url, QueueName="jobs"))["QueueUrl"]
    await sqs(client.add_permission, QueueUrl=url, Label="read", AWSAccountIds=[ACCOUNT],
              Actions=["ReceiveMessage"])  # fmt: skip
    policy = json.loads(
        (await sqs(client.get_queue_attributes, QueueUrl=url, AttributeNames=["Policy"]))[
            "Attributes"
        ]["Policy"]
    )
    assert policy["Statement"] == [
        {
            "Sid": "read",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "SQS:ReceiveMessage",
            "Resource": f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs",
        }
    ]
    error = await sqs.refused(client.add_permission, QueueUrl=url, Label="read",
                              AWSAccountIds=[ACCOUNT], Actions=["SendMessage"])  # fmt: skip
    assert error["Message"] == "Value read for parameter Label is invalid. Reason: Already exists."
    await sqs(client.remove_permission, QueueUrl=url, Label="read")
    assert "Attributes" not in await sqs(client.get_queue_attributes, QueueUrl=url,
                                         AttributeNames=["Policy"])  # fmt: skip
    error = await sqs.refused(client.remove_permission, QueueUrl=url, Label="read")
    assert (
        error["Message"] == "Value read for parameter Label is invalid. Reason: can't find label."
    )


async def test_purge_once_per_minute(eventsim_factory: SimulatorFactory) -> None:
    sim, sqs, client = await start(eventsim_factory, jobs={})
    url = (await sqs(client.get_queue_url, QueueName="jobs"))["QueueUrl"]
    await sqs(client.send_message, QueueUrl=url, MessageBody="m")
    await sqs(client.purge_queue, QueueUrl=url)
    assert len(sim.queue("jobs")) == 0
    error = await sqs.refused(client.purge_queue, QueueUrl=url)
    assert (error["Code"], error["Status"]) == ("AWS.SimpleQueueService.PurgeQueueInProgress", 403)
    assert error["Message"] == "Only one PurgeQueue operation on jobs is allowed every 60 seconds."
    await sim.advance(seconds=60)
    await sqs(client.purge_queue, QueueUrl=url)


async def test_a_bare_queue_name_or_an_aws_url_names_the_queue(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim, sqs, client = await start(eventsim_factory, jobs={})
    await sqs(client.send_message, QueueUrl="jobs", MessageBody="by name")
    aws = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/jobs"
    await sqs(client.send_message, QueueUrl=aws, MessageBody="by AWS URL")
    assert sim.queue("jobs").snapshot()["visible"] == ["by name", "by AWS URL"]
    with pytest.raises(client.exceptions.QueueDoesNotExist):
        await sqs(client.send_message, QueueUrl=f"{sim.endpoint_url}/999999999999/jobs",
                  MessageBody="another account")  # fmt: skip


async def test_deleting_a_queue_a_trigger_reads(eventsim_factory: SimulatorFactory) -> None:
    worker = {"handler": "batches.bodies", "code": str(FUNCTIONS), "isolation": "thread",
              "triggers": [{"sqs": {"queue": "jobs"}}]}  # fmt: skip
    sim = await eventsim_factory({"functions": {"worker": worker}, "queues": {"jobs": {}}})
    sqs = Sqs(sim)
    client = sqs.client()
    url = (await sqs(client.get_queue_url, QueueName="jobs"))["QueueUrl"]
    await sqs(client.send_message, QueueUrl=url, MessageBody="before")
    await sim.wait_for("worker", count=1)
    await sqs(client.delete_queue, QueueUrl=url)
    with pytest.raises(client.exceptions.QueueDoesNotExist):
        await sqs(client.send_message, QueueUrl=url, MessageBody="after")
    await sim.settle()
    assert sim.health()["status"] == "ok" and len(sim.ledger.for_function("worker")) == 1


async def test_message_attribute_name_filters(eventsim_factory: SimulatorFactory) -> None:
    _, sqs, client = await start(eventsim_factory, jobs={"visibility_timeout": 0})
    url = (await sqs(client.get_queue_url, QueueName="jobs"))["QueueUrl"]
    await sqs(
        client.send_message,
        QueueUrl=url,
        MessageBody="msg",
        MessageAttributes={
            "Help.Me": text("Me"),
            "Hello": text("There"),
            "General": text("Kenobi"),
        },
    )
    for names, expected in [
        ([], set()), (["All"], {"Help.Me", "Hello", "General"}), (["*"], {"Help.Me", "Hello",
        "General"}), ([".*"], {"Help.Me", "Hello", "General"}), (["Foo", "Help"], set()),
        (["Foo", "Hello"], {"Hello"}), (["Hel.*"], {"Hello", "Help.Me"}), (["AWS."], set()),
    ]:  # fmt: skip
        [message] = (await sqs(client.receive_message, QueueUrl=url,
                               MessageAttributeNames=names))["Messages"]  # fmt: skip
        assert set(message.get("MessageAttributes", {})) == expected, names
        assert ("MD5OfMessageAttributes" in message) == bool(expected), names


def text(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}
