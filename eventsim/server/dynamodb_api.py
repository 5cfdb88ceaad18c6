"""DynamoDB's JSON protocol (``X-Amz-Target: DynamoDB_20120810.<Operation>``) over the
SQLite tables, as boto3's client and its resource/Table API speak it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..sources.table import BATCH_GET_LIMIT, Table, TableError
from .protocol import ApiError, json_response, read_json, require

if TYPE_CHECKING:
    from ..simulator import Simulator

_PREFIX = {
    "ValidationException": "com.amazon.coral.validate#",
    "SerializationException": "com.amazon.coral.service#",
    "UnknownOperationException": "com.amazon.coral.service#",
}

Operation = Callable[["DynamoDbApi", dict[str, Any]], Awaitable[dict[str, Any]]]


def error_response(code: str, message: str, **extra: Any) -> web.Response:
    prefix = _PREFIX.get(code, "com.amazonaws.dynamodb.v20120810#")
    return json_response({"__type": prefix + code, "message": message, **extra}, 400)


class DynamoDbApi:
    def __init__(self, sim: Simulator) -> None:
        self._sim = sim

    async def handle(self, request: web.Request, operation: str) -> web.Response:
        method = _OPERATIONS.get(operation)
        try:
            if method is None:
                raise ApiError(
                    "UnknownOperationException", f"eventsim does not support {operation}"
                )
            return json_response(await method(self, await read_json(request)))
        except ApiError as exc:
            return error_response(exc.code, str(exc), **exc.extra)
        except TableError as exc:
            extra = {}
            if exc.code == "ConditionalCheckFailedException" and exc.item is not None:
                extra["Item"] = exc.item
            return error_response(exc.code, str(exc), **extra)

    def _table(self, body: dict[str, Any], key: str = "TableName") -> Table:
        name = require(body, key)
        table = self._sim.tables.get(name)
        if table is None:
            raise ApiError(
                "ResourceNotFoundException",
                f"Requested resource not found: Table: {name} not found",
            )
        if body.get("IndexName"):
            raise ApiError("ValidationException", "eventsim tables have no secondary indexes")
        return table

    async def list_tables(self, body: dict[str, Any]) -> dict[str, Any]:
        names = sorted(self._sim.tables)
        start = body.get("ExclusiveStartTableName")
        if start:
            names = [n for n in names if n > start]
        limit = body.get("Limit") or 100
        result: dict[str, Any] = {"TableNames": names[:limit]}
        if len(names) > limit:
            result["LastEvaluatedTableName"] = names[limit - 1]
        return result

    async def describe_table(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"Table": describe(self._table(body))}

    async def put_item(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self._table(body)
        old = _on_failure(body, lambda: table.put(
            require(body, "Item", dict), **_write_options(body)
        ))  # fmt: skip
        return {"Attributes": old} if old else {}

    async def get_item(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self._table(body)
        item = table.get(
            require(body, "Key", dict),
            projection=body.get("ProjectionExpression"),
            names=body.get("ExpressionAttributeNames"),
        )
        return {"Item": item} if item is not None else {}

    async def delete_item(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self._table(body)
        old = _on_failure(body, lambda: table.delete(
            require(body, "Key", dict), **_write_options(body)
        ))  # fmt: skip
        return {"Attributes": old} if old else {}

    async def update_item(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self._table(body)
        if body.get("AttributeUpdates"):
            raise ApiError(
                "ValidationException", "use UpdateExpression (AttributeUpdates is legacy)"
            )
        result = _on_failure(body, lambda: table.update(
            require(body, "Key", dict), body.get("UpdateExpression"), **_write_options(body)
        ))  # fmt: skip
        return {"Attributes": result} if result else {}

    async def query(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self._table(body)
        page = table.query_page(
            require(body, "KeyConditionExpression"),
            names=body.get("ExpressionAttributeNames"),
            values=body.get("ExpressionAttributeValues"),
            filter=body.get("FilterExpression"),
            projection=body.get("ProjectionExpression"),
            forward=body.get("ScanIndexForward", True) is not False,
            limit=body.get("Limit"),
            start_key=body.get("ExclusiveStartKey"),
        )
        return _page(page, body)

    async def scan(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self._table(body)
        page = table.scan_page(
            filter=body.get("FilterExpression"),
            names=body.get("ExpressionAttributeNames"),
            values=body.get("ExpressionAttributeValues"),
            projection=body.get("ProjectionExpression"),
            limit=body.get("Limit"),
            start_key=body.get("ExclusiveStartKey"),
        )
        return _page(page, body)

    async def batch_write_item(self, body: dict[str, Any]) -> dict[str, Any]:
        requests = require(body, "RequestItems", dict)
        total = sum(len(r) for r in requests.values() if isinstance(r, list))
        if not 1 <= total <= 25:
            raise ApiError("ValidationException", "a batch write holds 1..25 requests")
        for name, writes in requests.items():
            table = self._table({"TableName": name})
            if not isinstance(writes, list):
                raise ApiError("ValidationException", f"RequestItems.{name} must be a list")
            puts = [w["PutRequest"]["Item"] for w in writes if "PutRequest" in w]
            deletes = [w["DeleteRequest"]["Key"] for w in writes if "DeleteRequest" in w]
            if len(puts) + len(deletes) != len(writes):
                raise ApiError(
                    "ValidationException", "each request is a PutRequest or DeleteRequest"
                )
            table.write_batch(puts, deletes)
        return {"UnprocessedItems": {}}

    async def batch_get_item(self, body: dict[str, Any]) -> dict[str, Any]:
        requests = require(body, "RequestItems", dict)
        total = sum(len(r.get("Keys") or []) for r in requests.values() if isinstance(r, dict))
        if not 1 <= total <= BATCH_GET_LIMIT:
            raise ApiError("ValidationException", f"a batch get holds 1..{BATCH_GET_LIMIT} keys")
        responses: dict[str, list[Any]] = {}
        for name, request in requests.items():
            table = self._table({"TableName": name})
            found = [
                table.get(
                    key,
                    projection=request.get("ProjectionExpression"),
                    names=request.get("ExpressionAttributeNames"),
                )
                for key in request.get("Keys") or []
            ]
            responses[name] = [item for item in found if item is not None]
        return {"Responses": responses, "UnprocessedKeys": {}}


_OPERATIONS: dict[str, Operation] = {
    "ListTables": DynamoDbApi.list_tables,
    "DescribeTable": DynamoDbApi.describe_table,
    "PutItem": DynamoDbApi.put_item,
    "GetItem": DynamoDbApi.get_item,
    "DeleteItem": DynamoDbApi.delete_item,
    "UpdateItem": DynamoDbApi.update_item,
    "Query": DynamoDbApi.query,
    "Scan": DynamoDbApi.scan,
    "BatchWriteItem": DynamoDbApi.batch_write_item,
    "BatchGetItem": DynamoDbApi.batch_get_item,
}


def describe(table: Table) -> dict[str, Any]:
    c = table.config
    keys = [(c.partition_key, c.partition_key_type, "HASH")]
    if c.sort_key is not None:
        keys.append((c.sort_key, c.sort_key_type, "RANGE"))
    stat = table.path.stat()
    description: dict[str, Any] = {
        "TableName": table.name,
        "TableStatus": "ACTIVE",
        "TableArn": table.arn,
        "KeySchema": [{"AttributeName": n, "KeyType": k} for n, _, k in keys],
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t, _ in keys],
        "ItemCount": len(table),
        "TableSizeBytes": stat.st_size,
        "CreationDateTime": stat.st_ctime,
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        "ProvisionedThroughput": {
            "ReadCapacityUnits": 0,
            "WriteCapacityUnits": 0,
            "NumberOfDecreasesToday": 0,
        },  # fmt: skip
    }
    if c.stream is not None:
        description["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": c.stream}
        description["LatestStreamArn"] = table.stream_arn
        description["LatestStreamLabel"] = table.stream_arn.rsplit("/", 1)[-1]
    return description


def _write_options(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "condition": body.get("ConditionExpression"),
        "names": body.get("ExpressionAttributeNames"),
        "values": body.get("ExpressionAttributeValues"),
        "return_values": body.get("ReturnValues") or "NONE",
    }


def _on_failure(body: dict[str, Any], write: Callable[[], Any]) -> Any:
    """Run a write; on a failed condition, keep the item only if the request asked for it."""
    try:
        return write()
    except TableError as exc:
        if body.get("ReturnValuesOnConditionCheckFailure") != "ALL_OLD":
            exc.item = None
        raise


def _page(page: Any, body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"Count": len(page.items), "ScannedCount": page.scanned_count}
    if body.get("Select") != "COUNT":
        result["Items"] = page.items
    if page.last_key is not None:
        result["LastEvaluatedKey"] = page.last_key
    return result
