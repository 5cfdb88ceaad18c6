"""DynamoDB's JSON protocol (``X-Amz-Target: DynamoDB_20120810.<Operation>``) over the
SQLite tables, as boto3's client and its resource/Table API speak it.

Requests DynamoDB refuses are refused here with its ``ValidationException`` and words: items
nested deeper than 32 levels, expressions over 4 KB, ``ExpressionAttributeNames`` or
``ExpressionAttributeValues`` that no expression of the request uses.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from ..resources.table import BATCH_GET_LIMIT, Table, TableError
from .protocol import ApiError, json_response, optional, read_json, require
from .services import Service, json_version

if TYPE_CHECKING:
    from ..simulator import Simulator

_PREFIX = {
    "ValidationException": "com.amazon.coral.validate#",
    "SerializationException": "com.amazon.coral.service#",
    "UnknownOperationException": "com.amazon.coral.service#",
}

#: DynamoDB's limits on a request (its developer guide, "Quotas"): a request of up to 16 MB
#: (BatchWriteItem), nesting of up to 32 levels, expression strings of up to 4 KB.
MAX_REQUEST_BYTES = 16 * 1024 * 1024
MAX_NESTING = 32
MAX_EXPRESSION_BYTES = 4096
_EXPRESSIONS = (
    "ConditionExpression", "UpdateExpression", "KeyConditionExpression", "FilterExpression",
    "ProjectionExpression",
)  # fmt: skip
_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")

Operation = Callable[["DynamoDbApi", dict[str, Any]], Awaitable[dict[str, Any]]]


def error_response(
    code: str, message: str, status: int = 400, content_type: str | None = None, **extra: Any
) -> web.Response:
    prefix = _PREFIX.get(code, "com.amazonaws.dynamodb.v20120810#")
    return json_response(
        {"__type": prefix + code, "message": message, **extra}, status,
        *([content_type] if content_type else []),
    )  # fmt: skip


class DynamoDbApi:
    service: ClassVar[Service] = Service(
        "dynamodb", "json", MAX_REQUEST_BYTES, target_prefix="DynamoDB_20120810"
    )

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim

    def error(self, request: web.Request, error: ApiError) -> web.Response:
        return error_response(
            error.code, str(error), error.status, json_version(request), **error.extra
        )

    async def handle(self, request: web.Request) -> web.Response:
        prefix, _, operation = request.headers.get("X-Amz-Target", "").partition(".")
        method = _OPERATIONS.get(operation) if prefix == "DynamoDB_20120810" else None
        try:
            if method is None:
                target = request.headers.get("X-Amz-Target") or "a request without X-Amz-Target"
                raise ApiError("UnknownOperationException", f"eventsim does not support {target}")
            return json_response(await method(self, await read_json(request)))
        except ApiError as exc:
            return self.error(request, exc)
        except TableError as exc:
            extra: dict[str, Any] = {}
            if exc.code == "ConditionalCheckFailedException" and exc.item is not None:
                extra["Item"] = exc.item
            return self.error(request, ApiError(exc.code, str(exc), **extra))

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
        start = optional(body, "ExclusiveStartTableName")
        if start:
            names = [n for n in names if n > start]
        limit = _limit(body, 100)
        result: dict[str, Any] = {"TableNames": names[:limit]}
        if len(names) > limit:
            result["LastEvaluatedTableName"] = names[limit - 1]
        return result

    async def describe_table(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"Table": describe(self._table(body))}

    async def put_item(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self._table(body)
        item = _item(body, "Item", table)
        options = _write_options(body, "ConditionExpression")
        old = _on_failure(body, lambda: table.put(item, **options))
        return {"Attributes": old} if old else {}

    async def get_item(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self._table(body)
        key = _item(body, "Key", table)
        _check_expressions(body, "ProjectionExpression")
        item = table.get(
            key, projection=body.get("ProjectionExpression"),
            names=body.get("ExpressionAttributeNames"),
        )  # fmt: skip
        return {"Item": item} if item is not None else {}

    async def delete_item(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self._table(body)
        key = _item(body, "Key", table)
        options = _write_options(body, "ConditionExpression")
        old = _on_failure(body, lambda: table.delete(key, **options))
        return {"Attributes": old} if old else {}

    async def update_item(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self._table(body)
        if body.get("AttributeUpdates"):
            raise ApiError(
                "ValidationException", "use UpdateExpression (AttributeUpdates is legacy)"
            )
        key = _item(body, "Key", table)
        options = _write_options(body, "UpdateExpression", "ConditionExpression")
        update = body.get("UpdateExpression")
        result = _on_failure(body, lambda: table.update(key, update, **options))
        return {"Attributes": result} if result else {}

    async def query(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self._table(body)
        _check_expressions(
            body, "KeyConditionExpression", "FilterExpression", "ProjectionExpression"
        )
        page = table.query_page(
            require(body, "KeyConditionExpression"),
            names=body.get("ExpressionAttributeNames"),
            values=body.get("ExpressionAttributeValues"),
            filter=body.get("FilterExpression"),
            projection=body.get("ProjectionExpression"),
            forward=optional(body, "ScanIndexForward", bool, True),
            limit=_limit(body, None),
            start_key=_start_key(body),
        )
        return _page(page, body)

    async def scan(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self._table(body)
        _check_expressions(body, "FilterExpression", "ProjectionExpression")
        page = table.scan_page(
            filter=body.get("FilterExpression"),
            names=body.get("ExpressionAttributeNames"),
            values=body.get("ExpressionAttributeValues"),
            projection=body.get("ProjectionExpression"),
            limit=_limit(body, None),
            start_key=_start_key(body),
        )
        return _page(page, body)

    async def batch_write_item(self, body: dict[str, Any]) -> dict[str, Any]:
        requests = require(body, "RequestItems", dict)
        total = sum(len(r) for r in requests.values() if isinstance(r, list))
        if not 1 <= total <= 25:
            raise ApiError("ValidationException", "a batch write holds 1..25 requests")
        batches = []
        for name, writes in requests.items():
            table = self._table({"TableName": name})
            if not isinstance(writes, list):
                raise ApiError("ValidationException", f"RequestItems.{name} must be a list")
            puts, deletes = [], []
            for write in writes:
                if _one_key(write) == "PutRequest" and isinstance(write["PutRequest"], dict):
                    puts.append(_item(write["PutRequest"], "Item", table))
                elif _one_key(write) == "DeleteRequest" and isinstance(
                    write["DeleteRequest"], dict
                ):
                    deletes.append(_item(write["DeleteRequest"], "Key", table))
                else:
                    raise ApiError(
                        "ValidationException",
                        f"RequestItems.{name}: each request is one PutRequest (with an Item) "
                        "or one DeleteRequest (with a Key)",
                    )
            batches.append((table, puts, deletes))
        for table, puts, deletes in batches:
            table.write_batch(puts, deletes)
        return {"UnprocessedItems": {}}

    async def batch_get_item(self, body: dict[str, Any]) -> dict[str, Any]:
        requests = require(body, "RequestItems", dict)
        for name, request in requests.items():
            table = self._table({"TableName": name})
            if not isinstance(request, dict) or not isinstance(request.get("Keys"), list):
                raise ApiError("ValidationException", f"RequestItems.{name} needs a list of Keys")
            for key in request["Keys"]:
                _item({"Key": key}, "Key", table)
            _check_expressions(request, "ProjectionExpression")
        total = sum(len(r["Keys"]) for r in requests.values())
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
                for key in request["Keys"]
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


def _write_options(body: dict[str, Any], *expressions: str) -> dict[str, Any]:
    _check_expressions(body, *expressions)
    return_values = optional(body, "ReturnValues", str, "NONE")
    return {
        "condition": body.get("ConditionExpression"),
        "names": body.get("ExpressionAttributeNames"),
        "values": body.get("ExpressionAttributeValues"),
        "return_values": return_values,
    }


def _invalid(message: str) -> ApiError:
    return ApiError("ValidationException", message)


def _item(body: dict[str, Any], name: str, table: Table) -> dict[str, Any]:
    """``body[name]``: a map of attribute values nested at most 32 levels deep."""
    item = require(body, name, dict)
    _check_nesting(item)
    return item  # type: ignore[no-any-return]


def _check_nesting(values: dict[str, Any]) -> None:
    """Refuse attribute values that nest maps and lists deeper than DynamoDB's 32 levels."""
    stack = [(value, 1) for value in values.values()]
    while stack:
        value, level = stack.pop()
        if not isinstance(value, dict) or len(value) != 1:
            continue  # not an AttributeValue: the table says what is wrong with it
        [(tag, data)] = value.items()
        if tag == "M" and isinstance(data, dict):
            members = list(data.values())
        elif tag == "L" and isinstance(data, list):
            members = data
        else:
            continue
        if level > MAX_NESTING:
            raise _invalid("Nesting Levels have exceeded supported limits")
        stack.extend((member, level + 1) for member in members)


