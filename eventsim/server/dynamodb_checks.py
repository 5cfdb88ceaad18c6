"""What DynamoDB checks of an item operation's request before any table reads it, refused
with its error codes and words: items, keys and values nested deeper than 32 levels,
expressions over 4 KB, ``ExpressionAttributeNames`` or ``ExpressionAttributeValues`` that no
expression of the request uses, ``Limit``, ``Segment`` and ``TotalSegments``, ``Select`` with
``IndexName``, ``ReturnValuesOnConditionCheckFailure``, ``ReturnConsumedCapacity``, the number
of ``TransactItems``. The operations themselves are ``dynamodb_api``'s.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ApiError
from ..resources.table import Table, Usage
from ..resources.table_transactions import TRANSACTION_LIMIT
from .dynamodb_legacy import rewrite
from .dynamodb_protocol import invalid
from .protocol import optional, require

#: DynamoDB's limits on a request (its developer guide, "Quotas"): nesting of up to 32 levels,
#: expression strings of up to 4 KB.
MAX_NESTING = 32
MAX_EXPRESSION_BYTES = 4096
MAX_SEGMENTS = 1_000_000
_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")
_NAME_KEY = re.compile(r"#[A-Za-z0-9_]+")
_VALUE_KEY = re.compile(r":[A-Za-z0-9_]+")
_SELECT = ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT")

#: How DynamoDB begins the refusals it words as request validation errors.
DETECTED = "1 validation error detected: "
_INVALID_PARAMETERS = "One or more parameter values were invalid"


def transact_items(body: dict[str, Any]) -> list[Any]:
    entries = require(body, "TransactItems", list)
    if not 1 <= len(entries) <= TRANSACTION_LIMIT:
        bound = (
            "greater than or equal to 1" if not entries
            else f"less than or equal to {TRANSACTION_LIMIT}"
        )  # fmt: skip
        raise invalid(
            "1 validation error detected: Value at 'transactItems' failed to satisfy "
            f"constraint: Member must have length {bound}"
        )
    return entries  # type: ignore[no-any-return]


def write_options(body: dict[str, Any], *expressions: str) -> dict[str, Any]:
    check_expressions(body, *expressions)
    check_return_values_on_failure(body)
    return {
        "condition": optional(body, "ConditionExpression"),
        "names": body.get("ExpressionAttributeNames"),
        "values": body.get("ExpressionAttributeValues"),
        "return_values": optional(body, "ReturnValues", str, "NONE"),
    }


def check_return_values_on_failure(body: dict[str, Any]) -> None:
    mode = optional(body, "ReturnValuesOnConditionCheckFailure", str, "NONE")
    if mode not in ("NONE", "ALL_OLD"):
        raise invalid(
            f"1 validation error detected: Value '{mode}' at "
            "'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must "
            "satisfy enum value set: [ALL_OLD, NONE]"
        )


def read_options(
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
        raise invalid("Consistent reads are not supported on global secondary indexes")
    select = optional(body, "Select")
    projection = optional(body, "ProjectionExpression")
    if select is not None and select not in _SELECT:
        raise invalid(
            f"{DETECTED}Value '{select}' at 'select' failed to satisfy "
            "constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, "
            "ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
        )
    detected = DETECTED if query else ""
    if select == "SPECIFIC_ATTRIBUTES" and projection is None:
        raise invalid(
            f"{detected}Must specify the AttributesToGet or ProjectionExpression when choosing "
            "to get SPECIFIC_ATTRIBUTES"
        )
    if select in ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "COUNT") and projection:
        named = "AttributesToGet" if legacy else "ProjectionExpression"
        chosen = "only the Count" if select == "COUNT" else select
        raise invalid(f"{detected}Cannot specify the {named} when choosing to get {chosen}")
    if select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
        raise invalid(
            f"{detected}ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
        )
    if select == "ALL_ATTRIBUTES" and index is not None and not index.local:
        if index.projection != "ALL":
            raise invalid(
                f"{_INVALID_PARAMETERS}: Select type ALL_ATTRIBUTES is not supported for global "
                f"secondary index {index.name} because its projection type is not ALL"
            )
    return index_name, select, capacity_usage(body, consistent=consistent)


def attribute_map(body: dict[str, Any], name: str) -> dict[str, Any]:
    """``body[name]``: a map of attribute values nested at most 32 levels deep."""
    item = require(body, name, dict)
    check_nesting(item)
    return item  # type: ignore[no-any-return]


def check_nesting(values: dict[str, Any]) -> None:
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
            raise invalid("Nesting Levels have exceeded supported limits")
        stack.extend((member, level + 1) for member in members)


def check_expressions(body: dict[str, Any], *expressions: str) -> None:
    """The expressions ``body`` may have, and its ExpressionAttributeNames and Values, as
    DynamoDB checks them before parsing: types, sizes, and every placeholder used."""
    texts = []
    for name in expressions:
        text = optional(body, name)
        if text is not None:
            size = len(text.encode())  # read_json refused lone surrogates
            if size > MAX_EXPRESSION_BYTES:
                raise invalid(
                    f"Invalid {name}: Expression size has exceeded the maximum allowed size; "
                    f"expression size: {size}, maximum: {MAX_EXPRESSION_BYTES}"
                )
            texts.append(text)
    used = {token for text in texts for token in _PLACEHOLDER.findall(text)}
    check_placeholders(body, expressions)
    fields = (
        ("ExpressionAttributeNames", str, _NAME_KEY),
        ("ExpressionAttributeValues", dict, _VALUE_KEY),
    )
    for field, kind, key in fields:
        given = optional(body, field, dict)
        if given is None:
            continue
        if not given:
            raise invalid(f"{field} must not be empty")
        if not all(isinstance(v, kind) for v in given.values()):
            raise invalid(f"{field} maps placeholders to {'names' if kind is str else 'values'}")
        wrong = next((k for k in given if not key.fullmatch(k)), None)
        if wrong is not None:
            raise invalid(f'{field} contains invalid key: Syntax error; key: "{wrong}"')
        if kind is dict:
            check_nesting(given)
        unused = sorted(set(given) - used)
        if unused:
            raise invalid(
                f"Value provided in {field} unused in expressions: keys: {{{', '.join(unused)}}}"
            )


def check_placeholders(body: dict[str, Any], expressions: tuple[str, ...]) -> None:
    """ExpressionAttributeNames and Values need expressions to be used in: DynamoDB names the
    ones the operation takes (in its order) when there is none."""
    if body.get("ExpressionAttributeNames") is not None and all(
        body.get(name) is None for name in expressions
    ):
        raise invalid("ExpressionAttributeNames can only be specified when using expressions")
    conditions = [name for name in expressions if name != "ProjectionExpression"]
    if (
        body.get("ExpressionAttributeValues") is not None
        and conditions
        and all(body.get(name) is None for name in conditions)
    ):
        verb = "are" if len(conditions) > 1 else "is"
        raise invalid(
            "ExpressionAttributeValues can only be specified when using expressions: "
            f"{' and '.join(conditions)} {verb} null"
        )


def rewritten(body: dict[str, Any], *expressions: str) -> dict[str, Any]:
    """``body`` with its legacy parameters rewritten as expressions (``dynamodb_legacy``),
    once its placeholders are known to have expressions of their own (``expressions``: the
    ones the operation takes)."""
    check_placeholders(body, expressions)
    return rewrite(body)


def page_limit(body: dict[str, Any], default: int | None) -> Any:
    limit = optional(body, "Limit", int, default)
    if limit is not None and limit < 1:
        raise invalid(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            "constraint: Member must have value greater than or equal to 1"
        )
    if limit is not None and limit > 2**31 - 1:  # the API's integers are 32-bit
        raise ApiError("SerializationException", f"Limit {limit} is not a 32-bit integer")
    return limit


def scan_segment(body: dict[str, Any]) -> tuple[int, int] | None:
    segment = optional(body, "Segment", int)
    total = optional(body, "TotalSegments", int)
    if segment is None and total is None:
        return None
    if total is None:
        raise invalid(
            "The TotalSegments parameter is required but was not present in the request when "
            "Segment parameter is present"
        )
    if segment is None:
        raise invalid(
            "The Segment parameter is required but was not present in the request when "
            "parameter TotalSegments is present"
        )
    if not 1 <= total <= MAX_SEGMENTS:
        bound = (
            "greater than or equal to 1" if total < 1 else f"less than or equal to {MAX_SEGMENTS}"
        )
        raise invalid(
            f"1 validation error detected: Value '{total}' at 'totalSegments' failed to "
            f"satisfy constraint: Member must have value {bound}"
        )
    if segment < 0:
        raise invalid(
            f"1 validation error detected: Value '{segment}' at 'segment' failed to satisfy "
            "constraint: Member must have value greater than or equal to 0"
        )
    if segment >= total:
        raise invalid(
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
            f"Segment: {segment} is not less than TotalSegments: {total}"
        )
    return segment, total


def exclusive_start_key(body: dict[str, Any]) -> dict[str, Any] | None:
    key = optional(body, "ExclusiveStartKey", dict)
    if key is not None:
        check_nesting(key)
    return key  # type: ignore[no-any-return]


def capacity_mode(body: dict[str, Any]) -> str:
    mode = optional(body, "ReturnConsumedCapacity", str, "NONE")
    if mode not in ("NONE", "TOTAL", "INDEXES"):
        raise invalid(
            f"1 validation error detected: Value '{mode}' at 'returnConsumedCapacity' failed to "
            "satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
        )
    return mode  # type: ignore[no-any-return]


def capacity_usage(body: dict[str, Any], *, consistent: bool = False) -> Usage:
    """A capacity counter for one request (its ReturnConsumedCapacity checked first)."""
    capacity_mode(body)
    return Usage(consistent=consistent)
