"""Parsing DynamoDB expressions (pure): conditions, projections, key conditions, and the
document-path edits of updates, read with ``expression_parser``'s tokenizer and ``Parser``
(``updates`` parses update expressions with it too). What they parse into, and its evaluation
on items in DynamoDB JSON (``{"name": {"S": "x"}}``, numbers exact strings until arithmetic),
is in ``expression_eval``.

The subset of DynamoDB's expression language:

* conditions: ``= <> < <= > >=``, ``BETWEEN``, ``IN``, ``AND``/``OR``/``NOT``, parentheses,
  ``attribute_exists``, ``attribute_not_exists``, ``attribute_type``, ``begins_with``,
  ``contains``, ``size``;
* updates: ``SET`` (``+``, ``-``, ``if_not_exists``, ``list_append``), ``REMOVE``, ``ADD``,
  ``DELETE``;
* paths: names, ``#placeholders``, ``a.b`` and ``a[0]``; values are ``:placeholders``;
* projections: only the named paths of an item (``project``);
* key conditions: the partition key's value and the sort key's operator and operands.

As DynamoDB does, a bare name that is one of DynamoDB's reserved words is refused (use a
``#name``), as are placeholders that are not defined, and document paths of one expression
that overlap (``a`` and ``a.b``) or conflict (``a[0]`` and ``a.b``). Error messages are
DynamoDB's words; callers prefix them with ``Invalid <Kind>Expression: ``.

Example::

    condition = parse_condition("attribute_not_exists(pk) OR #n < :max", names, values)
    condition.evaluate(item)          # bool
    update = parse_update("SET total = total + :inc REMOVE draft", names, values)
    new_item = update.apply(item)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ExpressionError
from .expression_eval import (
    AV,
    COMPARE,
    Condition,
    Item,
    KeyCondition,
    Operand,
    Path,
    Predicate,
    begins_with,
    between,
    contains,
    get_path,
    project,
    size_of,
    tag_of,
    text_of,
)
from .expression_parser import Parser

__all__ = [
    "AV", "KEY_SCHEMA_REFUSALS", "MISSING_OPERAND", "Condition", "ExpressionError", "Item",
    "KeyCondition", "Operand", "Path", "check_paths", "contains", "get_path", "parse_condition",
    "parse_key_condition", "parse_projection", "project", "remove_path", "set_path", "tag_of",
]  # fmt: skip

MISSING_OPERAND = "The provided expression refers to an attribute that does not exist in the item"


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


@dataclass(frozen=True)
class _Term:
    """An operand of a condition and what it is: a document ``path``, a ``:value``
    (``constant``), or a ``function`` call (``size`` gives a number; the condition functions
    are conditions, not operands)."""

    read: Operand
    path: Path | None = None
    constant: AV | None = None
    function: str | None = None
    operands: tuple[_Term, ...] = ()


#: The functions of conditions and how many operands each takes.
_ARITY = {
    "attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2, "begins_with": 2,
    "contains": 2, "size": 1,
}  # fmt: skip


def _comparison(p: Parser) -> Predicate:
    token = p.peek()
    if token is not None and token[1] == "(":
        opening = p.at
        p.take()
        p.enter()
        inner = _condition(p)
        p.expect(")")
        p.leave()
        if p.tokens[opening + 1][1] == "(" and p.closing.get(opening + 1) == p.at - 2:
            raise ExpressionError("The expression has redundant parentheses;")
        return inner
    left = _term(p)
    following = p.peek()
    comparing = following is not None and (
        (following[0] == "op" and following[1] in COMPARE)
        or (following[0] == "word" and following[1].upper() in ("BETWEEN", "IN"))
    )
    if left.function is not None and left.function != "size":
        if comparing:
            raise _misused(left.function)
        return _function(left)
    if left.function == "size" and not comparing:
        raise _misused("size")
    if p.keyword("BETWEEN"):
        low = _operand_term(p)
        if not p.keyword("AND"):
            raise p.syntax_error()
        high = _operand_term(p)
        if low.constant is not None and high.constant is not None:
            _check_bounds(low.constant, high.constant)
        return lambda item: between(left.read(item), low.read(item), high.read(item))
    if p.keyword("IN"):
        p.expect("(")
        options = [_operand_term(p)]
        while (t := p.peek()) is not None and t[1] == ",":
            p.take()
            options.append(_operand_term(p))
        p.expect(")")
        return lambda item: (
            (v := left.read(item)) is not None and any(v == o.read(item) for o in options)
        )
    kind, op = p.take()
    if op not in COMPARE or kind != "op":
        raise p.syntax_error(p.at - 1)
    right = _operand_term(p)
    _check_distinct(op, [left, right])
    test = COMPARE[op]
    return lambda item: test(left.read(item), right.read(item))


def _term(p: Parser) -> _Term:
    """A path, a :value, or a function call with its operands checked."""
    token = p.peek()
    if token is None:
        raise p.syntax_error()
    if token[0] == "value":
        constant = p.value()
        return _Term(lambda item: constant, constant=constant)
    if token[0] == "word" and p.is_call():
        p.take()
        name = token[1]
        if name not in _ARITY:
            raise ExpressionError(f"Invalid function name; function: {name}")
        p.expect("(")
        p.enter()
        operands = [_term(p)]
        while (t := p.peek()) is not None and t[1] == ",":
            p.take()
            operands.append(_term(p))
        p.expect(")")
        p.leave()
        return _call(name, operands)
    path = p.path()
    return _Term(lambda item: get_path(item, path), path=path)


def _operand_term(p: Parser) -> _Term:
    """An operand of a comparison: a condition function is not one."""
    term = _term(p)
    if term.function is not None and term.function != "size":
        raise _misused(term.function)
    return term


def _call(name: str, operands: list[_Term]) -> _Term:
    """A function call, its operands checked as DynamoDB checks them."""
    if len(operands) != _ARITY[name]:
        raise ExpressionError(
            "Incorrect number of operands for operator or function; operator or function: "
            f"{name}, number of operands: {len(operands)}"
        )
    for operand in operands:
        if operand.function is not None and operand.function != "size":
            raise _misused(operand.function)
    kinds = [_kind(operand) for operand in operands]
    if name in ("attribute_exists", "attribute_not_exists") and operands[0].path is None:
        raise ExpressionError(
            f"Operator or function requires a document path; operator or function: {name}"
        )
    if name == "begins_with":
        wrong = next((k for k in kinds if k is not None and k not in ("S", "B")), None)
        if wrong is not None:
            raise _operand_type(name, wrong)
    if name == "size" and kinds[0] in ("N", "BOOL", "NULL"):
        raise _operand_type(name, str(kinds[0]))
    if name == "attribute_type":
        _check_type_name(operands[1].constant)
    if name in ("begins_with", "contains", "attribute_type"):
        _check_distinct(name, operands)
    first = operands[0].read
    if name == "size":
        return _Term(lambda item: size_of(first(item)), function=name)
    return _Term(first, function=name, operands=tuple(operands))


def _function(term: _Term) -> Predicate:
    """A condition function as the condition it is."""
    name = term.function
    first = term.operands[0].read
    if name == "attribute_exists":
        return lambda item: first(item) is not None
    if name == "attribute_not_exists":
        return lambda item: first(item) is None
    second = term.operands[1].read
    if name == "attribute_type":
        return lambda item: (v := first(item)) is not None and tag_of(v) == text_of(second(item))
    if name == "begins_with":
        return lambda item: begins_with(first(item), second(item))
    return lambda item: contains(first(item), second(item))


def _kind(term: _Term) -> str | None:
    """The type of an operand when it is known before the item is: a :value's, size's N."""
    if term.constant is not None:
        return tag_of(term.constant)
    return "N" if term.function == "size" else None


def _misused(function: str) -> ExpressionError:
    return ExpressionError(
        f"The function is not allowed to be used this way in an expression; function: {function}"
    )


def _operand_type(function: str, kind: str) -> ExpressionError:
    return ExpressionError(
        "Incorrect operand type for operator or function; operator or function: "
        f"{function}, operand type: {kind}"
    )


def _check_distinct(operator: str, operands: list[_Term]) -> None:
    """DynamoDB refuses an operator whose two operands are the same document path."""
    if len(operands) == 2 and operands[0].path is not None and operands[0].path == operands[1].path:
        raise ExpressionError(
            "The first operand must be distinct from the remaining operands for this operator "
            f"or function; operator: {operator}, first operand: {_shown(operands[0].path)}"
        )


def _check_bounds(low: AV, high: AV) -> None:
    """BETWEEN's bounds, when both are :values: of one type, in order."""
    shown = f"lower bound operand: AttributeValue: {{{_av(low)}}}, upper bound operand: " + (
        f"AttributeValue: {{{_av(high)}}}"
    )
    if tag_of(low) != tag_of(high):
        raise ExpressionError(
            f"The BETWEEN operator requires same data type for lower and upper bounds; {shown}"
        )
    if COMPARE[">"](low, high):
        raise ExpressionError(
            "The BETWEEN operator requires upper bound to be greater than or equal to lower "
            f"bound; {shown}"
        )


