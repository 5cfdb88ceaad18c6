"""Key attributes as SQLite column values whose byte order is DynamoDB's order (pure).

A table file keeps, for every key (the table's and each secondary index's), SQL expressions
that SQLite evaluates as generated columns, so rows written by any program with plain SQL are
keyed and ordered exactly like eventsim's own writes. Each expression has a Python twin here
that computes the same value for a key given in a request (tests check that the two agree).

* **key text** (``pk``, ``sk``): the ``S``, ``N`` or ``B`` text of the value. Strings keep
  every character: SQLite's JSON functions cut a string at U+0000, so U+0000 and U+0001 are
  escaped first as the pairs U+0001 U+0001 and U+0001 U+0002, which keeps both the identity and
  the order of strings (every other character is itself).
* **order text**: compares, byte by byte (SQLite's BINARY collation), as DynamoDB compares the
  values: strings by their UTF-8 bytes (the key text itself); binary by its bytes (the base64
  text with its digits, ``+`` and ``/`` moved above the letters, so that base64's character
  order is its value order); numbers by value (sign, decimal exponent, digits, with the digits
  of negative numbers complemented: see ``number_order``).
* **hash**: a number in ``[0, HASH_RANGE)`` from the partition key text; a scan reads in hash
  order (then partition key, then sort key), as DynamoDB's scan reads partitions in the order
  of their key's hash, and a parallel scan's segment is a range of hashes.

Numbers must be written in DynamoDB's canonical form (plain notation, as eventsim writes them)
for their order text to be right; base64 must be standard with padding.

Example::

    number_order("-1.5") < number_order("-1") < number_order("0") < number_order("10")
"""

from __future__ import annotations

import base64
import binascii
from typing import Literal

KeyType = Literal["S", "N", "B"]

#: Hashes are taken modulo this prime (below 2**32); segments split ``[0, HASH_RANGE)``.
HASH_RANGE = 4_294_967_291
_HASH_FACTOR = 16_777_619
#: Characters of the partition key text the hash reads from each end.
_HASH_CHARS = 12

# Base64's 64 digits in value order are A-Z a-z 0-9 + /; in byte order the last twelve come
# first. They are moved above "z" (to U+00C0...U+00CB, two UTF-8 bytes each, in value order).
_BASE64_HIGH = "0123456789+/"
_BASE64_MOVED = {c: chr(0xC0 + i) for i, c in enumerate(_BASE64_HIGH)}
_BASE64_TABLE = str.maketrans({**_BASE64_MOVED, "=": None})
# The digits of a negative number, complemented: 0 -> j ... 9 -> a; "~" (above "j") ends them.
_COMPLEMENT = str.maketrans("0123456789", "jihgfedcba")


def key_text(kind: KeyType, text: str) -> str:
    """The ``pk``/``sk`` column value of a key attribute's ``S``/``N``/``B`` text."""
    if kind == "S":
        return text.replace("\x01", "\x01\x02").replace("\x00", "\x01\x01")
    return text


def order_text(kind: KeyType, text: str) -> str:
    """A key attribute's value (its ``S``/``N``/``B`` text) as its order text."""
    if kind == "S":
        return key_text("S", text)
    if kind == "N":
        return number_order(text)
    return text.translate(_BASE64_TABLE)


def number_order(text: str) -> str:
    """A canonical number's order text: ``2`` for zero; for a positive number ``3``, its
    decimal exponent ``E`` (value = 0.D x 10^E) plus 300 in three digits, then its significant
    digits ``D``; for a negative one ``1``, 700 - E in three digits, the complemented digits,
    then ``~`` (so that a longer run of digits sorts lower)."""
    negative = text.startswith("-")
    digits = text.lstrip("-")
    whole, _, fraction = digits.partition(".")
    whole = whole.lstrip("0")
    if whole:
        exponent, significant = len(whole), (whole + fraction).rstrip("0")
    else:
        zeros = len(fraction) - len(fraction.lstrip("0"))
        exponent, significant = -zeros, fraction.lstrip("0").rstrip("0")
    if not significant:
        return "2"
    if negative:
        return f"1{700 - exponent:03d}{significant.translate(_COMPLEMENT)}~"
    return f"3{exponent + 300:03d}{significant}"


def partition_hash(text: str) -> int:
    """The hash of a partition key text (its ``pk`` column value)."""
    value = len(text)
    n = _HASH_CHARS
    codes = [_code(text[i]) if i < len(text) else 0 for i in range(n)]
    codes += [_code(text[-i]) if i <= len(text) else 0 for i in range(1, n + 1)]
    for code in codes:
        value = (value * _HASH_FACTOR + code) % HASH_RANGE
    return value


