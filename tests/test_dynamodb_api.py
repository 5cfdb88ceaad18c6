"""DynamoDB on the edge behaves as AWS does: boto3 against a running simulator (issue #17)."""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Callable
from functools import partial
from typing import Any

import aiohttp
import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from eventsim import Simulator
from eventsim.testing import SimulatorFactory

pytestmark = pytest.mark.asyncio

TABLES = {
    "orders": {"partition_key": "pk", "sort_key": "sk"},
    "numbers": {"partition_key": "pk", "sort_key": "n", "sort_key_type": "N"},
}
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"


def client(sim: Simulator, service: str = "dynamodb") -> Any:
    return boto3.client(
        service, endpoint_url=sim.endpoint_url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=BotoConfig(retries={"max_attempts": 1}),
    )  # fmt: skip


async def call(method: Callable[..., Any], **kwargs: Any) -> Any:
    """A blocking boto3 call, off the loop that serves it."""
    return await asyncio.to_thread(partial(method, **kwargs))


async def refused(method: Callable[..., Any], **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as error:
        await call(method, **kwargs)
    return error.value.response["Error"]  # type: ignore[no-any-return]


async def started(factory: SimulatorFactory, **tables: Any) -> tuple[Simulator, Any]:
    sim = await factory({"tables": {**TABLES, **tables}}, virtual_time=False)
    return sim, client(sim)


def S(text: str) -> dict[str, str]:  # noqa: N802 - DynamoDB's tag
    return {"S": text}


def N(number: int | str) -> dict[str, str]:  # noqa: N802 - DynamoDB's tag
    return {"N": str(number)}


KEY = {"pk": S("a"), "sk": S("1")}
#: How DynamoDB words PutItem's, UpdateItem's and DeleteItem's refusals of their expressions.
DETECTED = "1 validation error detected: "


async def test_legacy_conditions_are_applied_not_ignored(
    eventsim_factory: SimulatorFactory,
) -> None:
    _, ddb = await started(eventsim_factory)
    await call(ddb.put_item, TableName="orders", Item={**KEY, "state": S("new")})
    error = await refused(ddb.put_item, TableName="orders", Item={**KEY, "state": S("x")},
                          Expected={"state": {"Value": S("paid")}})  # fmt: skip
    assert error["Code"] == "ConditionalCheckFailedException"
    error = await refused(ddb.put_item, TableName="orders", Item=KEY,
                          Expected={"pk": {"Exists": False}})  # fmt: skip
    assert error["Code"] == "ConditionalCheckFailedException"
    await call(ddb.put_item, TableName="orders", Item={**KEY, "state": S("paid"), "n": N(1)},
               Expected={"state": {"ComparisonOperator": "IN",
                                   "AttributeValueList": [S("new"), S("old")]},
                         "gone": {"ComparisonOperator": "NULL"}},
               ConditionalOperator="AND")  # fmt: skip
    await call(ddb.update_item, TableName="orders", Key=KEY, AttributeUpdates={
        "n": {"Action": "ADD", "Value": N(2)}, "state": {"Action": "DELETE"},
        "note": {"Value": S("hi")}})  # fmt: skip
    item = (await call(ddb.get_item, TableName="orders", Key=KEY,
                       AttributesToGet=["n", "note"]))["Item"]  # fmt: skip
    assert item == {"n": N(3), "note": S("hi")}
    await call(ddb.put_item, TableName="orders", Item={"pk": S("a"), "sk": S("2"), "n": N(9)})
    found = await call(ddb.query, TableName="orders", KeyConditions={
        "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("a")]},
        "sk": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [S("2")]}},
        QueryFilter={"n": {"ComparisonOperator": "GT", "AttributeValueList": [N(5)]}})  # fmt: skip
    assert [i["sk"] for i in found["Items"]] == [S("2")]
    scanned = await call(ddb.scan, TableName="orders", ScanFilter={
        "n": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N(1), N(3)]}})  # fmt: skip
    assert [i["sk"] for i in scanned["Items"]] == [S("1")]