def _av(value: AV) -> str:
    tag = tag_of(value)
    return f"{tag}:{value[tag]}"


def _check_type_name(value: AV | None) -> None:
    """attribute_type's second operand, a :value: the name of a type, as DynamoDB wants it."""
    if value is None:
        return
    if tag_of(value) != "S":
        raise ExpressionError(
            "Incorrect operand type for operator or function; operator or function: "
            f"attribute_type, operand type: {tag_of(value)}"
        )
    if value["S"] not in ("S", "N", "B", "NULL", "SS", "BOOL", "L", "BS", "NS", "M"):
        raise ExpressionError(
            f"Invalid attribute type name found; type: {value['S']}, valid types: "
            "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
        )


# --- paths --------------------------------------------------------------------------------


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


def parse_condition(
    text: str, names: Mapping[str, str] | None = None, values: Mapping[str, AV] | None = None
) -> Condition:
    p = Parser(text, names or {}, values or {})
    test = _condition(p)
    p.done()
    return Condition(test, frozenset(p.heads))


def parse_projection(text: str, names: Mapping[str, str] | None = None) -> list[Path]:
    """A ProjectionExpression: the paths to keep (none overlapping another)."""
    p = Parser(text, names or {}, {})
    paths = [p.path()]
    while p.peek() is not None:
        p.expect(",")
        paths.append(p.path())
    check_paths(paths)
    return paths


