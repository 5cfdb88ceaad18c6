"""Pure matching rules: S3 notification configurations (docs/aws-behaviour.md §1.2, §1.5), and the
one pattern language behind event source mappings' filters (§7.3), SNS subscriptions' filter
policies and EventBridge rules' event patterns.

The three services speak dialects of one language (``Dialect``): Lambda's filters and
EventBridge's patterns compare plain numbers by representation, SNS by value; SNS allows no
nesting on message attributes and limits a policy to 5 keys and 150 combinations;
EventBridge adds ``wildcard``. ``Pattern.compile(p, dialect=...)`` checks a pattern against
its dialect once; ``matches`` is the same for all.

Example::

    event_type_matches(["s3:ObjectCreated:*"], "ObjectCreated:Put")        # True
    key_matches("images/", ".jpg", "images/cat.jpg")                       # True
    configurations_overlap(["s3:ObjectCreated:*"], "", "",
                           ["s3:ObjectCreated:Put"], "images/", "")        # True: S3 refuses
    policy = Pattern.compile({"kind": [{"prefix": "order-"}]}, dialect=SNS_ATTRIBUTES)
    policy.matches(sns_attributes_view({"kind": {"DataType": "String",
                                                 "StringValue": "order-placed"}}))  # True
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import PatternError


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


# --- event filter patterns (docs/aws-behaviour.md §7.3) --------------------------------
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
#: SNS's limit on a filter policy's JSON text (256 KB).
POLICY_MAX_CHARS = 256 * 1024

Condition = Callable[[Any], bool]

_STRING_OPERATORS = ("prefix", "suffix", "equals-ignore-case")
_LAMBDA_OPERATORS = frozenset({*_STRING_OPERATORS, "anything-but", "numeric", "exists", "cidr"})


@dataclass(frozen=True)
class Dialect:
    """One service's variant of the pattern language: what it calls a pattern, the operators
    it takes, how a plain number compares, and its limits."""

    what: str  # "pattern", "filter policy", "event pattern": the word in error messages
    operators: frozenset[str] = _LAMBDA_OPERATORS
    numbers_by_value: bool = False  # SNS: [300] matches 300.0 and a Number attribute "3e2"
    nested: bool = True  # objects inside the pattern (False: SNS on message attributes)
    max_chars: int = PATTERN_MAX_CHARS
    max_keys: int | None = None  # SNS: 5 (leaf keys, $or branches included)
    max_combinations: int | None = None  # SNS: 150 (the product of each array's length)
    numeric_limit: float | None = None  # SNS: |n| <= 1e9 ...
    numeric_decimals: int | None = None  # ... with at most 5 decimals


#: Event source mappings' filters (§7.3).
LAMBDA = Dialect("pattern")
#: EventBridge rules' event patterns: Lambda's operators and ``wildcard``.
EVENTBRIDGE = Dialect("event pattern", _LAMBDA_OPERATORS | {"wildcard"})
#: SNS filter policies on the JSON message body (``FilterPolicyScope: MessageBody``).
SNS_BODY = Dialect(
    "filter policy", numbers_by_value=True, max_chars=POLICY_MAX_CHARS, max_keys=5,
    max_combinations=150, numeric_limit=1e9, numeric_decimals=5,
)  # fmt: skip
#: SNS filter policies on message attributes (``FilterPolicyScope: MessageAttributes``).
SNS_ATTRIBUTES = replace(SNS_BODY, nested=False)


@dataclass(frozen=True)
class _Leaf:
    conditions: tuple[Condition, ...]
    exists: bool | None  # {"exists": true|false}, or None when not given

    @property
    def size(self) -> int:
        return max(1, len(self.conditions))

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
    def compile(cls, pattern: Any, path: str = "", dialect: Dialect = LAMBDA) -> Pattern:
        """Check ``pattern`` against ``dialect``'s rules (``PatternError`` naming the path and
        the rule) and compile it; ``path`` is where it stands, for messages."""
        if not isinstance(pattern, dict):
            raise PatternError(f"{path or dialect.what}: expected an object, got {pattern!r}")
        if len(json.dumps(pattern)) > dialect.max_chars:
            raise PatternError(
                f"{path or dialect.what}: longer than {dialect.max_chars} characters"
            )
        compiled = cls._compile(pattern, path, dialect, top=True)
        where = path or dialect.what
        if dialect.max_keys is not None and (keys := compiled._keys()) > dialect.max_keys:
            raise PatternError(
                f"{where}: {keys} keys; a {dialect.what} has at most {dialect.max_keys}"
            )
        if dialect.max_combinations is not None and (
            (combinations := compiled._combinations()) > dialect.max_combinations
        ):
            raise PatternError(
                f"{where}: {combinations} combinations of values (the product of the number "
                f"of values in each array); a {dialect.what} allows at most "
                f"{dialect.max_combinations}"
            )
        return compiled

    @classmethod
    def _compile(cls, pattern: Any, path: str, dialect: Dialect, top: bool = False) -> Pattern:
        if not isinstance(pattern, dict):
            raise PatternError(f"{path or dialect.what}: expected an object, got {pattern!r}")
        fields: list[tuple[str, Pattern | _Leaf]] = []
        alternatives: tuple[Pattern, ...] = ()
        for key, value in pattern.items():
            where = f"{path}.{key}" if path else key
            if key == "$or":
                if not isinstance(value, list) or len(value) < 2:
                    raise PatternError(f"{where}: expected a list of at least two patterns")
                alternatives = tuple(cls._compile(p, where, dialect) for p in value)
            elif isinstance(value, dict):
                if not dialect.nested:
                    raise PatternError(
                        f"{where}: a {dialect.what} on message attributes does not nest (match "
                        "keys of a JSON message with filter_policy_scope: MessageBody)"
                    )
                fields.append((key, cls._compile(value, where, dialect)))
            elif isinstance(value, list):
                fields.append((key, _leaf(value, where, dialect)))
            else:
                raise PatternError(
                    f"{where}: a leaf is an array of conditions, e.g. [{json.dumps(value)}]"
                )
        if not fields and not alternatives:
            raise PatternError(f"{path or dialect.what}: empty {dialect.what}")
        return cls(tuple(fields), alternatives)

    def _keys(self) -> int:
        """Leaf keys, those of every ``$or`` branch included (SNS's key count)."""
        own = sum(r._keys() if isinstance(r, Pattern) else 1 for _, r in self.fields)
        return own + sum(p._keys() for p in self.alternatives)

    def _combinations(self) -> int:
        """The product of the number of values in each array; ``$or`` branches add up."""
        product = 1
        for _, rule in self.fields:
            product *= rule._combinations() if isinstance(rule, Pattern) else rule.size
        if self.alternatives:
            product *= sum(p._combinations() for p in self.alternatives)
        return product

    def matches(self, record: Any) -> bool:
        if isinstance(record, list):  # an array of objects: when one element matches whole
            return any(self.matches(element) for element in record)
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


def _same_value(a: Any, b: Any) -> bool:
    """Plain equality where numbers compare by value (SNS: 300 is 300.0), True is not 1."""
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    return _same(a, b)


def _equals(expected: Any, same: Callable[[Any, Any], bool]) -> Condition:
    return lambda value: same(value, expected)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _leaf(conditions: list[Any], path: str, dialect: Dialect) -> _Leaf:
    if not conditions:
        raise PatternError(f"{path}: an empty array matches nothing")
    same = _same_value if dialect.numbers_by_value else _same
    compiled: list[Condition] = []
    exists: bool | None = None
    for condition in conditions:
        if isinstance(condition, dict):
            if len(condition) != 1:
                raise PatternError(f"{path}: one operator per condition, got {condition!r}")
            ((operator, operand),) = condition.items()
            if operator == "exists" and "exists" in dialect.operators:
                if not isinstance(operand, bool):
                    raise PatternError(f"{path}: exists takes true or false")
                exists = operand
                continue
            compiled.append(_operator(operator, operand, path, dialect))
        elif condition is None or isinstance(condition, str | int | float | bool):
            if isinstance(condition, int | float) and _is_number(condition):
                _check_number(condition, path, dialect)
            compiled.append(_equals(condition, same))
        else:
            raise PatternError(f"{path}: {condition!r} is not a condition")
    if exists is not None and compiled:
        raise PatternError(f"{path}: exists cannot be combined with other conditions")
    return _Leaf(tuple(compiled), exists)


def _operator(operator: str, operand: Any, path: str, dialect: Dialect) -> Condition:
    if operator not in dialect.operators:
        raise PatternError(
            f"{path}: unknown operator {operator!r} (a {dialect.what} takes "
            f"{_listed(sorted(dialect.operators))})"
        )
    if operator in _STRING_OPERATORS:
        if not isinstance(operand, str):
            raise PatternError(f"{path}: {operator} takes a string")
        return _string_test(operator, operand)
    if operator == "anything-but":
        return _anything_but(operand, path, dialect)
    if operator == "numeric":
        return _numeric(operand, path, dialect)
    if operator == "wildcard":
        return _wildcard(operand, path)
    try:
        network = ipaddress.ip_network(operand, strict=False)
    except (TypeError, ValueError):
        raise PatternError(f"{path}: cidr takes a network like 10.0.0.0/24") from None
    return lambda v: _in_network(v, network)


def _listed(names: list[str]) -> str:
    return ", ".join(names[:-1]) + f" or {names[-1]}"


def _anything_but(operand: Any, path: str, dialect: Dialect) -> Condition:
    if isinstance(operand, dict):
        if len(operand) != 1 or next(iter(operand)) not in _STRING_OPERATORS:
            raise PatternError(
                f"{path}: anything-but takes values or one of prefix, suffix, equals-ignore-case"
            )
        ((inner, text),) = operand.items()
        if not isinstance(text, str):
            raise PatternError(f"{path}: anything-but {inner} takes a string")
        test = _string_test(inner, text)
        return lambda v: isinstance(v, str) and not test(v)
    values = operand if isinstance(operand, list) else [operand]
    if not values or not all(isinstance(x, str) or _is_number(x) for x in values):
        raise PatternError(f"{path}: anything-but takes strings or numbers")
    for number in filter(_is_number, values):
        _check_number(number, path, dialect)
    same = _same_value if dialect.numbers_by_value else _same
    return lambda v: not any(same(v, x) for x in values)


def _check_number(number: float, path: str, dialect: Dialect) -> None:
    """SNS's bounds on a number in a policy: within ±1e9, at most 5 decimals."""
    limit, decimals = dialect.numeric_limit, dialect.numeric_decimals
    if limit is not None and not (math.isfinite(number) and abs(number) <= limit):
        raise PatternError(f"{path}: {number!r} is outside -{limit:.0e}..{limit:.0e}")
    if decimals is not None:
        exponent = Decimal(repr(number)).as_tuple().exponent
        if isinstance(exponent, int) and exponent < -decimals:
            raise PatternError(f"{path}: {number!r} has more than {decimals} decimals")


def _wildcard(operand: Any, path: str) -> Condition:
    """EventBridge's ``wildcard``: ``*`` matches any characters, ``\\*`` a star."""
    if not isinstance(operand, str):
        raise PatternError(f"{path}: wildcard takes a string")
    if "**" in operand:
        raise PatternError(f"{path}: wildcard allows no consecutive stars (**)")
    parts = re.split(r"(?<!\\)\*", operand)
    regex = re.compile(
        ".*".join(re.escape(p.replace("\\*", "*").replace("\\\\", "\\")) for p in parts),
        re.DOTALL,
    )
    return lambda v: isinstance(v, str) and regex.fullmatch(v) is not None


def _string_test(operator: str, text: str) -> Condition:
    if operator == "prefix":
        return lambda v: isinstance(v, str) and v.startswith(text)
    if operator == "suffix":
        return lambda v: isinstance(v, str) and v.endswith(text)
    folded = text.casefold()
    return lambda v: isinstance(v, str) and v.casefold() == folded


def _numeric(operand: Any, path: str, dialect: Dialect) -> Condition:
    if not isinstance(operand, list) or len(operand) not in (2, 4):
        raise PatternError(f"{path}: numeric takes [op, n] or [op, n, op, n]")
    tests: list[tuple[Callable[[float, float], bool], float]] = []
    for op, number in zip(operand[::2], operand[1::2], strict=True):
        if op not in _NUMERIC_OPS or not _is_number(number):
            raise PatternError(
                f"{path}: numeric comparisons are one of = < <= > >= and a number, "
                f"got {op!r} {number!r}"
            )
        _check_number(number, path, dialect)
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


# --- SNS: what a filter policy sees -----------------------------------------------------------


def sns_attributes_view(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A message's attributes (the API form, ``{"DataType": ..., "StringValue": ...}``) as a
    ``MessageAttributes`` filter policy sees them: a ``String`` as its text, a ``Number`` as a
    number, a ``String.Array`` as its JSON array; ``Binary`` attributes are ignored (SNS
    compares only String, String.Array and Number)."""
    view: dict[str, Any] = {}
    for name, attribute in attributes.items():
        base = str(attribute.get("DataType", "")).partition(".")[0]
        text = attribute.get("StringValue")
        if base == "String" and attribute.get("DataType") == "String.Array":
            try:
                view[name] = json.loads(text) if isinstance(text, str) else None
            except ValueError:
                continue
        elif base == "String":
            view[name] = text
        elif base == "Number" and isinstance(text, str):
            number = _number(text)
            if number is not None:
                view[name] = number
    return view


def sns_body_view(message: str) -> dict[str, Any] | None:
    """A message as a ``MessageBody`` filter policy sees it: its JSON object, or None (a body
    that is not a JSON object matches no body policy)."""
    try:
        body = json.loads(message)
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def _number(text: str) -> int | float | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return int(value) if value == value.to_integral_value() else float(value)
