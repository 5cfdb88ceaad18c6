"""The DynamoDB JSON codec: exact round trips and DynamoDB's refusals."""

from __future__ import annotations

import base64
from decimal import Context, Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer
from hypothesis import given
from hypothesis import strategies as st

from eventsim.errors import ValueRejected
from eventsim.events.dynamodb_json import marshal, marshal_item, number, unmarshal

_EXACT = Context(prec=1000)


def _storable(d: Decimal) -> bool:
    n = d.normalize(_EXACT)
    return d.is_zero() or (len(n.as_tuple().digits) <= 38 and -130 <= n.adjusted() <= 125)


numbers = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(_storable)
scalars = (
    st.none() | st.booleans() | st.text() | st.binary() | numbers.map(lambda d: Decimal(number(d)))
)
values = st.recursive(
    scalars
    | st.frozensets(st.text(), min_size=1).map(set)
    | st.frozensets(st.binary(), min_size=1).map(set)
    | st.frozensets(numbers.map(lambda d: Decimal(number(d))), min_size=1).map(set),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=15,
)


@given(values)
def test_round_trip_is_exact(value: Any) -> None:
    assert unmarshal(marshal(value)) == value


def _as_botocore_parses(value: dict[str, Any]) -> dict[str, Any]:
    """The JSON protocol's B/BS arrive base64; botocore decodes them before boto3 sees them."""
    ((tag, data),) = value.items()
    if tag == "B":
        return {tag: base64.b64decode(data)}
    if tag == "BS":
        return {tag: [base64.b64decode(b) for b in data]}
    if tag == "M":
        return {tag: {k: _as_botocore_parses(v) for k, v in data.items()}}
    if tag == "L":
        return {tag: [_as_botocore_parses(v) for v in data]}
    return value


@given(values)
def test_boto3_reads_what_we_write(value: Any) -> None:
    # boto3's own deserializer (no part of eventsim) agrees on every encoded value.
    assert TypeDeserializer().deserialize(_as_botocore_parses(marshal(value))) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {"NULL": True}),
        (True, {"BOOL": True}),
        (0, {"N": "0"}),
        (Decimal("1.50"), {"N": "1.5"}),
        (1.1, {"N": "1.1"}),
        (10**37, {"N": str(10**37)}),
        ("é", {"S": "é"}),
        (b"\x00\x01", {"B": "AAE="}),
        ([1, "a"], {"L": [{"N": "1"}, {"S": "a"}]}),
        ({"m": {}}, {"M": {"m": {"M": {}}}}),
        ({"b", "a"}, {"SS": ["a", "b"]}),
        ({10, 9}, {"NS": ["9", "10"]}),
        ({b"\x01"}, {"BS": ["AQ=="]}),
    ],
)
def test_encodings(value: Any, expected: Any) -> None:
    assert marshal(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (set(), "empty sets"),
        (float("nan"), "finite"),
        (Decimal("Infinity"), "finite"),
        (Decimal("1." + "1" * 38), "38 significant digits"),
        (Decimal("1E+126"), "magnitude"),
        (Decimal("1E-131"), "magnitude"),
        ({1, "a"}, "only strings, only numbers"),
        (object(), "cannot store"),
        ({1: "x"}, "attribute names are strings"),
    ],
)
def test_values_dynamodb_rejects(value: Any, reason: str) -> None:
    with pytest.raises(ValueRejected, match=reason):
        marshal(value)


@pytest.mark.parametrize(
    "value",
    [{"N": "abc"}, {"S": 1}, {"NULL": False}, {"SS": []}, {"SS": ["a", "a"]}, {"B": "!!"}, {}],
)
def test_invalid_attribute_values(value: Any) -> None:
    with pytest.raises(ValueRejected):
        unmarshal(value)


def test_marshal_item() -> None:
    assert marshal_item({"pk": "a"}) == {"pk": {"S": "a"}}
