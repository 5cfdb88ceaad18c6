"""Query and Scan in SQL: DynamoDB's key order, seeks, segments, plain-SQL rows, the v1 file."""

from __future__ import annotations

import base64
import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from eventsim import Simulator
from eventsim.errors import TableError
from eventsim.resources.table import Table
from eventsim.state import APPLICATION_ID
from eventsim.testing import SimulatorFactory

pytestmark = pytest.mark.asyncio

NUMBERS = ["-1E+100", "-12.5", "-12", "-1.25", "-0.001", "0", "1E-130", "0.001", "0.5", "1",
           "1.5", "9.99", "10", "12", "100", "1E+100",
           "9.9999999999999999999999999999999999999E+125"]  # fmt: skip
STRINGS = ["", "\x00", "\x00\x00", "\x01", "\x02", "A", "a", "a\x00", "a\x00b", "a\x00c", "a\x01",
           "ab", "é", "\uffff", "\U00010000", "\U0010ffff"]  # fmt: skip
BINARY = [b"\x00", b"\x00\x00", b"\x01", b"\x01\xff", b"\x7f", b"\x80", b"\xfe", b"\xff",
          b"\xff\x00", b"\xff\xff"]  # fmt: skip


async def table(factory: SimulatorFactory, sort_type: str, **extra: Any) -> tuple[Simulator, Table]:
    config = {"partition_key": "pk", "sort_key": "sk", "sort_key_type": sort_type, **extra}
    sim = await factory({"tables": {"items": config}})
    return sim, sim.table("items")


def sort_values(table: Table, **options: Any) -> list[Any]:
    return [item["sk"] for item in table.query("pk = :p", values={":p": "p"}, **options)]


async def test_numbers_sort_by_value(eventsim_factory: SimulatorFactory) -> None:
    _, t = await table(eventsim_factory, "N")
    t.batch_write(put=[{"pk": "p", "sk": Decimal(n)} for n in reversed(NUMBERS)])
    expected = sorted(Decimal(n) for n in NUMBERS)
    assert sort_values(t) == expected
    assert sort_values(t, forward=False) == expected[::-1]
    found = t.query("pk = :p AND sk BETWEEN :a AND :b", values={":p": "p", ":a": -12, ":b": 1})
    assert [i["sk"] for i in found] == [n for n in expected if -12 <= n <= 1]
    below = t.query("pk = :p AND sk < :a", values={":p": "p", ":a": Decimal("0.5")})
    assert [i["sk"] for i in below] == [n for n in expected if n < Decimal("0.5")]


async def test_strings_sort_by_utf8_bytes_and_keep_every_character(
    eventsim_factory: SimulatorFactory,
) -> None:
    _, t = await table(eventsim_factory, "S")
    present = [s for s in STRINGS if s]  # an empty string is no key
    for s in reversed(present):
        t.put_item({"pk": "p", "sk": s, "was": s})
    assert sort_values(t) == sorted(present, key=lambda s: s.encode())
    for s in present:  # "a\0b" and "a\0c" are two items (SQLite's JSON cuts at U+0000)
        assert t.get_item({"pk": "p", "sk": s}) == {"pk": "p", "sk": s, "was": s}
    prefixed = t.query("pk = :p AND begins_with(sk, :s)", values={":p": "p", ":s": "a\x00"})
    assert [i["sk"] for i in prefixed] == ["a\x00", "a\x00b", "a\x00c"]
    top = t.query("pk = :p AND begins_with(sk, :s)", values={":p": "p", ":s": "\U0010ffff"})
    assert [i["sk"] for i in top] == ["\U0010ffff"]
    t.put_item({"pk": "a\x00b", "sk": "1"})
    t.put_item({"pk": "a\x00c", "sk": "1"})
    assert len(t.query("pk = :p", values={":p": "a\x00b"})) == 1


async def test_binary_sorts_by_bytes_and_begins_with_is_a_byte_prefix(
    eventsim_factory: SimulatorFactory,
) -> None:
    _, t = await table(eventsim_factory, "B")
    t.batch_write(put=[{"pk": "p", "sk": b} for b in reversed(BINARY)])
    assert sort_values(t) == sorted(BINARY)
    for prefix in (b"\x01", b"\xff", b"\x00"):
        found = t.query("pk = :p AND begins_with(sk, :b)", values={":p": "p", ":b": prefix})
        assert [i["sk"] for i in found] == [b for b in sorted(BINARY) if b.startswith(prefix)]


