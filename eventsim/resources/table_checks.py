"""What a table refuses: ``TableError``, and the checks of a request against the table's key
schema and secondary indexes (``Index``): keys, items, index keys, ExpressionAttributeValues,
condition and projection expressions, ReturnValues. Messages are DynamoDB's.

Items and keys given as plain Python values are marshalled here too (``typed``, ``plain``).

Example::

    config = TableConfig(partition_key="pk")
    key_columns(config, {"pk": {"S": "a"}}, exact=True)   # ("a", ""): no sort key
    key_columns(config, {"pk": {"N": "1"}}, exact=True)   # TableError: ...does not match...
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any, Literal

from ..config import GlobalIndexConfig, LocalIndexConfig, TableConfig
from ..errors import ExpressionError, TableError, ValueRejected
from ..events.dynamodb_json import marshal, marshal_item, unmarshal_item
from ..expressions import AV, Condition, Item, parse_condition, parse_projection
from ..expressions import Path as DocumentPath
from .table_keys import KeyType, key_text
from .table_pages import ITEM_LIMIT_BYTES, item_size
from .table_sql import Access

PARTITION_KEY_LIMIT = 2048
SORT_KEY_LIMIT = 1024

ReturnValues = Literal["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]
RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")
INVALID = "One or more parameter values were invalid"
NOT_VALID = "One or more parameter values are not valid"
_WIDE = Context(prec=1000)


def invalid(message: str) -> TableError:
    return TableError("ValidationException", message)


# --- values -----------------------------------------------------------------------------


def canonical(item: Mapping[str, Any]) -> Item:
    """A DynamoDB JSON item validated and normalised (numbers in canonical form)."""
    if not isinstance(item, Mapping):
        raise invalid(f"an item is a map of attribute names to values, got {item!r}")
    check_values(item)
    try:
        return marshal_item(unmarshal_item(item))
    except ValueRejected as exc:
        raise invalid(str(exc)) from None


def check_values(values: Mapping[str, Any]) -> None:
    """Refuse the AttributeValues DynamoDB refuses, in its words: empty or duplicate sets,
    numbers it cannot store, ``NULL: false``. (Values that are not AttributeValues at all are
    left to ``canonical``.)"""
    stack = list(values.values())[::-1]  # depth first, in order, as DynamoDB reports
    while stack:
        value = stack.pop()
        if not isinstance(value, Mapping):
            continue
        if len(value) != 1:
            what = "is empty" if not value else "has more than one datatypes set"
            raise invalid(
                f"Supplied AttributeValue {what}, must contain exactly one of the supported "
                "datatypes"
            )
        ((tag, data),) = value.items()
        if tag == "N" and isinstance(data, str):
            _check_number(data)
        elif tag == "NULL" and data is False:
            raise invalid(f"{INVALID}: Null attribute value types must have the value of true")
        elif tag in _SETS and isinstance(data, list):
            _check_set(tag, data)
        elif tag == "M" and isinstance(data, Mapping):
            stack.extend(list(data.values())[::-1])
        elif tag == "L" and isinstance(data, list):
            stack.extend(reversed(data))


#: What DynamoDB's words call each set, empty.
_SETS = {
    "SS": f"{INVALID}: An string set  may not be empty",
    "NS": f"{INVALID}: An number set  may not be empty",
    "BS": f"{INVALID}: Binary sets should not be empty",
}
#: A request's values are checked before anything else: DynamoDB reports what it finds there
#: as a validation error of the request.
_DETECTED = "1 validation error detected: "
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _check_number(text: str) -> None:
    if not text:
        raise invalid("The parameter cannot be converted to a numeric value")
    if not _NUMBER.fullmatch(text):
        raise invalid(f"The parameter cannot be converted to a numeric value: {text}")
    decimal = Decimal(text)
    if decimal.is_zero():
        return
    normal = decimal.normalize(_WIDE)
    if normal.adjusted() > 125:
        raise invalid(
            "Number overflow. Attempting to store a number with magnitude larger than supported "
            "range"
        )
    if normal.adjusted() < -130:
        raise invalid(
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range"
        )
    if len(normal.as_tuple().digits) > 38:
        raise invalid("Attempting to store more than 38 significant digits in a Number")


def _check_set(tag: str, members: list[Any]) -> None:
    if not members:
        raise invalid(_DETECTED + _SETS[tag])
    if tag == "NS":
        for member in members:
            if isinstance(member, str):
                _check_number(member)
    if not all(isinstance(member, str) for member in members):
        return  # not an AttributeValue: ``canonical`` says what is wrong with it
    distinct = {Decimal(m) for m in members} if tag == "NS" else set(members)
    if len(distinct) != len(members):
        shown = "[" + ", ".join(members) + "]"
        raise invalid(
            _DETECTED
            + {
                "SS": f"{INVALID}: Input collection {shown} contains duplicates.",
                "NS": "Input collection contains duplicates",
                "BS": f"{INVALID}: Input collection {shown}of type BS contains duplicates.",
            }[tag]
        )


def canon_values(values: Mapping[str, Any] | None) -> dict[str, AV]:
    """ExpressionAttributeValues validated and normalised."""
    return canonical(values or {})


def marshalled(values: Mapping[str, Any] | None) -> dict[str, AV]:
    """ExpressionAttributeValues given as plain Python values, in DynamoDB JSON."""
    try:
        return {name: marshal(value) for name, value in (values or {}).items()}
    except ValueRejected as exc:
        raise invalid(str(exc)) from None


def typed(item: Mapping[str, Any]) -> Item:
    """A plain Python item or key in DynamoDB JSON."""
    if not isinstance(item, Mapping):
        raise invalid(f"an item or key is a mapping, got {item!r}")
    try:
        return marshal_item(item)
    except ValueRejected as exc:
        raise invalid(str(exc)) from None


def plain(item: Item | None) -> dict[str, Any] | None:
    return unmarshal_item(item) if item is not None else None


def check_return_values(mode: str, allowed: tuple[str, ...]) -> None:
    if mode in allowed:
        return
    if mode in RETURN_VALUES:
        raise invalid("ReturnValues can only be ALL_OLD or NONE")
    raise invalid(
        f"1 validation error detected: Value '{mode}' at 'returnValues' failed to satisfy "
        "constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, "
        "UPDATED_NEW]"
    )


def condition_of(
    text: str | None, names: Mapping[str, str] | None, values: Mapping[str, AV] | None
) -> Condition | None:
    """A ConditionExpression parsed (None: no condition)."""
    if text is None:
        return None
    try:
        return parse_condition(text, names, canon_values(values))
    except ExpressionError as exc:
        raise invalid(f"Invalid ConditionExpression: {exc}") from None


def projection_paths(text: str, names: Mapping[str, str] | None) -> list[DocumentPath]:
    """A ProjectionExpression parsed."""
    try:
        return parse_projection(text, names)
    except ExpressionError as exc:
        raise invalid(f"Invalid ProjectionExpression: {exc}") from None


# --- keys and indexes -------------------------------------------------------------------


@dataclass(frozen=True)
class Index:
    """A secondary index of a table, as reads see it."""

    name: str
    local: bool
    partition: tuple[str, KeyType]
    sort: tuple[str, KeyType] | None
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    include: frozenset[str]
    access: Access


def indexes_of(config: TableConfig, accesses: Mapping[str, Access]) -> dict[str, Index]:
    """The secondary indexes of ``config``, each read through its ``Access`` in the store."""
    indexes: dict[str, Index] = {}
    definitions: list[tuple[str, GlobalIndexConfig | LocalIndexConfig]] = [
        *config.global_indexes.items(), *config.local_indexes.items(),
    ]  # fmt: skip
    for name, index in definitions:
        if isinstance(index, GlobalIndexConfig):
            local = False
            partition = (index.partition_key, index.partition_key_type)
            sort = (index.sort_key, index.sort_key_type) if index.sort_key else None
        else:
            local = True
            partition = (config.partition_key, config.partition_key_type)
            sort = (index.sort_key, index.sort_key_type)
        indexes[name] = Index(
            name, local, partition, sort, index.projection,
            frozenset(index.non_key_attributes), accesses[name],
        )  # fmt: skip
    return indexes


def key_names(config: TableConfig) -> tuple[str, ...]:
    c = config
    return (c.partition_key,) if c.sort_key is None else (c.partition_key, c.sort_key)


def key_of(config: TableConfig, item: Mapping[str, AV]) -> Item:
    return {name: item[name] for name in key_names(config)}


def _schema(config: TableConfig) -> list[tuple[str, KeyType, int]]:
    c = config
    schema = [(c.partition_key, c.partition_key_type, PARTITION_KEY_LIMIT)]
    if c.sort_key is not None:
        schema.append((c.sort_key, c.sort_key_type, SORT_KEY_LIMIT))
    return schema


def key_columns(
    config: TableConfig, item: Mapping[str, AV], *, exact: bool = False
) -> tuple[str, str]:
    """The (pk, sk) columns of an item, or (``exact``) of a key: nothing but the key
    attributes, each of its type."""
    if exact and set(item) != set(key_names(config)):
        raise invalid("The provided key element does not match the schema")
    parts = []
    for position, (name, kind, limit) in enumerate(_schema(config)):
        value = item.get(name)
        if value is None:
            raise invalid(f"{INVALID}: Missing the key {name} in the item")
        tag = next(iter(value))
        if tag != kind:
            if exact:
                raise invalid("The provided key element does not match the schema")
            raise invalid(f"{INVALID}: Type mismatch for key {name} expected: {kind} actual: {tag}")
        text = value[kind]
        if text == "":
            what = "string" if kind == "S" else "binary"
            raise invalid(
                f"{NOT_VALID}. The AttributeValue for a key attribute cannot contain an "
                f"empty {what} value. Key: {name}"
            )
        size = len(base64.b64decode(text)) if kind == "B" else len(text.encode())
        if size > limit:
            raise invalid(
                f"{INVALID}: Size of hashkey has exceeded the maximum size limit of"
                f"{PARTITION_KEY_LIMIT} bytes"
                if position == 0
                else f"{INVALID}: Aggregated size of all range keys has exceeded the size "
                f"limit of {SORT_KEY_LIMIT} bytes"
            )
        parts.append(key_text(kind, text))
    return parts[0], parts[1] if len(parts) > 1 else ""


def _check_index_keys(item: Item, indexes: Mapping[str, Index]) -> None:
    """An item's index key attributes must be of the index's type and not empty."""
    for index in indexes.values():
        for attribute, kind in (index.partition, *([index.sort] if index.sort else [])):
            value = item.get(attribute)
            if value is None:
                continue
            tag = next(iter(value))
            if tag != kind:
                raise invalid(
                    f"{INVALID}: Type mismatch for Index Key {attribute} Expected: {kind} "
                    f"Actual: {tag} IndexName: {index.name}"
                )
            if value[tag] == "":
                raise invalid(
                    f"{NOT_VALID}. A value specified for a secondary index key is not "
                    f"supported. The AttributeValue for a key attribute cannot contain an "
                    f"empty {'string' if kind == 'S' else 'binary'} value. IndexName: "
                    f"{index.name}, IndexKey: {attribute}"
                )


def check_item(item: Item, indexes: Mapping[str, Index]) -> None:
    """An item to write: within the size limit, its index keys valid."""
    size = item_size(item)
    if size > ITEM_LIMIT_BYTES:
        raise invalid("Item size has exceeded the maximum allowed size")
    _check_index_keys(item, indexes)


def in_index(item: Item, index: Index) -> bool:
    keys = (index.partition, *([index.sort] if index.sort else []))
    return all(attribute in item for attribute, _ in keys)
