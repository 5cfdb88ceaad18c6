"""EventBridge through boto3 against the edge (the JSON protocol), and unchanged powertools
handlers receiving what a rule delivers."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
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

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel


@event_source(data_class=EventBridgeEvent)
def with_data_class(event: EventBridgeEvent, context):
    return {"id": event.get_id, "type": event.detail_type, "source": event.source,
            "order": event.detail["order"]}


@event_parser(model=EventBridgeModel)
def with_parser(event: EventBridgeModel, context):
    return {"order": event.detail["order"], "time": event.time.isoformat()}


def checkout(event, context):
    import boto3
    answer = boto3.client("events").put_events(Entries=[{
        "Source": "shop", "DetailType": "OrderPlaced", "Detail": json.dumps(event)}])
    return answer["Entries"][0]["EventId"]
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
    (folder / "eventbridge_handlers.py").write_text(HANDLERS)
    return folder


def routed(code: Path, name: str, **options: Any) -> dict[str, Any]:
    trigger = {"pattern": {"detail-type": ["OrderPlaced"]}, **options}
    return {"handler": f"eventbridge_handlers.{name}", "code": str(code), "isolation": "thread",
            "triggers": [{"eventbridge": trigger}]}  # fmt: skip


@pytest.mark.asyncio
async def test_put_events_reaches_powertools_handlers(
    eventsim_factory: SimulatorFactory, code: Path
) -> None:
    sim = await eventsim_factory({
        "functions": {
            "with_data_class": routed(code, "with_data_class", rule="fulfil"),
            "with_parser": routed(code, "with_parser", bus="orders"),
        },
        "buses": {"orders": {}},
    })  # fmt: skip
    events = client(sim, "events")
    when = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    answer = await call(events.put_events, Entries=[
        {"Source": "shop", "DetailType": "OrderPlaced", "Detail": '{"order": 1}'},
        {"Source": "shop", "DetailType": "OrderPlaced", "Detail": '{"order": 2}', "Time": when,
         "EventBusName": "orders", "Resources": ["arn:aws:shop:::order/2"]},
        {"Source": "shop", "DetailType": "OrderPlaced", "Detail": "not json"},
        {"Source": "shop", "DetailType": "OrderPlaced", "Detail": "{}", "EventBusName": "nope"},
    ])  # fmt: skip
    assert answer["FailedEntryCount"] == 2
    first, second, malformed, unknown = answer["Entries"]
    assert malformed == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    assert unknown["ErrorCode"] == "ResourceNotFoundException"
    await sim.settle()
    [data_class] = sim.ledger.for_function("with_data_class", Outcome.SUCCESS)
    assert data_class.payload == {"id": first["EventId"], "type": "OrderPlaced",
                                  "source": "shop", "order": 1}  # fmt: skip
    assert data_class.source == "eventbridge:default/fulfil"
    [parsed] = sim.ledger.for_function("with_parser", Outcome.SUCCESS)
    assert parsed.payload == {"order": 2, "time": "2026-05-01T12:30:00+00:00"}
    assert parsed.event["id"] == second["EventId"]
    assert parsed.event["resources"] == ["arn:aws:shop:::order/2"]


@pytest.mark.asyncio
async def test_what_put_events_refuses_as_a_whole(
    eventsim_factory: SimulatorFactory, code: Path
) -> None:
    sim = await eventsim_factory({})
    events = client(sim, "events")
    entry = {"Source": "shop", "DetailType": "t", "Detail": "{}"}
    with pytest.raises(ClientError) as refused:
        await call(events.put_events, Entries=[entry] * 11)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    huge = {**entry, "Detail": json.dumps({"x": "y" * (256 * 1024)})}
    with pytest.raises(ClientError) as refused:
        await call(events.put_events, Entries=[huge])
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "over the limit" in refused.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as refused:
        await call(events.put_rule, Name="r", EventPattern='{"source": ["a"]}')
    assert refused.value.response["Error"]["Code"] == "UnsupportedOperation"
    assert len(sim.ledger) == 0


@pytest.mark.asyncio
async def test_buses_and_rules_can_be_looked_at(
    eventsim_factory: SimulatorFactory, code: Path
) -> None:
    sim = await eventsim_factory({
        "functions": {"with_parser": routed(code, "with_parser", rule="fulfil",
                                            retry_policy={"maximum_retry_attempts": 4},
                                            dead_letter_queue="failed")},
        "queues": {"failed": {}, "archive": {}},
        "buses": {"orders": {"rules": {"archive": {
            "pattern": {"source": ["shop"]}, "description": "keep everything",
            "targets": [{"queue": "archive", "input_path": "$.detail"}]}}}},
    })  # fmt: skip
    events = client(sim, "events")
    buses = (await call(events.list_event_buses))["EventBuses"]
    assert [b["Name"] for b in buses] == ["default", "orders"]
    described = await call(events.describe_event_bus, Name="orders")
    assert described["Arn"] == "arn:aws:events:us-east-1:123456789012:event-bus/orders"
    [archive] = (await call(events.list_rules, EventBusName="orders"))["Rules"]
    assert (archive["Name"], archive["State"], archive["Description"]) == (
        "archive", "ENABLED", "keep everything"
    )  # fmt: skip
    assert json.loads(archive["EventPattern"]) == {"source": ["shop"]}
    [target] = (await call(events.list_targets_by_rule, Rule="archive",
                           EventBusName="orders"))["Targets"]  # fmt: skip
    assert (target["Arn"], target["InputPath"]) == (sim.queue("archive").arn, "$.detail")
    [fn] = (await call(events.list_targets_by_rule, Rule="fulfil"))["Targets"]
    assert fn["Arn"] == sim.function("with_parser").arn
    assert fn["RetryPolicy"]["MaximumRetryAttempts"] == 4
    assert fn["DeadLetterConfig"]["Arn"] == sim.queue("failed").arn
    with pytest.raises(ClientError) as refused:
        await call(events.describe_rule, Name="nope")
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.asyncio
async def test_a_handler_puts_events_with_boto3(
    eventsim_factory: SimulatorFactory, code: Path
) -> None:
    sim = await eventsim_factory({
        "functions": {
            # a process: its boto3 reaches the edge over HTTP
            "checkout": {"handler": "eventbridge_handlers.checkout", "code": str(code)},
            "with_parser": routed(code, "with_parser"),
        },
    })  # fmt: skip
    result = await sim.invoke("checkout", {"order": 5})
    assert result.function_error is None, result.payload
    await sim.settle()
    [attempt] = sim.ledger.for_function("with_parser", Outcome.SUCCESS)
    assert attempt.event["id"] == result.payload
    assert attempt.payload["order"] == 5