async def test_pages_end_at_the_limit_and_resume_after_any_key(
    eventsim_factory: SimulatorFactory,
) -> None:
    _, t = await table(eventsim_factory, "N")
    t.batch_write(put=[{"pk": "p", "sk": n, "v": n} for n in range(0, 20, 2)])
    values = {":p": {"S": "p"}}
    page = t.query_page("pk = :p", values=values, limit=3)
    assert [i["sk"]["N"] for i in page.items] == ["0", "2", "4"]
    assert page.last_key == {"pk": {"S": "p"}, "sk": {"N": "4"}}
    # An ExclusiveStartKey naming no item: the page continues after where it would be.
    after = t.query_page("pk = :p", values=values, limit=2,
                         start_key={"pk": {"S": "p"}, "sk": {"N": "5"}})  # fmt: skip
    assert [i["sk"]["N"] for i in after.items] == ["6", "8"]
    back = t.query_page("pk = :p", values=values, forward=False, limit=2,
                        start_key={"pk": {"S": "p"}, "sk": {"N": "5"}})  # fmt: skip
    assert [i["sk"]["N"] for i in back.items] == ["4", "2"]
    # A page that ends exactly at the last item still says where it stopped (as DynamoDB:
    # no look-ahead); the next page is empty and has no LastEvaluatedKey.
    end = t.query_page("pk = :p", values=values, limit=2,
                       start_key={"pk": {"S": "p"}, "sk": {"N": "14"}})  # fmt: skip
    assert [i["sk"]["N"] for i in end.items] == ["16", "18"] and end.last_key is not None
    beyond = t.query_page("pk = :p", values=values, start_key=end.last_key)
    assert beyond.items == [] and beyond.last_key is None
    # Limit counts the items read, before the filter.
    filtered = t.query_page("pk = :p", values={**values, ":x": {"N": "2"}}, limit=3,
                            filter="v > :x")  # fmt: skip
    assert filtered.scanned_count == 3 and len(filtered.items) == 1
    with pytest.raises(TableError, match="starting key is invalid"):
        t.query_page("pk = :p", values=values, start_key={"pk": {"S": "p"}})


async def test_scan_reads_partitions_in_hash_order_and_segments_split_it(
    eventsim_factory: SimulatorFactory,
) -> None:
    _, t = await table(eventsim_factory, "N")
    t.batch_write(put=[{"pk": f"p{p}", "sk": n} for p in range(5) for n in range(5)])
    t.batch_write(put=[{"pk": f"q{p}", "sk": 0} for p in range(20)])
    everything = t.scan()
    assert len(everything) == 45
    partitions = [item["pk"] for item in everything]
    # Each partition's items together, in sort-key order.
    runs = [p for i, p in enumerate(partitions) if i == 0 or partitions[i - 1] != p]
    assert len(runs) == len(set(partitions)) == 25
    assert [i["sk"] for i in everything if i["pk"] == "p3"] == [0, 1, 2, 3, 4]
    assert runs != sorted(runs)  # hash order, not key order
    keys = [(i["pk"], i["sk"]) for i in everything]
    pages: list[tuple[Any, Any]] = []
    start = None
    while True:  # one item at a time, each page seeking past the last
        page = t.scan_page(limit=1, start_key=start)
        pages += [(i["pk"]["S"], Decimal(i["sk"]["N"])) for i in page.items]
        if page.last_key is None:
            break
        start = page.last_key
    assert pages == keys
    segments = []
    for segment in range(4):
        items = t.scan_page(segment=(segment, 4)).items
        segments.append({(i["pk"]["S"], i["sk"]["N"]) for i in items})
    assert sum(len(s) for s in segments) == 45
    assert set().union(*segments) == {(p, str(n)) for p, n in keys}
    assert all(len(s) < 45 for s in segments)


