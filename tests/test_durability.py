"""What was accepted survives a stop: the durable asynchronous queue, the bucket manifest, the
state-folder lock, damaged state files, ``triggers=False`` and ``eventsim reset-state``.

In-process (closing a simulator mid-backlog with no grace); tests/reliability kills real
``eventsim up`` processes.
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from eventsim import Outcome, Simulator
from eventsim.cli import cli
from eventsim.errors import StateError, StateLocked
from eventsim.invocation.event_store import EventStore

from .helpers import function

pytestmark = pytest.mark.asyncio


def config(tmp_path: Path, **functions: dict[str, Any]) -> dict[str, Any]:
    return {
        "state_dir": str(tmp_path / "state"),
        "functions": functions,
        "buckets": {"uploads": {"path": str(tmp_path / "uploads")}},
    }


async def start(data: dict[str, Any], **options: Any) -> Simulator:
    sim = Simulator.from_dict(data, **options)
    await sim.start()
    return sim


async def test_events_accepted_before_a_stop_are_delivered_after_it(tmp_path: Path) -> None:
    # One environment, handlers that take a while: the events queue up behind the first.
    data = {**config(tmp_path, slow=function("slow", isolation="thread", timeout=5)),
            "max_environments": 1}  # fmt: skip
    sim = await start(data)
    ids = [(await sim.invoke("slow", {"seconds": 0.05}, invocation_type="Event")).request_id
           for n in range(30)]  # fmt: skip
    await sim.wait_for("slow", count=1)
    await sim.close(grace=0)  # a stop with most of the backlog pending
    before = {a.request_id for a in sim.ledger.for_function("slow", Outcome.SUCCESS)}
    assert 0 < len(before) < 30

    again = await start(data)
    try:
        await again.settle()
        after = [a.request_id for a in again.ledger.for_function("slow", Outcome.SUCCESS)]
        # Every event, under the request id it was accepted with; none twice.
        assert before.isdisjoint(after) and len(after) == len(set(after))
        assert before | set(after) == set(ids)
    finally:
        await again.close()
    third = await start(data, virtual_time=True)
    try:
        await third.settle()
        assert third.ledger.for_function("slow") == []  # finished events are gone for good
    finally:
        await third.close()


async def test_a_retry_keeps_its_count_request_id_and_due_time_across_a_restart(
    tmp_path: Path,
) -> None:
    data = config(tmp_path, f=function("fail", retries=2))
    sim = await start(data, virtual_time=True)
    accepted = await sim.invoke("f", {"x": 1}, invocation_type="Event")
    await sim.settle()
    assert [a.attempt for a in sim.ledger.for_function("f")] == [1]
    await sim.advance(seconds=30)  # halfway to the first retry
    await sim.close()

    restarted_at = sim.clock.now()
    again = await start(data, virtual_time=True, start_time=restarted_at)
    try:
        await again.settle()
        assert again.ledger.for_function("f") == []  # not due yet: 30 s left
        await again.advance(seconds=30)
        await again.advance(seconds=120)
        attempts = again.ledger.for_function("f")
        assert [(a.attempt, a.request_id) for a in attempts] == [
            (2, accepted.request_id),
            (3, accepted.request_id),
        ]
        assert attempts[-1].reason == "RetriesExhausted"
    finally:
        await again.close()


async def test_event_age_counts_from_acceptance_not_from_the_restart(tmp_path: Path) -> None:
    data = config(tmp_path, f=function("fail", retries=2, max_event_age=60))
    sim = await start(data, virtual_time=True)
    await sim.invoke("f", {}, invocation_type="Event")
    await sim.settle()
    await sim.close()

    later = sim.clock.now() + timedelta(hours=1)
    again = await start(data, virtual_time=True, start_time=later)
    try:
        await again.settle()
        [dropped] = again.ledger.for_function("f")
        assert (dropped.outcome, dropped.reason) == (Outcome.DROPPED, "EventAgeExceeded")
    finally:
        await again.close()


async def test_a_second_simulator_on_one_state_folder_is_refused(tmp_path: Path) -> None:
    data = config(tmp_path, echo=function("echo", isolation="thread"))
    sim = await start(data)
    try:
        with pytest.raises(StateLocked) as refused:
            await start(data)
        assert str(tmp_path / "state") in str(refused.value)
        assert f"pid {os.getpid()}" in str(refused.value)
    finally:
        await sim.close()
    again = await start(data)  # released on close
    await again.close()


async def test_without_triggers_nothing_is_consumed_or_resumed(tmp_path: Path) -> None:
    data = config(
        tmp_path,
        echo=function("echo", isolation="thread"),
        summarize=function("echo", isolation="thread", triggers=[{"s3": {"bucket": "uploads"}}]),
    )
    # An event a stopped run left pending, and a file dropped while nothing ran:
    sim = await start(data, virtual_time=True)
    await sim.close()
    store = EventStore(tmp_path / "state" / "events.sqlite3")
    store.add("left-pending", "echo", "invoke", b'{"left": "pending"}', sim.clock.time())
    store.close()
    (tmp_path / "uploads" / "while-down.txt").write_text("x")

    one_off = await start(data, virtual_time=True, triggers=False)
    try:
        result = await one_off.invoke("echo", {"one": "off"})
        await one_off.settle()
        assert result.payload == {"one": "off"}
        assert [a.event for a in one_off.ledger.all()] == [{"one": "off"}]
    finally:
        await one_off.close()

    up = await start(data, virtual_time=True)
    try:
        await up.settle()
        assert [a.request_id for a in up.ledger.for_function("echo")] == ["left-pending"]
        [announced] = up.ledger.for_function("summarize")
        assert announced.event["Records"][0]["s3"]["object"]["key"] == "while-down.txt"
    finally:
        await up.close()


async def test_a_stop_between_event_and_manifest_announces_the_file_again(
    tmp_path: Path,
) -> None:
    """The manifest is written after the event is stored: losing the manifest write repeats
    the announcement (at least once) and never loses it."""
    data = config(
        tmp_path, summarize=function("echo", isolation="thread",
                                     triggers=[{"s3": {"bucket": "uploads"}}])
    )  # fmt: skip
    sim = await start(data, virtual_time=True)
    await sim.close()
    manifest = tmp_path / "state" / "buckets" / "uploads.sqlite3"
    before = manifest.read_bytes()
    wal = manifest.with_name(manifest.name + "-wal")
    (tmp_path / "uploads" / "a.txt").write_text("a")
    sim = await start(data, virtual_time=True)
    await sim.settle()
    await sim.close()
    manifest.write_bytes(before)  # as if the manifest write never happened
    wal.unlink(missing_ok=True)
    again = await start(data, virtual_time=True)
    try:
        await again.settle()
        [repeat] = again.ledger.for_function("summarize")
        assert repeat.event["Records"][0]["s3"]["object"]["key"] == "a.txt"
    finally:
        await again.close()


async def test_a_legacy_json_manifest_is_imported(tmp_path: Path) -> None:
    data = config(
        tmp_path, summarize=function("echo", isolation="thread",
                                     triggers=[{"s3": {"bucket": "uploads"}}])
    )  # fmt: skip
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "known.txt").write_text("k")
    (tmp_path / "uploads" / "new.txt").write_text("n")
    stat = (tmp_path / "uploads" / "known.txt").stat()
    legacy = tmp_path / "state" / "buckets" / "uploads.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(json.dumps({
        "bucket": "uploads", "sequencer": 7,
        "objects": {"known.txt": [stat.st_size, stat.st_mtime_ns, "8ce4b16b22b58894aa86c421e"]},
    }))  # fmt: skip
    sim = await start(data, virtual_time=True)
    try:
        await sim.settle()
        [put] = sim.ledger.for_function("summarize")
        record = put.event["Records"][0]["s3"]["object"]
        assert record["key"] == "new.txt"
        assert int(record["sequencer"], 16) == 8  # continues from the imported sequencer
        assert not legacy.exists()
    finally:
        await sim.close()


# --- damaged state ------------------------------------------------------------------------


def damage_random(path: Path) -> None:
    path.write_bytes(os.urandom(4096))


def damage_truncate(path: Path) -> None:
    path.write_bytes(b"")


def damage_drop_stream(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE stream")


DAMAGE = [
    ("events.sqlite3", "events", damage_random),
    ("events.sqlite3", "events", damage_truncate),
    ("queues.sqlite3", "queues", damage_random),
    ("queues.sqlite3", "queues", damage_truncate),
    ("tables/orders.sqlite3", "tables/orders", damage_truncate),
    ("tables/orders.sqlite3", "tables/orders", damage_drop_stream),
    ("buckets/uploads.sqlite3", "buckets/uploads", damage_random),
]


@pytest.mark.parametrize(("file", "part", "damage"), DAMAGE,
                         ids=[f"{f}-{d.__name__}" for f, _, d in DAMAGE])  # fmt: skip
async def test_damaged_state_is_refused_and_named(
    tmp_path: Path, file: str, part: str, damage: Any
) -> None:
    data = {
        **config(tmp_path, echo=function("echo", isolation="thread")),
        "queues": {"jobs": {"persist": True}},
        "tables": {"orders": {"partition_key": "pk", "stream": "NEW_IMAGE"}},
    }
    sim = await start(data)
    sim.queue("jobs").send_message("kept")
    await sim.close()
    path = tmp_path / "state" / file
    for sidecar in ("-wal", "-shm"):
        path.with_name(path.name + sidecar).unlink(missing_ok=True)
    damage(path)

    with pytest.raises(StateError) as refused:
        await start(data)
    message = str(refused.value)
    assert str(path) in message and f"eventsim reset-state {part}" in message

    (tmp_path / "eventsim.yaml").write_text(json.dumps(data))
    result = CliRunner().invoke(cli, ["reset-state", part, "-c", str(tmp_path / "eventsim.yaml")])
    assert result.exit_code == 0, result.output
    assert "moved" in result.output and not path.exists()
    assert list((tmp_path / "state" / "discarded").rglob(path.name))
    again = await start(data)  # starts afresh for that part only
    await again.close()


async def test_reset_state_refuses_while_the_folder_is_in_use(tmp_path: Path) -> None:
    data = config(tmp_path, echo=function("echo", isolation="thread"))
    (tmp_path / "eventsim.yaml").write_text(json.dumps(data))
    sim = await start(data)
    try:
        result = CliRunner().invoke(cli, ["reset-state", "events", "-c",
                                          str(tmp_path / "eventsim.yaml")])  # fmt: skip
        assert result.exit_code != 0
        assert isinstance(result.exception, StateLocked)
        assert (tmp_path / "state" / "events.sqlite3").exists()
    finally:
        await sim.close()
