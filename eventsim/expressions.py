"""DynamoDB expressions over DynamoDB JSON items (pure): conditions, updates, key conditions,
projections.

The subset DynamoDB's expression language has for these, parsed once and evaluated on items
in DynamoDB JSON (``{"name": {"S": "x"}}``), so numbers stay exact strings until arithmetic,
which uses ``Decimal``:

* conditions: ``= <> < <= > >=``, ``BETWEEN``, ``IN``, ``AND``/``OR``/``NOT``, parentheses,
  ``attribute_exists``, ``attribute_not_exists``, ``attribute_type``, ``begins_with``,
  ``contains``, ``size``;
* updates: ``SET`` (``+``, ``-``, ``if_not_exists``, ``list_append``), ``REMOVE``, ``ADD``,
  ``DELETE``;
* paths: names, ``#placeholders``, ``a.b`` and ``a[0]``; values are ``:placeholders``.

Example::

    condition = parse_condition("attribute_not_exists(pk) OR #n < :max", names, values)
    condition.evaluate(item)          # bool
    update = parse_update("SET total = total + :inc REMOVE draft", names, values)
    new_item = update.apply(item)
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .errors import EventsimError

AV = dict[str, Any]  # one AttributeValue, e.g. {"N": "3"}
Item = dict[str, AV]
Path = tuple[str | int, ...]
MISSING_OPERAND = "The provided expression refers to an attribute that does not exist in the item"
#: How deep parentheses, NOT and function calls may nest in one expression. DynamoDB bounds
#: an expression only by its size (4 KB, which allows some 2,000 parentheses); the parser
#: recurses per level, so it stops well before Python's recursion limit.
MAX_NESTING = 100


class ExpressionError(EventsimError, ValueError):
    """An expression DynamoDB would refuse (its ValidationException)."""


# --- tokens -------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<op><>|<=|>=|[=<>()\[\],.+-])|(?P<name>#[A-Za-z0-9_]+)"
    r"|(?P<value>:[A-Za-z0-9_]+)|(?P<int>\d+)|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)
_RESERVED_WORDS = {"AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"}


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"invalid syntax near {text[position : position + 20]!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class Parser:
    def __init__(self, text: str, names: Mapping[str, str], values: Mapping[str, AV]) -> None:
        if not text.strip():
            raise ExpressionError("an expression may not be empty")
        self.tokens = _tokens(text)
        self.at = 0
        self.names = names
        self.values = values
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()
        self.depth = 0

    def enter(self) -> None:
        """One level deeper (a parenthesis, a NOT, a function call); see ``leave``."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ExpressionError(
                f"the expression nests parentheses, NOT or functions deeper than "
                f"{MAX_NESTING} levels"
            )

    def leave(self) -> None:
        self.depth -= 1

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ExpressionError("the expression ends too early")
        self.at += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "word" and token[1].upper() == word:
            self.at += 1
            return True
        return False

    def expect(self, op: str) -> None:
        kind, text = self.take()
        if text != op or kind != "op":
            raise ExpressionError(f"expected {op!r}, found {text!r}")

    def done(self) -> None:
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]

    # --- operands ---------------------------------------------------------------------

    def path(self) -> Path:
        parts: list[str | int] = [self.name()]
        while (token := self.peek()) is not None and token[1] in (".", "["):
            self.take()
            if token[1] == ".":
                parts.append(self.name())
            else:
                kind, text = self.take()
                if kind != "int":
                    raise ExpressionError(f"a list index is a number, found {text!r}")
                parts.append(int(text))
                self.expect("]")
        return tuple(parts)

    def name(self) -> str:
        kind, text = self.take()
        if kind == "name":
            if text not in self.names:
                raise ExpressionError(f"{text} is not defined in ExpressionAttributeNames")
            self.used_names.add(text)
            return self.names[text]
        if kind == "word":
            if text.upper() in _RESERVED_WORDS:
                raise ExpressionError(f"{text!r} is a reserved keyword; use a #name for it")
            return text
        raise ExpressionError(f"expected an attribute name, found {text!r}")

    def value(self) -> AV:
        kind, text = self.take()
        if kind != "value":
            raise ExpressionError(f"expected a :value, found {text!r}")
        if text not in self.values:
            raise ExpressionError(f"{text} is not defined in ExpressionAttributeValues")
        self.used_values.add(text)
        return self.values[text]

    def operand(self) -> Operand:
        token = self.peek()
        if token is None:
            raise ExpressionError("the expression ends too early")
        if token[0] == "value":
            constant = self.value()
            return lambda item: constant
        if token[0] == "word" and token[1] == "size" and self.is_call():
            self.take()
            self.expect("(")
            path = self.path()
            self.expect(")")
            return lambda item: _size(get_path(item, path))
        path = self.path()
        return lambda item: get_path(item, path)

    def is_call(self) -> bool:
        following = self.peek(1)
        return following is not None and following[1] == "("