def _check_expressions(body: dict[str, Any], *expressions: str) -> None:
    """The expressions ``body`` may have, and its ExpressionAttributeNames and Values, as
    DynamoDB checks them before parsing: types, sizes, and every placeholder used."""
    texts = []
    for name in expressions:
        text = optional(body, name)
        if text is not None:
            size = len(text.encode())  # read_json refused lone surrogates
            if size > MAX_EXPRESSION_BYTES:
                raise _invalid(
                    f"Invalid {name}: Expression size has exceeded the maximum allowed size; "
                    f"expression size: {size}, maximum: {MAX_EXPRESSION_BYTES}"
                )
            texts.append(text)
    used = {token for text in texts for token in _PLACEHOLDER.findall(text)}
    for field, kind in (("ExpressionAttributeNames", str), ("ExpressionAttributeValues", dict)):
        given = optional(body, field, dict)
        if given is None:
            continue
        if not given:
            raise _invalid(f"{field} must not be empty")
        if not all(isinstance(v, kind) for v in given.values()):
            raise _invalid(f"{field} maps placeholders to {'names' if kind is str else 'values'}")
        if not texts:
            raise _invalid(f"{field} can only be specified when using expressions")
        if kind is dict:
            _check_nesting(given)
        unused = sorted(set(given) - used)
        if unused:
            raise _invalid(
                f"Value provided in {field} unused in expressions: keys: {{{', '.join(unused)}}}"
            )


def _limit(body: dict[str, Any], default: int | None) -> Any:
    limit = optional(body, "Limit", int, default)
    if limit is not None and limit < 1:
        raise _invalid(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            "constraint: Member must have value greater than or equal to 1"
        )
    if limit is not None and limit > 2**31 - 1:  # the API's integers are 32-bit
        raise ApiError("SerializationException", f"Limit {limit} is not a 32-bit integer")
    return limit


def _start_key(body: dict[str, Any]) -> dict[str, Any] | None:
    key = optional(body, "ExclusiveStartKey", dict)
    if key is not None:
        _check_nesting(key)
    return key  # type: ignore[no-any-return]


def _one_key(value: Any) -> str | None:
    return next(iter(value)) if isinstance(value, dict) and len(value) == 1 else None


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
    if optional(body, "Select") != "COUNT":
        result["Items"] = page.items
    if page.last_key is not None:
        result["LastEvaluatedKey"] = page.last_key
    return result
