"""EventBridge buses through the Python API and the config: rules targeting functions, queues
and topics, target input (constant, path, transformer with AWS's quoting), PutEvents' checks,
retry policies and dead-letter queues on the virtual clock, S3's events, the ledger."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from eventsim import Outcome
from eventsim.config import RuleTarget, load_config
from eventsim.errors import BusError, ConfigError, TooManyRequests
from eventsim.events.eventbridge import transform
from eventsim.ledger import Code
from eventsim.resources.buses import Target
from eventsim.testing import SimulatorFactory

from .helpers import function

RECORD = {"handler": "eventsim.testing.record", "isolation": "thread"}
PLACED = {"Source": "shop", "DetailType": "OrderPlaced", "Detail": '{"id": 1, "total": 9.5}'}


def rule(**trigger: Any) -> dict[str, Any]:
    return {**RECORD, "triggers": [{"eventbridge": trigger}]}


@pytest.mark.asyncio
async def test_a_rule_invokes_its_function_with_the_event(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory({"functions": {
        "fulfil": rule(pattern={"detail-type": ["OrderPlaced"]}, rule="orders"),
        "big": rule(pattern={"detail": {"total": [{"numeric": [">", 100]}]}}),
    }})  # fmt: skip
    [result] = sim.bus().put_events([PLACED])
    await sim.settle()
    [event] = sim.recorded("fulfil")
    EventBridgeModel.model_validate(event)
    assert event["id"] == result["EventId"]
    assert (event["version"], event["source"], event["detail-type"]) == ("0", "shop", "OrderPlaced")
    assert (event["region"], event["account"], event["resources"]) == (
        "us-east-1", "123456789012", []
    )  # fmt: skip
    assert event["time"] == "2026-01-01T00:00:00Z"  # the virtual clock, to the second
    assert event["detail"] == {"id": 1, "total": 9.5}
    [attempt] = sim.ledger.for_function("fulfil")
    assert (attempt.source, attempt.invocation_type) == ("eventbridge:default/orders", "Event")
    assert sim.recorded("big") == []  # its pattern did not match
    assert result["EventId"] in sim.explain(message_id=result["EventId"])


@pytest.mark.asyncio
async def test_events_no_rule_matches_are_in_the_ledger(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory({"functions": {"f": rule(pattern={"source": ["billing"]})}})
    [result] = sim.bus().put_events([PLACED])
    [dropped] = sim.ledger.all()
    assert dropped.source == "eventbridge:default"
    assert dropped.reason == "matched no rule of the bus 'default'"
    assert dropped.code is Code.NO_MATCH
    assert dropped.event["id"] == result["EventId"]


@pytest.mark.asyncio
async def test_target_input_constant_path_and_transformer(
    eventsim_factory: SimulatorFactory,
) -> None:
    pattern = {"source": ["shop"]}
    sim = await eventsim_factory({"functions": {
        "constant": rule(pattern=pattern, input={"job": "recount"}),
        "path": rule(pattern=pattern, input_path="$.detail"),
        "transformed": rule(pattern=pattern, input_transformer={
            "input_paths_map": {"id": "$.detail.id", "type": "$.detail-type"},
            "input_template": '{"order": <id>, "what": <type>, "text": "order <id> is <type>",'
                              ' "rule": "<aws.events.rule-name>"}'}, rule="shaped"),
        "sentence": rule(pattern=pattern, input_transformer={
            "input_paths_map": {"id": "$.detail.id"}, "input_template": "order <id> placed"}),
    }})  # fmt: skip
    sim.bus().put_events([PLACED])
    await sim.settle()
    assert sim.recorded("constant") == [{"job": "recount"}]
    assert sim.recorded("path") == [{"id": 1, "total": 9.5}]
    assert sim.recorded("transformed") == [
        {"order": 1, "what": "OrderPlaced", "text": "order 1 is OrderPlaced", "rule": "shaped"}
    ]
    assert sim.recorded("sentence") == ["order 1 placed"]  # plain text: a JSON string


EVENT = {
    "id": "e-1", "detail-type": "Order", "source": "shop", "time": "2026-01-01T00:00:00Z",
    "detail": {"name": 'Ada "the first"', "count": 3, "ok": True, "tags": ["a", "b"],
               "address": {"city": "Paris"}, "none": None},
}  # fmt: skip
PATHS = {
    "name": "$.detail.name", "count": "$.detail.count", "ok": "$.detail.ok",
    "tags": "$.detail.tags", "first": "$.detail.tags[0]", "address": "$.detail.address",
    "missing": "$.detail.nothing", "none": "$.detail.none",
}  # fmt: skip


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # In a JSON template, a value standing as a value goes in as JSON: strings quoted.
        ('{"who": <name>}', '{"who": "Ada \\"the first\\""}'),
        ('{"n": <count>, "ok": <ok>, "tags": <tags>}', '{"n": 3, "ok": true, "tags": ["a", "b"]}'),
        ('{"where": <address>}', '{"where": {"city": "Paris"}}'),
        ("[<first>, <count>]", '["a", 3]'),
        # Inside a quoted string, values go in as raw text, not escaped (as AWS does).
        ('{"text": "<first> bought <count>"}', '{"text": "a bought 3"}'),
        ('{"text": "<name>"}', '{"text": "Ada "the first""}'),
        ('"<first>: <tags>"', '"a: ["a", "b"]"'),
        # In a plain-text template, strings go in as they are.
        ("<name> bought <count>", 'Ada "the first" bought 3'),
        ("tags <tags>", 'tags ["a", "b"]'),
        # A path the event lacks leaves nothing; a null is null.
        ('{"x": "<missing>", "z": <none>}', '{"x": "", "z": null}'),
        ("<missing>!", "!"),
        # Predefined placeholders; an unknown <tag> is literal text.
        ('{"rule": "<aws.events.rule-name>", "at": "<aws.events.event.ingestion-time>"}',
         '{"rule": "r", "at": "2026-01-01T00:00:00Z"}'),
        ('{"event": <aws.events.event.json>}', '{"event": ' + json.dumps(EVENT) + "}"),
        ('{"envelope": <aws.events.event>}', '{"envelope": ' + json.dumps(
            {k: v for k, v in EVENT.items() if k != "detail"}) + "}"),
        ("<b>bold</b> <count>", "<b>bold</b> 3"),
    ],
)  # fmt: skip
def test_input_transformer_quoting(template: str, expected: str) -> None:
    assert transform(EVENT, PATHS, template, rule_arn="arn", rule_name="r") == expected


@pytest.mark.asyncio
async def test_rules_on_a_bus_send_to_queues_and_topics(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory({
        "queues": {"archive": {}, "alerts": {}, "work.fifo": {}},
        "topics": {"notices": {"subscriptions": [{"queue": "alerts",
                                                  "raw_message_delivery": True}]}},
        "buses": {"orders": {"rules": {
            "archive": {"pattern": {"source": ["shop"]}, "targets": [
                {"queue": "archive"},
                {"topic": "notices", "input_transformer": {
                    "input_paths_map": {"id": "$.detail.id"},
                    "input_template": "order <id> placed"}},
                {"queue": "work.fifo", "message_group_id": "orders", "input_path": "$.detail"},
            ]},
        }}},
    })  # fmt: skip
    [result] = sim.bus("orders").put_events([PLACED])
    [archived] = await sim.queue("archive").receive_messages()
    assert json.loads(archived.body)["id"] == result["EventId"]
    [alert] = await sim.queue("alerts").receive_messages()
    assert alert.body == "order 1 placed"
    [work] = await sim.queue("work.fifo").receive_messages()
    assert json.loads(work.body) == {"id": 1, "total": 9.5}
    assert work.attributes["MessageGroupId"] == "orders"
    assert sim.bus().put_events([{**PLACED, "EventBusName": "orders"}])[0]["EventId"]
    assert len(sim.queue("archive")) == 2  # the entry named the bus


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("entry", "code", "words"),
    [
        ({"DetailType": "d", "Detail": "{}"}, "InvalidArgument", "Source is a required"),
        ({"Source": "s", "Detail": "{}"}, "InvalidArgument", "DetailType is a required"),
        ({"Source": "s", "DetailType": "d"}, "InvalidArgument", "Detail is a required"),
        ({"Source": "s", "DetailType": "d", "Detail": "[1]"}, "MalformedDetail", "malformed"),
        ({"Source": "s", "DetailType": "d", "Detail": "{"}, "MalformedDetail", "malformed"),
        ({"Source": "aws.s3", "DetailType": "d", "Detail": "{}"},
         "NotAuthorizedForSourceException", "Not authorized"),
        ({"Source": "s", "DetailType": "d", "Detail": "{}", "EventBusName": "nope"},
         "ResourceNotFoundException", "Event bus nope does not exist"),
    ],
)  # fmt: skip
async def test_put_events_answers_each_entry(
    eventsim_factory: SimulatorFactory, entry: dict[str, Any], code: str, words: str
) -> None:
    sim = await eventsim_factory({"functions": {"f": rule(pattern={"source": ["shop"]})}})
    good, bad = sim.bus().put_events([PLACED, entry])
    assert "EventId" in good
    assert bad["ErrorCode"] == code and words in bad["ErrorMessage"]
    await sim.settle()
    assert len(sim.recorded("f")) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("entries", "words"),
    [
        ([], "between 1 and 10"),
        ([PLACED] * 11, "between 1 and 10"),
        ([{**PLACED, "Detail": json.dumps({"x": "y" * 200_000})},
          {**PLACED, "Detail": json.dumps({"x": "y" * 70_000})}], "over the limit"),
    ],
)  # fmt: skip
async def test_put_events_refuses_a_request_as_a_whole(
    eventsim_factory: SimulatorFactory, entries: list[dict[str, Any]], words: str
) -> None:
    sim = await eventsim_factory({})
    with pytest.raises(BusError) as refused:
        sim.bus().put_events(entries)
    assert refused.value.code == "ValidationException" and words in str(refused.value)
    assert len(sim.ledger) == 0


@pytest.mark.asyncio
async def test_an_entry_of_256_kb_is_accepted(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory({"queues": {"q": {}}, "buses": {"b": {"rules": {"all": {
        "pattern": {"source": ["shop"]}, "targets": [{"queue": "q"}]}}}}})  # fmt: skip
    overhead = len("shop") + len("OrderPlaced") + len('{"x": ""}')
    detail = json.dumps({"x": "y" * (256 * 1024 - overhead)})
    [result] = sim.bus("b").put_events([{**PLACED, "Detail": detail}])
    assert "EventId" in result


@pytest.mark.asyncio
async def test_function_errors_are_retried_by_lambda_on_the_virtual_clock(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory({"functions": {"flaky": function(
        "fail", isolation="thread", retries=1,
        triggers=[{"eventbridge": {"pattern": {"source": ["shop"]}, "rule": "r"}}])}})  # fmt: skip
    sim.bus().put_events([PLACED])
    await sim.settle()
    await sim.advance(minutes=1)
    attempts = sim.ledger.for_function("flaky")
    assert [(a.attempt, a.outcome) for a in attempts] == [(1, Outcome.ERROR), (2, Outcome.ERROR)]
    assert {a.source for a in attempts} == {"eventbridge:default/r"}


@pytest.mark.asyncio
async def test_a_target_that_is_gone_goes_to_the_dead_letter_queue_at_once(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory({
        "queues": {"archive": {}, "failed": {}},
        "buses": {"b": {"rules": {"keep": {"pattern": {"source": ["shop"]}, "targets": [
            {"queue": "archive", "dead_letter_queue": "failed"}]}}}},
    })  # fmt: skip
    sim.queues.delete(sim.queue("archive"))
    [result] = sim.bus("b").put_events([PLACED])
    [dead] = await sim.queue("failed").receive_messages()
    assert json.loads(dead.body)["id"] == result["EventId"]  # the event itself
    attributes = {k: v["StringValue"] for k, v in dead.message_attributes.items()}
    assert attributes["ERROR_CODE"] == "RESOURCE_NOT_FOUND"
    assert attributes["RETRY_ATTEMPTS"] == "0"
    assert attributes["RULE_ARN"] == "arn:aws:events:us-east-1:123456789012:rule/b/keep"
    assert attributes["TARGET_ARN"] == "arn:aws:sqs:us-east-1:123456789012:archive"
    assert "EXHAUSTED_RETRY_CONDITION" not in attributes
    [dropped] = sim.ledger.all()
    assert dropped.source == "eventbridge:b/keep"
    assert "sent to the dead-letter queue 'failed'" in str(dropped.reason)
    assert dropped.code is Code.DEAD_LETTERED


@pytest.mark.asyncio
async def test_a_refused_invocation_goes_to_the_rules_dead_letter_queue(
    eventsim_factory: SimulatorFactory,
) -> None:
    # The template repeats the event past Lambda's 1 MB limit for asynchronous payloads.
    template = "[" + ", ".join(["<aws.events.event.json>"] * 40) + "]"
    sim = await eventsim_factory({
        "functions": {"f": rule(pattern={"source": ["shop"]}, dead_letter_queue="failed",
                                input_transformer={"input_template": template})},
        "queues": {"failed": {}},
    })  # fmt: skip
    sim.bus().put_events([{**PLACED, "Detail": json.dumps({"x": "y" * 30_000})}])
    [dead] = await sim.queue("failed").receive_messages()
    assert dead.message_attributes["ERROR_CODE"]["StringValue"] == "SDK_CLIENT_ERROR"
    [dropped] = sim.ledger.for_function("f")
    assert dropped.outcome is Outcome.DROPPED and "at most 1048576 bytes" in str(dropped.reason)


@pytest.mark.asyncio
async def test_retryable_failures_follow_the_retry_policy_on_the_virtual_clock(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory({"queues": {"failed": {}}})
    calls: list[float] = []

    def throttled(text: str, event: dict[str, Any]) -> None:
        calls.append(sim.clock.time())
        raise TooManyRequests("Rate exceeded", "ReservedFunctionConcurrentInvocationLimitExceeded")

    settings = RuleTarget(queue="unused", dead_letter_queue="failed",
                          retry_policy={"maximum_retry_attempts": 3, "maximum_event_age": 3600})  # type: ignore[arg-type]  # fmt: skip
    rule_ = sim.bus().add_rule("busy", {"source": ["shop"]})
    rule_.targets.append(Target("fake", "arn:aws:fake", "queue", settings, throttled))
    sim.bus().put_events([PLACED])
    assert len(calls) == 1
    await sim.advance(minutes=10)
    assert len(calls) == 4  # the first try and 3 retries, with growing gaps
    gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    assert all(later > earlier * 1.0 for earlier, later in zip(gaps, gaps[1:], strict=False))
    [dead] = await sim.queue("failed").receive_messages()
    attributes = {k: v["StringValue"] for k, v in dead.message_attributes.items()}
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttemptsExhausted"
    assert (attributes["ERROR_CODE"], attributes["RETRY_ATTEMPTS"]) == ("THROTTLING", "3")


@pytest.mark.asyncio
async def test_the_maximum_event_age_ends_the_retries(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory({"queues": {"failed": {}}})
    calls: list[float] = []

    def throttled(text: str, event: dict[str, Any]) -> None:
        calls.append(sim.clock.time())
        raise TooManyRequests("Rate exceeded", "ReservedFunctionConcurrentInvocationLimitExceeded")

    settings = RuleTarget(queue="unused", dead_letter_queue="failed",
                          retry_policy={"maximum_event_age": 60})  # type: ignore[arg-type]  # fmt: skip
    sim.bus().add_rule("busy", {"source": ["shop"]}).targets.append(
        Target("fake", "arn:aws:fake", "queue", settings, throttled)
    )
    sim.bus().put_events([PLACED])
    await sim.advance(hours=1)
    assert calls[-1] - calls[0] < 60
    [dead] = await sim.queue("failed").receive_messages()
    exhausted = dead.message_attributes["EXHAUSTED_RETRY_CONDITION"]["StringValue"]
    assert exhausted == "MaximumEventAgeExceeded"


@pytest.mark.asyncio
async def test_buckets_send_their_changes_to_the_default_bus(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory({
        "functions": {"on_object": rule(pattern={"source": ["aws.s3"], "detail-type": [
            "Object Created", "Object Deleted"], "detail": {"bucket": {"name": ["uploads"]}}})},
        "buckets": {"uploads": {"path": "uploads", "eventbridge": True}},
    })  # fmt: skip
    await sim.bucket("uploads").put_object("docs/red flower.txt", b"hello")
    await sim.bucket("uploads").delete_object("docs/red flower.txt")
    await sim.settle()
    # Two asynchronous invocations: they may run in either order.
    by_type = {event["detail-type"]: event for event in sim.recorded("on_object")}
    created, deleted = by_type["Object Created"], by_type["Object Deleted"]
    for event in (created, deleted):
        EventBridgeModel.model_validate(event)
        assert event["source"] == "aws.s3"
        assert event["resources"] == ["arn:aws:s3:::uploads"]
    detail = created["detail"]
    assert detail["bucket"] == {"name": "uploads"}
    assert detail["object"]["key"] == "docs/red flower.txt"  # not URL-encoded
    assert detail["object"]["size"] == 5
    assert detail["object"]["etag"] == "5d41402abc4b2a76b9719d911017c592"
    assert detail["reason"] == "PutObject"
    assert {"version", "request-id", "requester", "source-ip-address"} <= set(detail)
    assert deleted["detail"]["reason"] == "DeleteObject"
    assert deleted["detail"]["deletion-type"] == "Permanently Deleted"


@pytest.mark.asyncio
async def test_a_disabled_rule_and_a_shared_rule(eventsim_factory: SimulatorFactory) -> None:
    pattern = {"source": ["shop"]}
    sim = await eventsim_factory({"functions": {
        "off": rule(pattern=pattern, enabled=False, rule="off"),
        "one": rule(pattern=pattern, rule="shared"),
        "two": rule(pattern=pattern, rule="shared"),
    }})  # fmt: skip
    sim.bus().put_events([PLACED])
    await sim.settle()
    assert sim.recorded("off") == []
    assert len(sim.recorded("one")) == len(sim.recorded("two")) == 1
    assert [t.id for t in sim.bus().rules["shared"].targets] == ["one", "two"]


@pytest.mark.asyncio
async def test_put_takes_an_event_an_aws_service_made(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory({"functions": {"f": rule(pattern={"source": ["aws.events"]})}})
    event_id = sim.bus().put({"source": "aws.events", "detail-type": "Scheduled Event",
                              "time": datetime(2026, 1, 1, tzinfo=UTC).strftime(
                                  "%Y-%m-%dT%H:%M:%SZ")})  # fmt: skip
    await sim.settle()
    [event] = sim.recorded("f")
    assert event["id"] == event_id and event["detail"] == {}
    EventBridgeModel.model_validate(event)


# --- the config -----------------------------------------------------------------------------


def errors_of(tmp_path: Path, text: str) -> str:
    path = tmp_path / "eventsim.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    return str(refused.value)


FN = "functions:\n  f:\n    handler: a.b\n    triggers:\n"


@pytest.mark.parametrize(
    ("yaml", "expected"),
    [
        (FN + "      - eventbridge: {bus: nope, pattern: {source: [a]}}\n",
         "functions.f.triggers.0.eventbridge.bus: unknown bus 'nope'"),
        (FN + "      - eventbridge: {pattern: {source: a}}\n",
         'functions.f.triggers.0.eventbridge.pattern: source: a leaf is an array'),
        (FN + "      - eventbridge: {pattern: {source: [a]}, input: {a: 1}, input_path: $}\n",
         "a target takes one of input, input_path, input_transformer"),
        (FN + "      - eventbridge:\n          pattern: {source: [a]}\n"
              "          input_transformer: {input_template: '<who> came'}\n",
         "input_template uses <who>, which input_paths_map does not define"),
        (FN + "      - eventbridge: {pattern: {source: [a]}, input_path: 'detail'}\n",
         "functions.f.triggers.0.eventbridge.input_path: String should match pattern"),
        (FN + "      - eventbridge: {pattern: {source: [a]}, retry_policy: "
              "{maximum_retry_attempts: 186}}\n", "less than or equal to 185"),
        (FN + "      - eventbridge: {pattern: {source: [a]}, dead_letter_queue: dlq.fifo}\n"
              "queues: {dlq.fifo: {}}\n", "an EventBridge dead-letter queue is a standard queue"),
        (FN + "      - eventbridge: {pattern: {source: [a]}, rule: r}\n"
              "      - eventbridge: {pattern: {source: [b]}, rule: r}\n",
         "functions.f.triggers.1.eventbridge.pattern: the rule 'r' has another pattern"),
        (FN + "      - eventbridge: {pattern: {source: [a]}}\nbuses:\n  b:\n    rules:\n"
              "      r: {pattern: {source: [a]}, targets: [{queue: nope}]}\n",
         "buses.b.rules.r.targets.0.queue: unknown queue 'nope'"),
        (FN + "      - eventbridge: {pattern: {source: [a]}}\nbuses:\n  b:\n    rules:\n"
              "      r: {pattern: {source: [a]}, targets: [{queue: q.fifo}]}\n"
              "queues: {q.fifo: {}}\n",
         "buses.b.rules.r.targets.0.message_group_id: a FIFO queue target needs"),
        ("buses:\n  b:\n    rules:\n      r: {pattern: {source: [a]}, targets: [{}]}\n",
         "a target is one of queue: NAME or topic: NAME"),
        ("buses:\n  b:\n    rules:\n      r: {pattern: {source: [a]}, targets: []}\n",
         "buses.b.rules.r.targets: List should have at least 1 item"),
        ("buckets:\n  up: {path: up, eventbridge: yes}\n", "buckets.up.eventbridge"),
    ],
)  # fmt: skip
def test_the_config_refuses_with_a_position(tmp_path: Path, yaml: str, expected: str) -> None:
    message = errors_of(tmp_path, yaml)
    assert expected in message, message
    assert f"{tmp_path / 'eventsim.yaml'}:" in message


@pytest.mark.asyncio
async def test_the_config_of_a_bus_is_listed_through_python(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory({
        "queues": {"q": {}},
        "buses": {"b": {"rules": {"r": {"pattern": {"source": ["x"]}, "description": "d",
                                        "targets": [{"queue": "q"}]}}}},
    })  # fmt: skip
    assert sorted(sim.buses) == ["b", "default"]
    [(name, found)] = sim.bus("b").rules.items()
    assert (name, found.description, found.arn) == (
        "r",
        "d",
        "arn:aws:events:us-east-1:123456789012:rule/b/r",
    )
