"""DynamoDB's JSON protocol (``X-Amz-Target: DynamoDB_20120810.<Operation>``) over the
SQLite tables, as boto3's client and its resource/Table API speak it.

Requests DynamoDB refuses are refused with its error code and words. What it checks of a
request before reading a table (items nested deeper than 32 levels, expressions over 4 KB,
``ExpressionAttributeNames`` or ``ExpressionAttributeValues`` that no expression of the
request uses, Limit, Segment, Select) is in ``dynamodb_checks``; legacy parameters are
rewritten as expressions, or refused when mixed with them, by ``dynamodb_legacy``; duplicate
keys in a batch are refused here. A table is named by its name or its ARN. Every response
carries ``x-amz-crc32`` (the CRC32 of its body, which botocore checks);
``ReturnConsumedCapacity`` is answered with capacity units computed from the sizes of the
items read and written.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from ..errors import ApiError, TableError
from ..resources.table import BATCH_GET_LIMIT, BATCH_WRITE_LIMIT, Page, Table, Usage
from ..resources.table_transactions import transact_get, transact_write
from .dynamodb_checks import (
    DETECTED,
    attribute_map,
    capacity_mode,
    capacity_usage,
    check_expressions,
    check_return_values_on_failure,
    exclusive_start_key,
    page_limit,
    read_options,
    rewritten,
    scan_segment,
    transact_items,
    write_options,
)
from .dynamodb_control import TableControl
from .dynamodb_legacy import rewrite
from .dynamodb_protocol import MAX_REQUEST_BYTES, answer, invalid, refusal
from .dynamodb_streams_api import TARGET_PREFIX as STREAMS_PREFIX
from .dynamodb_streams_api import StreamsOperations
from .protocol import optional, require
from .services import Service

if TYPE_CHECKING:
    from ..simulator import Simulator

Operation = Callable[["DynamoDbApi", dict[str, Any]], Awaitable[dict[str, Any]]]

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
                exc.args = (DETECTED + str(exc),)
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
        body = rewritten(body, "ConditionExpression")
        table = self._table(body)
        item = attribute_map(body, "Item")
        options = write_options(body, "ConditionExpression")
        usage = capacity_usage(body)
        old = _on_failure(body, lambda: table.put(item, **options, usage=usage))
        return _capacity(body, usage, {"Attributes": old} if old else {})

    async def get_item(self, body: dict[str, Any]) -> dict[str, Any]:
        body = rewritten(body, "ProjectionExpression")
        table = self._table(body)
        key = attribute_map(body, "Key")
        check_expressions(body, "ProjectionExpression")
        usage = capacity_usage(body, consistent=optional(body, "ConsistentRead", bool, False))
        item = table.get(
            key, projection=body.get("ProjectionExpression"),
            names=body.get("ExpressionAttributeNames"), usage=usage,
        )  # fmt: skip
        return _capacity(body, usage, {"Item": item} if item is not None else {})

    @_request_checks_detected
    async def delete_item(self, body: dict[str, Any]) -> dict[str, Any]:
        body = rewritten(body, "ConditionExpression")
        table = self._table(body)
        key = attribute_map(body, "Key")
        options = write_options(body, "ConditionExpression")
        usage = capacity_usage(body)
        old = _on_failure(body, lambda: table.delete(key, **options, usage=usage))
        return _capacity(body, usage, {"Attributes": old} if old else {})

    @_request_checks_detected
    async def update_item(self, body: dict[str, Any]) -> dict[str, Any]:
        body = rewritten(body, "UpdateExpression", "ConditionExpression")
        table = self._table(body)
        key = attribute_map(body, "Key")
        options = write_options(body, "UpdateExpression", "ConditionExpression")
        update = optional(body, "UpdateExpression")
        usage = capacity_usage(body)
        result = _on_failure(body, lambda: table.update(key, update, **options, usage=usage))
        return _capacity(body, usage, {"Attributes": result} if result else {})

    async def query(self, body: dict[str, Any]) -> dict[str, Any]:
        legacy = "AttributesToGet" in body
        expressions = ("FilterExpression", "KeyConditionExpression", "ProjectionExpression")
        body = rewritten(body, *expressions)
        table = self._table(body)
        check_expressions(body, *expressions)
        index, select, usage = read_options(body, table, query=True, legacy=legacy)
        page = table.query_page(
            require(body, "KeyConditionExpression"),
            names=body.get("ExpressionAttributeNames"),
            values=body.get("ExpressionAttributeValues"),
            filter=optional(body, "FilterExpression"),
            projection=optional(body, "ProjectionExpression"),
            forward=optional(body, "ScanIndexForward", bool, True),
            limit=page_limit(body, None),
            start_key=exclusive_start_key(body),
            index=index,
            select=select,
            usage=usage,
        )
        return _capacity(body, usage, _page(page, select))

    async def scan(self, body: dict[str, Any]) -> dict[str, Any]:
        legacy = "AttributesToGet" in body
        body = rewritten(body, "FilterExpression", "ProjectionExpression")
        table = self._table(body)
        check_expressions(body, "FilterExpression", "ProjectionExpression")
        index, select, usage = read_options(body, table, query=False, legacy=legacy)
        page = table.scan_page(
            filter=optional(body, "FilterExpression"),
            names=body.get("ExpressionAttributeNames"),
            values=body.get("ExpressionAttributeValues"),
            projection=optional(body, "ProjectionExpression"),
            limit=page_limit(body, None),
            start_key=exclusive_start_key(body),
            segment=scan_segment(body),
            index=index,
            select=select,
            usage=usage,
        )
        return _capacity(body, usage, _page(page, select))

    async def batch_write_item(self, body: dict[str, Any]) -> dict[str, Any]:
        requests = require(body, "RequestItems", dict)
        total = sum(len(r) for r in requests.values() if isinstance(r, list))
        if not 1 <= total <= BATCH_WRITE_LIMIT:
            raise invalid(
                "1 validation error detected: Value at 'requestItems' failed to satisfy "
                "constraint: Map value must satisfy constraint: [Member must have length less "
                f"than or equal to {BATCH_WRITE_LIMIT}, Member must have length greater than "
                "or equal to 1]"
            )
        batches = []
        for name, writes in requests.items():
            table = self._table({"TableName": name})
            if not isinstance(writes, list):
                raise invalid(f"RequestItems.{name} must be a list")
            puts, deletes = [], []
            for write in writes:
                if _one_key(write) == "PutRequest" and isinstance(write["PutRequest"], dict):
                    puts.append(attribute_map(write["PutRequest"], "Item"))
                elif _one_key(write) == "DeleteRequest" and isinstance(
                    write["DeleteRequest"], dict
                ):
                    deletes.append(attribute_map(write["DeleteRequest"], "Key"))
                else:
                    raise invalid(
                        f"RequestItems.{name}: each request is one PutRequest (with an Item) "
                        "or one DeleteRequest (with a Key)"
                    )
            batches.append((table, puts, deletes))
        usage = capacity_usage(body)
        for table, puts, deletes in batches:
            table.write_batch(puts, deletes, usage)
        return _capacities(body, usage, {"UnprocessedItems": {}})

    async def batch_get_item(self, body: dict[str, Any]) -> dict[str, Any]:
        requests = require(body, "RequestItems", dict)
        if not requests:
            raise invalid(
                "1 validation error detected: Value at 'requestItems' failed to satisfy "
                "constraint: Member must have length greater than or equal to 1"
            )
        plans = []
        for name, request in requests.items():
            table = self._table({"TableName": name})
            if not isinstance(request, dict) or not isinstance(request.get("Keys"), list):
                raise invalid(f"RequestItems.{name} needs a list of Keys")
            request = rewrite(request)
            keys = [attribute_map({"Key": key}, "Key") for key in request["Keys"]]
            if not keys:
                raise invalid(
                    "1 validation error detected: Value at 'requestItems."
                    f"{name}.member.keys' failed to satisfy constraint: Member must have "
                    "length greater than or equal to 1"
                )
            seen = {json.dumps(key, sort_keys=True) for key in keys}
            if len(seen) != len(keys):
                raise invalid("Provided list of item keys contains duplicates")
            check_expressions(request, "ProjectionExpression")
            plans.append((name, table, request, keys))
        total = sum(len(keys) for *_, keys in plans)
        if total > BATCH_GET_LIMIT:
            raise invalid("Too many items requested for the BatchGetItem call")
        responses: dict[str, list[Any]] = {}
        usage = capacity_usage(body)
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
        entries = transact_items(body)
        token = optional(body, "ClientRequestToken")
        if token is not None and not 1 <= len(token) <= 36:
            raise invalid(
                f"1 validation error detected: Value '{token}' at 'clientRequestToken' failed to "
                "satisfy constraint: Member must have length less than or equal to 36"
            )
        usage = capacity_usage(body)
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
                raise invalid("TransactItems can only contain one of Check, Put, Update or Delete")
            table = self._table(spec)
            expressions = ["ConditionExpression"] + (["UpdateExpression"] if kind == "Update"
                                                     else [])  # fmt: skip
            check_expressions(spec, *expressions)
            check_return_values_on_failure(spec)
            with_item = spec.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
            options = {
                "condition": optional(spec, "ConditionExpression"),
                "names": spec.get("ExpressionAttributeNames"),
                "values": spec.get("ExpressionAttributeValues"),
            }
            if kind == "Put":
                planned = table.plan_put(attribute_map(spec, "Item"), **options)
            elif kind == "Delete":
                planned = table.plan_delete(attribute_map(spec, "Key"), **options)
            elif kind == "Update":
                update = require(spec, "UpdateExpression")
                planned = table.plan_update(attribute_map(spec, "Key"), update, **options)
            else:
                condition = require(spec, "ConditionExpression")
                names, values = options["names"], options["values"]
                planned = table.plan_check(attribute_map(spec, "Key"), condition, names=names,
                                           values=values)  # fmt: skip
            actions.append((planned, with_item))
        transact_write(actions, clock=self._sim.clock, usage=usage)
        if token is not None:
            tokens.remember(token, entries)
        return _capacities(body, usage, {})

    async def transact_get_items(self, body: dict[str, Any]) -> dict[str, Any]:
        gets = []
        for entry in transact_items(body):
            spec = entry.get("Get") if _one_key(entry) == "Get" else None
            if not isinstance(spec, dict):
                raise invalid("TransactItems: each is one Get (an object)")
            table = self._table(spec)
            check_expressions(spec, "ProjectionExpression")
            gets.append((table, attribute_map(spec, "Key"), optional(spec, "ProjectionExpression"),
                         spec.get("ExpressionAttributeNames")))  # fmt: skip
        usage = capacity_usage(body)
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


def _capacity(body: dict[str, Any], usage: Usage, result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with the ConsumedCapacity of its one table, if the request asked for it."""
    mode = capacity_mode(body)  # checked before the operation too (``capacity_usage``)
    tables = usage.tables()
    if mode != "NONE" and tables:
        result["ConsumedCapacity"] = usage.report(tables[0], mode)
    return result


def _capacities(body: dict[str, Any], usage: Usage, result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with a ConsumedCapacity per table, if the request asked for them."""
    mode = capacity_mode(body)  # checked before the operation too (``capacity_usage``)
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