def _code(char: str) -> int:
    """A character's code point as SQLite's ``unicode()`` reads it (U+FFFE and U+FFFF as
    U+FFFD)."""
    code = ord(char)
    return 0xFFFD if code in (0xFFFE, 0xFFFF) else code


def segment_range(segment: int, total: int) -> tuple[int, int]:
    """The hashes ``[low, high)`` of one segment of a parallel scan."""
    return segment * HASH_RANGE // total, (segment + 1) * HASH_RANGE // total


def prefix_range(kind: KeyType, text: str) -> tuple[str, str | None]:
    """Order texts ``[low, high)`` holding exactly the values that begin with ``text`` (an
    ``S`` or ``B`` value's text); ``high`` is None when nothing sorts above the prefix."""
    if kind == "S":
        return order_text("S", text), _next_string(text)
    raw = base64.b64decode(text)
    following = raw.rstrip(b"\xff")
    if not following:
        return order_text("B", text), None
    upper = following[:-1] + bytes([following[-1] + 1])
    return order_text("B", text), order_text("B", base64.b64encode(upper).decode())


def _next_string(text: str) -> str | None:
    """The least string above every string that begins with ``text``, as order text."""
    while text:
        code = ord(text[-1]) + 1
        if code == 0xD800:
            code = 0xE000  # surrogates are no characters
        if code <= 0x10FFFF:
            return order_text("S", text[:-1] + chr(code))
        text = text[:-1]
    return None


def valid_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


# --- the same, as SQL over the item's JSON ---------------------------------------------------

_DIGITS_DOWN = "0123456789"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_value(attribute: str, kind: KeyType, source: str = "item") -> str:
    """SQL for the key text of ``attribute`` (NULL when the item lacks it or has another type)."""
    path = _quote(f'$."{attribute}".{kind}')
    if kind != "S":
        return f"json_extract({source}, {path})"
    whole = _quote(f'$."{attribute}"')
    raw = f"json_extract({source}, {whole})"
    # The escapes \u0000 and \u0001 in the raw JSON, after every escaped backslash became
    # \u005c (so no "\\u0000" can be mistaken for one), become the escape pairs.
    escaped = (
        f"replace(replace(replace({raw}, '\\\\', '\\u005c'), '\\u0001', '\\u0001\\u0002'), "
        f"'\\u0000', '\\u0001\\u0001')"
    )
    return (
        f"CASE WHEN instr({raw}, '\\u000') > 0 THEN json_extract({escaped}, '$.S') "
        f"ELSE json_extract({source}, {path}) END"
    )


def sql_order(kind: KeyType, column: str) -> str:
    """SQL for the order text of a key text column (see ``order_text``)."""
    if kind == "S":
        return column
    if kind == "B":
        out = f"replace({column}, '=', '')"
        for char, moved in _BASE64_MOVED.items():
            out = f"replace({out}, {_quote(char)}, {_quote(moved)})"
        return out
    return _sql_number_order(column)


def _sql_number_order(t: str) -> str:
    a = f"ltrim({t}, '-')"
    dot = f"instr({a}, '.')"
    whole = f"ltrim(CASE WHEN {dot} > 0 THEN substr({a}, 1, {dot} - 1) ELSE {a} END, '0')"
    fraction = f"(CASE WHEN {dot} > 0 THEN substr({a}, {dot} + 1) ELSE '' END)"
    exponent = (
        f"(CASE WHEN {whole} <> '' THEN length({whole}) "
        f"ELSE length(ltrim({fraction}, '0')) - length({fraction}) END)"
    )
    significant = (
        f"(CASE WHEN {whole} <> '' THEN rtrim({whole} || {fraction}, '0') "
        f"ELSE rtrim(ltrim({fraction}, '0'), '0') END)"
    )
    complemented = significant
    for digit, replacement in zip(_DIGITS_DOWN, "jihgfedcba", strict=True):
        complemented = f"replace({complemented}, '{digit}', '{replacement}')"
    return (
        f"CASE WHEN {t} IS NULL THEN NULL WHEN {significant} = '' THEN '2' "
        f"WHEN substr({t}, 1, 1) = '-' THEN '1' || printf('%03d', 700 - {exponent}) || "
        f"{complemented} || '~' "
        f"ELSE '3' || printf('%03d', {exponent} + 300) || {significant} END"
    )


def sql_hash(column: str) -> str:
    """SQL for ``partition_hash`` of a key text column."""
    out = f"length({column})"
    n = _HASH_CHARS
    positions = [str(i) for i in range(1, n + 1)] + [str(-i) for i in range(1, n + 1)]
    for position in positions:
        code = f"coalesce(unicode(substr({column}, {position}, 1)), 0)"
        out = f"(({out}) * {_HASH_FACTOR} + {code}) % {HASH_RANGE}"
    return out