async def test_rows_written_with_plain_sql_are_keyed_ordered_and_captured(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim, t = await table(eventsim_factory, "N", stream="NEW_IMAGE")
    with sqlite3.connect(t.path) as db:
        for n in ("10", "-3", "2.5"):
            item = {"pk": {"S": "p"}, "sk": {"N": n}, "by": {"S": "sql"}}
            db.execute("INSERT INTO items (item) VALUES (?)", (json.dumps(item),))
    assert sort_values(t) == [Decimal("-3"), Decimal("2.5"), Decimal("10")]
    changes = t.changes(0, 10)
    assert [c.new["sk"]["N"] for c in changes if c.new] == ["10", "-3", "2.5"]


async def test_reads_are_ranges_of_an_index(eventsim_factory: SimulatorFactory) -> None:
    """Query and Scan read through an index in its order: no table scan, no sort."""
    _, t = await table(eventsim_factory, "N", global_indexes={
        "by_kind": {"partition_key": "kind", "sort_key": "ts", "sort_key_type": "N"}})  # fmt: skip
    statements: list[str] = []
    t.store._db.set_trace_callback(statements.append)
    values = {":p": {"S": "p"}, ":a": {"N": "1"}}
    start = {"pk": {"S": "p"}, "sk": {"N": "2"}}  # within the sort key's condition
    t.query_page("pk = :p AND sk > :a", values=values, limit=10, start_key=start)
    t.query_page("pk = :p", values={":p": {"S": "p"}}, forward=False, limit=10)
    t.query_page("kind = :p AND ts > :a", values=values, index="by_kind", limit=10,
                 start_key={**start, "kind": {"S": "p"}, "ts": {"N": "2"}})  # fmt: skip
    t.scan_page(limit=10, start_key=start)
    t.scan_page(limit=10, segment=(1, 3))
    t.scan_page(limit=10, index="by_kind")
    t.store._db.set_trace_callback(None)
    reads = [s for s in statements if s.startswith("SELECT item FROM items")]
    assert len(reads) == 6
    with sqlite3.connect(t.path) as db:
        for sql in reads:
            plan = " | ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql))
            assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, (sql, plan)
            assert "TEMP B-TREE" not in plan, (sql, plan)


# --- the version 1 file ---------------------------------------------------------------------

V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE items (
    item TEXT NOT NULL CHECK (json_valid(item)),
    pk TEXT GENERATED ALWAYS AS (json_extract(item, '$."pk".S')) VIRTUAL NOT NULL,
    sk TEXT GENERATED ALWAYS AS (json_extract(item, '$."sk".N')) VIRTUAL NOT NULL
);
CREATE UNIQUE INDEX items_key ON items (pk, sk);
CREATE TABLE stream (seq INTEGER PRIMARY KEY AUTOINCREMENT, old TEXT, new TEXT, created REAL);
CREATE INDEX stream_created ON stream (created);
CREATE INDEX stream_unstamped ON stream (seq) WHERE created IS NULL;
CREATE TABLE checkpoints (mapping TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TRIGGER items_insert AFTER INSERT ON items BEGIN
    INSERT INTO stream (old, new) VALUES (NULL, NEW.item);
END;
INSERT INTO meta VALUES ('key_schema', '["pk", "S", "sk", "N"]');
INSERT INTO meta VALUES ('stream_label', '2025-01-01T00:00:00.000');
INSERT INTO checkpoints VALUES ('f:t', 2);
"""


async def test_a_version_1_file_is_upgraded_in_place(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    path = state / "tables" / "items.sqlite3"
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as db:
        db.executescript(V1_SCHEMA)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute("PRAGMA user_version = 1")
        for n in (10, 9, 100):
            item = {"pk": {"S": "p"}, "sk": {"N": str(n)}}
            db.execute("INSERT INTO items (item) VALUES (?)", (json.dumps(item),))
        db.execute("UPDATE stream SET created = 1767225600")
    config = {"tables": {"items": {"partition_key": "pk", "sort_key": "sk", "sort_key_type": "N",
                               "stream": "NEW_IMAGE"}}}  # fmt: skip
    sim = await eventsim_factory(config, state_dir=state)
    t = sim.table("items")
    assert sort_values(t) == [9, 10, 100]
    assert t.store.checkpoint("f:t") == 2
    assert [c.seq for c in t.changes(0, 10)] == [1, 2, 3]  # the stream is kept
    assert t.stream_arn.endswith("/stream/2025-01-01T00:00:00.000")
    t.put_item({"pk": "p", "sk": 1})
    assert [c.seq for c in t.changes(3, 10)] == [4]
    await sim.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (2,)
    again = await eventsim_factory(config, state_dir=state)  # and opens as version 2
    assert sort_values(again.table("items")) == [1, 9, 10, 100]


async def test_binary_keys_round_trip(eventsim_factory: SimulatorFactory) -> None:
    _, t = await table(eventsim_factory, "B")
    t.put_item({"pk": "p", "sk": b"\x00\xff"})
    page = t.query_page("pk = :p", values={":p": {"S": "p"}})
    assert page.items == [{"pk": {"S": "p"}, "sk": {"B": base64.b64encode(b"\x00\xff").decode()}}]


async def test_a_partition_without_sort_key_is_one_page(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory({"tables": {"single": {"partition_key": "pk"}}})
    t = sim.table("single")
    t.put_item({"pk": "a"})
    page = t.query_page("pk = :p", values={":p": {"S": "a"}}, limit=1)
    assert len(page.items) == 1 and page.last_key == {"pk": {"S": "a"}}
    after = t.query_page("pk = :p", values={":p": {"S": "a"}}, start_key=page.last_key)
    assert after.items == [] and after.last_key is None
