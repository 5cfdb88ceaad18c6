"""Expressions (pure): updates see the item as it was, projections keep the named paths,
DynamoDB's reserved words and path rules, key conditions."""

from __future__ import annotations

from typing import Any

import pytest

from eventsim.errors import ExpressionError
from eventsim.expressions import (
    KeyCondition,
    parse_condition,
    parse_key_condition,
    parse_projection,
    project,
)
from eventsim.updates import parse_update


def n(number: int) -> dict[str, str]:
    return {"N": str(number)}


def numbers(*values: int) -> dict[str, Any]:
    return {"L": [n(v) for v in values]}


@pytest.mark.parametrize(
    ("expression", "before", "after"),
    [
        ("SET a = b, b = a", {"a": n(1), "b": n(2)}, {"a": n(2), "b": n(1)}),
        ("REMOVE l[0], l[1], l[2]", {"l": numbers(0, 1, 2, 3)}, {"l": numbers(3)}),
        ("REMOVE l[3], l[0]", {"l": numbers(0, 1, 2, 3)}, {"l": numbers(1, 2)}),
        ("REMOVE l[0], l[2].x", {"l": {"L": [n(0), n(1), {"M": {"x": n(1), "y": n(2)}}]}},
         {"l": {"L": [n(1), {"M": {"y": n(2)}}]}}),
        ("REMOVE m[1][0], m[0]", {"m": {"L": [numbers(1), numbers(2, 3)]}},
         {"m": {"L": [numbers(3)]}}),
        ("SET l[1] = :v REMOVE l[0]", {"l": numbers(0, 1, 2)}, {"l": numbers(9, 2)}),
        ("SET l[10] = :v", {"l": numbers(0)}, {"l": numbers(0, 9)}),
        ("SET c = a + :v, a = :v ADD b :v", {"a": n(1), "b": n(1)},
         {"a": n(9), "b": n(10), "c": n(10)}),
    ],
)  # fmt: skip
def test_updates_see_the_item_as_it_was(
    expression: str, before: dict[str, Any], after: dict[str, Any]
) -> None:
    values = {":v": n(9)} if ":v" in expression else {}
    assert parse_update(expression, values=values).apply(before) == after


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("SET a = :v, a = :v", "overlap with each other; must remove or rewrite one of these "
         "paths; path one: [a], path two: [a]"),
        ("SET a.b = :v REMOVE a", "path one: [a, b], path two: [a]"),
        ("SET a[0] = :v REMOVE a.b", "Two document paths conflict with each other"),
        ("SET #n = :v", "attribute name: #n"),
        ("SET a = :w", "attribute value: :w"),
        ("SET Name = :v", "reserved keyword: Name"),
        ("SET a.size = :v", "reserved keyword: size"),
        ("   ", "The expression can not be empty;"),
    ],
)  # fmt: skip
def test_updates_are_refused_with_dynamodbs_words(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_update(expression, values={":v": n(1)})


def test_projections_keep_only_the_named_paths() -> None:
    item = {
        "a": {"M": {"b": {"M": {"c": n(1), "d": n(2)}}, "e": n(3)}},
        "l": {"L": [n(0), {"M": {"x": n(1), "y": n(2)}}, n(2)]},
        "t": n(4),
    }
    paths = parse_projection("a.b.c, l[1].y, l[2], t, nope.x, l[7]")
    assert project(item, paths) == {
        "a": {"M": {"b": {"M": {"c": n(1)}}}},
        "l": {"L": [{"M": {"y": n(2)}}, n(2)]},
        "t": n(4),
    }
    assert project(item, parse_projection("a.e.f, t[0]")) == {}
    with pytest.raises(ExpressionError, match="overlap"):
        parse_projection("a, a.b")
    with pytest.raises(ExpressionError, match="reserved keyword: Size"):
        parse_projection("Size")


def test_a_missing_attribute_is_unequal_to_anything() -> None:
    values = {":v": n(1)}
    assert parse_condition("a <> :v", values=values).evaluate({})
    assert not parse_condition("a = :v", values=values).evaluate({})
    assert not parse_condition("a < :v", values=values).evaluate({})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pk = :p", KeyCondition(n(1))),
        ("sk > :s AND pk = :p", KeyCondition(n(1), ">", (n(2),))),
        ("(pk = :p) AND (begins_with(sk, :s))", KeyCondition(n(1), "begins_with", (n(2),))),
        ("pk = :p AND sk BETWEEN :s AND :t", KeyCondition(n(1), "BETWEEN", (n(2), n(3)))),
    ],
)
def test_key_conditions(text: str, expected: KeyCondition) -> None:
    values = {":p": n(1), ":s": n(2), ":t": n(3)}
    assert parse_key_condition(text, "pk", "sk", values=values) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sk = :s", "Query condition missed key schema element: pk"),
        ("pk = :p AND pk = :s", "KeyConditionExpressions must only contain one condition per key"),
        ("pk = :p AND sk <> :s", "Invalid operator used in KeyConditionExpression: <>"),
        ("pk = :p OR sk = :s", "Invalid operator used in KeyConditionExpression: OR"),
        ("pk = :p AND NOT sk = :s", "Invalid operator used in KeyConditionExpression: NOT"),
        ("pk = :p AND sk IN (:s)", "Invalid operator used in KeyConditionExpression: IN"),
        ("pk = :p AND attribute_exists(sk)",
         "Invalid operator used in KeyConditionExpression: attribute_exists"),
        ("pk = :p AND size(sk) > :s", "KeyConditionExpressions cannot contain nested operations"),
        ("pk = :p AND sk.x = :s",
         "KeyConditionExpressions cannot have conditions on nested attributes"),
        ("pk = sk", "Multiple attribute names used in one condition"),
        ("pk = :p AND sk = :s sk", 'Syntax error; token: "sk", near: ":s sk"'),
        ("pk = :p AND spare = :s", "Query condition missed key schema element: sk"),
    ],
)  # fmt: skip
def test_key_conditions_refused(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        parse_key_condition(text, "pk", "sk", values={":p": n(1), ":s": n(2)})
