"""The ledger: one bounded store (attempts and bytes), large values truncated beyond the most
recent ones, indexed queries, and waiters woken only by their function's records."""

from __future__ import annotations

import asyncio
import gc
import weakref
from datetime import UTC, datetime
from typing import Any

import pytest

from eventsim.errors import ValueRejected
from eventsim.ledger import (
    FREEZE_STEP,
    TRUNCATED,
    Attempt,
    Code,
    Ledger,
    Outcome,
    RecordOutcome,
)
from eventsim.memory import BULK

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def attempt(
    n: int, function: str = "f", outcome: Outcome = Outcome.SUCCESS, **more: Any
) -> Attempt:
    return Attempt(
        function=function, request_id=f"r{n}", invocation_type="Event", source="invoke",
        event={"n": n, **more.pop("event", {})}, attempt=1, started_at=WHEN, outcome=outcome,
        **more,
    )  # fmt: skip


def test_the_oldest_go_past_the_attempt_cap_and_every_index_follows() -> None:
    ledger = Ledger(limit=10)
    for n in range(25):
        ledger.record(attempt(n, function="a" if n % 2 else "b"))
    assert len(ledger) == 10 and ledger.evicted == 15
    assert [a.event["n"] for a in ledger.all()] == list(range(15, 25))
    assert [a.event["n"] for a in ledger.for_function("a")] == [15, 17, 19, 21, 23]
    assert [a.event["n"] for a in ledger.for_function("b", Outcome.SUCCESS)] == [16, 18, 20, 22, 24]
    assert ledger.for_request("r3") == [] and len(ledger.for_request("r24")) == 1
    assert ledger.count("a") == 5


def test_large_values_are_truncated_beyond_the_most_recent() -> None:
    ledger = Ledger(limit=None, keep_full=2)
    big = "x" * 100_000
    for n in range(4):
        ledger.record(attempt(n, event={"body": big}, payload={"echo": big}))
    events = [a.event for a in ledger.all()]
    assert all(TRUNCATED not in e for e in events[2:])  # the two most recent: whole
    for old in events[:2]:
        marker = old[TRUNCATED]
        assert marker["bytes"] > 100_000 and marker["preview"].startswith('{"n": ')
    assert ledger.all()[0].payload[TRUNCATED]["bytes"] > 100_000
    assert ledger.bytes < 3 * 220_000  # two whole ones and two markers


def test_the_byte_cap_truncates_then_evicts() -> None:
    ledger = Ledger(limit=None, max_bytes=1_000_000, keep_full=1000)
    for n in range(100):
        ledger.record(attempt(n, event={"body": "y" * 50_000}))
    assert ledger.bytes <= 1_000_000
    whole = [a for a in ledger.all() if TRUNCATED not in a.event]
    assert 0 < len(whole) < 20 and whole[-1].event["n"] == 99
    assert len(ledger) == 100  # truncated, not gone: small entries are cheap


def test_memory_stays_flat_once_the_cap_is_reached() -> None:
    ledger = Ledger(limit=1_000, max_bytes=10_000_000)
    for n in range(2_000):
        ledger.record(attempt(n, event={"body": "z" * 2_000}))
    at_cap = ledger.bytes
    for n in range(2_000, 20_000):
        ledger.record(attempt(n, event={"body": "z" * 2_000}))
    assert len(ledger) == 1_000
    assert abs(ledger.bytes - at_cap) <= at_cap * 0.1


def test_recent_reads_only_what_it_returns() -> None:
    ledger = Ledger()
    for n in range(50):
        ledger.record(attempt(n, function="a" if n < 40 else "b"))
    assert [a.event["n"] for a in ledger.recent(3)] == [47, 48, 49]
    assert [a.event["n"] for a in ledger.recent(2, "a")] == [38, 39]
    assert ledger.recent(0) == []


def test_query_by_code() -> None:
    ledger = Ledger()
    ledger.record(attempt(1, outcome=Outcome.DROPPED, code=Code.FILTERED, reason="no filter"))
    ledger.record(attempt(2, outcome=Outcome.ERROR, code=Code.RETRY_SCHEDULED))
    assert [a.event["n"] for a in ledger.query(code=Code.FILTERED)] == [1]
    assert [a.event["n"] for a in ledger.query("f", code=Code.RETRY_SCHEDULED)] == [2]


