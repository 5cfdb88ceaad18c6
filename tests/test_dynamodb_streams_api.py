"""The DynamoDB Streams API: apps read a table's stream themselves (issue #17)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from eventsim.testing import SimulatorFactory

from .test_dynamodb_api import S, call, client, refused

pytestmark = pytest.mark.asyncio

START = 1_767_225_600  # the virtual clock's start
TABLES = {
    "orders": {"partition_key": "pk", "stream": "NEW_AND_OLD_IMAGES", "ttl": "expires"},
    "plain": {"partition_key": "pk"},
}


async def records(streams: Any, iterator: str) -> tuple[list[dict[str, Any]], str]:
    answer = await call(streams.get_records, ShardIterator=iterator)
    return answer["Records"], answer["NextShardIterator"]


async def test_read_a_stream_with_boto3(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory({"tables": TABLES})
    streams = client(sim, "dynamodbstreams")
    orders = sim.table("orders")
    listed = await call(streams.list_streams)
    assert listed["Streams"] == [{"StreamArn": orders.stream_arn, "TableName": "orders",
                                  "StreamLabel": orders.stream_arn.rsplit("/", 1)[1]}]  # fmt: skip
    orders.put_item({"pk": "a", "n": 1})
    orders.update_item({"pk": "a"}, "SET n = :two", values={":two": 2})
    described = await call(streams.describe_stream, StreamArn=orders.stream_arn)
    description = described["StreamDescription"]
    assert description["StreamStatus"] == "ENABLED" and description["TableName"] == "orders"
    assert description["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    [shard] = description["Shards"]
    start = await call(streams.get_shard_iterator, StreamArn=orders.stream_arn,
                       ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")  # fmt: skip
    got, following = await records(streams, start["ShardIterator"])
    assert [r["eventName"] for r in got] == ["INSERT", "MODIFY"]
    assert got[1]["dynamodb"]["OldImage"] == {"pk": S("a"), "n": {"N": "1"}}
    assert "eventSourceARN" not in got[0]
    assert (await records(streams, following))[0] == []  # nothing new yet
    latest = await call(streams.get_shard_iterator, StreamArn=orders.stream_arn,
                        ShardId=shard["ShardId"], ShardIteratorType="LATEST")  # fmt: skip
    orders.put_item({"pk": "b", "expires": START})  # expires at once (TTL)
    await sim.advance(1)
    new, _ = await records(streams, latest["ShardIterator"])
    assert [r["eventName"] for r in new] == ["INSERT", "REMOVE"]
    assert new[1]["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    after = await call(streams.get_shard_iterator, StreamArn=orders.stream_arn,
                       ShardId=shard["ShardId"], ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                       SequenceNumber=got[0]["dynamodb"]["SequenceNumber"])  # fmt: skip
    again, _ = await records(streams, after["ShardIterator"])
    assert [r["eventName"] for r in again] == ["MODIFY", "INSERT", "REMOVE"]
    await sim.advance(minutes=16)
    error = await refused(streams.get_records, ShardIterator=after["ShardIterator"])
    assert error["Code"] == "ExpiredIteratorException"


async def test_streams_refuse_what_they_do_not_have(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory({"tables": TABLES})
    streams = client(sim, "dynamodbstreams")
    arn = sim.table("orders").stream_arn
    missing = await refused(streams.describe_stream, StreamArn=arn + "x")
    assert missing["Code"] == "ResourceNotFoundException"
    other = "shardId-00000000000000000000-00000000"
    shard = await refused(streams.get_shard_iterator, StreamArn=arn, ShardId=other,
                          ShardIteratorType="LATEST")  # fmt: skip
    assert shard["Code"] == "ResourceNotFoundException"
    bad = await refused(streams.get_records, ShardIterator="not-an-iterator")
    assert bad["Code"] == "ValidationException"
    only = await call(streams.list_streams, TableName="plain")
    assert only["Streams"] == []


async def test_an_unsigned_request_is_told_by_its_target(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory({"tables": TABLES})
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            str(sim.endpoint_url),
            data=json.dumps({}),
            headers={
                "X-Amz-Target": "DynamoDBStreams_20120810.ListStreams",
                "Content-Type": "application/x-amz-json-1.0",
            },
        ) as response,  # fmt: skip
    ):
        body = json.loads(await response.read())
    assert response.status == 200 and body["Streams"][0]["TableName"] == "orders"
    assert "x-amz-crc32" in response.headers
