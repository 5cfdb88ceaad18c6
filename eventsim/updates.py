"""DynamoDB UpdateExpressions (pure): ``SET`` (with ``+``, ``-``, ``if_not_exists``,
``list_append``), ``REMOVE``, ``ADD`` and ``DELETE``, applied to DynamoDB JSON items.

As in DynamoDB, every action sees the item as it was before the update: ``SET a = b, b = a``
swaps, and ``REMOVE l[0], l[1]`` removes the first two elements of the list as it was. The
paths of one expression may not overlap (``a`` and ``a.b``).

Example::

    update = parse_update("SET total = total + :inc REMOVE draft", names, values)
    new_item = update.apply(item)        # ``item`` itself is unchanged
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from .errors import ExpressionError
from .events.dynamodb_json import number
from .expression_parser import Parser
from .expressions import (
    AV,
    MISSING_OPERAND,
    Item,
    Operand,
    Path,
    check_paths,
    contains,
    get_path,
    remove_path,
    set_path,
    tag_of,
)

# --- updates ------------------------------------------------------------------------------


def _set_value(p: Parser) -> Operand:
    left = _set_operand(p)
    token = p.peek()
    if token is not None and token[1] in ("+", "-") and token[0] == "op":
        p.take()
        right = _operand_of(p, token[1], "N")
        sign = 1 if token[1] == "+" else -1
        return lambda item: _arithmetic(left(item), right(item), sign)
    return left


def _set_operand(p: Parser) -> Operand:
    token = p.peek()
    if token is not None and token[0] == "word" and p.is_call():
        p.enter()
        function = _function(p)
        p.leave()
        return function
    return p.operand()


def _function(p: Parser) -> Operand:
    _, name = p.take()
    if name not in ("if_not_exists", "list_append"):
        raise ExpressionError(f"Invalid function name; function: {name}")
    p.expect("(")
    if name == "if_not_exists":
        path = p.path()
        p.expect(",")
        fallback = _set_operand(p)
        p.expect(")")
        return lambda item: v if (v := get_path(item, path)) is not None else fallback(item)
    first = _operand_of(p, "list_append", "L")
    p.expect(",")
    second = _operand_of(p, "list_append", "L")
    p.expect(")")
    return lambda item: _list_append(first(item), second(item))


def _operand_of(p: Parser, function: str, tag: str) -> Operand:
    """An operand of ``function``, refused at once if it is a ``:value`` of another type than
    ``tag`` (an attribute's type is known only when the update runs)."""
    token = p.peek()
    operand = _set_operand(p)
    value = operand({}) if token is not None and token[0] == "value" else None
    if value is not None and (kind := tag_of(value)) != tag:
        raise ExpressionError(
            "Incorrect operand type for operator or function; operator or function: "
            f"{function}, operand type: {kind}"
        )
    return operand


def _arithmetic(a: AV | None, b: AV | None, sign: int) -> AV:
    if a is None or b is None:
        raise ExpressionError(MISSING_OPERAND)
    if tag_of(a) != "N" or tag_of(b) != "N":
        raise ExpressionError(INCORRECT_TYPE)
    return {"N": number(Decimal(a["N"]) + sign * Decimal(b["N"]))}


def _list_append(a: AV | None, b: AV | None) -> AV:
    if a is None or b is None:
        raise ExpressionError(MISSING_OPERAND)
    if tag_of(a) != "L" or tag_of(b) != "L":
        raise ExpressionError(INCORRECT_TYPE)
    return {"L": [*a["L"], *b["L"]]}


#: What DynamoDB says when an attribute the update reads is of the wrong type.
INCORRECT_TYPE = "An operand in the update expression has an incorrect data type"
#: DynamoDB's names of the types, in "Incorrect operand type" refusals of ADD and DELETE.
_TYPE_NAMES = {
    "S": "STRING", "N": "NUMBER", "B": "BINARY", "BOOL": "BOOLEAN", "NULL": "NULL",
    "M": "MAP", "L": "LIST",
}  # fmt: skip


Action = Callable[[Item], None]


def _add(path: Path, operand: AV) -> Action:
    def act(item: Item) -> None:
        current = get_path(item, path)
        tag = tag_of(operand)
        if tag == "N":
            base = current if current is not None else {"N": "0"}
            set_path(item, path, _arithmetic(base, operand, 1))
        else:
            if current is not None and tag_of(current) != tag:
                raise ExpressionError(INCORRECT_TYPE)
            members = list(current[tag]) if current is not None else []
            members += [m for m in operand[tag] if not contains({tag: members}, {tag[0]: m})]
            set_path(item, path, {tag: members})

    return act


def _delete(path: Path, operand: AV) -> Action:
    def act(item: Item) -> None:
        current = get_path(item, path)
        tag = tag_of(operand)
        if current is None:
            return
        if tag_of(current) != tag:
            raise ExpressionError(INCORRECT_TYPE)
        kept = [m for m in current[tag] if not contains(operand, {tag[0]: m})]
        if kept:
            set_path(item, path, {tag: kept})
        else:
            remove_path(item, path)

    return act


@dataclass(frozen=True)
class Update:
    """A parsed UpdateExpression."""

    assignments: tuple[tuple[Path, Operand], ...]
    actions: tuple[Action, ...]  # ADD and DELETE
    removals: tuple[Path, ...]
    paths: tuple[Path, ...]

    def apply(self, item: Item) -> Item:
        """A new item with the update applied (``item`` is not changed)."""
        values = []
        for path, operand in self.assignments:  # every operand reads the item as it was
            value = operand(item)
            if value is None:
                raise ExpressionError(MISSING_OPERAND)
            values.append((path, value))
        result = copy.deepcopy(item)
        for path, value in values:
            set_path(result, path, copy.deepcopy(value))
        for action in self.actions:
            action(result)
        # A map member first (it moves no list element), then list elements from the last:
        # no removal moves an element another removal names.
        members = [path for path in self.removals if isinstance(path[-1], str)]
        elements = sorted((p for p in self.removals if isinstance(p[-1], int)), reverse=True)
        for path in (*members, *elements):
            remove_path(result, path)
        return result


def _update(p: Parser) -> Update:
    assignments: list[tuple[Path, Operand]] = []
    actions: list[Action] = []
    removals: list[Path] = []
    paths: list[Path] = []
    seen: set[str] = set()
    while p.peek() is not None:
        _, word = p.take()
        clause = word.upper()
        if clause not in ("SET", "REMOVE", "ADD", "DELETE"):
            raise p.syntax_error(p.at - 1)
        if clause in seen:
            raise ExpressionError(
                f'The "{clause}" section can only be used once in an update expression;'
            )
        seen.add(clause)
        while True:
            path = p.path()
            paths.append(path)
            if clause == "SET":
                p.expect("=")
                assignments.append((path, _set_value(p)))
            elif clause == "REMOVE":
                removals.append(path)
            else:
                operand = p.value()
                allowed = ("N", "SS", "NS", "BS") if clause == "ADD" else ("SS", "NS", "BS")
                if (kind := tag_of(operand)) not in allowed:
                    raise ExpressionError(
                        "Incorrect operand type for operator or function; operator: "
                        f"{clause}, operand type: {_TYPE_NAMES[kind]}, typeSet: "
                        f"ALLOWED_FOR_{clause}_OPERAND"
                    )
                actions.append((_add if clause == "ADD" else _delete)(path, operand))
            token = p.peek()
            if token is None or token[1] != ",":
                break
            p.take()
    check_paths(paths)
    return Update(tuple(assignments), tuple(actions), tuple(removals), tuple(paths))


def parse_update(
    text: str, names: Mapping[str, str] | None = None, values: Mapping[str, AV] | None = None
) -> Update:
    p = Parser(text, names or {}, values or {})
    update = _update(p)
    p.done()
    return update
