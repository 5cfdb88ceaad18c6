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

import functools
import json
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from ..errors import ApiError, TableError
from ..resources.table import BATCH_GET_LIMIT, BATCH_WRITE_LIMIT, Page, Table, Usage
from ..resources.table_transactions import TRANSACTION_LIMIT, transact_get, transact_write
from .dynamodb_control import TableControl
from .dynamodb_legacy import rewrite
from .dynamodb_protocol import MAX_REQUEST_BYTES, answer, refusal
from .dynamodb_streams_api import TARGET_PREFIX as STREAMS_PREFIX
from .dynamodb_streams_api import StreamsOperations
from .protocol import optional, require
from .services import Service

if TYPE_CHECKING:
    from ..simulator import Simulator

#: DynamoDB's limits on a request (its developer guide, "Quotas"): nesting of up to 32 levels,
#: expression strings of up to 4 KB.
MAX_NESTING = 32
MAX_EXPRESSION_BYTES = 4096
MAX_SEGMENTS = 1_000_000
_EXPRESSIONS = (
    "ConditionExpression", "UpdateExpression", "KeyConditionExpression", "FilterExpression",
    "ProjectionExpression",
)  # fmt: skip
_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")
_NAME_KEY = re.compile(r"#[A-Za-z0-9_]+")
_VALUE_KEY = re.compile(r":[A-Za-z0-9_]+")
_SELECT = ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT")

Operation = Callable[["DynamoDbApi", dict[str, Any]], Awaitable[dict[str, Any]]]


_DETECTED = "1 validation error detected: "
#: What PutItem, UpdateItem and DeleteItem check of the request itself (its expressions and
#: their names and values) before reading the table: DynamoDB words these refusals as request
#: validation errors, "1 validation error detected: ...". GetItem, Query, Scan, the batches and
#: the transactions word the same refusals without it.
_REQUEST_CHECKS = (
    "Invalid UpdateExpression: ", "Invalid ConditionExpression: ", "Value provided in ",
    "ExpressionAttributeNames ", "ExpressionAttributeValues ",
)  # fmt: skip