Operand = Callable[[Item], AV | None]
Predicate = Callable[[Item], bool]


# --- conditions ---------------------------------------------------------------------------


def _condition(p: Parser) -> Predicate:
    return _chain(p, "OR", _conjunction, lambda a, b: lambda item: a(item) or b(item))


def _conjunction(p: Parser) -> Predicate:
    return _chain(p, "AND", _negation, lambda a, b: lambda item: a(item) and b(item))


def _chain(
    p: Parser,
    word: str,
    operand: Callable[[Parser], Predicate],
    combine: Callable[[Predicate, Predicate], Predicate],
) -> Predicate:
    """``operand (word operand)*``, combined left to right."""
    left = operand(p)
    while p.keyword(word):
        left = combine(left, operand(p))
    return left


def _negation(p: Parser) -> Predicate:
    if p.keyword("NOT"):
        p.enter()
        inner = _negation(p)
        p.leave()
        return lambda item: not inner(item)
    return _comparison(p)


def _comparison(p: Parser) -> Predicate:
    token = p.peek()
    if token is not None and token[1] == "(":
        p.take()
        p.enter()
        inner = _condition(p)
        p.expect(")")
        p.leave()
        return inner
    if token is not None and token[0] == "word" and p.is_call() and token[1] != "size":
        return _function(p)
    left = p.operand()
    if p.keyword("BETWEEN"):
        low = p.operand()
        if not p.keyword("AND"):
            raise ExpressionError("BETWEEN needs 'AND'")
        high = p.operand()
        return lambda item: _between(left(item), low(item), high(item))
    if p.keyword("IN"):
        p.expect("(")
        options = [p.operand()]
        while (t := p.peek()) is not None and t[1] == ",":
            p.take()
            options.append(p.operand())
        p.expect(")")
        return lambda item: (v := left(item)) is not None and any(v == o(item) for o in options)
    kind, op = p.take()
    if op not in _COMPARE or kind != "op":
        raise ExpressionError(f"expected a comparison, found {op!r}")
    right = p.operand()
    test = _COMPARE[op]
    return lambda item: test(left(item), right(item))


def _function(p: Parser) -> Predicate:
    _, name = p.take()
    p.expect("(")
    if name in ("attribute_exists", "attribute_not_exists"):
        path = p.path()
        p.expect(")")
        if name == "attribute_exists":
            return lambda item: get_path(item, path) is not None
        return lambda item: get_path(item, path) is None
    if name not in ("attribute_type", "begins_with", "contains"):
        raise ExpressionError(f"unknown function {name!r}")
    path = p.path()
    p.expect(",")
    argument = p.operand()
    p.expect(")")
    if name == "attribute_type":
        return lambda item: (
            (v := get_path(item, path)) is not None and tag_of(v) == _text(argument(item))
        )
    if name == "begins_with":
        return lambda item: _begins_with(get_path(item, path), argument(item))
    return lambda item: contains(get_path(item, path), argument(item))


def tag_of(value: AV) -> str:
    return next(iter(value))


def _text(value: AV | None) -> str | None:
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


_COMPARE: dict[str, Callable[[AV | None, AV | None], bool]] = {
    "=": _equal,
    "<>": lambda a, b: a is not None and b is not None and not _equal(a, b),
    "<": _ordered(lambda a, b: bool(a < b)),
    "<=": _ordered(lambda a, b: bool(a <= b)),
    ">": _ordered(lambda a, b: bool(a > b)),
    ">=": _ordered(lambda a, b: bool(a >= b)),
}


def _between(value: AV | None, low: AV | None, high: AV | None) -> bool:
    return _COMPARE[">="](value, low) and _COMPARE["<="](value, high)


def _begins_with(value: AV | None, prefix: AV | None) -> bool:
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


def _size(value: AV | None) -> AV | None:
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


def _parent(item: Item, path: Path) -> Any:
    parent = get_path(item, path[:-1]) if len(path) > 1 else {"M": item}
    step = path[-1]
    container = None if parent is None else parent.get("L" if isinstance(step, int) else "M")
    if container is None:
        raise ExpressionError(
            "The document path provided in the update expression is invalid for update"
        )
    return container


