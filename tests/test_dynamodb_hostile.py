"""No request to the operations added for issue #17 gets a 500: each valid request, spoiled a
value at a time (at any depth), is answered or refused in DynamoDB's error shape."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from eventsim.testing import SimulatorFactory

from .test_edge_hostile import spoiled

pytestmark = pytest.mark.asyncio

KEY = {"pk": {"S": "a"}, "sk": {"S": "1"}}
VALUES = {":v": {"S": "a"}}
TABLES = {"orders": {"partition_key": "pk", "sort_key": "sk", "stream": "NEW_IMAGE",
                     "global_indexes": {"by_state": {"partition_key": "state"}}}}  # fmt: skip
KEY_SCHEMA = [{"AttributeName": "id", "KeyType": "HASH"},
              {"AttributeName": "at", "KeyType": "RANGE"}]  # fmt: skip
DEFINITIONS = [{"AttributeName": "id", "AttributeType": "S"},
               {"AttributeName": "at", "AttributeType": "N"},
               {"AttributeName": "g", "AttributeType": "S"}]  # fmt: skip


def requests(arn: str, stream: str) -> list[tuple[str, dict[str, Any]]]:
    ddb: list[tuple[str, dict[str, Any]]] = [
        ("CreateTable", {"TableName": "made", "KeySchema": KEY_SCHEMA,
                         "AttributeDefinitions": DEFINITIONS, "BillingMode": "PROVISIONED",
                         "ProvisionedThroughput": {"ReadCapacityUnits": 1,
                                                   "WriteCapacityUnits": 1},
                         "GlobalSecondaryIndexes": [{
                             "IndexName": "by_g", "KeySchema": [
                                 {"AttributeName": "g", "KeyType": "HASH"}],
                             "Projection": {"ProjectionType": "INCLUDE",
                                            "NonKeyAttributes": ["x"]},
                             "ProvisionedThroughput": {"ReadCapacityUnits": 1,
                                                       "WriteCapacityUnits": 1}}],
                         "LocalSecondaryIndexes": [{
                             "IndexName": "by_at2", "KeySchema": [
                                 {"AttributeName": "id", "KeyType": "HASH"},
                                 {"AttributeName": "at", "KeyType": "RANGE"}],
                             "Projection": {"ProjectionType": "KEYS_ONLY"}}],
                         "StreamSpecification": {"StreamEnabled": True,
                                                 "StreamViewType": "NEW_IMAGE"},
                         "Tags": [{"Key": "k", "Value": "v"}]}),
        ("DeleteTable", {"TableName": "made"}),
        ("UpdateTable", {"TableName": "orders", "AttributeDefinitions": [
            {"AttributeName": "city", "AttributeType": "S"}], "GlobalSecondaryIndexUpdates": [
            {"Create": {"IndexName": "by_city", "KeySchema": [
                {"AttributeName": "city", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}}}],
            "BillingMode": "PAY_PER_REQUEST", "DeletionProtectionEnabled": False}),
        ("UpdateTimeToLive", {"TableName": "orders", "TimeToLiveSpecification": {
            "Enabled": True, "AttributeName": "expires"}}),
        ("DescribeTimeToLive", {"TableName": "orders"}),
        ("TagResource", {"ResourceArn": arn, "Tags": [{"Key": "a", "Value": "b"}]}),
        ("UntagResource", {"ResourceArn": arn, "TagKeys": ["a"]}),
        ("ListTagsOfResource", {"ResourceArn": arn}),
        ("TransactWriteItems", {"ClientRequestToken": "t", "TransactItems": [
            {"Put": {"TableName": "orders", "Item": {**KEY, "n": {"N": "1"}},
                     "ConditionExpression": "attribute_not_exists(pk) OR pk = :v",
                     "ExpressionAttributeValues": VALUES,
                     "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            {"Update": {"TableName": "orders", "Key": {"pk": {"S": "b"}, "sk": {"S": "1"}},
                        "UpdateExpression": "SET #n = :v", "ExpressionAttributeNames": {
                            "#n": "n"}, "ExpressionAttributeValues": VALUES}},
            {"Delete": {"TableName": "orders", "Key": {"pk": {"S": "c"}, "sk": {"S": "1"}}}},
            {"ConditionCheck": {"TableName": "orders", "Key": {"pk": {"S": "d"},
                                                               "sk": {"S": "1"}},
                                "ConditionExpression": "attribute_not_exists(pk)"}}],
            "ReturnConsumedCapacity": "INDEXES"}),
        ("TransactGetItems", {"TransactItems": [{"Get": {
            "TableName": "orders", "Key": KEY, "ProjectionExpression": "#p",
            "ExpressionAttributeNames": {"#p": "pk"}}}], "ReturnConsumedCapacity": "TOTAL"}),
        ("Query", {"TableName": "orders", "IndexName": "by_state",
                   "KeyConditions": {"state": {"ComparisonOperator": "EQ",
                                               "AttributeValueList": [{"S": "x"}]}},
                   "QueryFilter": {"n": {"ComparisonOperator": "BETWEEN",
                                         "AttributeValueList": [{"N": "1"}, {"N": "2"}]}},
                   "ConditionalOperator": "OR", "Select": "ALL_PROJECTED_ATTRIBUTES"}),
        ("Scan", {"TableName": "orders", "Segment": 0, "TotalSegments": 2,
                  "ScanFilter": {"n": {"ComparisonOperator": "IN",
                                       "AttributeValueList": [{"N": "1"}]}},
                  "AttributesToGet": ["pk"], "ReturnConsumedCapacity": "TOTAL"}),
        ("UpdateItem", {"TableName": arn, "Key": KEY, "AttributeUpdates": {
            "n": {"Action": "ADD", "Value": {"N": "1"}}, "l": {"Action": "ADD", "Value": {
                "L": [{"S": "x"}]}}}, "Expected": {"n": {"Exists": False}}}),
    ]  # fmt: skip
    streams: list[tuple[str, dict[str, Any]]] = [
        ("ListStreams", {"TableName": "orders", "Limit": 5, "ExclusiveStartStreamArn": stream}),
        ("DescribeStream", {"StreamArn": stream, "Limit": 1}),
        ("GetShardIterator", {"StreamArn": stream,
                              "ShardId": "shardId-00000000000000000001-00000001",
                              "ShardIteratorType": "AT_SEQUENCE_NUMBER",
                              "SequenceNumber": "000000000000000000001"}),
        ("GetRecords", {"ShardIterator": "e30=", "Limit": 10}),
    ]  # fmt: skip
    return [("DynamoDB_20120810." + op, body) for op, body in ddb] + [
        ("DynamoDBStreams_20120810." + op, body) for op, body in streams
    ]


@pytest.mark.timeout(300)
async def test_no_request_body_gets_a_500(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory({"tables": TABLES}, virtual_time=False)
    table = sim.table("orders")
    answered: dict[int, int] = {}
    async with aiohttp.ClientSession() as session:
        for target, valid in requests(table.arn, table.stream_arn):
            for path, body in [((), valid), *spoiled(valid)]:
                headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"}
                async with session.post(
                    str(sim.endpoint_url), data=json.dumps(body), headers=headers
                ) as response:
                    raw = await response.read()
                assert response.status < 500, (target, path, body, raw)
                if response.status >= 400:
                    shape = json.loads(raw)
                    assert "__type" in shape and "message" in shape, (target, path, raw)
                answered[response.status] = answered.get(response.status, 0) + 1
    assert answered[400] > 500 and answered[200] > 50