def _request_checks_detected(operation: Operation) -> Operation:
    """``operation`` with its refusals of the request's expressions worded as DynamoDB words
    them for PutItem, UpdateItem and DeleteItem."""

    @functools.wraps(operation)
    async def checked(api: DynamoDbApi, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return await operation(api, body)
        except (ApiError, TableError) as exc:
            if exc.code == "ValidationException" and str(exc).startswith(_REQUEST_CHECKS):
                exc.args = (_DETECTED + str(exc),)
            raise

    return checked


class DynamoDbApi:
    service: ClassVar[Service] = Service(
        "dynamodb", "json", MAX_REQUEST_BYTES, target_prefix="DynamoDB_20120810"
    )

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        self._control: TableControl | None = None
        self.streams = StreamsOperations(sim)

    @property
    def control(self) -> TableControl:
        """The control-plane operations (made on first use: the edge is built before the
        simulator's tables)."""
        if self._control is None:
            self._control = TableControl(self._sim.tables)
        return self._control

    def error(self, request: web.Request, error: ApiError) -> web.Response:
        return refusal(request, error)

    async def handle(self, request: web.Request) -> web.Response:
        prefix, _, operation = request.headers.get("X-Amz-Target", "").partition(".")
        if prefix == STREAMS_PREFIX:  # boto3's dynamodbstreams client signs as dynamodb
            return await answer(request, self.streams.operation(operation))
        method = _OPERATIONS.get(operation) if prefix == "DynamoDB_20120810" else None
        if method is None:
            target = request.headers.get("X-Amz-Target") or "a request without X-Amz-Target"
            unknown = ApiError("UnknownOperationException", f"eventsim does not support {target}")
            return refusal(request, unknown)
        return await answer(request, lambda body: method(self, body))

    def _table(self, body: dict[str, Any], key: str = "TableName") -> Table:
        return self.control.find(body, key)

    # --- items ----------------------------------------------------------------------------

    @_request_checks_detected
    async def put_item(self, body: dict[str, Any]) -> dict[str, Any]:
        body = _rewritten(body, "ConditionExpression")
        table = self._table(body)
        item = _item(body, "Item")
        options = _write_options(body, "ConditionExpression")
        usage = _usage(body)
        old = _on_failure(body, lambda: table.put(item, **options, usage=usage))
        return _capacity(body, usage, {"Attributes": old} if old else {})

    async def get_item(self, body: dict[str, Any]) -> dict[str, Any]:
        body = _rewritten(body, "ProjectionExpression")
        table = self._table(body)
        key = _item(body, "Key")
        _check_expressions(body, "ProjectionExpression")
        usage = _usage(body, consistent=optional(body, "ConsistentRead", bool, False))
        item = table.get(
            key, projection=body.get("ProjectionExpression"),
            names=body.get("ExpressionAttributeNames"), usage=usage,
        )  # fmt: skip
        return _capacity(body, usage, {"Item": item} if item is not None else {})

    @_request_checks_detected
    async def delete_item(self, body: dict[str, Any]) -> dict[str, Any]:
        body = _rewritten(body, "ConditionExpression")
        table = self._table(body)
        key = _item(body, "Key")
        options = _write_options(body, "ConditionExpression")
        usage = _usage(body)
        old = _on_failure(body, lambda: table.delete(key, **options, usage=usage))
        return _capacity(body, usage, {"Attributes": old} if old else {})

    @_request_checks_detected
    async def update_item(self, body: dict[str, Any]) -> dict[str, Any]:
        body = _rewritten(body, "UpdateExpression", "ConditionExpression")
        table = self._table(body)
        key = _item(body, "Key")
        options = _write_options(body, "UpdateExpression", "ConditionExpression")
        update = optional(body, "UpdateExpression")
        usage = _usage(body)
        result = _on_failure(body, lambda: table.update(key, update, **options, usage=usage))
        return _capacity(body, usage, {"Attributes": result} if result else {})

    async def query(self, body: dict[str, Any]) -> dict[str, Any]:
        legacy = "AttributesToGet" in body
        expressions = ("FilterExpression", "KeyConditionExpression", "ProjectionExpression")
        body = _rewritten(body, *expressions)
        table = self._table(body)
        _check_expressions(body, *expressions)
        index, select, usage = _read_options(body, table, query=True, legacy=legacy)
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
        legacy = "AttributesToGet" in body
        body = _rewritten(body, "FilterExpression", "ProjectionExpression")
        table = self._table(body)
        _check_expressions(body, "FilterExpression", "ProjectionExpression")
        index, select, usage = _read_options(body, table, query=False, legacy=legacy)
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
            plans.append((name, table, request, keys))
        total = sum(len(keys) for *_, keys in plans)
        if total > BATCH_GET_LIMIT:
            raise _invalid("Too many items requested for the BatchGetItem call")
        responses: dict[str, list[Any]] = {}
        usage = _usage(body)
        for name, table, request, keys in plans:
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
            responses[name] = [item for item in found if item is not None]  # as asked: name or ARN
        return _capacities(body, usage, {"Responses": responses, "UnprocessedKeys": {}})

    # --- transactions ---------------------------------------------------------------------

    async def transact_write_items(self, body: dict[str, Any]) -> dict[str, Any]:
        entries = _transact_items(body)
        token = optional(body, "ClientRequestToken")
        if token is not None and not 1 <= len(token) <= 36:
            raise _invalid(
                f"1 validation error detected: Value '{token}' at 'clientRequestToken' failed to "
                "satisfy constraint: Member must have length less than or equal to 36"
            )
        usage = _usage(body)
        usage.transactional = True
        tokens = self._sim.tables.tokens
        if token is not None and tokens.seen(token, entries):
            return _capacities(body, usage, {})
        actions = []
        for entry in entries:
            kind = _one_key(entry)
            spec = entry.get(kind) if kind else None
            if kind not in ("ConditionCheck", "Put", "Delete", "Update") or not isinstance(
                spec, dict
            ):
                raise _invalid("TransactItems can only contain one of Check, Put, Update or Delete")
            table = self._table(spec)
            expressions = ["ConditionExpression"] + (["UpdateExpression"] if kind == "Update"
                                                     else [])  # fmt: skip
            _check_expressions(spec, *expressions)
            _return_values_on_failure(spec)
            with_item = spec.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
            options = {
                "condition": optional(spec, "ConditionExpression"),
                "names": spec.get("ExpressionAttributeNames"),
                "values": spec.get("ExpressionAttributeValues"),
            }
            if kind == "Put":
                planned = table.plan_put(_item(spec, "Item"), **options)
            elif kind == "Delete":
                planned = table.plan_delete(_item(spec, "Key"), **options)
            elif kind == "Update":
                update = require(spec, "UpdateExpression")
                planned = table.plan_update(_item(spec, "Key"), update, **options)
            else:
                condition = require(spec, "ConditionExpression")
                names, values = options["names"], options["values"]
                planned = table.plan_check(_item(spec, "Key"), condition, names=names,
                                           values=values)  # fmt: skip
            actions.append((planned, with_item))
        transact_write(actions, clock=self._sim.clock, usage=usage)
        if token is not None:
            tokens.remember(token, entries)
        return _capacities(body, usage, {})

    async def transact_get_items(self, body: dict[str, Any]) -> dict[str, Any]:
        gets = []
        for entry in _transact_items(body):
            spec = entry.get("Get") if _one_key(entry) == "Get" else None
            if not isinstance(spec, dict):
                raise _invalid("TransactItems: each is one Get (an object)")
            table = self._table(spec)
            _check_expressions(spec, "ProjectionExpression")
            gets.append((table, _item(spec, "Key"), optional(spec, "ProjectionExpression"),
                         spec.get("ExpressionAttributeNames")))  # fmt: skip
        usage = _usage(body)
        usage.transactional = True
        found = transact_get(gets, usage)
        responses = [{"Item": item} if item is not None else {} for item in found]
        return _capacities(body, usage, {"Responses": responses})


_OPERATIONS: dict[str, Operation] = {
    "CreateTable": lambda api, body: api.control.create_table(body),
    "DeleteTable": lambda api, body: api.control.delete_table(body),
    "UpdateTable": lambda api, body: api.control.update_table(body),
    "DescribeTable": lambda api, body: api.control.describe_table(body),
    "ListTables": lambda api, body: api.control.list_tables(body),
    "UpdateTimeToLive": lambda api, body: api.control.update_time_to_live(body),
    "DescribeTimeToLive": lambda api, body: api.control.describe_time_to_live(body),
    "TagResource": lambda api, body: api.control.tag_resource(body),
    "UntagResource": lambda api, body: api.control.untag_resource(body),
    "ListTagsOfResource": lambda api, body: api.control.list_tags_of_resource(body),
    "PutItem": DynamoDbApi.put_item,
    "GetItem": DynamoDbApi.get_item,
    "DeleteItem": DynamoDbApi.delete_item,
    "UpdateItem": DynamoDbApi.update_item,
    "Query": DynamoDbApi.query,
    "Scan": DynamoDbApi.scan,
    "BatchWriteItem": DynamoDbApi.batch_write_item,
    "BatchGetItem": DynamoDbApi.batch_get_item,
    "TransactWriteItems": DynamoDbApi.transact_write_items,
    "TransactGetItems": DynamoDbApi.transact_get_items,
}


def _transact_items(body: dict[str, Any]) -> list[Any]:
    entries = require(body, "TransactItems", list)
    if not 1 <= len(entries) <= TRANSACTION_LIMIT:
        bound = (
            "greater than or equal to 1" if not entries
            else f"less than or equal to {TRANSACTION_LIMIT}"
        )  # fmt: skip
        raise _invalid(
            "1 validation error detected: Value at 'transactItems' failed to satisfy "
            f"constraint: Member must have length {bound}"
        )
    return entries  # type: ignore[no-any-return]


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


def _read_options(
    body: dict[str, Any], table: Table, *, query: bool, legacy: bool
) -> tuple[str | None, str | None, Usage]:
    """A read's IndexName, Select and capacity counter, checked as DynamoDB checks them.
    ``legacy``: the request named its attributes with AttributesToGet (now rewritten as a
    ProjectionExpression). DynamoDB words Query's Select refusals as request validation
    errors ("1 validation error detected: "), Scan's not."""
    index_name = optional(body, "IndexName")
    index = table.index(index_name)
    consistent = optional(body, "ConsistentRead", bool, False)
    if consistent and index is not None and not index.local:
        raise _invalid("Consistent reads are not supported on global secondary indexes")
    select = optional(body, "Select")
    projection = optional(body, "ProjectionExpression")
    if select is not None and select not in _SELECT:
        raise _invalid(
            f"{_DETECTED}Value '{select}' at 'select' failed to satisfy "
            "constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, "
            "ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
        )
    detected = _DETECTED if query else ""
    if select == "SPECIFIC_ATTRIBUTES" and projection is None:
        raise _invalid(
            f"{detected}Must specify the AttributesToGet or ProjectionExpression when choosing "
            "to get SPECIFIC_ATTRIBUTES"
        )
    if select in ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "COUNT") and projection:
        named = "AttributesToGet" if legacy else "ProjectionExpression"
        chosen = "only the Count" if select == "COUNT" else select
        raise _invalid(f"{detected}Cannot specify the {named} when choosing to get {chosen}")
    if select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
        raise _invalid(
            f"{detected}ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
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
    _check_placeholders(body, expressions)
    fields = (
        ("ExpressionAttributeNames", str, _NAME_KEY),
        ("ExpressionAttributeValues", dict, _VALUE_KEY),
    )
    for field, kind, key in fields:
        given = optional(body, field, dict)
        if given is None:
            continue
        if not given:
            raise _invalid(f"{field} must not be empty")
        if not all(isinstance(v, kind) for v in given.values()):
            raise _invalid(f"{field} maps placeholders to {'names' if kind is str else 'values'}")
        wrong = next((k for k in given if not key.fullmatch(k)), None)
        if wrong is not None:
            raise _invalid(f'{field} contains invalid key: Syntax error; key: "{wrong}"')
        if kind is dict:
            _check_nesting(given)
        unused = sorted(set(given) - used)
        if unused:
            raise _invalid(
                f"Value provided in {field} unused in expressions: keys: {{{', '.join(unused)}}}"
            )


def _check_placeholders(body: dict[str, Any], expressions: tuple[str, ...]) -> None:
    """ExpressionAttributeNames and Values need expressions to be used in: DynamoDB names the
    ones the operation takes (in its order) when there is none."""
    if body.get("ExpressionAttributeNames") is not None and all(
        body.get(name) is None for name in expressions
    ):
        raise _invalid("ExpressionAttributeNames can only be specified when using expressions")
    conditions = [name for name in expressions if name != "ProjectionExpression"]
    if (
        body.get("ExpressionAttributeValues") is not None
        and conditions
        and all(body.get(name) is None for name in conditions)
    ):
        verb = "are" if len(conditions) > 1 else "is"
        raise _invalid(
            "ExpressionAttributeValues can only be specified when using expressions: "
            f"{' and '.join(conditions)} {verb} null"
        )


def _rewritten(body: dict[str, Any], *expressions: str) -> dict[str, Any]:
    """``body`` with its legacy parameters rewritten as expressions (``dynamodb_legacy``),
    once its placeholders are known to have expressions of their own (``expressions``: the
    ones the operation takes)."""
    _check_placeholders(body, expressions)
    return rewrite(body)


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