async def test_legacy_and_expression_parameters_do_not_mix(
    eventsim_factory: SimulatorFactory,
) -> None:
    _, ddb = await started(eventsim_factory)
    error = await refused(ddb.get_item, TableName="orders", Key=KEY, AttributesToGet=["pk"],
                          ProjectionExpression="pk")  # fmt: skip
    assert error == {
        "Code": "ValidationException",
        "Message": "Can not use both expression and non-expression parameters in the same "
        "request: Non-expression parameters: {AttributesToGet} Expression parameters: "
        "{ProjectionExpression}",
    }
    error = await refused(ddb.put_item, TableName="orders", Item=KEY, Expected={"pk": {
        "Exists": False}}, ConditionExpression="attribute_not_exists(pk)")  # fmt: skip
    assert error["Message"].endswith(
        "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"
    )
    error = await refused(ddb.put_item, TableName="orders", Item=KEY,
                          Expected={"pk": {"ComparisonOperator": "EQ"}})  # fmt: skip
    assert error["Message"] == (
        "One or more parameter values were invalid: Invalid number of argument(s) for the EQ "
        "ComparisonOperator"
    )


async def test_nested_projections_return_only_the_named_paths(
    eventsim_factory: SimulatorFactory,
) -> None:
    _, ddb = await started(eventsim_factory)
    nested = {"M": {"l1": {"M": {"id": S("x"), "spare": S("y")}}, "keep": S("no")}}
    item = {**KEY, "nested": nested, "lst": {"L": [S("a"), S("b"), S("c")]}, "top": S("t")}
    await call(ddb.put_item, TableName="orders", Item=item)
    got = await call(ddb.get_item, TableName="orders", Key=KEY,
                     ProjectionExpression="nested.l1.id, lst[1], lst[2], absent.x")  # fmt: skip
    assert got["Item"] == {"nested": {"M": {"l1": {"M": {"id": S("x")}}}},
                           "lst": {"L": [S("b"), S("c")]}}  # fmt: skip
    updated = await call(ddb.update_item, TableName="orders", Key=KEY,
                         UpdateExpression="SET nested.l1.id = :v, lst[0] = :v",
                         ExpressionAttributeValues={":v": S("z")},
                         ReturnValues="UPDATED_NEW")  # fmt: skip
    assert updated["Attributes"] == {"nested": {"M": {"l1": {"M": {"id": S("z")}}}},
                                     "lst": {"L": [S("z")]}}  # fmt: skip
    old = await call(
        ddb.update_item,
        TableName="orders",
        Key=KEY,
        UpdateExpression="REMOVE nested.l1.spare",
        ReturnValues="UPDATED_OLD",
    )
    assert old["Attributes"] == {"nested": {"M": {"l1": {"M": {"spare": S("y")}}}}}
    error = await refused(ddb.get_item, TableName="orders", Key=KEY,
                          ProjectionExpression="nested, nested.l1")  # fmt: skip
    assert error["Message"] == (
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove "
        "or rewrite one of these paths; path one: [nested], path two: [nested, l1]"
    )


async def test_every_action_of_an_update_sees_the_item_as_it_was(
    eventsim_factory: SimulatorFactory,
) -> None:
    _, ddb = await started(eventsim_factory)
    await call(ddb.put_item, TableName="orders", Item={
        **KEY, "a": N(1), "b": N(10), "lst": {"L": [N(0), N(1), N(2), N(3), N(4)]}})  # fmt: skip
    await call(ddb.update_item, TableName="orders", Key=KEY,
               UpdateExpression="SET a = #b + :v, b = a REMOVE lst[0], lst[1], lst[3]",
               ExpressionAttributeNames={"#b": "b"},
               ExpressionAttributeValues={":v": N(5)})  # fmt: skip
    item = (await call(ddb.get_item, TableName="orders", Key=KEY))["Item"]
    assert item["a"] == N(15) and item["b"] == N(1)
    assert item["lst"] == {"L": [N(2), N(4)]}


