"""SNS through boto3 against the edge (the query protocol), and unchanged powertools handlers
receiving what it delivers."""

from __future__ import annotations

import asyncio
import json
from functools import partial
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from eventsim import Outcome, Simulator
from eventsim.testing import SimulatorFactory

HANDLERS = """
import json

from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import SnsModel


@event_source(data_class=SNSEvent)
def with_data_class(event: SNSEvent, context):
    record = event.record
    return {"message": record.sns.message, "subject": record.sns.subject,
            "kind": record.sns.message_attributes["kind"].value,
            "topic": record.sns.topic_arn}


@event_parser(model=SnsModel)
def with_parser(event: SnsModel, context):
    return [json.loads(record.Sns.Message) for record in event.Records]


def publisher(event, context):
    import boto3
    sns = boto3.client("sns")
    arn = sns.create_topic(Name=event["topic"])["TopicArn"]
    return sns.publish(TopicArn=arn, Message=json.dumps(event["order"]))["MessageId"]
"""


def client(sim: Simulator, service: str) -> Any:
    return boto3.client(
        service, endpoint_url=sim.endpoint_url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=BotoConfig(retries={"max_attempts": 1}),
    )  # fmt: skip


async def call(method: Any, **kwargs: Any) -> Any:
    """A blocking boto3 call, off the loop that serves it."""
    return await asyncio.to_thread(partial(method, **kwargs))


@pytest.fixture
def code(tmp_path: Path) -> Path:
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "sns_handlers.py").write_text(HANDLERS)
    return folder


async def started(factory: SimulatorFactory, code: Path, **config: Any) -> Simulator:
    functions = {
        name: {"handler": f"sns_handlers.{name}", "code": str(code), "isolation": "thread"}
        for name in ("with_data_class", "with_parser")
    }
    return await factory({"functions": functions, "queues": {"inbox": {}}, **config})


@pytest.mark.asyncio
async def test_topics_subscriptions_and_publishing(
    eventsim_factory: SimulatorFactory, code: Path
) -> None:
    sim = await started(eventsim_factory, code)
    sns = client(sim, "sns")
    arn = (await call(sns.create_topic, Name="orders"))["TopicArn"]
    assert arn == "arn:aws:sns:us-east-1:123456789012:orders"
    assert (await call(sns.create_topic, Name="orders"))["TopicArn"] == arn  # idempotent
    listed = await call(sns.list_topics)
    assert [t["TopicArn"] for t in listed["Topics"]] == [arn]

    queue_arn = sim.queue("inbox").arn
    queue_sub = (await call(
        sns.subscribe, TopicArn=arn, Protocol="sqs", Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": '{"kind": ["placed"]}'},
        ReturnSubscriptionArn=True,
    ))["SubscriptionArn"]  # fmt: skip
    fn_arns = [sim.function(n).arn for n in ("with_data_class", "with_parser")]
    for fn in fn_arns:
        await call(sns.subscribe, TopicArn=arn, Protocol="lambda", Endpoint=fn)
    by_topic = await call(sns.list_subscriptions_by_topic, TopicArn=arn)
    assert [(s["Protocol"], s["Endpoint"]) for s in by_topic["Subscriptions"]] == [
        ("sqs", queue_arn), ("lambda", fn_arns[0]), ("lambda", fn_arns[1])
    ]  # fmt: skip
    assert len((await call(sns.list_subscriptions))["Subscriptions"]) == 3
    attributes = (await call(sns.get_topic_attributes, TopicArn=arn))["Attributes"]
    assert attributes["SubscriptionsConfirmed"] == "3" and attributes["TopicArn"] == arn

    published = await call(
        sns.publish, TopicArn=arn, Message='{"id": 7}', Subject="Order",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "placed"}},
    )  # fmt: skip
    await sim.settle()
    [data_class] = sim.ledger.for_function("with_data_class", Outcome.SUCCESS)
    assert data_class.payload == {"message": '{"id": 7}', "subject": "Order", "kind": "placed",
                                  "topic": arn}  # fmt: skip
    [parsed] = sim.ledger.for_function("with_parser", Outcome.SUCCESS)
    assert parsed.payload == [{"id": 7}]
    [raw] = await sim.queue("inbox").receive_messages()
    assert raw.body == '{"id": 7}'
    assert raw.message_attributes == {"kind": {"DataType": "String", "StringValue": "placed"}}
    assert published["MessageId"] in sim.explain(message_id=published["MessageId"])

    sub = (await call(sns.get_subscription_attributes, SubscriptionArn=queue_sub))["Attributes"]
    assert sub["RawMessageDelivery"] == "true"
    assert json.loads(sub["FilterPolicy"]) == {"kind": ["placed"]}
    await call(sns.set_subscription_attributes, SubscriptionArn=queue_sub,
               AttributeName="FilterPolicy", AttributeValue='{"kind": ["shipped"]}')  # fmt: skip
    await call(
        sns.publish,
        TopicArn=arn,
        Message="placed again",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "placed"}},
    )
    await sim.settle()
    assert sim.queue("inbox").counts().visible == 0  # filtered out by the new policy
    await call(sns.unsubscribe, SubscriptionArn=queue_sub)
    after = await call(sns.list_subscriptions_by_topic, TopicArn=arn)
    assert queue_sub not in [s["SubscriptionArn"] for s in after["Subscriptions"]]


