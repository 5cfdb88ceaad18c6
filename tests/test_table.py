"""Tables: items in SQLite with DynamoDB's semantics (keys, conditions, updates, queries)."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from eventsim import Simulator
from eventsim.errors import TableError
from eventsim.resources.table import item_size
from eventsim.testing import SimulatorFactory

pytestmark = pytest.mark.asyncio

TABLES = {
    "orders": {"partition_key": "pk", "sort_key": "sk", "stream": "NEW_AND_OLD_IMAGES"},
    "counters": {"partition_key": "id", "partition_key_type": "N"},
}


async def tables(factory: SimulatorFactory) -> Simulator:
    return await factory({"tables": TABLES})


async def test_items_round_trip_exactly(eventsim_factory: SimulatorFactory) -> None:
    sim = await tables(eventsim_factory)
    orders = sim.table("orders")
    item = {
        "pk": "a",
        "sk": "1",
        "total": Decimal("12345678901234567890.123456789"),
        "tags": {"x", "y"},
        "blob": b"\x00\x01",
        "nested": {"list": [1, "two", None, True]},
        "empty": "",
    }
    orders.put_item(item)
    assert orders.get_item({"pk": "a", "sk": "1"}) == item
    assert orders.get_item({"pk": "a", "sk": "2"}) is None
    assert len(orders) == 1


async def test_keys_are_checked(eventsim_factory: SimulatorFactory) -> None:
    sim = await tables(eventsim_factory)
    orders, counters = sim.table("orders"), sim.table("counters")
    with pytest.raises(TableError) as missing:
        orders.put_item({"pk": "a"})
    assert missing.value.code == "ValidationException"
    assert str(missing.value) == (
        "One or more parameter values were invalid: Missing the key sk in the item"
    )
    with pytest.raises(TableError) as mistyped:
        counters.put_item({"id": "seven"})
    assert str(mistyped.value) == (
        "One or more parameter values were invalid: Type mismatch for key id expected: N actual: S"
    )
    with pytest.raises(TableError) as empty:
        orders.put_item({"pk": "", "sk": "1"})
    assert str(empty.value) == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: pk"
    )
    for key in ({"pk": "a", "sk": "1", "extra": 1}, {"pk": "a"}, {"pk": "a", "sk": 1}):
        with pytest.raises(TableError, match="^The provided key element does not match"):
            orders.get_item(key)
    counters.put_item({"id": Decimal("7.0")})
    assert counters.get_item({"id": 7}) == {"id": Decimal("7")}


async def test_the_item_size_limit_is_enforced(eventsim_factory: SimulatorFactory) -> None:
    sim = await tables(eventsim_factory)
    big = {"pk": "a", "sk": "1", "data": "x" * 409_600}
    with pytest.raises(TableError, match="maximum allowed size"):
        sim.table("orders").put_item(big)
    assert item_size({"ab": {"S": "xyz"}, "n": {"N": "123"}}) == 2 + 3 + 1 + 3
    assert len(sim.table("orders")) == 0


async def test_conditions_guard_writes(eventsim_factory: SimulatorFactory) -> None:
    sim = await tables(eventsim_factory)
    orders = sim.table("orders")
    key = {"pk": "a", "sk": "1"}
    orders.put_item({**key, "status": "new", "n": 5}, condition="attribute_not_exists(pk)")
    with pytest.raises(TableError) as failed:
        orders.put_item({**key, "status": "dup"}, condition="attribute_not_exists(pk)")
    assert failed.value.code == "ConditionalCheckFailedException"
    orders.update_item(
        key,
        "SET #s = :paid",
        condition="#s = :new AND n BETWEEN :lo AND :hi AND NOT contains(#s, :x)",
        names={"#s": "status"},
        values={":paid": "paid", ":new": "new", ":lo": 1, ":hi": 10, ":x": "zzz"},
    )
    assert orders.get_item(key)["status"] == "paid"  # type: ignore[index]
    with pytest.raises(TableError):
        orders.delete_item(key, condition="n > :n OR size(#s) < :one",
                           names={"#s": "status"}, values={":n": 5, ":one": 1})  # fmt: skip
    old = orders.delete_item(key, condition="n >= :n", values={":n": 5},
                             return_values="ALL_OLD")  # fmt: skip
    assert old == {**key, "status": "paid", "n": Decimal(5)}
    assert orders.get_item(key) is None


async def test_update_expressions(eventsim_factory: SimulatorFactory) -> None:
    sim = await tables(eventsim_factory)
    orders = sim.table("orders")
    key = {"pk": "a", "sk": "1"}
    created = orders.update_item(
        key,
        "SET amount = if_not_exists(amount, :zero) + :n, parts = :parts, info = :info "
        "ADD labels :t",
        values={":zero": 0, ":n": 3, ":parts": ["x"], ":info": {"a": 1}, ":t": {"red"}},
        return_values="ALL_NEW",
    )
    assert created == {**key, "amount": 3, "parts": ["x"], "info": {"a": 1}, "labels": {"red"}}
    updated = orders.update_item(
        key,
        "SET amount = amount - :one, parts = list_append(parts, :more), info.b = :one "
        "REMOVE info.a DELETE labels :t ADD visits :one",
        values={":one": 1, ":more": ["y"], ":t": {"red"}},
        return_values="UPDATED_NEW",
    )
    assert updated == {"amount": 2, "parts": ["x", "y"], "info": {"b": 1}, "visits": 1}
    with pytest.raises(TableError, match="part of the key"):
        orders.update_item(key, "SET sk = :v", values={":v": "2"})
    with pytest.raises(TableError, match="does not exist"):
        orders.update_item(key, "SET amount = absent + :one", values={":one": 1})
    with pytest.raises(TableError, match="attribute value: :nope$"):
        orders.update_item(key, "SET amount = :nope")


async def test_query_orders_by_sort_key_and_filters(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory(
        {"tables": {"events": {"partition_key": "pk", "sort_key": "n", "sort_key_type": "N"}}}
    )
    events = sim.table("events")
    events.batch_write(put=[{"pk": "a", "n": n, "odd": n % 2 == 1} for n in (10, 9, 1, 100)])
    events.put_item({"pk": "b", "n": 5})
    numbers = [i["n"] for i in events.query("pk = :p", values={":p": "a"})]
    assert numbers == [1, 9, 10, 100]  # numeric order, not text order
    between = events.query("pk = :p AND n BETWEEN :a AND :b", values={":p": "a", ":a": 5, ":b": 50})
    assert [i["n"] for i in between] == [9, 10]
    backwards = events.query("pk = :p AND n > :a", values={":p": "a", ":a": 9}, forward=False)
    assert [i["n"] for i in backwards] == [100, 10]
    odd = events.query("pk = :p", values={":p": "a", ":t": True}, filter="odd = :t")
    assert [i["n"] for i in odd] == [1, 9]
    page = events.query_page("pk = :p", values={":p": {"S": "a"}}, limit=2)
    assert len(page.items) == 2 and page.last_key == {"pk": {"S": "a"}, "n": {"N": "9"}}
    rest = events.query_page("pk = :p", values={":p": {"S": "a"}}, start_key=page.last_key)
    assert [i["n"] for i in rest.items] == [{"N": "10"}, {"N": "100"}]
    assert len(events.scan()) == 5
    assert len(events.scan(filter="n < :x", values={":x": 9})) == 2


async def test_begins_with_on_string_sort_keys(eventsim_factory: SimulatorFactory) -> None:
    sim = await tables(eventsim_factory)
    orders = sim.table("orders")
    orders.batch_write(put=[{"pk": "u", "sk": s} for s in ("order#2", "order#1", "profile")])
    found = orders.query("pk = :p AND begins_with(sk, :s)", values={":p": "u", ":s": "order#"})
    assert [i["sk"] for i in found] == ["order#1", "order#2"]
    with pytest.raises(TableError, match="duplicates"):
        orders.batch_write(put=[{"pk": "u", "sk": "x"}], delete=[{"pk": "u", "sk": "x"}])


async def test_the_sqlite_layout_is_as_documented(eventsim_factory: SimulatorFactory) -> None:
    sim = await tables(eventsim_factory)
    sim.table("orders").put_item({"pk": "a", "sk": "1", "n": 1})
    path = Path(sim.state_dir) / "tables" / "orders.sqlite3"
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT pk, sk, item FROM items").fetchall()
        stream = db.execute("SELECT seq, old, new FROM stream").fetchall()
    assert rows == [("a", "1", '{"pk":{"S":"a"},"sk":{"S":"1"},"n":{"N":"1"}}')]
    assert stream == [(1, None, rows[0][2])]


async def test_a_changed_key_schema_is_refused_at_start(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    sim = await eventsim_factory({"tables": TABLES}, state_dir=state)
    await sim.close()
    changed = {"orders": {"partition_key": "id"}}
    with pytest.raises(Exception, match="DynamoDB cannot change a table's key"):
        await eventsim_factory({"tables": changed}, state_dir=state)
