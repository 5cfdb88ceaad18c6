"""DynamoDB's JSON protocol (``X-Amz-Target: DynamoDB_20120810.<Operation>``) over the
SQLite tables, as boto3's client and its resource/Table API speak it.

Requests DynamoDB refuses are refused here with its error code and words: items nested
deeper than 32 levels, expressions over 4 KB, ``ExpressionAttributeNames`` or
``ExpressionAttributeValues`` that no expression of the request uses, legacy parameters
mixed with expressions (legacy ones alone are rewritten as expressions: ``dynamodb_legacy``),
duplicate keys in a batch. A table is named by its name or its ARN. Every response carries
``x-amz-crc32`` (the CRC32 of its body, which botocore checks); ``ReturnConsumedCapacity``
is answered with capacity units computed from the sizes of the items read and written.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from ..resources.table import BATCH_GET_LIMIT, BATCH_WRITE_LIMIT, Page, Table, TableError, Usage
from .dynamodb_legacy import rewrite
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
MAX_SEGMENTS = 1_000_000
_EXPRESSIONS = (
    "ConditionExpression", "UpdateExpression", "KeyConditionExpression", "FilterExpression",
    "ProjectionExpression",
)  # fmt: skip
_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")
_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
_TABLE_ARN = re.compile(r"arn:aws[a-z-]*:dynamodb:([a-z0-9-]+):(\d{12}):table/([a-zA-Z0-9_.-]+)")
_SELECT = ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT")
NOT_FOUND = "Requested resource not found"

Operation = Callable[["DynamoDbApi", dict[str, Any]], Awaitable[dict[str, Any]]]


def error_response(
    code: str, message: str, status: int = 400, content_type: str | None = None, **extra: Any
) -> web.Response:
    prefix = _PREFIX.get(code, "com.amazonaws.dynamodb.v20120810#")
    return with_crc32(json_response(
        {"__type": prefix + code, "message": message, **extra}, status,
        *([content_type] if content_type else []),
    ))  # fmt: skip


def with_crc32(response: web.Response) -> web.Response:
    """``response`` with ``x-amz-crc32``: the CRC32 of its body, in decimal, as DynamoDB sends."""
    body = response.body if isinstance(response.body, bytes) else b""
    response.headers["x-amz-crc32"] = str(zlib.crc32(body))
    return response


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
            body = await read_json(request)
            return with_crc32(json_response(await method(self, body), 200,
                                            json_version(request)))  # fmt: skip
        except ApiError as exc:
            return self.error(request, exc)
        except TableError as exc:
            extra: dict[str, Any] = dict(exc.extra)
            if exc.code == "ConditionalCheckFailedException" and exc.item is not None:
                extra["Item"] = exc.item
            return self.error(request, ApiError(exc.code, str(exc), **extra))

    # --- tables ---------------------------------------------------------------------------

    def table_name(self, body: dict[str, Any], key: str = "TableName") -> str:
        """A table's name from ``body[key]``: a name, or a table ARN of this region and
        account (an ARN of another is a table that is not here)."""
        given = require(body, key)
        arn = _TABLE_ARN.fullmatch(given)
        if arn is not None:
            region, account, name = arn.groups()
            config = self._sim.config
            return name if (region, account) == (config.region, config.account) else given
        check_table_name(given, key)
        return str(given)

    def _table(self, body: dict[str, Any], key: str = "TableName") -> Table:
        name = self.table_name(body, key)
        table = self._sim.tables.get(name)
        if table is None:
            raise ApiError("ResourceNotFoundException", NOT_FOUND)
        return table

    async def list_tables(self, body: dict[str, Any]) -> dict[str, Any]:
        names = sorted(self._sim.tables)
        start = optional(body, "ExclusiveStartTableName")
        if start:
            names = [n for n in names if n > start]
        limit = _limit(body, 100)
        if limit > 100:
            raise _invalid(
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
                "constraint: Member must have value less than or equal to 100"
            )
        result: dict[str, Any] = {"TableNames": names[:limit]}
        if len(names) > limit:
            result["LastEvaluatedTableName"] = names[limit - 1]
        return result

    async def describe_table(self, body: dict[str, Any]) -> dict[str, Any]:
        name = self.table_name(body)
        table = self._sim.tables.get(name)
        if table is None:
            raise ApiError("ResourceNotFoundException", f"{NOT_FOUND}: Table: {name} not found")
        return {"Table": describe(table)}

    # --- items ----------------------------------------------------------------------------

    async def put_item(self, body: dict[str, Any]) -> dict[str, Any]:
        body = rewrite(body)
        table = self._table(body)
        item = _item(body, "Item")
        options = _write_options(body, "ConditionExpression")
        usage = _usage(body)
        old = _on_failure(body, lambda: table.put(item, **options, usage=usage))
        return _capacity(body, usage, {"Attributes": old} if old else {})

    async def get_item(self, body: dict[str, Any]) -> dict[str, Any]:
        body = rewrite(body)
        table = self._table(body)
        key = _item(body, "Key")
        _check_expressions(body, "ProjectionExpression")
        usage = _usage(body, consistent=optional(body, "ConsistentRead", bool, False))
        item = table.get(
            key, projection=body.get("ProjectionExpression"),
            names=body.get("ExpressionAttributeNames"), usage=usage,
        )  # fmt: skip
        return _capacity(body, usage, {"Item": item} if item is not None else {})

    async def delete_item(self, body: dict[str, Any]) -> dict[str, Any]:
        body = rewrite(body)
        table = self._table(body)
        key = _item(body, "Key")
        options = _write_options(body, "ConditionExpression")
        usage = _usage(body)
        old = _on_failure(body, lambda: table.delete(key, **options, usage=usage))
        return _capacity(body, usage, {"Attributes": old} if old else {})

    async def update_item(self, body: dict[str, Any]) -> dict[str, Any]:
        body = rewrite(body)
        table = self._table(body)
        key = _item(body, "Key")
        options = _write_options(body, "UpdateExpression", "ConditionExpression")
        update = optional(body, "UpdateExpression")
        usage = _usage(body)
        result = _on_failure(body, lambda: table.update(key, update, **options, usage=usage))
        return _capacity(body, usage, {"Attributes": result} if result else {})

    async def query(self, body: dict[str, Any]) -> dict[str, Any]:
        body = rewrite(body)
        table = self._table(body)
        _check_expressions(
            body, "KeyConditionExpression", "FilterExpression", "ProjectionExpression"
        )
        index, select, usage = _read_options(body, table)
        page = table.query_page(
            require(body, "KeyConditionExpression"),
            names=body.get("ExpressionAttributeNames"),
            values=body.get("ExpressionAttributeValues"),
            filter=optional(body, "FilterExpression"),
            projection=optional(body, "ProjectionExpression"),
            forward=optional(body, "ScanIndexForward", bool, True),
            limit=_limit(body, None),
            start_key=_start_key(body),
            index=index,
            select=select,
            usage=usage,
        )
        return _capacity(body, usage, _page(page, select))

    async def scan(self, body: dict[str, Any]) -> dict[str, Any]:
        body = rewrite(body)
        table = self._table(body)
        _check_expressions(body, "FilterExpression", "ProjectionExpression")
        index, select, usage = _read_options(body, table)
        page = table.scan_page(
            filter=optional(body, "FilterExpression"),
            names=body.get("ExpressionAttributeNames"),
            values=body.get("ExpressionAttributeValues"),
            projection=optional(body, "ProjectionExpression"),
            limit=_limit(body, None),
            start_key=_start_key(body),
            segment=_segment(body),
            index=index,
            select=select,
            usage=usage,
        )
        return _capacity(body, usage, _page(page, select))

    async def batch_write_item(self, body: dict[str, Any]) -> dict[str, Any]:
        requests = require(body, "RequestItems", dict)
        total = sum(len(r) for r in requests.values() if isinstance(r, list))
        if not 1 <= total <= BATCH_WRITE_LIMIT:
            raise _invalid(
                "1 validation error detected: Value at 'requestItems' failed to satisfy "
                "constraint: Map value must satisfy constraint: [Member must have length less "
                f"than or equal to {BATCH_WRITE_LIMIT}, Member must have length greater than "
                "or equal to 1]"
            )
        batches = []
        for name, writes in requests.items():
            table = self._table({"TableName": name})
            if not isinstance(writes, list):
                raise _invalid(f"RequestItems.{name} must be a list")
            puts, deletes = [], []
            for write in writes:
                if _one_key(write) == "PutRequest" and isinstance(write["PutRequest"], dict):
                    puts.append(_item(write["PutRequest"], "Item"))
                elif _one_key(write) == "DeleteRequest" and isinstance(
                    write["DeleteRequest"], dict
                ):
                    deletes.append(_item(write["DeleteRequest"], "Key"))
                else:
                    raise _invalid(
                        f"RequestItems.{name}: each request is one PutRequest (with an Item) "
                        "or one DeleteRequest (with a Key)"
                    )
            batches.append((table, puts, deletes))
        usage = _usage(body)
        for table, puts, deletes in batches:
            table.write_batch(puts, deletes, usage)
        return _capacities(body, usage, {"UnprocessedItems": {}})

    async def batch_get_item(self, body: dict[str, Any]) -> dict[str, Any]:
        requests = require(body, "RequestItems", dict)
        if not requests:
            raise _invalid(
                "1 validation error detected: Value at 'requestItems' failed to satisfy "
                "constraint: Member must have length greater than or equal to 1"
            )
        plans = []
        for name, request in requests.items():
            table = self._table({"TableName": name})
            if not isinstance(request, dict) or not isinstance(request.get("Keys"), list):
                raise _invalid(f"RequestItems.{name} needs a list of Keys")
            request = rewrite(request)
            keys = [_item({"Key": key}, "Key") for key in request["Keys"]]
            if not keys:
                raise _invalid(
                    "1 validation error detected: Value at 'requestItems."
                    f"{name}.member.keys' failed to satisfy constraint: Member must have "
                    "length greater than or equal to 1"
                )
            seen = {json.dumps(key, sort_keys=True) for key in keys}
            if len(seen) != len(keys):
                raise _invalid("Provided list of item keys contains duplicates")
            _check_expressions(request, "ProjectionExpression")
            plans.append((table, request, keys))
        total = sum(len(keys) for _, _, keys in plans)
        if total > BATCH_GET_LIMIT:
            raise _invalid("Too many items requested for the BatchGetItem call")
        responses: dict[str, list[Any]] = {}
        usage = _usage(body)
        for table, request, keys in plans:
            usage.consistent = optional(request, "ConsistentRead", bool, False)
            found = [
                table.get(
                    key,
                    projection=request.get("ProjectionExpression"),
                    names=request.get("ExpressionAttributeNames"),
                    usage=usage,
                )  # fmt: skip
                for key in keys
            ]
            responses[table.name] = [item for item in found if item is not None]
        return _capacities(body, usage, {"Responses": responses, "UnprocessedKeys": {}})


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


def check_table_name(name: str, field: str = "TableName") -> None:
    """DynamoDB's constraints on a table name, with its words."""
    where = field[0].lower() + field[1:]
    if len(name) < 3 or len(name) > 255:
        bound = "greater than or equal to 3" if len(name) < 3 else "less than or equal to 255"
        raise _invalid(
            f"1 validation error detected: Value '{name}' at '{where}' failed to satisfy "
            f"constraint: Member must have length {bound}"
        )
    if not _TABLE_NAME.fullmatch(name):
        raise _invalid(
            f"1 validation error detected: Value '{name}' at '{where}' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )


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
        "CreationDateTime": table.created,
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
    _return_values_on_failure(body)
    return {
        "condition": optional(body, "ConditionExpression"),
        "names": body.get("ExpressionAttributeNames"),
        "values": body.get("ExpressionAttributeValues"),
        "return_values": optional(body, "ReturnValues", str, "NONE"),
    }


def _return_values_on_failure(body: dict[str, Any]) -> None:
    mode = optional(body, "ReturnValuesOnConditionCheckFailure", str, "NONE")
    if mode not in ("NONE", "ALL_OLD"):
        raise _invalid(
            f"1 validation error detected: Value '{mode}' at "
            "'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must "
            "satisfy enum value set: [ALL_OLD, NONE]"
        )


def _read_options(body: dict[str, Any], table: Table) -> tuple[str | None, str | None, Usage]:
    """A read's IndexName, Select and capacity counter, checked as DynamoDB checks them."""
    index_name = optional(body, "IndexName")
    index = table.index(index_name)
    consistent = optional(body, "ConsistentRead", bool, False)
    if consistent and index is not None and not index.local:
        raise _invalid("Consistent reads are not supported on global secondary indexes")
    select = optional(body, "Select")
    projection = optional(body, "ProjectionExpression")
    if select is not None and select not in _SELECT:
        raise _invalid(
            f"1 validation error detected: Value '{select}' at 'select' failed to satisfy "
            "constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, "
            "ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
        )
    if select == "SPECIFIC_ATTRIBUTES" and projection is None:
        raise _invalid(
            f"{_INVALID_PARAMETERS}: Select type SPECIFIC_ATTRIBUTES requires a "
            "ProjectionExpression or AttributesToGet"
        )
    if select in ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "COUNT") and projection:
        raise _invalid(
            f"{_INVALID_PARAMETERS}: Cannot specify the ProjectionExpression when choosing to "
            f"get {select}"
        )
    if select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
        raise _invalid(
            f"{_INVALID_PARAMETERS}: Select type ALL_PROJECTED_ATTRIBUTES is only supported "
            "when querying an index"
        )
    if select == "ALL_ATTRIBUTES" and index is not None and not index.local:
        if index.projection != "ALL":
            raise _invalid(
                f"{_INVALID_PARAMETERS}: Select type ALL_ATTRIBUTES is not supported for global "
                f"secondary index {index.name} because its projection type is not ALL"
            )
    return index_name, select, _usage(body, consistent=consistent)


