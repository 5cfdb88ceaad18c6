"""Pure matching rules: S3 notification configurations (reference §1.2, §1.5) and event
filter patterns of event source mappings (§7.3).

Example::

    event_type_matches(["s3:ObjectCreated:*"], "ObjectCreated:Put")        # True
    key_matches("images/", ".jpg", "images/cat.jpg")                       # True
    configurations_overlap(["s3:ObjectCreated:*"], "", "",
                           ["s3:ObjectCreated:Put"], "images/", "")        # True: S3 refuses
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .errors import EventsimError


def event_type_matches(configured: Iterable[str], event_name: str) -> bool:
    """Whether an event (``ObjectCreated:Put``) is one of the configured types
    (``s3:ObjectCreated:Put`` or the family wildcard ``s3:ObjectCreated:*``)."""
    family = event_name.rsplit(":", 1)[0]
    return any(c == f"s3:{event_name}" or c == f"s3:{family}:*" for c in configured)


def key_matches(prefix: str, suffix: str, encoded_key: str) -> bool:
    """S3 compares filter values with the key as it appears in the event (URL-encoded)."""
    return encoded_key.startswith(prefix) and encoded_key.endswith(suffix)


def _types_intersect(a: Iterable[str], b: Iterable[str]) -> bool:
    def expand(types: Iterable[str]) -> set[str]:
        return {t.removesuffix("*") if t.endswith(":*") else t for t in types}

    for x in expand(a):
        for y in expand(b):
            if (
                x == y
                or (x.endswith(":") and y.startswith(x))
                or (y.endswith(":") and x.startswith(y))
            ):
                return True
    return False


def configurations_overlap(
    events_a: Iterable[str],
    prefix_a: str,
    suffix_a: str,
    events_b: Iterable[str],
    prefix_b: str,
    suffix_b: str,
) -> bool:
    """S3's rule: event types intersect and prefixes overlap and suffixes overlap; a prefix
    overlaps another when one starts the other, a suffix when one ends the other."""
    prefixes = prefix_a.startswith(prefix_b) or prefix_b.startswith(prefix_a)
    suffixes = suffix_a.endswith(suffix_b) or suffix_b.endswith(suffix_a)
    return prefixes and suffixes and _types_intersect(events_a, events_b)


# --- event filter patterns (reference §7.3) -------------------------------------------------
#
# One implementation for every event source mapping. A pattern mirrors the record: named
# fields must exist (unless ``{"exists": false}``), leaves are arrays of conditions (OR), several
# fields are AND, ``$or`` is OR across sub-patterns, and a record value that is an array
# matches when any element does.

_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
#: AWS's limit on a pattern's JSON text.
PATTERN_MAX_CHARS = 4096

Condition = Callable[[Any], bool]


class PatternError(EventsimError, ValueError):
    """A filter pattern Lambda would refuse; the message names the path and the rule."""


@dataclass(frozen=True)
class _Leaf:
    conditions: tuple[Condition, ...]
    exists: bool | None  # {"exists": true|false}, or None when not given

    def matches_missing(self) -> bool:
        return self.exists is False

    def matches(self, value: Any) -> bool:
        if self.exists is False:
            return False
        values = value if isinstance(value, list) else [value]
        if self.exists is True and not self.conditions:
            return True
        return any(c(v) for c in self.conditions for v in values)


@dataclass(frozen=True)
class Pattern:
    """A compiled filter pattern: ``Pattern.compile(p).matches(record)``."""

    fields: tuple[tuple[str, Pattern | _Leaf], ...]
    alternatives: tuple[Pattern, ...] = ()  # $or

    @classmethod
    def compile(cls, pattern: Any, path: str = "") -> Pattern:
        if not isinstance(pattern, dict):
            raise PatternError(f"{path or 'pattern'}: expected an object, got {pattern!r}")
        if not path and len(json.dumps(pattern)) > PATTERN_MAX_CHARS:
            raise PatternError(f"pattern: longer than {PATTERN_MAX_CHARS} characters")
        fields: list[tuple[str, Pattern | _Leaf]] = []
        alternatives: tuple[Pattern, ...] = ()
        for key, value in pattern.items():
            where = f"{path}.{key}" if path else key
            if key == "$or":
                if not isinstance(value, list) or len(value) < 2:
                    raise PatternError(f"{where}: expected a list of at least two patterns")
                alternatives = tuple(cls.compile(p, where) for p in value)
            elif isinstance(value, dict):
                fields.append((key, cls.compile(value, where)))
            elif isinstance(value, list):
                fields.append((key, _leaf(value, where)))
            else:
                raise PatternError(
                    f"{where}: a leaf is an array of conditions, e.g. [{json.dumps(value)}]"
                )
        if not fields and not alternatives:
            raise PatternError(f"{path or 'pattern'}: empty pattern")
        return cls(tuple(fields), alternatives)

    def matches(self, record: Any) -> bool:
        if not isinstance(record, dict):
            return False
        for key, rule in self.fields:
            if key not in record:
                if isinstance(rule, _Leaf) and rule.matches_missing():
                    continue
                return False
            if not rule.matches(record[key]):
                return False
        return not self.alternatives or any(p.matches(record) for p in self.alternatives)


def _same(a: Any, b: Any) -> bool:
    """Plain equality, but 300 is not 300.0 and True is not 1 (AWS compares representations)."""
    return type(a) is type(b) and a == b


def _equals(expected: Any) -> Condition:
    return lambda value: _same(value, expected)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _leaf(conditions: list[Any], path: str) -> _Leaf:
    if not conditions:
        raise PatternError(f"{path}: an empty array matches nothing")
    compiled: list[Condition] = []
    exists: bool | None = None
    for condition in conditions:
        if isinstance(condition, dict):
            if len(condition) != 1:
                raise PatternError(f"{path}: one operator per condition, got {condition!r}")
            ((operator, operand),) = condition.items()
            if operator == "exists":
                if not isinstance(operand, bool):
                    raise PatternError(f"{path}: exists takes true or false")
                exists = operand
                continue
            compiled.append(_operator(operator, operand, path))
        elif condition is None or isinstance(condition, str | int | float | bool):
            compiled.append(_equals(condition))
        else:
            raise PatternError(f"{path}: {condition!r} is not a condition")
    if exists is not None and compiled:
        raise PatternError(f"{path}: exists cannot be combined with other conditions")
    return _Leaf(tuple(compiled), exists)


def _operator(operator: str, operand: Any, path: str) -> Condition:
    if operator in ("prefix", "suffix", "equals-ignore-case"):
        if not isinstance(operand, str):
            raise PatternError(f"{path}: {operator} takes a string")
        return _string_test(operator, operand)
    if operator == "anything-but":
        if isinstance(operand, dict):
            if len(operand) != 1 or next(iter(operand)) not in (
                "prefix", "suffix", "equals-ignore-case"
            ):  # fmt: skip
                raise PatternError(
                    f"{path}: anything-but takes values or one of prefix, suffix, "
                    "equals-ignore-case"
                )
            ((inner, text),) = operand.items()
            if not isinstance(text, str):
                raise PatternError(f"{path}: anything-but {inner} takes a string")
            test = _string_test(inner, text)
            return lambda v: isinstance(v, str) and not test(v)
        values = operand if isinstance(operand, list) else [operand]
        if not values or not all(isinstance(x, str) or _is_number(x) for x in values):
            raise PatternError(f"{path}: anything-but takes strings or numbers")
        return lambda v: not any(_same(v, x) for x in values)
    if operator == "numeric":
        return _numeric(operand, path)
    if operator == "cidr":
        try:
            network = ipaddress.ip_network(operand, strict=False)
        except (TypeError, ValueError):
            raise PatternError(f"{path}: cidr takes a network like 10.0.0.0/24") from None
        return lambda v: _in_network(v, network)
    raise PatternError(
        f"{path}: unknown operator {operator!r} (expected prefix, suffix, equals-ignore-case, "
        "anything-but, numeric, exists or cidr)"
    )


def _string_test(operator: str, text: str) -> Condition:
    if operator == "prefix":
        return lambda v: isinstance(v, str) and v.startswith(text)
    if operator == "suffix":
        return lambda v: isinstance(v, str) and v.endswith(text)
    folded = text.casefold()
    return lambda v: isinstance(v, str) and v.casefold() == folded


def _numeric(operand: Any, path: str) -> Condition:
    if not isinstance(operand, list) or len(operand) not in (2, 4):
        raise PatternError(f"{path}: numeric takes [op, n] or [op, n, op, n]")
    tests: list[tuple[Callable[[float, float], bool], float]] = []
    for op, number in zip(operand[::2], operand[1::2], strict=True):
        if op not in _NUMERIC_OPS or not _is_number(number):
            raise PatternError(
                f"{path}: numeric comparisons are one of = < <= > >= and a number, "
                f"got {op!r} {number!r}"
            )
        tests.append((_NUMERIC_OPS[op], number))
    return lambda v: _is_number(v) and all(test(v, n) for test, n in tests)


def _in_network(value: Any, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        return isinstance(value, str) and ipaddress.ip_address(value) in network
    except ValueError:
        return False


@dataclass(frozen=True)
class FilterSet:
    """A mapping's filters: a record passes if any pattern matches (or there are none)."""

    patterns: tuple[Pattern, ...] = ()

    @classmethod
    def compile(cls, patterns: list[Any]) -> FilterSet:
        return cls(tuple(Pattern.compile(p, f"filters[{i}]") for i, p in enumerate(patterns)))

    def passes(self, record: Any) -> bool:
        return not self.patterns or any(p.matches(record) for p in self.patterns)


def sqs_view(record: dict[str, Any]) -> dict[str, Any]:
    """An SQS record as filters see it: a JSON body is matched as parsed JSON, any other body
    as a plain string (§7.3)."""
    try:
        body = json.loads(record["body"])
    except (ValueError, TypeError, KeyError):
        return record
    return {**record, "body": body}
