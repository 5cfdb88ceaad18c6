"""Key columns: each SQL expression agrees with its Python twin, and order texts sort as
DynamoDB sorts keys (strings by UTF-8 bytes, numbers by value, binary by bytes)."""

from __future__ import annotations

import base64
import json
import random
import sqlite3
from collections.abc import Iterator
from decimal import Decimal

import pytest

from eventsim.events.dynamodb_json import number
from eventsim.resources import table_keys as keys

ALPHABET = ["a", "b", "\x00", "\x01", "\x02", "\\", '"', "é", "\U0001f600", "u", "0", "\ud7ff",
            "\ue000", "\uffff", "\U0010ffff"]  # fmt: skip
TRICKY = ["\\u0000", "\\\\u0001", "a\\u0000\x00", "\\", "\x00\\u0001", ""]


@pytest.fixture
def db() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    yield connection
    connection.close()


def strings(n: int) -> list[str]:
    rng = random.Random(1)
    made = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 20))) for _ in range(n)]
    return made + TRICKY


def utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def test_string_keys_keep_every_character_and_their_order(db: sqlite3.Connection) -> None:
    texts = strings(2000)
    for text in texts:
        item = json.dumps({"k": {"S": text}}, ensure_ascii=False)
        (column,) = db.execute("SELECT " + keys.sql_value("k", "S", ":x"), {"x": item}).fetchone()
        assert column == keys.key_text("S", text), text
        (hashed,) = db.execute("SELECT " + keys.sql_hash(":x"), {"x": column}).fetchone()
        assert hashed == keys.partition_hash(column)
        assert 0 <= hashed < keys.HASH_RANGE
    distinct = sorted(set(texts), key=utf8)
    assert sorted(distinct, key=lambda t: utf8(keys.order_text("S", t))) == distinct
    assert len({keys.key_text("S", t) for t in distinct}) == len(distinct)


def test_number_order_text_sorts_by_value(db: sqlite3.Connection) -> None:
    rng = random.Random(2)
    texts = {"0", "1", "-1", "10", "100", "0.1", "-0.1", "-10", "1.5", "-1.5", "9.99", "-9.99"}
    while len(texts) < 3000:
        digits = rng.randint(1, 38)
        value = Decimal(rng.randrange(-(10**digits), 10**digits)).scaleb(rng.randint(-130, 80))
        if value and -126 < value.adjusted() < 126 and value.adjusted() >= -130:
            texts.add(number(value))
    for text in texts:
        item = json.dumps({"k": {"N": text}})
        (column,) = db.execute("SELECT " + keys.sql_value("k", "N", ":x"), {"x": item}).fetchone()
        (order,) = db.execute("SELECT " + keys.sql_order("N", ":x"), {"x": column}).fetchone()
        assert order == keys.number_order(text), text
    assert sorted(texts, key=keys.number_order) == sorted(texts, key=Decimal)


def test_binary_order_text_sorts_by_bytes(db: sqlite3.Connection) -> None:
    rng = random.Random(3)
    values = {bytes(rng.randrange(256) for _ in range(rng.randint(1, 9))) for _ in range(2000)}
    values |= {b"\x00", b"\xff", b"\xff\xff", b"\x00\x00"}
    for value in values:
        text = base64.b64encode(value).decode()
        (order,) = db.execute("SELECT " + keys.sql_order("B", ":x"), {"x": text}).fetchone()
        assert order == keys.order_text("B", text)
    ordered = sorted(values)
    by_text = sorted(values, key=lambda v: utf8(keys.order_text("B", base64.b64encode(v).decode())))
    assert by_text == ordered


@pytest.mark.parametrize("prefix", [b"\x01", b"\xff", b"\x01\xff", b"ab", b"\x00"])
def test_a_binary_prefix_is_a_range(prefix: bytes) -> None:
    low, high = keys.prefix_range("B", base64.b64encode(prefix).decode())
    rng = random.Random(4)
    for _ in range(2000):
        value = prefix[: rng.randint(0, len(prefix))] + bytes(
            rng.choice([0, 1, 0x7F, 0xFF]) for _ in range(rng.randint(0, 3))
        )
        if not value:
            continue
        order = keys.order_text("B", base64.b64encode(value).decode())
        inside = low <= order and (high is None or order < high)
        assert inside == value.startswith(prefix), value


@pytest.mark.parametrize("prefix", ["a", "\x00", "\U0010ffff", "a\\", "\ud7ff", "é\U0010ffff"])
def test_a_string_prefix_is_a_range(prefix: str) -> None:
    low, high = keys.prefix_range("S", prefix)
    for text in strings(2000):
        order = utf8(keys.order_text("S", text))
        inside = utf8(low) <= order and (high is None or order < utf8(high))
        assert inside == text.startswith(prefix), text


def test_segments_split_the_hash_range_without_gaps() -> None:
    for total in (1, 3, 7, 1000):
        ranges = [keys.segment_range(s, total) for s in range(total)]
        assert ranges[0][0] == 0 and ranges[-1][1] == keys.HASH_RANGE
        assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