async def test_paging_resumes_after_a_key_that_does_not_exist(
    eventsim_factory: SimulatorFactory,
) -> None:
    _, ddb = await started(eventsim_factory)
    for n in range(0, 10, 2):
        await call(ddb.put_item, TableName="numbers", Item={"pk": S("p"), "n": N(n)})
    page = await call(ddb.query, TableName="numbers", KeyConditionExpression="pk = :p",
                      ExpressionAttributeValues={":p": S("p")},
                      ExclusiveStartKey={"pk": S("p"), "n": N(3)})  # fmt: skip
    assert [i["n"] for i in page["Items"]] == [N(4), N(6), N(8)]
    scanned = await call(ddb.scan, TableName="numbers", Limit=5)
    assert scanned["Count"] == 5 and "LastEvaluatedKey" in scanned  # no look-ahead
    rest = await call(ddb.scan, TableName="numbers",
                      ExclusiveStartKey=scanned["LastEvaluatedKey"])  # fmt: skip
    assert rest["Count"] == 0 and "LastEvaluatedKey" not in rest
    paginator = ddb.get_paginator("query")
    pages = await asyncio.to_thread(lambda: list(paginator.paginate(
        TableName="numbers", KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": S("p")}, Limit=2)))  # fmt: skip
    assert [i["n"]["N"] for p in pages for i in p["Items"]] == ["0", "2", "4", "6", "8"]


async def test_a_table_arn_names_the_table(eventsim_factory: SimulatorFactory) -> None:
    _, ddb = await started(eventsim_factory)
    await call(ddb.put_item, TableName=ARN, Item=KEY)
    assert (await call(ddb.get_item, TableName="orders", Key=KEY))["Item"] == KEY
    described = await call(ddb.describe_table, TableName=ARN)
    assert described["Table"]["TableArn"] == ARN
    other = ARN.replace("123456789012", "210987654321")
    assert (await refused(ddb.get_item, TableName=other, Key=KEY))["Code"] == (
        "ResourceNotFoundException"
    )


async def test_validation_with_dynamodbs_words(eventsim_factory: SimulatorFactory) -> None:
    _, ddb = await started(eventsim_factory)
    cases: list[tuple[Callable[..., Any], dict[str, Any], str]] = [
        (ddb.update_item, {"Key": KEY, "UpdateExpression": ""},
         f"{DETECTED}Invalid UpdateExpression: The expression can not be empty;"),
        (ddb.put_item, {"Item": KEY, "ReturnValues": "ALL_NEW"},
         "ReturnValues can only be ALL_OLD or NONE"),
        (ddb.update_item, {"Key": KEY, "UpdateExpression": "SET status = :v",
                           "ExpressionAttributeValues": {":v": S("x")}},
         f"{DETECTED}Invalid UpdateExpression: Attribute name is a reserved keyword; reserved "
         "keyword: status"),
        (ddb.put_item, {"Item": KEY, "ConditionExpression": "attribute_exists(a.#b)",
                        "ExpressionAttributeNames": {"#c": "c"}},
         f"{DETECTED}Value provided in ExpressionAttributeNames unused in expressions: keys: "
         "{#c}"),
        (ddb.put_item, {"Item": KEY, "ConditionExpression": "attribute_exists(#b)"},
         f"{DETECTED}Invalid ConditionExpression: An expression attribute name used in the "
         "document path is not defined; attribute name: #b"),
        (ddb.put_item, {"Item": KEY, "ConditionExpression": "x = :v"},
         f"{DETECTED}Invalid ConditionExpression: An expression attribute value used in "
         "expression is not defined; attribute value: :v"),
        (ddb.put_item, {"Item": {"pk": S(""), "sk": S("1")}},
         "One or more parameter values are not valid. The AttributeValue for a key attribute "
         "cannot contain an empty string value. Key: pk"),
        (ddb.get_item, {"Key": {"pk": S("a")}},
         "The provided key element does not match the schema"),
        (ddb.update_item, {"Key": KEY, "UpdateExpression": "SET a = :v, a.b = :v",
                           "ExpressionAttributeValues": {":v": S("x")}},
         f"{DETECTED}Invalid UpdateExpression: Two document paths overlap with each other; must "
         "remove or rewrite one of these paths; path one: [a], path two: [a, b]"),
    ]  # fmt: skip
    for method, kwargs, message in cases:
        error = await refused(method, TableName="orders", **kwargs)
        assert error == {"Code": "ValidationException", "Message": message}, kwargs
    error = await refused(ddb.batch_get_item, RequestItems={"orders": {"Keys": [KEY, KEY]}})
    assert error["Message"] == "Provided list of item keys contains duplicates"
    error = await refused(ddb.scan, TableName="orders", Segment=3, TotalSegments=3)
    assert error["Message"] == (
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
        "Segment: 3 is not less than TotalSegments: 3"
    )


async def test_keys_may_hold_u0000(eventsim_factory: SimulatorFactory) -> None:
    _, ddb = await started(eventsim_factory)
    for text in ("a\x00b", "a\x00c"):
        await call(ddb.put_item, TableName="orders", Item={"pk": S(text), "sk": S(text)})
    for text in ("a\x00b", "a\x00c"):
        got = await call(ddb.get_item, TableName="orders", Key={"pk": S(text), "sk": S(text)})
        assert got["Item"]["sk"] == S(text)


async def test_parallel_scan_segments_cover_the_table_once(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim, ddb = await started(eventsim_factory)
    sim.table("orders").batch_write(put=[{"pk": f"p{n}", "sk": "1"} for n in range(25)])
    seen = []
    for segment in range(3):
        page = await call(ddb.scan, TableName="orders", Segment=segment, TotalSegments=3)
        seen += [i["pk"]["S"] for i in page["Items"]]
    assert sorted(seen) == sorted(f"p{n}" for n in range(25))


async def test_consumed_capacity_is_reported_when_asked(
    eventsim_factory: SimulatorFactory,
) -> None:
    _, ddb = await started(eventsim_factory)
    big = {**KEY, "data": S("x" * 3000)}
    put = await call(ddb.put_item, TableName="orders", Item=big, ReturnConsumedCapacity="TOTAL")
    assert put["ConsumedCapacity"] == {"TableName": "orders", "CapacityUnits": 3.0,
                                       "WriteCapacityUnits": 3.0}  # fmt: skip
    got = await call(ddb.get_item, TableName="orders", Key=KEY, ConsistentRead=True,
                     ReturnConsumedCapacity="INDEXES")  # fmt: skip
    assert got["ConsumedCapacity"]["CapacityUnits"] == 1.0
    assert got["ConsumedCapacity"]["Table"] == {"CapacityUnits": 1.0, "ReadCapacityUnits": 1.0}
    query = await call(ddb.query, TableName="orders", KeyConditionExpression="pk = :p",
                       ExpressionAttributeValues={":p": S("a")},
                       ReturnConsumedCapacity="TOTAL")  # fmt: skip
    assert query["ConsumedCapacity"]["CapacityUnits"] == 0.5
    plain = await call(ddb.get_item, TableName="orders", Key=KEY)
    assert "ConsumedCapacity" not in plain
    batch = await call(ddb.batch_write_item, RequestItems={"orders": [
        {"PutRequest": {"Item": {"pk": S("b"), "sk": S("1")}}}]},
        ReturnConsumedCapacity="TOTAL")  # fmt: skip
    assert batch["ConsumedCapacity"] == [{"TableName": "orders", "CapacityUnits": 1.0,
                                          "WriteCapacityUnits": 1.0}]  # fmt: skip


async def test_every_response_carries_the_crc32_of_its_body(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim, _ = await started(eventsim_factory)
    requests = [
        ("ListTables", {}),
        ("GetItem", {"TableName": "orders", "Key": KEY}),
        ("GetItem", {"TableName": "nope", "Key": KEY}),
        ("PutItem", {"TableName": "orders", "Item": {"pk": S("")}}),
        ("Nonsense", {}),
    ]
    async with aiohttp.ClientSession() as session:
        for operation, body in requests:
            async with session.post(
                str(sim.endpoint_url), data=json.dumps(body),
                headers={"X-Amz-Target": f"DynamoDB_20120810.{operation}",
                         "Content-Type": "application/x-amz-json-1.0"},
            ) as response:  # fmt: skip
                raw = await response.read()
                assert response.headers["x-amz-crc32"] == str(zlib.crc32(raw)), operation


async def test_expression_refusals_of_writes_are_request_validation_errors(
    eventsim_factory: SimulatorFactory,
) -> None:
    """PutItem, UpdateItem and DeleteItem word their expressions' refusals "1 validation error
    detected: ..."; GetItem, Scan and the transactions word the same ones without it."""
    _, ddb = await started(eventsim_factory)
    unused = "Value provided in ExpressionAttributeNames unused in expressions: keys: {#count}"
    names = {"#count": "count"}
    for method, kwargs in [
        (ddb.put_item, {"Item": KEY, "ConditionExpression": "attribute_not_exists(b)"}),
        (ddb.delete_item, {"Key": KEY, "ConditionExpression": "attribute_not_exists(b)"}),
        (ddb.update_item, {"Key": KEY, "UpdateExpression": "REMOVE b"}),
    ]:
        error = await refused(method, TableName="orders", ExpressionAttributeNames=names,
                              **kwargs)  # fmt: skip
        assert error["Message"] == DETECTED + unused, method
    error = await refused(ddb.get_item, TableName="orders", Key=KEY, ProjectionExpression="pk",
                          ExpressionAttributeNames=names)  # fmt: skip
    assert error["Message"] == unused
    error = await refused(ddb.scan, TableName="orders", FilterExpression="#h = :h",
                          ExpressionAttributeNames={"#h": "pk", **names},
                          ExpressionAttributeValues={":h": S("v")})  # fmt: skip
    assert error["Message"] == unused
    error = await refused(ddb.transact_write_items, TransactItems=[{"Put": {
        "TableName": "orders", "Item": KEY, "ConditionExpression": "attribute_not_exists(b)",
        "ExpressionAttributeNames": names}}])  # fmt: skip
    assert error["Message"] == unused
    error = await refused(ddb.put_item, TableName="orders", Item=KEY,
                          ConditionExpression="attribute_type(a, :t)",
                          ExpressionAttributeValues={":t": S("X")})  # fmt: skip
    assert error["Message"] == (
        f"{DETECTED}Invalid ConditionExpression: Invalid attribute type name found; type: X, "
        "valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
    )
    error = await refused(ddb.update_item, TableName="orders", Key=KEY,
                          UpdateExpression="SET #d = :s", ExpressionAttributeNames={"#d": "d"},
                          ExpressionAttributeValues={})  # fmt: skip
    assert error["Message"] == DETECTED + "ExpressionAttributeValues must not be empty"


async def test_attribute_values_are_refused_in_dynamodbs_words(
    eventsim_factory: SimulatorFactory,
) -> None:
    _, ddb = await started(eventsim_factory)
    invalid = "One or more parameter values were invalid"
    cases = [
        ({"SS": []}, f"{DETECTED}{invalid}: An string set  may not be empty"),
        ({"NS": []}, f"{DETECTED}{invalid}: An number set  may not be empty"),
        ({"SS": ["a", "a"]}, f"{DETECTED}{invalid}: Input collection [a, a] contains duplicates."),
        ({"NS": ["1", "1.0"]}, f"{DETECTED}Input collection contains duplicates"),
        ({"NULL": False}, f"{invalid}: Null attribute value types must have the value of true"),
        (N("foo"), "The parameter cannot be converted to a numeric value: foo"),
        (N(" 1.23"), "The parameter cannot be converted to a numeric value:  1.23"),
        (N("Infinity"), "The parameter cannot be converted to a numeric value: Infinity"),
        (N("1.7976931348623157e+150"), "Number overflow. Attempting to store a number with "
                                       "magnitude larger than supported range"),
        (N("2.2250738585072014e-150"), "Number underflow. Attempting to store a number with "
                                       "magnitude smaller than supported range"),
        (N("1" * 39), "Attempting to store more than 38 significant digits in a Number"),
        ({"M": {"deep": {"L": [{"SS": []}]}}}, f"{DETECTED}{invalid}: An string set  may not be "
                                                "empty"),
    ]  # fmt: skip
    for value, message in cases:
        error = await refused(ddb.put_item, TableName="orders", Item={**KEY, "v": value})
        assert error == {"Code": "ValidationException", "Message": message}, value
    error = await refused(ddb.update_item, TableName="orders", Key=KEY,
                          UpdateExpression="ADD s :e",
                          ExpressionAttributeValues={":e": {"SS": []}})  # fmt: skip
    assert error["Message"] == f"{DETECTED}{invalid}: An string set  may not be empty"
    for fine in ["42", "42.0", "1e-003", "+1E6", "-0.0", "0" * 40 + ".42"]:
        await call(ddb.put_item, TableName="orders", Item={**KEY, "v": N(fine)})


async def test_update_expressions_are_refused_in_dynamodbs_words(
    eventsim_factory: SimulatorFactory,
) -> None:
    _, ddb = await started(eventsim_factory)
    await call(ddb.put_item, TableName="orders", Item={**KEY, "l": {"L": []}, "s": S("x")})
    cases = [
        ("SET a = :v SET b = :v",
         'Invalid UpdateExpression: The "SET" section can only be used once in an update '
         "expression;"),
        ("REMOVE a SET b = :v REMOVE c",
         'Invalid UpdateExpression: The "REMOVE" section can only be used once in an update '
         "expression;"),
        ("SET a = :v, b = :v,",
         'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: ","'),
        ("SET a = list_append(l, 0)",
         'Invalid UpdateExpression: Syntax error; token: "0", near: ", 0)"'),
        ("SET a = :v = :v", 'Invalid UpdateExpression: Syntax error; token: "=", near: ":v = :v"'),
        ("SET a = nope(b)", "Invalid UpdateExpression: Invalid function name; function: nope"),
        ("SET a = list_append(l, :v)",
         "Invalid UpdateExpression: Incorrect operand type for operator or function; operator "
         "or function: list_append, operand type: N"),
        ("ADD l :l", "Invalid UpdateExpression: Incorrect operand type for operator or "
                     "function; operator: ADD, operand type: LIST, typeSet: "
                     "ALLOWED_FOR_ADD_OPERAND"),
        ("DELETE s :v", "Invalid UpdateExpression: Incorrect operand type for operator or "
                        "function; operator: DELETE, operand type: NUMBER, typeSet: "
                        "ALLOWED_FOR_DELETE_OPERAND"),
    ]  # fmt: skip
    for expression, message in cases:
        values = {":v": N(1), ":l": {"L": [N(1)]}}
        used = {k: v for k, v in values.items() if k in expression}
        error = await refused(ddb.update_item, TableName="orders", Key=KEY,
                              UpdateExpression=expression,
                              **({"ExpressionAttributeValues": used} if used else {}))  # fmt: skip
        assert error["Message"] == DETECTED + message, expression
    # What the item holds is known only when the update runs: no "Invalid UpdateExpression".
    for expression, message in [
        ("SET a = list_append(nothere, :l)",
         "The provided expression refers to an attribute that does not exist in the item"),
        ("SET a = list_append(s, :l)",
         "An operand in the update expression has an incorrect data type"),
        ("ADD s :n", "An operand in the update expression has an incorrect data type"),
    ]:  # fmt: skip
        values = {":l": {"L": [N(1)]}, ":n": N(1)}
        used = {k: v for k, v in values.items() if k in expression}
        error = await refused(ddb.update_item, TableName="orders", Key=KEY,
                              UpdateExpression=expression,
                              ExpressionAttributeValues=used)  # fmt: skip
        assert error["Message"] == message, expression


async def test_expression_parameters_are_checked_before_the_expressions(
    eventsim_factory: SimulatorFactory,
) -> None:
    _, ddb = await started(eventsim_factory)
    error = await refused(ddb.scan, TableName="orders", FilterExpression="attr = loc",
                          ExpressionAttributeValues={"loc": S("x")})  # fmt: skip
    assert error["Message"] == (
        'ExpressionAttributeValues contains invalid key: Syntax error; key: "loc"'
    )
    error = await refused(ddb.get_item, TableName="orders", Key=KEY, ProjectionExpression="a",
                          ExpressionAttributeNames={"a": "b"})  # fmt: skip
    assert error["Message"] == (
        'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'
    )
    error = await refused(ddb.query, TableName="orders", KeyConditions={
        "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("a")]}},
        ExpressionAttributeValues={":a": S("x")})  # fmt: skip
    assert error["Message"] == (
        "ExpressionAttributeValues can only be specified when using expressions: "
        "FilterExpression and KeyConditionExpression are null"
    )
    error = await refused(ddb.query, TableName="orders", KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": S("p")},
                          ProjectionExpression="")  # fmt: skip
    assert error["Message"] == "Invalid ProjectionExpression: The expression can not be empty;"


async def test_queries_are_refused_in_dynamodbs_words(eventsim_factory: SimulatorFactory) -> None:
    _, ddb = await started(eventsim_factory, indexed={
        "partition_key": "pk", "sort_key": "sk",
        "global_indexes": {"by_g": {"partition_key": "g"}}})  # fmt: skip
    key = {":p": S("p")}
    cases = [
        ("orders", None, "spare = :p", key, "Query condition missed key schema element: pk"),
        ("orders", None, "pk = :p AND spare = :p", key,
         "Query condition missed key schema element: sk"),
        ("indexed", "by_g", "pk = :p", key, "Query condition missed key schema element: g"),
        ("orders", None, "#p = some_value", {},
         "Invalid KeyConditionExpression: Invalid condition in KeyConditionExpression: Multiple "
         "attribute names used in one condition"),
        ("orders", None, "pk = :p OR sk = :p", key,
         "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: OR"),
        ("orders", None, "pk = :p AND begins_with sk, :p", key,
         'Invalid KeyConditionExpression: Syntax error; token: "sk", near: "begins_with sk,"'),
    ]  # fmt: skip
    for table, index, condition, values, message in cases:
        request: dict[str, Any] = {"TableName": table, "KeyConditionExpression": condition}
        if index:
            request["IndexName"] = index
        if values:
            request["ExpressionAttributeValues"] = values
        if "#p" in condition:
            request["ExpressionAttributeNames"] = {"#p": "pk"}
        error = await refused(ddb.query, **request)
        assert error == {"Code": "ValidationException", "Message": message}, condition
    error = await refused(ddb.query, TableName="orders", KeyConditionExpression="pk = :p",
                          FilterExpression="sk = :p", ExpressionAttributeValues=key)  # fmt: skip
    assert error["Message"] == (
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"
    )
    for condition, start, message in [
        ("pk = :p", {"pk": S("q"), "sk": S("1")},
         "The provided starting key is outside query boundaries based on provided conditions"),
        ("pk = :p AND sk > :s", {"pk": S("p"), "sk": S("1")},
         "The provided starting key does not match the range key predicate"),
        ("pk = :p AND sk > :s", {"pk": S("q"), "sk": S("5")},
         "The query can return at most one row and cannot be restarted"),
    ]:  # fmt: skip
        values = {**key, ":s": S("2")} if ":s" in condition else key
        error = await refused(ddb.query, TableName="orders", KeyConditionExpression=condition,
                              ExpressionAttributeValues=values,
                              ExclusiveStartKey=start)  # fmt: skip
        assert error["Message"] == message, (condition, start)


async def test_select_is_refused_in_dynamodbs_words(eventsim_factory: SimulatorFactory) -> None:
    """Query words its Select refusals as request validation errors, Scan does not."""
    _, ddb = await started(eventsim_factory)
    expression = {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": S("p")}}
    legacy = {"KeyConditions": {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("p")]}}}
    cases = [
        ("SPECIFIC_ATTRIBUTES", {}, "Must specify the AttributesToGet or ProjectionExpression "
                                    "when choosing to get SPECIFIC_ATTRIBUTES"),
        ("COUNT", {"ProjectionExpression": "pk"},
         "Cannot specify the ProjectionExpression when choosing to get only the Count"),
        ("ALL_ATTRIBUTES", {"AttributesToGet": ["pk"]},
         "Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES"),
        ("ALL_PROJECTED_ATTRIBUTES", {},
         "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"),
    ]  # fmt: skip
    for select, more, message in cases:
        key = legacy if "AttributesToGet" in more else expression
        error = await refused(ddb.query, TableName="orders", Select=select, **key, **more)
        assert error["Message"] == DETECTED + message, select
        error = await refused(ddb.scan, TableName="orders", Select=select, **more)
        assert error["Message"] == message, select


async def test_conditions_are_refused_in_dynamodbs_words(
    eventsim_factory: SimulatorFactory,
) -> None:
    _, ddb = await started(eventsim_factory)
    cases = [
        ("((a = :v))", {":v": N(1)}, "The expression has redundant parentheses;"),
        ("a = a", {}, "The first operand must be distinct from the remaining operands for this "
                      "operator or function; operator: =, first operand: [a]"),
        ("size(things)", {}, "The function is not allowed to be used this way in an expression; "
                             "function: size"),
        ("begins_with(things, :v) > b", {":v": S("x")},
         "The function is not allowed to be used this way in an expression; function: "
         "begins_with"),
        ("begins_with(things)", {}, "Incorrect number of operands for operator or function; "
                                    "operator or function: begins_with, number of operands: 1"),
        ("attribute_exists(:v)", {":v": S("x")},
         "Operator or function requires a document path; operator or function: "
         "attribute_exists"),
        ("begins_with(a, :v)", {":v": N(1)}, "Incorrect operand type for operator or function; "
                                             "operator or function: begins_with, operand type: N"),
        ("size(:v) > a", {":v": {"BOOL": True}},
         "Incorrect operand type for operator or function; operator or function: size, operand "
         "type: BOOL"),
        ("a BETWEEN :b AND :a", {":a": S("a"), ":b": N(1)},
         "The BETWEEN operator requires same data type for lower and upper bounds; lower bound "
         "operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:a}"),
        ("a BETWEEN :b AND :a", {":a": S("a"), ":b": S("b")},
         "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
         "lower bound operand: AttributeValue: {S:b}, upper bound operand: AttributeValue: {S:a}"),
    ]  # fmt: skip
    for expression, values, message in cases:
        extra = {"ExpressionAttributeValues": values} if values else {}
        error = await refused(ddb.scan, TableName="orders", FilterExpression=expression, **extra)
        assert error["Message"] == f"Invalid FilterExpression: {message}", expression
    # what still holds: functions as conditions, size as an operand, a value first
    await call(ddb.put_item, TableName="orders", Item={**KEY, "a": S("abc"), "l": {"L": []}})
    found = await call(ddb.scan, TableName="orders", ExpressionAttributeValues={
        ":p": S("ab"), ":n": N(0), ":s": S("S")},
        FilterExpression="begins_with(a, :p) AND size(l) = :n AND attribute_type(a, :s) AND "
                         "NOT contains(:p, a) AND (attribute_exists(a))")  # fmt: skip
    assert found["Count"] == 1