def set_path(item: Item, path: Path, value: AV) -> None:
    container = _parent(item, path)
    step = path[-1]
    if isinstance(step, int):
        if step >= len(container):
            container.append(value)
        else:
            container[step] = value
    else:
        container[step] = value


def remove_path(item: Item, path: Path) -> None:
    try:
        container = _parent(item, path)
    except ExpressionError:
        return
    step = path[-1]
    if isinstance(step, int):
        if step < len(container):
            del container[step]
    else:
        container.pop(step, None)


# --- entry points -------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """A parsed condition (ConditionExpression, FilterExpression)."""

    test: Predicate

    def evaluate(self, item: Item | None) -> bool:
        return self.test(item or {})


def parse_condition(
    text: str, names: Mapping[str, str] | None = None, values: Mapping[str, AV] | None = None
) -> Condition:
    p = Parser(text, names or {}, values or {})
    test = _condition(p)
    p.done()
    return Condition(test)


def parse_projection(text: str, names: Mapping[str, str] | None = None) -> list[Path]:
    """A ProjectionExpression: the paths to keep."""
    p = Parser(text, names or {}, {})
    paths = [p.path()]
    while p.peek() is not None:
        p.expect(",")
        paths.append(p.path())
    return paths


def project(item: Item, paths: list[Path]) -> Item:
    """``item`` reduced to top-level attributes named by ``paths`` (nested paths keep their
    top-level attribute whole)."""
    keep = {path[0] for path in paths}
    return {name: value for name, value in item.items() if name in keep}


@dataclass(frozen=True)
class KeyCondition:
    """A parsed KeyConditionExpression: the partition key value and a sort-key test."""

    partition: AV
    sort: Predicate | None

    def matches_sort(self, sort_value: AV | None) -> bool:
        if self.sort is None:
            return True
        return sort_value is not None and self.sort({"_": sort_value})


def parse_key_condition(
    text: str,
    partition_key: str,
    sort_key: str | None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, AV] | None = None,
) -> KeyCondition:
    """``pk = :v`` optionally ``AND`` one of ``sk = < <= > >= :v``, ``sk BETWEEN :a AND :b``,
    ``begins_with(sk, :v)``."""
    p = Parser(text, names or {}, values or {})
    partition: AV | None = None
    sort: Predicate | None = None
    depth = 0  # parentheses, as boto3's condition builder writes them
    while True:
        while p.peek() == ("op", "("):
            p.take()
            depth += 1
        token = p.peek()
        if token is not None and token[0] == "word" and token[1] == "begins_with":
            p.take()
            p.expect("(")
            name = _key_name(p, sort_key)
            p.expect(",")
            prefix = p.value()
            p.expect(")")
            sort = _sort_test(_begins_with, prefix)
        else:
            name = _key_name(p, None)
            if name == partition_key and p.peek() == ("op", "="):
                p.take()
                partition = p.value()
            elif name == sort_key:
                if p.keyword("BETWEEN"):
                    low = p.value()
                    if not p.keyword("AND"):
                        raise ExpressionError("BETWEEN needs 'AND'")
                    high = p.value()
                    sort = _sort_between(low, high)
                else:
                    kind, op = p.take()
                    if op not in _COMPARE or op == "<>":
                        raise ExpressionError(f"unsupported key condition operator {op!r}")
                    operand = p.value()
                    sort = _sort_test(_COMPARE[op], operand)
            else:
                raise ExpressionError(
                    f"a key condition names only the key attributes; {name!r} is not one"
                    if name not in (partition_key, sort_key)
                    else "the partition key condition must be an equality"
                )
        while depth and p.peek() == ("op", ")"):
            p.take()
            depth -= 1
        if not p.keyword("AND"):
            break
    if depth:
        raise ExpressionError("unbalanced parentheses")
    p.done()
    if partition is None:
        raise ExpressionError("Query condition missed key schema element: " + partition_key)
    return KeyCondition(partition, sort)


def _sort_test(test: Callable[[AV | None, AV], bool], operand: AV) -> Predicate:
    return lambda item: test(item.get("_"), operand)


def _sort_between(low: AV, high: AV) -> Predicate:
    return lambda item: _between(item.get("_"), low, high)


def _key_name(p: Parser, expected: str | None) -> str:
    path = p.path()
    if len(path) != 1 or not isinstance(path[0], str):
        raise ExpressionError("a key condition names top-level key attributes only")
    if expected is not None and path[0] != expected:
        raise ExpressionError(f"begins_with applies to the sort key, not {path[0]!r}")
    return path[0]
