"""Tables made, changed and removed at run time, and secondary indexes (issue #17): boto3
against the edge."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from eventsim.testing import SimulatorFactory

from .test_dynamodb_api import N, S, call, client, refused

pytestmark = pytest.mark.asyncio

ORDERS = {
    "TableName": "orders",
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                  {"AttributeName": "sk", "KeyType": "RANGE"}],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
        {"AttributeName": "status", "AttributeType": "S"},
        {"AttributeName": "total", "AttributeType": "N"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
    "GlobalSecondaryIndexes": [{
        "IndexName": "by_status",
        "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                      {"AttributeName": "total", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]},
    }],
    "LocalSecondaryIndexes": [{
        "IndexName": "by_total",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                      {"AttributeName": "total", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }],
    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    "Tags": [{"Key": "team", "Value": "shop"}],
}  # fmt: skip


def order(sk: str, status: str, total: int, **more: Any) -> dict[str, Any]:
    return {"pk": S("u1"), "sk": S(sk), "status": S(status), "total": N(total), **more}


async def test_a_table_made_through_the_api_lasts_across_restarts(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    sim = await eventsim_factory({}, state_dir=state, virtual_time=False)
    ddb = client(sim)
    made = (await call(ddb.create_table, **ORDERS))["TableDescription"]
    assert made["TableStatus"] == "ACTIVE" and made["TableName"] == "orders"
    assert made["LatestStreamArn"].startswith(
        "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/"
    )
    assert {i["IndexName"] for i in made["GlobalSecondaryIndexes"]} == {"by_status"}
    assert (await call(ddb.list_tables))["TableNames"] == ["orders"]
    await call(ddb.put_item, TableName="orders", Item=order("1", "paid", 30, note=S("n")))
    error = await refused(ddb.create_table, **ORDERS)
    assert error == {"Code": "ResourceInUseException", "Message": "Table already exists: orders"}
    await sim.close()

    again = await eventsim_factory({}, state_dir=state, virtual_time=False)
    ddb = client(again)
    described = (await call(ddb.describe_table, TableName="orders"))["Table"]
    assert described["ItemCount"] == 1
    assert described["LatestStreamArn"] == made["LatestStreamArn"]
    assert described["GlobalSecondaryIndexes"][0]["Projection"] == {
        "ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]}  # fmt: skip
    assert described["BillingModeSummary"] == {"BillingMode": "PAY_PER_REQUEST"}
    tags = await call(ddb.list_tags_of_resource, ResourceArn=described["TableArn"])
    assert tags["Tags"] == [{"Key": "team", "Value": "shop"}]
    assert len(again.table("orders").changes(0, 10)) == 1  # the stream was kept
    await call(ddb.delete_table, TableName="orders")
    assert (await refused(ddb.describe_table, TableName="orders"))["Code"] == (
        "ResourceNotFoundException"
    )
    assert not (state / "tables" / "orders.sqlite3").exists()
    await again.close()
    third = await eventsim_factory({}, state_dir=state, virtual_time=False)
    assert list(third.tables) == []


async def test_indexes_are_queried_in_their_order_with_their_projection(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory({}, virtual_time=False)
    ddb = client(sim)
    await call(ddb.create_table, **ORDERS)
    for sk, status, total in [("1", "paid", 30), ("2", "new", 5), ("3", "paid", 10),
                              ("4", "paid", 20)]:  # fmt: skip
        await call(ddb.put_item, TableName="orders",
                   Item=order(sk, status, total, note=S(sk), extra=S("x")))  # fmt: skip
    await call(ddb.put_item, TableName="orders", Item={"pk": S("u1"), "sk": S("5")})  # sparse
    paid = await call(ddb.query, TableName="orders", IndexName="by_status",
                      KeyConditionExpression="#s = :s AND #t > :t",
                      ExpressionAttributeNames={"#s": "status", "#t": "total"},
                      ExpressionAttributeValues={":s": S("paid"), ":t": N(10)})  # fmt: skip
    assert paid["Items"] == [
        {"pk": S("u1"), "sk": S("4"), "status": S("paid"), "total": N(20), "note": S("4")},
        {"pk": S("u1"), "sk": S("1"), "status": S("paid"), "total": N(30), "note": S("1")},
    ]
    page = await call(ddb.query, TableName="orders", IndexName="by_status", Limit=1,
                      KeyConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"},
                      ExpressionAttributeValues={":s": S("paid")})  # fmt: skip
    assert page["LastEvaluatedKey"] == {"pk": S("u1"), "sk": S("3"), "status": S("paid"),
                                        "total": N(10)}  # fmt: skip
    rest = await call(ddb.query, TableName="orders", IndexName="by_status",
                      KeyConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"},
                      ExpressionAttributeValues={":s": S("paid")},
                      ExclusiveStartKey=page["LastEvaluatedKey"])  # fmt: skip
    assert [i["sk"] for i in rest["Items"]] == [S("4"), S("1")]
    by_total = await call(ddb.query, TableName="orders", IndexName="by_total",
                          KeyConditionExpression="pk = :p", ScanIndexForward=False,
                          ExpressionAttributeValues={":p": S("u1")})  # fmt: skip
    assert by_total["Items"][0] == {"pk": S("u1"), "sk": S("1"), "total": N(30)}  # KEYS_ONLY
    assert [i["total"] for i in by_total["Items"]] == [N(30), N(20), N(10), N(5)]
    fetched = await call(ddb.query, TableName="orders", IndexName="by_total",
                         KeyConditionExpression="pk = :p", Select="ALL_ATTRIBUTES",
                         ExpressionAttributeValues={":p": S("u1")})  # fmt: skip
    assert fetched["Items"][0]["extra"] == S("x")  # a local index fetches from the table
    scanned = await call(ddb.scan, TableName="orders", IndexName="by_status")
    assert scanned["Count"] == 4
    error = await refused(ddb.query, TableName="orders", IndexName="by_status",
                          KeyConditionExpression="#s = :s", Select="ALL_ATTRIBUTES",
                          ExpressionAttributeNames={"#s": "status"},
                          ExpressionAttributeValues={":s": S("paid")})  # fmt: skip
    assert "projection type is not ALL" in error["Message"]
    error = await refused(ddb.put_item, TableName="orders", Item=order("9", "x", 1) | {
        "total": S("one")})  # fmt: skip
    assert error["Message"] == (
        "One or more parameter values were invalid: Type mismatch for Index Key total "
        "Expected: N Actual: S IndexName: by_status"
    )
    error = await refused(ddb.query, TableName="orders", IndexName="nope",
                          KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": S("u1")})  # fmt: skip
    assert error["Message"] == "The table does not have the specified index: nope"


async def test_indexes_see_rows_written_with_plain_sql(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory({"tables": {"orders": {
        "partition_key": "pk", "sort_key": "sk",
        "global_indexes": {"by_status": {"partition_key": "status", "sort_key": "total",
                                         "sort_key_type": "N"}}}}})  # fmt: skip
    table = sim.table("orders")
    with sqlite3.connect(table.path) as db:
        for sk, total in (("1", "-2.5"), ("2", "100"), ("3", "7")):
            item = {"pk": {"S": "u"}, "sk": {"S": sk}, "status": {"S": "paid"},
                    "total": {"N": total}}  # fmt: skip
            db.execute("INSERT INTO items (item) VALUES (?)", (json.dumps(item),))
        db.execute("DELETE FROM items WHERE sk = '3'")
    found = table.query("#s = :s", names={"#s": "status"}, values={":s": "paid"},
                        index="by_status")  # fmt: skip
    assert [str(i["total"]) for i in found] == ["-2.5", "100"]


async def test_update_table_adds_and_removes_indexes_and_streams(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory({"tables": {"orders": {"partition_key": "pk"}}},
                                 virtual_time=False)  # fmt: skip
    ddb = client(sim)
    for n in range(3):
        await call(ddb.put_item, TableName="orders", Item={"pk": S(f"p{n}"), "city": S("x")})
    updated = await call(ddb.update_table, TableName="orders", AttributeDefinitions=[
        {"AttributeName": "city", "AttributeType": "S"}], GlobalSecondaryIndexUpdates=[
        {"Create": {"IndexName": "by_city", "KeySchema": [
            {"AttributeName": "city", "KeyType": "HASH"}], "Projection": {
            "ProjectionType": "ALL"}}}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})  # fmt: skip
    description = updated["TableDescription"]
    assert description["GlobalSecondaryIndexes"][0]["ItemCount"] == 3  # built from the items
    assert description["StreamSpecification"]["StreamViewType"] == "KEYS_ONLY"
    found = await call(ddb.query, TableName="orders", IndexName="by_city",
                       KeyConditionExpression="city = :c",
                       ExpressionAttributeValues={":c": S("x")})  # fmt: skip
    assert found["Count"] == 3
    error = await refused(ddb.update_table, TableName="orders", StreamSpecification={
        "StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})  # fmt: skip
    assert error["Message"] == "Table already has an enabled stream: TableName: orders"
    await call(ddb.update_table, TableName="orders", GlobalSecondaryIndexUpdates=[
        {"Delete": {"IndexName": "by_city"}}])  # fmt: skip
    gone = await refused(ddb.query, TableName="orders", IndexName="by_city",
                         KeyConditionExpression="city = :c",
                         ExpressionAttributeValues={":c": S("x")})  # fmt: skip
    assert gone["Message"] == "The table does not have the specified index: by_city"


async def test_create_table_is_checked_as_dynamodb_checks_it(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory({}, virtual_time=False)
    ddb = client(sim)
    base = {"TableName": "things", "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]}  # fmt: skip
    cases = [
        ({"AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"},
                                   {"AttributeName": "x", "AttributeType": "S"}]},
         "One or more parameter values were invalid: Number of attributes in KeySchema does not "
         "exactly match number of attributes defined in AttributeDefinitions"),
        ({"KeySchema": [{"AttributeName": "id", "KeyType": "RANGE"}]},
         "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
        ({"BillingMode": "PROVISIONED"},
         "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits "
         "must both be specified when BillingMode is PROVISIONED"),
        ({"TableName": "ab"},
         "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: "
         "Member must have length greater than or equal to 3"),
        ({"KeySchema": [{"AttributeName": "id", "KeyType": "HASH"},
                        {"AttributeName": "at", "KeyType": "RANGE"}]},
         "Invalid KeySchema: Some index key attribute have no definition"),
        ({"KeySchema": [{"AttributeName": "id", "KeyType": "HASH"},
                        {"AttributeName": "at", "KeyType": "SORT"}]},
         "1 validation error detected: Value 'SORT' at 'keySchema.2.member.keyType' failed to "
         "satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]"),
        ({"GlobalSecondaryIndexes": [{"IndexName": "by_g", "Projection": {"ProjectionType": "ALL"},
                                      "KeySchema": [{"AttributeName": "u", "KeyType": "HASH"},
                                                    {"AttributeName": "v", "KeyType": "SORT"}]}]},
         "1 validation error detected: Value 'SORT' at "
         "'globalSecondaryIndexes.1.member.keySchema.2.member.keyType' failed to satisfy "
         "constraint: Member must satisfy enum value set: [HASH, RANGE]"),
        ({"GlobalSecondaryIndexes": []},
         "One or more parameter values were invalid: List of GlobalSecondaryIndexes is empty"),
        ({"LocalSecondaryIndexes": []},
         "One or more parameter values were invalid: List of LocalSecondaryIndexes is empty"),
        ({"AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"}
                                   for n in ("id", "user", "created")],
          "GlobalSecondaryIndexes": [{"IndexName": "by_g", "Projection": {"ProjectionType": "ALL"},
                                      "KeySchema": [{"AttributeName": "user",
                                                     "KeyType": "HASH"}]}]},
         "One or more parameter values were invalid: Some AttributeDefinitions are not used. "
         "AttributeDefinitions: [created, id, user], keys used: [id, user]"),
    ]  # fmt: skip
    for change, message in cases:
        error = await refused(ddb.create_table, **{**base, **change})
        assert error == {"Code": "ValidationException", "Message": message}, change
    await call(ddb.create_table, **base, DeletionProtectionEnabled=True)
    error = await refused(ddb.delete_table, TableName="things")
    assert error["Message"].startswith("Resource cannot be deleted as it is currently protected")
    await call(ddb.update_table, TableName="things", DeletionProtectionEnabled=False)
    await call(ddb.delete_table, TableName="things")


async def test_tags(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory({"tables": {"orders": {"partition_key": "pk"}}},
                                 virtual_time=False)  # fmt: skip
    ddb = client(sim)
    arn = sim.table("orders").arn
    await call(ddb.tag_resource, ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"},
                                                       {"Key": "b", "Value": "2"}])  # fmt: skip
    await call(ddb.untag_resource, ResourceArn=arn, TagKeys=["a"])
    tags = await call(ddb.list_tags_of_resource, ResourceArn=arn)
    assert tags["Tags"] == [{"Key": "b", "Value": "2"}]
    error = await refused(ddb.list_tags_of_resource, ResourceArn=arn + "x")
    assert error["Code"] == "ResourceNotFoundException"


async def test_a_table_made_at_run_time_is_announced(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory({}, virtual_time=False)
    created: list[str] = []
    updated: list[str | None] = []
    deleted: list[str] = []
    sim.tables.on_created.append(lambda table: created.append(table.name))
    sim.tables.on_updated.append(lambda table: updated.append(table.config.stream))
    sim.tables.on_deleted.append(lambda table: deleted.append(table.name))
    ddb = client(sim)
    await call(ddb.create_table, TableName="audit", BillingMode="PAY_PER_REQUEST",
               KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
               AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])  # fmt: skip
    await call(
        ddb.update_table,
        TableName="audit",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    await call(ddb.delete_table, TableName="audit")
    assert created == ["audit"] and updated == ["KEYS_ONLY"] and deleted == ["audit"]
