"""SNS filter policies: the pattern language of filters.py in SNS's dialect, on message
attributes and on JSON bodies, and the rules SNS checks when a policy is set."""

from __future__ import annotations

from typing import Any

import pytest

from eventsim.errors import PatternError
from eventsim.filters import SNS_ATTRIBUTES, SNS_BODY, Pattern, sns_attributes_view, sns_body_view


def string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def number(value: str) -> dict[str, str]:
    return {"DataType": "Number", "StringValue": value}


ATTRIBUTES = {
    "store": string("example_corp"),
    "event": string("order_placed"),
    "customer_interests": {"DataType": "String.Array", "StringValue": '["soccer", "rugby"]'},
    "price_usd": number("210.75"),
    "quantity": number("3e2"),
    "source_ip": string("10.0.0.7"),
    "encrypted": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    "label": {"DataType": "String.custom", "StringValue": "Fragile"},
}


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ({"store": ["example_corp"]}, True),  # exact
        ({"store": ["Example_Corp"]}, False),  # case-sensitive
        ({"store": ["other", "example_corp"]}, True),  # OR within an array
        ({"store": ["example_corp"], "event": ["order_cancelled"]}, False),  # AND across keys
        ({"event": [{"prefix": "order_"}]}, True),
        ({"event": [{"suffix": "_placed"}]}, True),
        ({"event": [{"suffix": "_cancelled"}]}, False),
        ({"label": [{"equals-ignore-case": "fragile"}]}, True),  # a custom String type
        ({"event": [{"anything-but": ["order_cancelled", "order_shipped"]}]}, True),
        ({"event": [{"anything-but": "order_placed"}]}, False),
        ({"event": [{"anything-but": {"prefix": "order_"}}]}, False),
        ({"event": [{"anything-but": {"suffix": "_shipped"}}]}, True),
        ({"customer_interests": ["rugby"]}, True),  # String.Array: any element
        ({"customer_interests": ["golf"]}, False),
        ({"price_usd": [{"numeric": [">", 100, "<=", 300]}]}, True),
        ({"price_usd": [{"numeric": ["<", 100]}]}, False),
        ({"price_usd": [{"numeric": ["=", 210.75]}]}, True),
        ({"quantity": [300]}, True),  # numbers compare by value: "3e2" is 300
        ({"quantity": [{"anything-but": [100, 200]}]}, True),
        ({"quantity": [{"anything-but": [300.0]}]}, False),
        ({"store": [{"numeric": [">", 0]}]}, False),  # numeric needs a Number attribute
        ({"price_usd": ["210.75"]}, False),  # a string does not match a Number
        ({"store": [{"exists": True}]}, True),
        ({"missing": [{"exists": False}]}, True),
        ({"store": [{"exists": False}]}, False),
        ({"encrypted": [{"exists": True}]}, False),  # Binary attributes are ignored
        ({"source_ip": [{"cidr": "10.0.0.0/24"}]}, True),
        ({"missing": ["x"]}, False),  # named keys must exist
        ({"$or": [{"store": ["nope"]}, {"event": ["order_placed"]}]}, True),
        ({"$or": [{"store": ["nope"]}, {"event": ["nope"]}]}, False),
        ({"store": ["example_corp"], "$or": [{"quantity": [1]}, {"price_usd": [210.75]}]}, True),
    ],
)
def test_attribute_policies(policy: dict[str, Any], expected: bool) -> None:
    compiled = Pattern.compile(policy, dialect=SNS_ATTRIBUTES)
    assert compiled.matches(sns_attributes_view(ATTRIBUTES)) is expected


BODY = (
    '{"order": {"id": "o-1", "total": 42.5, "lines": [{"sku": "apple"}, {"sku": "pear"}],'
    ' "customer": {"tier": "gold", "country": "FR"}}, "kind": "OrderPlaced", "count": 3}'
)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ({"kind": ["OrderPlaced"]}, True),
        ({"order": {"customer": {"tier": ["gold"]}}}, True),  # nested keys
        ({"order": {"customer": {"tier": ["silver"]}}}, False),
        ({"order": {"lines": {"sku": ["pear"]}}}, True),  # arrays of objects: any element
        ({"order": {"total": [{"numeric": [">=", 40]}]}}, True),
        ({"count": [3.0]}, True),  # by value
        ({"order": {"customer": {"country": [{"anything-but": ["US", "CA"]}]}}}, True),
        ({"order": {"id": [{"prefix": "o-"}]}, "kind": [{"suffix": "Placed"}]}, True),
        ({"order": {"coupon": [{"exists": False}]}}, True),
        ({"$or": [{"kind": ["OrderShipped"]}, {"order": {"customer": {"tier": ["gold"]}}}]}, True),
        ({"order": {"missing": ["x"]}}, False),
    ],
)
def test_body_policies(policy: dict[str, Any], expected: bool) -> None:
    compiled = Pattern.compile(policy, dialect=SNS_BODY)
    body = sns_body_view(BODY)
    assert body is not None
    assert compiled.matches(body) is expected


@pytest.mark.parametrize("message", ["plain text", "[1, 2]", '"a string"', "{not json"])
def test_a_body_that_is_not_a_json_object_matches_no_body_policy(message: str) -> None:
    assert sns_body_view(message) is None


@pytest.mark.parametrize(
    ("policy", "dialect", "message"),
    [
        ({"a": {"b": ["x"]}}, SNS_ATTRIBUTES, "a: a filter policy on message attributes does not"),
        ({"a": ["1"], "b": ["2"], "c": ["3"], "d": ["4"], "e": ["5"], "f": ["6"]}, SNS_ATTRIBUTES,
         "6 keys; a filter policy has at most 5"),
        ({"a": {"b": ["1"], "c": ["2"], "d": ["3"]}, "e": ["4"], "f": ["5"], "g": ["6"]},
         SNS_BODY, "6 keys"),  # leaf keys count
        ({"a": [str(i) for i in range(16)], "b": [str(i) for i in range(10)]}, SNS_ATTRIBUTES,
         "160 combinations"),
        ({"a": [{"numeric": [">", 2e9]}]}, SNS_ATTRIBUTES, "outside -1e+09..1e+09"),
        ({"a": [1.123456]}, SNS_ATTRIBUTES, "more than 5 decimals"),
        ({"a": [{"wildcard": "x*"}]}, SNS_ATTRIBUTES, "unknown operator 'wildcard'"),
        ({"a": "x"}, SNS_BODY, 'a leaf is an array of conditions, e.g. ["x"]'),
        ({}, SNS_BODY, "filter policy: empty filter policy"),
        ({"a": [{"exists": True, "prefix": "x"}]}, SNS_BODY, "one operator per condition"),
    ],
)  # fmt: skip
def test_policies_sns_refuses(policy: dict[str, Any], dialect: Any, message: str) -> None:
    with pytest.raises(PatternError) as info:
        Pattern.compile(policy, dialect=dialect)
    assert message in str(info.value)


def test_the_or_branches_count_toward_combinations() -> None:
    # (3 + 2) x 2 = 10: within the limit of 150.
    policy = {"a": ["1", "2"], "$or": [{"b": ["1", "2", "3"]}, {"c": ["1", "2"]}]}
    Pattern.compile(policy, dialect=SNS_ATTRIBUTES)
    branches = [{"b": ["1", "2"]}, {"c": ["1", "2", "3"]}]
    too_many = {"a": [str(i) for i in range(31)], "$or": branches}
    with pytest.raises(PatternError, match="155 combinations"):  # 31 x (2 + 3)
        Pattern.compile(too_many, dialect=SNS_ATTRIBUTES)
