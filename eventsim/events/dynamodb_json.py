"""DynamoDB JSON (AttributeValue) encoding, docs/aws-behaviour.md §2.4.

``marshal`` turns Python values into AttributeValues and ``unmarshal`` turns them back, exactly:
numbers come back as ``Decimal`` with no float rounding, binary as ``bytes``, sets as ``set``.
Values DynamoDB rejects raise ``ValueRejected`` naming the value and the rule.

Example::

    marshal({"id": 7, "tags": {"a", "b"}})
    # {"M": {"id": {"N": "7"}, "tags": {"SS": ["a", "b"]}}}
    unmarshal_item({"id": {"N": "7"}})            # {"id": Decimal("7")}
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from ..errors import ValueRejected

AttributeValue = dict[str, Any]

# DynamoDB numbers: up to 38 significant digits, magnitude 1E-130 .. 9.99...E+125.
_DIGITS = 38
_EXPONENTS = range(-130, 126)  # Decimal.adjusted() of the first significant digit
_WIDE = Context(prec=1000)


def number(value: int | float | Decimal | str) -> str:
    """The canonical DynamoDB string of a number; ``ValueRejected`` if DynamoDB would refuse it.

    Canonical means plain notation without trailing zeros: ``Decimal("1.50")`` -> ``"1.5"``.
    """
    try:
        decimal = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        raise ValueRejected(f"{value!r} is not a number") from None
    if not decimal.is_finite():
        raise ValueRejected(f"DynamoDB numbers must be finite, got {value!r}")
    if decimal.is_zero():
        return "0"
    normal = decimal.normalize(_WIDE)
    if len(normal.as_tuple().digits) > _DIGITS:
        raise ValueRejected(
            f"DynamoDB numbers have at most {_DIGITS} significant digits, got {value!r}"
        )
    if normal.adjusted() not in _EXPONENTS:
        raise ValueRejected(
            f"DynamoDB numbers lie within 1E-130 .. 9.99E+125 in magnitude, got {value!r}"
        )
    return format(normal, "f")


def marshal(value: Any) -> AttributeValue:
    """A Python value as an AttributeValue.

    ``None`` -> NULL, ``bool`` -> BOOL, ``int``/``float``/``Decimal`` -> N, ``str`` -> S,
    ``bytes`` -> B, mappings -> M, lists and tuples -> L, sets of str/numbers/bytes -> SS/NS/BS.
    """
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float | Decimal):
        return {"N": number(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"B": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, Mapping):
        return {"M": marshal_item(value)}
    if isinstance(value, list | tuple):
        return {"L": [marshal(v) for v in value]}
    if isinstance(value, set | frozenset):
        return _marshal_set(value)
    raise ValueRejected(f"cannot store a {type(value).__name__} in DynamoDB: {value!r}")


def marshal_item(item: Mapping[str, Any]) -> dict[str, AttributeValue]:
    """A mapping of attribute names to Python values, as DynamoDB JSON."""
    out: dict[str, AttributeValue] = {}
    for name, value in item.items():
        if not isinstance(name, str):
            raise ValueRejected(f"attribute names are strings, got {name!r}")
        out[name] = marshal(value)
    return out


def _marshal_set(values: set[Any] | frozenset[Any]) -> AttributeValue:
    if not values:
        raise ValueRejected("DynamoDB does not store empty sets")
    if all(isinstance(v, str) for v in values):
        return {"SS": sorted(values)}
    if all(isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in values):
        numbers = {number(v) for v in values}
        return {"NS": sorted(numbers, key=Decimal)}
    if all(isinstance(v, bytes | bytearray) for v in values):
        return {"BS": sorted(base64.b64encode(bytes(v)).decode() for v in values)}
    raise ValueRejected(
        f"a DynamoDB set holds only strings, only numbers or only binary: {values!r}"
    )


def unmarshal(value: AttributeValue) -> Any:
    """An AttributeValue as a Python value (N -> Decimal, B -> bytes, SS/NS/BS -> set)."""
    if not isinstance(value, Mapping) or len(value) != 1:
        raise ValueRejected(f"an AttributeValue has exactly one type key, got {value!r}")
    ((tag, data),) = value.items()
    try:
        if tag == "S" and isinstance(data, str):
            return data
        if tag == "N" and isinstance(data, str):
            return Decimal(number(data))
        if tag == "B" and isinstance(data, str):
            return base64.b64decode(data, validate=True)
        if tag == "BOOL" and isinstance(data, bool):
            return data
        if tag == "NULL" and data is True:
            return None
        if tag == "M" and isinstance(data, Mapping):
            return unmarshal_item(data)
        if tag == "L" and isinstance(data, list):
            return [unmarshal(v) for v in data]
        if tag in ("SS", "NS", "BS") and isinstance(data, list) and data:
            member = {"SS": "S", "NS": "N", "BS": "B"}[tag]
            items = [unmarshal({member: v}) for v in data]
            result = set(items)
            if len(result) != len(items):
                raise ValueRejected(f"{tag} holds duplicates: {data!r}")
            return result
    except binascii.Error:
        raise ValueRejected(f"invalid base64 in {value!r}") from None
    raise ValueRejected(f"invalid AttributeValue {value!r}")


def unmarshal_item(item: Mapping[str, AttributeValue]) -> dict[str, Any]:
    """A DynamoDB JSON item as a dict of Python values."""
    return {name: unmarshal(value) for name, value in item.items()}