def _shown(path: Path) -> str:
    return "[" + ", ".join(f"[{step}]" if isinstance(step, int) else step for step in path) + "]"


def check_paths(paths: list[Path]) -> None:
    """Refuse two paths where one is within the other, or where one takes an element of a list
    and the other a member of a map at the same place (DynamoDB's words)."""
    for i, one in enumerate(paths):
        for two in paths[i + 1 :]:
            for a, b in zip(one, two, strict=False):
                if isinstance(a, int) != isinstance(b, int):
                    raise ExpressionError(
                        "Two document paths conflict with each other; must remove or rewrite "
                        f"one of these paths; path one: {_shown(one)}, path two: {_shown(two)}"
                    )
                if a != b:
                    break
            else:
                raise ExpressionError(
                    "Two document paths overlap with each other; must remove or rewrite one "
                    f"of these paths; path one: {_shown(one)}, path two: {_shown(two)}"
                )


_UNSUPPORTED_KEY = "Query key condition not supported"


def parse_key_condition(
    text: str,
    partition_key: str,
    sort_key: str | None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, AV] | None = None,
) -> KeyCondition:
    """``pk = :v`` optionally ``AND`` one of ``sk = < <= > >= :v``, ``sk BETWEEN :a AND :b``,
    ``begins_with(sk, :v)``, in either order, with parentheses as boto3 writes them.

    As DynamoDB does, the conditions are read first and then held against the key schema: a
    missing partition key is named before anything else is said of the conditions."""
    p = Parser(text, names or {}, values or {})
    conditions: dict[str, tuple[str, tuple[AV, ...]]] = {}
    depth = 0
    while True:
        while p.peek() == ("op", "("):
            p.take()
            depth += 1
        token = p.peek()
        if token is not None and token[0] == "word" and token[1].upper() == "NOT":
            raise ExpressionError(_INVALID_OPERATOR + "NOT")
        if token is not None and token[0] == "word" and token[1] != "begins_with" and p.is_call():
            if token[1] == "size":
                raise ExpressionError("KeyConditionExpressions cannot contain nested operations")
            if token[1] in _FUNCTIONS:
                raise ExpressionError(_INVALID_OPERATOR + token[1])
            raise ExpressionError(f"Invalid function name; function: {token[1]}")
        if token is not None and token[0] == "word" and token[1] == "begins_with" and p.is_call():
            p.take()
            p.expect("(")
            name = _key_name(p)
            p.expect(",")
            found: tuple[str, tuple[AV, ...]] = ("begins_with", (_key_value(p),))
            p.expect(")")
        else:
            name = _key_name(p)
            if p.keyword("IN"):
                raise ExpressionError(_INVALID_OPERATOR + "IN")
            if p.keyword("BETWEEN"):
                low = _key_value(p)
                if not p.keyword("AND"):
                    raise p.syntax_error()
                found = ("BETWEEN", (low, _key_value(p)))
            else:
                kind, op = p.take()
                if kind != "op" or op not in COMPARE:
                    raise p.syntax_error(p.at - 1)
                if op == "<>":
                    raise ExpressionError(_INVALID_OPERATOR + op)
                found = (op, (_key_value(p),))
        if name in conditions:
            raise ExpressionError("KeyConditionExpressions must only contain one condition per key")
        conditions[name] = found
        while depth and p.peek() == ("op", ")"):
            p.take()
            depth -= 1
        if not p.keyword("AND"):
            break
    if depth:
        raise p.syntax_error()
    if p.keyword("OR"):
        raise ExpressionError(_INVALID_OPERATOR + "OR")
    p.done()
    if sort_key is None and len(conditions) > 1:
        raise ExpressionError(_UNSUPPORTED_KEY)
    if partition_key not in conditions:
        raise ExpressionError(_MISSED + partition_key)
    op, operands = conditions.pop(partition_key)
    if op != "=":
        raise ExpressionError(_UNSUPPORTED_KEY)
    if not conditions:
        return KeyCondition(operands[0])
    if sort_key not in conditions:
        raise ExpressionError(_MISSED + str(sort_key))
    op, bounds = conditions[sort_key]
    return KeyCondition(operands[0], op, bounds)


_MISSED = "Query condition missed key schema element: "
_INVALID_OPERATOR = "Invalid operator used in KeyConditionExpression: "
#: The condition functions a key condition may not use (begins_with is the one it may).
_FUNCTIONS = ("attribute_exists", "attribute_not_exists", "attribute_type", "contains")


def _key_value(p: Parser) -> AV:
    """The value a key is compared with: a ``:value`` (two names in one condition are
    DynamoDB's "Multiple attribute names")."""
    token = p.peek()
    if token is not None and token[0] in ("name", "word"):
        raise ExpressionError(
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
            "condition"
        )
    return p.value()


def _key_name(p: Parser) -> str:
    path = p.path()
    if len(path) != 1 or not isinstance(path[0], str):
        raise ExpressionError("KeyConditionExpressions cannot have conditions on nested attributes")
    return path[0]


#: KeyConditionExpression refusals DynamoDB words without "Invalid KeyConditionExpression: ".
KEY_SCHEMA_REFUSALS = (_MISSED, _UNSUPPORTED_KEY)