_INVALID_PARAMETERS = "One or more parameter values were invalid"


def _invalid(message: str) -> ApiError:
    return ApiError("ValidationException", message)


def _item(body: dict[str, Any], name: str) -> dict[str, Any]:
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


def _segment(body: dict[str, Any]) -> tuple[int, int] | None:
    segment = optional(body, "Segment", int)
    total = optional(body, "TotalSegments", int)
    if segment is None and total is None:
        return None
    if total is None:
        raise _invalid(
            "The TotalSegments parameter is required but was not present in the request when "
            "Segment parameter is present"
        )
    if segment is None:
        raise _invalid(
            "The Segment parameter is required but was not present in the request when "
            "parameter TotalSegments is present"
        )
    if not 1 <= total <= MAX_SEGMENTS:
        bound = (
            "greater than or equal to 1" if total < 1 else f"less than or equal to {MAX_SEGMENTS}"
        )
        raise _invalid(
            f"1 validation error detected: Value '{total}' at 'totalSegments' failed to "
            f"satisfy constraint: Member must have value {bound}"
        )
    if segment < 0:
        raise _invalid(
            f"1 validation error detected: Value '{segment}' at 'segment' failed to satisfy "
            "constraint: Member must have value greater than or equal to 0"
        )
    if segment >= total:
        raise _invalid(
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
            f"Segment: {segment} is not less than TotalSegments: {total}"
        )
    return segment, total


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


