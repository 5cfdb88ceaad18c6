"""SNS topics through the Python API and the config: function and queue subscriptions, filter
policies, raw delivery, FIFO order and deduplication, retries on the virtual clock, the ledger
and explain, and what the config refuses (with its position)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import SnsModel

from eventsim import Outcome, Simulator
from eventsim.config import load_config
from eventsim.errors import ConfigError, TopicError
from eventsim.ledger import Code
from eventsim.testing import SimulatorFactory, SyncSimulator

from .helpers import function

RECORD = {"handler": "eventsim.testing.record", "isolation": "thread"}


def string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


async def fanout(factory: SimulatorFactory, **extra: Any) -> Simulator:
    """A topic with a filtered function subscription, a raw filtered queue subscription and an
    enveloped one."""
    config: dict[str, Any] = {
        "functions": {
            "notify": {**RECORD, "triggers": [{"sns": {
                "topic": "orders", "filter_policy": {"kind": ["placed"]}}}]},
            "everything": {**RECORD, "triggers": [{"sns": {"topic": "orders"}}]},
        },
        "queues": {"express": {}, "audit": {}},
        "topics": {"orders": {"subscriptions": [
            {"queue": "express", "raw_message_delivery": True,
             "filter_policy_scope": "MessageBody",
             "filter_policy": {"order": {"shipping": ["express"]}}},
            {"queue": "audit"},
        ]}},
        **extra,
    }  # fmt: skip
    return await factory(config)


@pytest.mark.asyncio
async def test_a_function_subscription_gets_sns_event(eventsim_factory: SimulatorFactory) -> None:
    sim = await fanout(eventsim_factory)
    published = sim.topic("orders").publish(
        '{"order": {"id": 1, "shipping": "express"}}',
        subject="New order",
        attributes={"kind": string("placed"), "rank": {"DataType": "Number", "StringValue": "3"}},
    )
    await sim.settle()
    [event] = sim.recorded("notify")
    SnsModel.model_validate(event)
    [record] = event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventVersion"] == "1.0"
    sns = record["Sns"]
    assert sns["MessageId"] == published.message_id
    assert sns["TopicArn"] == "arn:aws:sns:us-east-1:123456789012:orders"
    assert sns["Subject"] == "New order"
    assert sns["Message"] == '{"order": {"id": 1, "shipping": "express"}}'
    assert sns["Type"] == "Notification"
    assert sns["MessageAttributes"] == {
        "kind": {"Type": "String", "Value": "placed"},
        "rank": {"Type": "String", "Value": "3"},  # a Number reaches Lambda as a String
    }
    assert record["EventSubscriptionArn"].startswith(sns["TopicArn"] + ":")
    assert sns["UnsubscribeUrl"].endswith(record["EventSubscriptionArn"])
    [attempt] = sim.ledger.for_function("notify")
    assert attempt.source == "sns:orders" and attempt.invocation_type == "Event"


@pytest.mark.asyncio
async def test_filter_policies_decide_who_gets_a_message(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await fanout(eventsim_factory)
    topic = sim.topic("orders")
    topic.publish('{"order": {"id": 2, "shipping": "standard"}}',
                  attributes={"kind": string("cancelled")})  # fmt: skip
    await sim.settle()
    assert sim.recorded("notify") == []  # kind is not placed
    assert len(sim.recorded("everything")) == 1
    assert len(sim.queue("express")) == 0  # the body says standard
    assert len(sim.queue("audit")) == 1
    dropped = sim.ledger.for_function("notify", Outcome.DROPPED)
    assert [a.reason for a in dropped] == [
        "filtered out: the subscription's filter policy does not match (MessageAttributes)"
    ]
    assert [a.code for a in dropped] == [Code.FILTERED]
    queue_drops = [a for a in sim.ledger.all() if a.outcome is Outcome.DROPPED and not a.function]
    assert len(queue_drops) == 1
    assert "queue subscription arn:aws:sqs:us-east-1:123456789012:express" in str(
        queue_drops[0].reason
    )


@pytest.mark.asyncio
async def test_a_queue_gets_the_envelope_or_the_raw_message(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await fanout(eventsim_factory)
    published = sim.topic("orders").publish(
        '{"order": {"id": 3, "shipping": "express"}}', attributes={"kind": string("placed")}
    )
    [raw] = await sim.queue("express").receive_messages(max_messages=10)
    assert raw.body == '{"order": {"id": 3, "shipping": "express"}}'
    assert raw.message_attributes == {"kind": string("placed")}
    [enveloped] = await sim.queue("audit").receive_messages(max_messages=10)
    envelope = json.loads(enveloped.body)
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == published.message_id
    assert envelope["Message"] == '{"order": {"id": 3, "shipping": "express"}}'
    assert envelope["MessageAttributes"] == {"kind": {"Type": "String", "Value": "placed"}}
    assert "Subject" not in envelope
    assert {"Signature", "SigningCertURL", "UnsubscribeURL", "Timestamp"} <= set(envelope)
    assert enveloped.message_attributes in ({}, None)


@pytest.mark.asyncio
async def test_explain_follows_a_message_through_the_topic(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await fanout(eventsim_factory)
    published = sim.topic("orders").publish("hello", attributes={"kind": string("other")})
    await sim.settle()
    text = sim.explain(message_id=published.message_id)
    assert f"message '{published.message_id}':" in text
    assert "sns:orders -> notify: dropped: filtered out" in text
    assert "sns:orders -> everything: attempt 1 succeeded" in text


@pytest.mark.asyncio
async def test_a_message_to_a_topic_without_subscriptions_is_in_the_ledger(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory({"topics": {"lonely": {}}})
    sim.topic("lonely").publish("anyone?")
    [dropped] = sim.ledger.all()
    assert dropped.source == "sns:lonely"
    assert dropped.reason == "the topic has no subscriptions"
    assert dropped.code is Code.NO_MATCH


@pytest.mark.asyncio
async def test_function_errors_are_retried_on_the_virtual_clock(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory({
        "functions": {"flaky": function("fail", isolation="thread", retries=2,
                                        triggers=[{"sns": {"topic": "alerts"}}])},
        "topics": {"alerts": {}},
    })  # fmt: skip
    sim.topic("alerts").publish("disk full")
    await sim.settle()
    assert len(sim.ledger.for_function("flaky")) == 1
    await sim.advance(seconds=59)
    assert len(sim.ledger.for_function("flaky")) == 1
    await sim.advance(seconds=1)  # the first retry, a minute later
    await sim.advance(minutes=2)  # the second, two minutes after that
    attempts = sim.ledger.for_function("flaky")
    assert [a.attempt for a in attempts] == [1, 2, 3]
    assert all(a.outcome is Outcome.ERROR and a.source == "sns:alerts" for a in attempts)
    assert attempts[-1].reason == "RetriesExhausted"
    assert len({a.request_id for a in attempts}) == 1


@pytest.mark.asyncio
async def test_a_fifo_topic_keeps_group_order_and_drops_duplicates(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory({
        "queues": {"ledger.fifo": {}, "copy": {}},
        "topics": {"payments.fifo": {"content_based_deduplication": True, "subscriptions": [
            {"queue": "ledger.fifo", "raw_message_delivery": True}, {"queue": "copy"}]}},
    })  # fmt: skip
    topic = sim.topic("payments.fifo")
    first = topic.publish("a1", group_id="a")
    topic.publish("b1", group_id="b")
    topic.publish("a2", group_id="a", deduplication_id="a2-once")
    again = topic.publish("a1", group_id="a")  # content-based: the same body within 5 minutes
    assert again == first and first.sequence_number is not None
    await sim.advance(minutes=5)
    later = topic.publish("a1", group_id="a")  # past the deduplication window
    assert later.message_id != first.message_id
    assert int(later.sequence_number or 0) > int(first.sequence_number)
    received = await sim.queue("ledger.fifo").receive_messages(max_messages=10)
    groups: dict[str, list[str]] = {}
    for message in received:
        groups.setdefault(message.attributes["MessageGroupId"], []).append(message.body)
    assert groups == {"a": ["a1", "a2", "a1"], "b": ["b1"]}  # each group in publish order
    copies = await sim.queue("copy").receive_messages(max_messages=10)
    assert [json.loads(m.body)["SequenceNumber"] for m in copies[:1]] == [first.sequence_number]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("topic", "kwargs", "code", "words"),
    [
        ("orders", {"message": ""}, "InvalidParameter", "Empty message"),
        ("orders", {"message": "x", "subject": "two\nlines"}, "InvalidParameter", "Subject"),
        ("orders", {"message": "x" * (256 * 1024 + 1)}, "InvalidParameter", "Message too long"),
        ("orders", {"message": "x", "deduplication_id": "d"}, "InvalidParameter",
         "MessageDeduplicationId"),
        ("orders", {"message": "x", "attributes": {"n": {"DataType": "Number",
                                                         "StringValue": "many"}}},
         "InvalidParameterValue", "must be a number"),
        ("orders", {"message": "x", "attributes": {"AWS.x": string("1")}},
         "InvalidParameterValue", "invalid name"),
        ("orders", {"message": "{}", "structure": "json"}, "InvalidParameter", "No default"),
        ("jobs.fifo", {"message": "x"}, "InvalidParameter", "MessageGroupId parameter is "
                                                           "required"),
        ("jobs.fifo", {"message": "x", "group_id": "g"}, "InvalidParameter",
         "ContentBasedDeduplication enabled or MessageDeduplicationId"),
    ],
)  # fmt: skip
async def test_what_publish_refuses(
    eventsim_factory: SimulatorFactory, topic: str, kwargs: dict[str, Any], code: str, words: str
) -> None:
    sim = await eventsim_factory({"topics": {"orders": {}, "jobs.fifo": {}}})
    with pytest.raises(TopicError) as refused:
        sim.topic(topic).publish(**kwargs)
    assert refused.value.code == code
    assert words in str(refused.value)
    assert len(sim.ledger) == 0


@pytest.mark.asyncio
async def test_message_structure_json_gives_each_protocol_its_message(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory({
        "functions": {"fn": {**RECORD, "triggers": [{"sns": {"topic": "t"}}]}},
        "queues": {"q": {}},
        "topics": {"t": {"subscriptions": [{"queue": "q", "raw_message_delivery": True}]}},
    })  # fmt: skip
    messages = {"default": "for everyone", "sqs": "for queues"}
    sim.topic("t").publish(json.dumps(messages), structure="json")
    await sim.settle()
    assert sim.recorded("fn")[0]["Records"][0]["Sns"]["Message"] == "for everyone"
    [message] = await sim.queue("q").receive_messages()
    assert message.body == "for queues"


@pytest.mark.asyncio
async def test_subscriptions_made_from_python(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory({
        "functions": {"fn": RECORD}, "queues": {"q": {}},
        "topics": {"t": {}, "other": {"subscriptions": [{"queue": "q"}]}},
    })  # fmt: skip
    topic = sim.topic("t")
    sub = topic.subscribe("lambda", sim.function("fn").arn,
                          filter_policy={"level": [{"numeric": [">=", 3]}]})  # fmt: skip
    topic.publish("low", attributes={"level": {"DataType": "Number", "StringValue": "1"}})
    topic.publish("high", attributes={"level": {"DataType": "Number", "StringValue": "3.0"}})
    await sim.settle()
    assert [e["Records"][0]["Sns"]["Message"] for e in sim.recorded("fn")] == ["high"]
    sub.set_attribute("FilterPolicy", "")
    topic.publish("any")
    await sim.settle()
    assert len(sim.recorded("fn")) == 2
    with pytest.raises(TopicError, match="does not support raw message delivery"):
        sub.set_attribute("RawMessageDelivery", "true")
    with pytest.raises(TopicError, match="FIFO queue can subscribe to a FIFO topic only"):
        topic.subscribe("sqs", "arn:aws:sqs:us-east-1:123456789012:q.fifo")


# --- the config -----------------------------------------------------------------------------


def errors_of(tmp_path: Path, text: str) -> str:
    path = tmp_path / "eventsim.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    return str(refused.value)


@pytest.mark.parametrize(
    ("yaml", "expected"),
    [
        (
            "functions:\n  f:\n    handler: a.b\n    triggers:\n"
            "      - sns: {topic: nope}\ntopics: {orders: {}}\n",
            ":5:15: functions.f.triggers.0.sns.topic: unknown topic 'nope'",
        ),
        (
            "functions:\n  f:\n    handler: a.b\n    triggers:\n"
            "      - sns: {topic: jobs.fifo}\ntopics: {jobs.fifo: {}}\n",
            "functions.f.triggers.0.sns.topic: a FIFO topic delivers to SQS queues only",
        ),
        (
            "functions:\n  f:\n    handler: a.b\n    triggers:\n"
            "      - sns:\n          topic: t\n          filter_policy: {kind: [{wildcard: x}]}\n"
            "topics: {t: {}}\n",
            ":7:11: functions.f.triggers.0.sns.filter_policy: kind: unknown operator 'wildcard'",
        ),
        (
            "functions:\n  f:\n    handler: a.b\n    triggers:\n      - sns:\n          topic: t\n"
            "          filter_policy: {order: {id: [1]}}\ntopics: {t: {}}\n",
            "order: a filter policy on message attributes does not nest",
        ),
        (
            "topics:\n  t:\n    subscriptions:\n      - queue: q\n        filter_policy_scope: "
            "MessageBody\n        filter_policy: {a: [{numeric: ['>', 5000000000]}]}\n"
            "queues: {q: {}}\n",
            ":6:9: topics.t.subscriptions.0.filter_policy: a: 5000000000 is outside",
        ),
        (
            "functions:\n  f:\n    handler: a.b\n    triggers: [{sns: {topic: t}}]\n"
            "topics:\n  t:\n    subscriptions: [{queue: jobs.fifo}]\n"
            "  u:\n    content_based_deduplication: true\nqueues: {jobs.fifo: {}}\n",
            "topics.t.subscriptions.0.queue: a FIFO queue can subscribe to a FIFO topic only",
        ),
        (
            "functions:\n  f:\n    handler: a.b\n    triggers: [{sns: {topic: t}}]\n"
            "topics:\n  t:\n    subscriptions: [{queue: missing}]\n",
            "topics.t.subscriptions.0.queue: unknown queue 'missing'",
        ),
        ("topics:\n  bad name: {}\n", "topics.bad name"),
    ],
)
def test_the_config_refuses_with_a_position(tmp_path: Path, yaml: str, expected: str) -> None:
    assert expected in errors_of(tmp_path, yaml)


def test_the_sync_facade_publishes_and_puts_events(tmp_path: Path) -> None:
    config = {
        "functions": {
            "fn": {**RECORD, "triggers": [{"sns": {"topic": "t"}}]},
            "rule": {**RECORD, "triggers": [{"eventbridge": {"pattern": {"source": ["app"]}}}]},
        },
        "topics": {"t": {}},
    }
    with SyncSimulator(config, state_dir=tmp_path / "state", edge=False) as sim:
        published = sim.topic("t").publish("hello")
        [result] = sim.bus().put_events([{"Source": "app", "DetailType": "d", "Detail": "{}"}])
        sim.settle()
        assert sim.recorded("fn")[0]["Records"][0]["Sns"]["MessageId"] == published.message_id
        assert sim.recorded("rule")[0]["id"] == result["EventId"]