@pytest.mark.asyncio
async def test_publish_batch_answers_per_entry(
    eventsim_factory: SimulatorFactory, code: Path
) -> None:
    sim = await started(eventsim_factory, code, topics={"orders": {"subscriptions": [
        {"queue": "inbox", "raw_message_delivery": True}]}})  # fmt: skip
    sns = client(sim, "sns")
    arn = sim.topic("orders").arn
    answer = await call(sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=[
        {"Id": "one", "Message": "first"},
        {"Id": "bad", "Message": "x", "MessageAttributes": {
            "n": {"DataType": "Number", "StringValue": "not a number"}}},
        {"Id": "two", "Message": "second", "Subject": "s"},
    ])  # fmt: skip
    assert [s["Id"] for s in answer["Successful"]] == ["one", "two"]
    [failed] = answer["Failed"]
    assert (failed["Id"], failed["Code"], failed["SenderFault"]) == (
        "bad",
        "InvalidParameterValue",
        True,
    )
    received = await sim.queue("inbox").receive_messages(max_messages=10)
    assert [m.body for m in received] == ["first", "second"]
    with pytest.raises(ClientError) as refused:
        await call(sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=[
            {"Id": str(i), "Message": "m"} for i in range(11)])  # fmt: skip
    assert refused.value.response["Error"]["Code"] == "TooManyEntriesInBatchRequest"
    with pytest.raises(ClientError) as refused:
        await call(sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=[
            {"Id": "same", "Message": "a"}, {"Id": "same", "Message": "b"}])  # fmt: skip
    assert refused.value.response["Error"]["Code"] == "BatchEntryIdsNotDistinct"


@pytest.mark.asyncio
async def test_a_fifo_topic_through_boto3(eventsim_factory: SimulatorFactory, code: Path) -> None:
    sim = await started(eventsim_factory, code, queues={"ordered.fifo": {}})
    sns = client(sim, "sns")
    arn = (await call(sns.create_topic, Name="jobs.fifo", Attributes={
        "FifoTopic": "true", "ContentBasedDeduplication": "true"}))["TopicArn"]  # fmt: skip
    await call(sns.subscribe, TopicArn=arn, Protocol="sqs",
               Endpoint=sim.queue("ordered.fifo").arn)  # fmt: skip
    first = await call(sns.publish, TopicArn=arn, Message="one", MessageGroupId="g")
    again = await call(sns.publish, TopicArn=arn, Message="one", MessageGroupId="g")
    assert again["MessageId"] == first["MessageId"] and "SequenceNumber" in first
    received = await sim.queue("ordered.fifo").receive_messages(max_messages=10)
    assert [json.loads(m.body)["Message"] for m in received] == ["one"]
    with pytest.raises(ClientError) as refused:
        await call(sns.publish, TopicArn=arn, Message="no group")
    assert refused.value.response["Error"]["Code"] == "InvalidParameter"
    with pytest.raises(ClientError) as refused:  # FIFO topics deliver to queues only
        await call(sns.subscribe, TopicArn=arn, Protocol="lambda",
                   Endpoint=sim.function("with_parser").arn)  # fmt: skip
    assert refused.value.response["Error"]["Code"] == "InvalidParameter"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("operation", "kwargs", "error", "status"),
    [
        ("publish", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:nope", "Message": "m"},
         "NotFound", 404),
        ("get_topic_attributes", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:nope"},
         "NotFound", 404),
        ("unsubscribe", {"SubscriptionArn": "arn:aws:sns:us-east-1:123456789012:t:1-2-3"},
         "NotFound", 404),
        ("create_topic", {"Name": "has space"}, "InvalidParameter", 400),
        ("create_topic", {"Name": "plain", "Attributes": {"FifoTopic": "true"}},
         "InvalidParameter", 400),
        ("subscribe", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Protocol": "email",
                       "Endpoint": "a@b.c"}, "InvalidParameter", 400),
        ("subscribe", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Protocol": "sqs",
                       "Endpoint": "arn:aws:sqs:us-east-1:123456789012:missing"},
         "InvalidParameter", 400),
        ("subscribe", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Protocol": "sqs",
                       "Endpoint": "arn:aws:sqs:us-east-1:123456789012:inbox",
                       "Attributes": {"FilterPolicy": '{"a": "not an array"}'}},
         "InvalidParameter", 400),
        ("publish", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message": "m",
                     "MessageAttributes": {"b": {"DataType": "Bogus", "StringValue": "1"}}},
         "InvalidParameterValue", 400),
        ("add_permission", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Label": "l",
                            "AWSAccountId": ["1"], "ActionName": ["Publish"]},
         "InvalidAction", 400),
    ],
)  # fmt: skip
async def test_errors_as_boto3_reads_them(
    eventsim_factory: SimulatorFactory, code: Path, operation: str, kwargs: dict[str, Any],
    error: str, status: int,
) -> None:  # fmt: skip
    sim = await started(eventsim_factory, code, topics={"t": {}})
    sns = client(sim, "sns")
    with pytest.raises(ClientError) as refused:
        await call(getattr(sns, operation), **kwargs)
    response = refused.value.response
    assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == (
        error,
        status,
    )
    assert len(sim.ledger) == 0


@pytest.mark.asyncio
async def test_a_handler_publishes_with_boto3(
    eventsim_factory: SimulatorFactory, code: Path
) -> None:
    sim = await eventsim_factory({
        "functions": {
            "publisher": {"handler": "sns_handlers.publisher", "code": str(code)},  # a process
            "reader": {"handler": "sns_handlers.with_parser", "code": str(code),
                       "isolation": "thread", "triggers": [{"sns": {"topic": "orders"}}]},
        },
        "topics": {"orders": {}},
    })  # fmt: skip
    result = await sim.invoke("publisher", {"topic": "orders", "order": {"id": 9}})
    assert result.function_error is None, result.payload
    await sim.settle()
    [attempt] = sim.ledger.for_function("reader", Outcome.SUCCESS)
    assert attempt.payload == [{"id": 9}]
    assert attempt.event["Records"][0]["Sns"]["MessageId"] == result.payload