def _mode(body: dict[str, Any]) -> str:
    mode = optional(body, "ReturnConsumedCapacity", str, "NONE")
    if mode not in ("NONE", "TOTAL", "INDEXES"):
        raise _invalid(
            f"1 validation error detected: Value '{mode}' at 'returnConsumedCapacity' failed to "
            "satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
        )
    return mode  # type: ignore[no-any-return]


def _usage(body: dict[str, Any], *, consistent: bool = False) -> Usage:
    """A capacity counter for one request (its ReturnConsumedCapacity checked first)."""
    _mode(body)
    return Usage(consistent=consistent)


def _capacity(body: dict[str, Any], usage: Usage, result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with the ConsumedCapacity of its one table, if the request asked for it."""
    mode = _mode(body)  # checked before the operation too (``_usage``)
    tables = usage.tables()
    if mode != "NONE" and tables:
        result["ConsumedCapacity"] = usage.report(tables[0], mode)
    return result


def _capacities(body: dict[str, Any], usage: Usage, result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with a ConsumedCapacity per table, if the request asked for them."""
    mode = _mode(body)  # checked before the operation too (``_usage``)
    if mode != "NONE":
        result["ConsumedCapacity"] = [usage.report(table, mode) for table in usage.tables()]
    return result


def _page(page: Page, select: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {"Count": len(page.items), "ScannedCount": page.scanned_count}
    if select != "COUNT":
        result["Items"] = page.items
    if page.last_key is not None:
        result["LastEvaluatedKey"] = page.last_key
    return result
