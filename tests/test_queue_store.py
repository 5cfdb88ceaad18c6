"""Persisted queues: what is written when, version 1 files, run-time queues' definitions."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from eventsim.state import APPLICATION_ID
from eventsim.testing import SimulatorFactory

pytestmark = pytest.mark.asyncio

KEPT = {"queues": {"kept": {"persist": True, "visibility_timeout": 60}}}


def rows(state: Path, where: str = "1") -> list[tuple[str, int, int]]:
    """(body, in_flight, receive_count) of the stored messages, read by another connection."""
    db = sqlite3.connect(state / "queues.sqlite3")
    try:
        return db.execute(
            f"SELECT body, in_flight, receive_count FROM messages WHERE {where} ORDER BY seq"
        ).fetchall()
    finally:
        db.close()


async def test_a_send_is_durable_before_it_returns_and_bookkeeping_follows_the_turn(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    sim = await eventsim_factory(KEPT, state_dir=state, edge=False)
    kept = sim.queue("kept")
    kept.send_message("a")
    kept.send_message_batch([{"body": "b"}, {"body": "c"}])
    assert rows(state) == [("a", 0, 0), ("b", 0, 0), ("c", 0, 0)]  # no turn of the loop yet
    [a] = kept.receive_now()
    assert rows(state)[0] == ("a", 0, 0)  # the receive is written at the end of this turn
    await sim.settle()
    assert rows(state)[0] == ("a", 1, 1)
    kept.delete_message(a.receipt_handle)
    kept.send_message("d")  # a send commits what is pending too, in order
    assert [r[0] for r in rows(state)] == ["b", "c", "d"]


async def test_a_crash_loses_at_most_the_last_turns_bookkeeping(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    script = textwrap.dedent(
        f"""
        import asyncio, os
        from eventsim import Simulator

        async def main():
            sim = Simulator.from_dict({KEPT!r}, virtual_time=True, state_dir={str(state)!r})
            await sim.start()
            kept = sim.queue("kept")
            for n in range(3):
                kept.send_message(f"m{{n}}")
            [first] = kept.receive_now()
            kept.delete_message(first.receipt_handle)
            await sim.settle()  # the turn ends: the delete is written
            [second] = kept.receive_now()
            kept.delete_message(second.receipt_handle)
            os._exit(0)  # killed within the turn: this delete is lost

        asyncio.run(main())
        """
    )
    await asyncio.to_thread(subprocess.run, [sys.executable, "-c", script], check=True, timeout=60)
    sim = await eventsim_factory(KEPT, state_dir=state, edge=False)
    # Delivered again, as SQS's at-least-once delivery allows; no sent message is lost.
    assert sim.queue("kept").snapshot()["visible"] == ["m1", "m2"]


async def test_a_version_1_file_is_migrated(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    db = sqlite3.connect(state / "queues.sqlite3")
    db.execute(
        "CREATE TABLE messages (queue TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, "
        "PRIMARY KEY (queue, id))"
    )
    old = {
        "id": "6a1f7a4e-0000-4000-8000-000000000001", "body": "from v1",
        "message_attributes": {"blob": {"DataType": "Binary", "BinaryValue": {
            "__bytes_b64__": base64.b64encode(b"\x00\x01").decode()}}},
        "md5_of_body": "x", "md5_of_attributes": "y", "sent_at": 1767225600.0, "seq": 7,
        "available_at": 1767225600.0, "group_id": None, "deduplication_id": None,
        "sequence_number": None, "receive_count": 2, "first_receive_at": 1767225600.0,
        "receipt_handle": None, "in_flight": False, "version": 3, "dead_letter_source": None,
    }  # fmt: skip
    db.execute("INSERT INTO messages VALUES (?, ?, ?)", ("kept", old["id"], json.dumps(old)))
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    sim = await eventsim_factory(KEPT, state_dir=state, edge=False)
    [message] = sim.queue("kept").receive_now()
    assert message.body == "from v1" and message.message_id == old["id"]
    assert message.message_attributes == {"blob": {"DataType": "Binary",
                                                   "BinaryValue": b"\x00\x01"}}  # fmt: skip
    assert message.attributes["ApproximateReceiveCount"] == "3"
    sim.queue("kept").send_message("after")
    assert [r[0] for r in rows(state)] == ["from v1", "after"]


async def test_persisted_run_time_queues_are_made_again(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    first = await eventsim_factory({}, state_dir=state, edge=False)
    kept = first.create_queue("made", {"VisibilityTimeout": "45"}, tags={"t": "1"},
                              persist=True)  # fmt: skip
    kept.send_message("survives")
    tagged = first.queues.create("tagged", tags={"eventsim:persist": "true"},
                                 region="eu-west-1")  # fmt: skip
    tagged.send_message("in the west")
    first.queues.set_attributes(tagged, {"DelaySeconds": "0", "MessageRetentionPeriod": "600"})
    first.create_queue("lost").send_message("gone")
    doomed = first.create_queue("doomed", persist=True)
    first.queues.delete(doomed)
    await first.close()

    second = await eventsim_factory({}, state_dir=state, edge=False)
    made = second.queue("made")
    assert made.config.visibility_timeout == 45 and made.config.tags == {"t": "1"}
    assert made.created_at == kept.created_at
    assert made.snapshot()["visible"] == ["survives"]
    west = second.queues.get_queue("tagged", "eu-west-1")
    assert west is not None and west.config.message_retention_period == 600
    assert west.snapshot()["visible"] == ["in the west"]
    assert sorted(second.queues) == ["made"]  # "lost" was not persisted, "doomed" deleted
