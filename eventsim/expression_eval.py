"""Evaluating DynamoDB expressions on items in DynamoDB JSON (pure): comparisons and functions
on attribute values, document paths, projections, and what a parsed condition or key condition
is.

``expressions`` parses expression text into these. Values stay as DynamoDB JSON (``{"N":
"3"}``): numbers are exact strings until compared, as ``Decimal``; strings and binary compare
by their bytes.

Example::

    item = {"pk": {"S": "a"}, "lines": {"L": [{"N": "2"}]}}
    get_path(item, ("lines", 0))                    # {"N": "2"}
    COMPARE["<"]({"N": "2"}, {"N": "10"})           # True: numbers by value
    project(item, [("pk",)])                        # {"pk": {"S": "a"}}
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

AV = dict[str, Any]  # one AttributeValue, e.g. {"N": "3"}
Item = dict[str, AV]
Path = tuple[str | int, ...]
Operand = Callable[[Item], AV | None]
Predicate = Callable[[Item], bool]


# --- values -------------------------------------------------------------------------------


def tag_of(value: AV) -> str:
    return next(iter(value))


def text_of(value: AV | None) -> str | None:
    return value.get("S") if value is not None else None


def _key(value: AV) -> tuple[str, Any]:
    """A comparable form: numbers numerically, strings and binary by their bytes."""
    tag = tag_of(value)
    if tag == "N":
        return tag, Decimal(value["N"])
    if tag == "S":
        return tag, value["S"].encode()
    if tag == "B":
        return tag, base64.b64decode(value["B"])
    return tag, repr(value[tag])


def sort_key(value: AV) -> Any:
    """The order DynamoDB sorts key values in (one type per key)."""
    return _key(value)[1]


def _ordered(test: Callable[[Any, Any], bool]) -> Callable[[AV | None, AV | None], bool]:
    def compare(a: AV | None, b: AV | None) -> bool:
        if a is None or b is None or tag_of(a) != tag_of(b) or tag_of(a) not in ("N", "S", "B"):
            return False
        return test(_key(a)[1], _key(b)[1])

    return compare


def _equal(a: AV | None, b: AV | None) -> bool:
    if a is None or b is None:
        return False
    if tag_of(a) in ("SS", "NS", "BS") and tag_of(a) == tag_of(b):
        return set(a[tag_of(a)]) == set(b[tag_of(b)])
    if tag_of(a) == "N" and tag_of(b) == "N":
        return Decimal(a["N"]) == Decimal(b["N"])
    return a == b


COMPARE: dict[str, Callable[[AV | None, AV | None], bool]] = {
    "=": _equal,
    "<>": lambda a, b: not _equal(a, b),  # a missing value is unequal to anything
    "<": _ordered(lambda a, b: bool(a < b)),
    "<=": _ordered(lambda a, b: bool(a <= b)),
    ">": _ordered(lambda a, b: bool(a > b)),
    ">=": _ordered(lambda a, b: bool(a >= b)),
}


def between(value: AV | None, low: AV | None, high: AV | None) -> bool:
    return COMPARE[">="](value, low) and COMPARE["<="](value, high)


def begins_with(value: AV | None, prefix: AV | None) -> bool:
    if value is None or prefix is None or tag_of(value) != tag_of(prefix):
        return False
    if tag_of(value) not in ("S", "B"):
        return False
    return bool(_key(value)[1].startswith(_key(prefix)[1]))


def contains(value: AV | None, operand: AV | None) -> bool:
    if value is None or operand is None:
        return False
    tag = tag_of(value)
    if tag == "S" and tag_of(operand) == "S":
        return operand["S"] in value["S"]
    if tag in ("SS", "NS", "BS") and tag_of(operand) == tag[0]:
        return any(_equal({tag[0]: member}, operand) for member in value[tag])
    if tag == "L":
        return any(_equal(member, operand) for member in value["L"])
    return False


def size_of(value: AV | None) -> AV | None:
    if value is None:
        return None
    tag = tag_of(value)
    data = value[tag]
    if tag == "B":
        size = len(_key(value)[1])
    elif tag == "S":
        size = len(data.encode())
    elif tag in ("M", "L", "SS", "NS", "BS"):
        size = len(data)
    else:
        return None
    return {"N": str(size)}


# --- paths --------------------------------------------------------------------------------


def get_path(item: Item, path: Path) -> AV | None:
    """The value at ``path`` in ``item``, or None when any step is missing."""
    current: Any = {"M": item}
    for step in path:
        if isinstance(step, int):
            values = current.get("L") if isinstance(current, dict) else None
            if values is None or step >= len(values):
                return None
            current = values[step]
        else:
            members = current.get("M") if isinstance(current, dict) else None
            if members is None or step not in members:
                return None
            current = members[step]
    return current  # type: ignore[no-any-return]


def project(item: Item, paths: list[Path] | tuple[Path, ...]) -> Item:
    """Only the parts of ``item`` that ``paths`` name: a nested map keeps just the named
    members, a list just the named elements (in their order); paths the item lacks are left
    out."""
    tree: dict[Any, Any] = {}
    for path in paths:
        node = tree
        for step in path[:-1]:
            node = node.setdefault(step, {})
            if node is None:
                break
        else:
            node[path[-1]] = None  # the whole value
    picked = _pick({"M": item}, tree)
    return picked["M"] if picked is not None else {}


def _pick(value: AV, tree: dict[Any, Any] | None) -> AV | None:
    if tree is None:
        return value
    if all(isinstance(step, int) for step in tree):
        values = value.get("L") if isinstance(value, dict) else None
        if values is None:
            return None
        chosen = [
            kept
            for index in sorted(tree)
            if index < len(values) and (kept := _pick(values[index], tree[index])) is not None
        ]
        return {"L": chosen} if chosen else None
    members = value.get("M") if isinstance(value, dict) else None
    if members is None:
        return None
    out = {
        name: kept
        for name, subtree in tree.items()
        if isinstance(name, str)
        and name in members
        and (kept := _pick(members[name], subtree)) is not None
    }
    return {"M": out} if out else None


# --- parsed expressions -------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """A parsed condition (ConditionExpression, FilterExpression); ``attributes`` are the
    top-level attributes it reads."""

    test: Predicate
    attributes: frozenset[str] = frozenset()

    def evaluate(self, item: Item | None) -> bool:
        return self.test(item or {})


SortOperator = str  # "=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"


@dataclass(frozen=True)
class KeyCondition:
    """A parsed KeyConditionExpression: the partition key's value and the sort key's test
    (``sort_op`` None: any sort key), with one operand, or two for ``BETWEEN``."""

    partition: AV
    sort_op: SortOperator | None = None
    sort_values: tuple[AV, ...] = ()

    def matches_sort(self, sort_value: AV | None) -> bool:
        if self.sort_op is None:
            return True
        if sort_value is None:
            return False
        if self.sort_op == "BETWEEN":
            return between(sort_value, *self.sort_values)
        if self.sort_op == "begins_with":
            return begins_with(sort_value, self.sort_values[0])
        return COMPARE[self.sort_op](sort_value, self.sort_values[0])