@pytest.mark.asyncio
async def test_waiters_count_what_is_recorded_even_past_the_cap() -> None:
    ledger = Ledger(limit=3)
    waiting = asyncio.create_task(ledger.wait_for("f", count=5, outcome=Outcome.ERROR))
    await asyncio.sleep(0)  # the waiter registers: one loop turn
    for n in range(5):
        ledger.record(attempt(n, function="other"))  # another function's records wake nothing
        ledger.record(attempt(n, outcome=Outcome.ERROR))
    found = await asyncio.wait_for(waiting, 5)
    # Woken by the 5th error although the cap (3, all functions) holds only the last two.
    assert [a.event["n"] for a in found] == [3, 4]


@pytest.mark.asyncio
async def test_a_waiter_that_times_out_lists_what_it_saw() -> None:
    ledger = Ledger()
    ledger.record(attempt(1, outcome=Outcome.ERROR))
    with pytest.raises(TimeoutError, match="wanted 2 attempt"):
        await ledger.wait_for("f", count=2, timeout=0)


def test_entries_are_numbered_as_recorded_and_keep_their_number() -> None:
    ledger = Ledger(limit=4)
    kept = [ledger.record(attempt(n)) for n in range(6)]
    assert [a.seq for a in kept] == list(range(6)) and attempt(9).seq == -1
    assert [a.seq for a in ledger.all()] == [2, 3, 4, 5] and ledger.recorded == 6
    amended = ledger.amend("r4", records=(RecordOutcome("m1", "failed", 1),))
    assert amended is not None and amended.seq == 4 and amended.records
    assert ledger.get(4) is amended and ledger.get(5) is kept[5]
    assert ledger.get(1) is None and ledger.get(6) is None  # evicted; not recorded yet
    assert [a.seq for a in ledger.newest_first()] == [5, 4, 3, 2]
    assert [a.seq for a in ledger.newest_first(before=4)] == [3, 2]
    assert list(ledger.newest_first(before=2)) == [] and len(list(ledger.newest_first(9))) == 4
    with pytest.raises(ValueRejected, match="renumber"):
        ledger.amend("r5", seq=0)


def test_numbers_survive_truncation_and_eviction_by_bytes() -> None:
    ledger = Ledger(limit=None, max_bytes=20_000, keep_full=1)
    for n in range(20):
        ledger.record(attempt(n, event={"body": "x" * 5_000}))
    assert ledger.evicted > 0
    held = ledger.all()
    assert [a.seq for a in held] == list(range(ledger.evicted, 20))
    assert all(ledger.get(a.seq) is a for a in held)
    assert TRUNCATED in held[0].event  # truncated, still numbered
    assert [a.request_id for a in held] == [f"r{a.seq}" for a in held]


def test_observers_tell_new_entries_from_amended_ones() -> None:
    ledger = Ledger()
    added: list[Attempt] = []
    changed: list[Attempt] = []
    plain: list[Attempt] = []
    unsubscribe = ledger.subscribe(added.append, on_amend=changed.append)
    ledger.subscribe(plain.append)
    ledger.record(attempt(1))
    ledger.record(attempt(2))
    ledger.amend("r1", reason="per-record outcomes known")
    assert [a.seq for a in added] == [0, 1] and [a.seq for a in plain] == [0, 1]
    assert [(a.seq, a.reason) for a in changed] == [(0, "per-record outcomes known")]
    unsubscribe()
    ledger.record(attempt(3))
    ledger.amend("r3", reason="later")
    assert len(added) == 2 and len(changed) == 1 and len(plain) == 3


class _Held:
    """Something an entry holds (weakly referenceable, unlike the entry)."""


def test_a_large_ledger_is_moved_out_of_the_garbage_collectors_way() -> None:
    """Past ``BULK`` entries, what exists is frozen every ``FREEZE_STEP`` records, so a full
    collection no longer scans every entry (over 100,000 it stopped the loop ~0.2 s); an
    evicted entry is still freed at once (entries hold no cycles)."""
    ledger = Ledger(limit=BULK + FREEZE_STEP)
    frozen = gc.get_freeze_count()
    try:
        for n in range(BULK - 1):
            ledger.record(attempt(n))
        assert gc.get_freeze_count() == frozen  # a small ledger is left alone
        for n in range(BULK - 1, BULK + 2 * FREEZE_STEP):
            ledger.record(attempt(n))
        assert gc.get_freeze_count() > frozen
        held = _Held()
        ledger.record(attempt(-1, event={"held": held}, size=100))
        frozen_now = gc.get_freeze_count()
        for n in range(2 * FREEZE_STEP):
            ledger.record(attempt(n))
        assert gc.get_freeze_count() > frozen_now  # the entry holding it was frozen too
        gone = weakref.ref(held)
        del held
        for n in range(BULK + FREEZE_STEP):  # evicts it
            ledger.record(attempt(n))
        assert gone() is None  # frozen, evicted, and freed by reference counting
    finally:
        gc.unfreeze()
