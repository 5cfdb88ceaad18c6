"""Lambda's control plane on the edge, with boto3: the config's functions, and the event
source mappings (the sqs and dynamodb triggers), which can be paused and resumed at run time."""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from eventsim import Outcome, Simulator
from eventsim.testing import SimulatorFactory

from .helpers import function

pytestmark = pytest.mark.asyncio

CONFIG = {
    "functions": {
        "worker": function("echo", isolation="thread", timeout=7, memory=256,
                           environment={"MODE": "test"}, reserved_concurrency=3,
                           triggers=[{"sqs": {"queue": "jobs", "batch_size": 5,
                                              "report_batch_item_failures": True}}]),
        "audit": function("echo", isolation="thread", triggers=[
            {"dynamodb": {"table": "orders", "starting_position": "TRIM_HORIZON",
                          "bisect_on_error": True}}]),
        "hello": function("echo", isolation="thread"),
    },
    "queues": {"jobs": {}},
    "tables": {"orders": {"partition_key": "pk", "stream": "NEW_IMAGE"}},
}  # fmt: skip


def client(sim: Simulator) -> Any:
    return boto3.client(
        "lambda", endpoint_url=sim.endpoint_url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip


async def call(method: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(method, **kwargs)


async def test_functions_as_lambda_lists_them(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory(CONFIG)
    lam = client(sim)
    listed = await call(lam.list_functions)
    assert sorted(f["FunctionName"] for f in listed["Functions"]) == ["audit", "hello", "worker"]
    first = await call(lam.list_functions, MaxItems=2)
    rest = await call(lam.list_functions, Marker=first["NextMarker"])
    assert len(first["Functions"]) == 2 and len(rest["Functions"]) == 1
    worker = await call(lam.get_function, FunctionName="worker")
    configuration = worker["Configuration"]
    assert (configuration["Timeout"], configuration["MemorySize"]) == (7, 256)
    assert configuration["Handler"] == "behaviours.echo"
    assert configuration["Environment"] == {"Variables": {"MODE": "test"}}
    assert configuration["Role"] == "arn:aws:iam::123456789012:role/eventsim"
    assert worker["Concurrency"] == {"ReservedConcurrentExecutions": 3}
    by_arn = await call(lam.get_function_configuration, FunctionName=configuration["FunctionArn"])
    assert by_arn["FunctionName"] == "worker"
    with pytest.raises(ClientError) as missing:
        await call(lam.get_function, FunctionName="nope")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


async def test_event_source_mappings_are_the_triggers(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory(CONFIG)
    lam = client(sim)
    mappings = (await call(lam.list_event_source_mappings))["EventSourceMappings"]
    assert len(mappings) == 2
    [queue] = (await call(lam.list_event_source_mappings, FunctionName="worker"))[
        "EventSourceMappings"
    ]
    assert queue["EventSourceArn"] == sim.queue("jobs").arn
    assert (queue["BatchSize"], queue["State"]) == (5, "Enabled")
    assert queue["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    [stream] = (
        await call(lam.list_event_source_mappings, EventSourceArn=sim.table("orders").stream_arn)
    )["EventSourceMappings"]
    assert stream["StartingPosition"] == "TRIM_HORIZON" and stream["BisectBatchOnFunctionError"]
    got = await call(lam.get_event_source_mapping, UUID=stream["UUID"])
    assert got["FunctionArn"].endswith(":function:audit")
    # The same UUIDs after a restart: they come from the function and the trigger's place.
    assert {m.uuid for m in sim.mappings()} == {queue["UUID"], stream["UUID"]}


async def test_a_paused_sqs_mapping_delivers_nothing_until_resumed(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory(CONFIG)
    lam = client(sim)
    [mapping] = (await call(lam.list_event_source_mappings, FunctionName="worker"))[
        "EventSourceMappings"
    ]
    paused = await call(lam.update_event_source_mapping, UUID=mapping["UUID"], Enabled=False)
    assert paused["State"] == "Disabled"
    sim.queue("jobs").send_message("while paused")
    await sim.advance(minutes=5)
    assert sim.ledger.for_function("worker") == [] and len(sim.queue("jobs")) == 1
    await call(lam.update_event_source_mapping, UUID=mapping["UUID"], Enabled=True)
    await sim.settle()
    [batch] = sim.ledger.for_function("worker", Outcome.SUCCESS)
    assert batch.event["Records"][0]["body"] == "while paused"
    with pytest.raises(ClientError) as refused:
        await call(lam.update_event_source_mapping, UUID=mapping["UUID"], BatchSize=1)
    assert "Enabled only" in refused.value.response["Error"]["Message"]


async def test_a_paused_stream_mapping_resumes_at_its_checkpoint(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory(CONFIG)
    [mapping] = [m for m in sim.mappings() if "audit" in m.functions]
    sim.table("orders").put_item({"pk": "before"})
    await sim.settle()
    await mapping.set_enabled(False)
    sim.table("orders").put_item({"pk": "during"})
    await sim.settle()
    assert len(sim.ledger.for_function("audit")) == 1
    await mapping.set_enabled(True)
    await sim.settle()
    keys = [
        r["dynamodb"]["Keys"]["pk"]["S"]
        for a in sim.ledger.for_function("audit")
        for r in a.event["Records"]
    ]
    assert keys == ["before", "during"]  # each once, in order


async def test_a_stream_trigger_follows_a_table_made_at_run_time(
    eventsim_factory: SimulatorFactory,
) -> None:
    """A dynamodb trigger may name a table CreateTable makes later; it waits, then delivers,
    and stops when the table is deleted."""
    stream = {"dynamodb": {"table": "later", "starting_position": "TRIM_HORIZON",
                           "wait_for_table": True}}  # fmt: skip
    audit = function("echo", isolation="thread", triggers=[stream])
    sim = await eventsim_factory({"functions": {"audit": audit}})
    [mapping] = sim.mappings()
    assert "waiting" in mapping.describe()
    ddb = boto3.client("dynamodb", endpoint_url=sim.endpoint_url, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")  # fmt: skip
    await call(
        ddb.create_table, TableName="later", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )  # fmt: skip
    await call(ddb.put_item, TableName="later", Item={"pk": {"S": "first"}})
    await sim.settle()
    [attempt] = sim.ledger.for_function("audit", Outcome.SUCCESS)
    assert attempt.event["Records"][0]["dynamodb"]["Keys"] == {"pk": {"S": "first"}}
    assert mapping.configuration()["EventSourceArn"] == sim.table("later").stream_arn
    await call(ddb.delete_table, TableName="later")
    await sim.settle()
    assert "waiting" in mapping.describe()
