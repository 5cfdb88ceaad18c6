"""Supervision: a failing part is logged, restarted and shown in health; the others go on; a
part that keeps failing is fatal. And stream capture races no outside writer."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from eventsim import Outcome, supervisor
from eventsim.activity import Activity
from eventsim.config import TableConfig
from eventsim.resources.table import Table
from eventsim.resources.table_store import TableStore
from eventsim.supervisor import PartFailed, Supervisor

from .helpers import MakeSim, function


def failing_n_times(n: int, then: Any, raised: asyncio.Event | None = None) -> Any:
    """A stand-in for a method: raises ``TypeError`` ``n`` times (setting ``raised``), then
    behaves as ``then``."""
    calls = {"failed": 0}

    def method(*args: Any, **kwargs: Any) -> Any:
        if calls["failed"] < n:
            calls["failed"] += 1
            if raised is not None:
                raised.set()
            raise TypeError("boom")
        return then(*args, **kwargs)

    return method


@pytest.mark.asyncio
async def test_a_failing_loop_is_restarted_and_health_says_so() -> None:
    activity = Activity()
    runs: list[int] = []
    release = asyncio.Event()

    async def run() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise TypeError(f"failure {len(runs)}")
        await release.wait()

    async with asyncio.TaskGroup() as group:
        sup = Supervisor(group, activity)
        with capture_logs() as logs:
            sup.keep("reader", run)
            await activity.settle()  # waits through both restarts
        assert runs == [0, 1, 2]
        health = sup.health()["reader"]
        assert (health.state, health.restarts, health.last_error) == (
            "ok", 2, "TypeError: failure 2",
        )  # fmt: skip
        failures = [e for e in logs if e["event"] == "part.failed"]
        assert [(e["log_level"], e["part"]) for e in failures] == [("error", "reader")] * 2
        release.set()
    assert not sup.fatal.done()


@pytest.mark.asyncio
async def test_a_loop_that_keeps_failing_is_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "RESTART_BACKOFF_S", (0.001, 0.001))
    activity = Activity()

    async def run() -> None:
        raise RuntimeError("always")

    async with asyncio.TaskGroup() as group:
        sup = Supervisor(group, activity)
        sup.keep("doomed", run)
        failure = await sup.fatal
    assert isinstance(failure, PartFailed) and failure.part == "doomed"
    assert sup.health()["doomed"].state == "failed"
    assert "RuntimeError: always" in str(failure)


@pytest.mark.asyncio
async def test_a_failing_job_degrades_its_part_until_a_later_job_completes() -> None:
    activity = Activity()

    async def job(fail: bool) -> None:
        if fail:
            raise ValueError("bad batch")

    async with asyncio.TaskGroup() as group:
        sup = Supervisor(group, activity)
        await sup.spawn(job(True), part="sqs:jobs")
        assert sup.health()["sqs:jobs"].state == "degraded"
        await sup.spawn(job(False), part="sqs:jobs")
        assert sup.health()["sqs:jobs"].state == "ok"


@pytest.mark.asyncio
async def test_a_failing_stream_reader_stops_nothing_else(
    make_sim: MakeSim, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bug of issue 13: one TypeError in the stream mapping stopped every trigger."""
    monkeypatch.setattr(Table, "changes", failing_n_times(2, Table.changes))
    sim = await make_sim(
        {
            "audit": function("echo", isolation="thread", triggers=[
                {"dynamodb": {"table": "orders", "starting_position": "TRIM_HORIZON"}}]),
            "worker": function("echo", isolation="thread", triggers=[{"sqs": {"queue": "jobs"}}]),
        },
        queues={"jobs": {}},
        tables={"orders": {"partition_key": "pk", "stream": "NEW_IMAGE"}},
    )  # fmt: skip
    sim.table("orders").put_item({"pk": "a"})
    sim.queue("jobs").send_message("still delivered")
    await sim.settle()
    [batch] = sim.ledger.for_function("worker", Outcome.SUCCESS)
    assert batch.event["Records"][0]["body"] == "still delivered"
    [change] = sim.ledger.for_function("audit", Outcome.SUCCESS)  # after two restarts
    assert change.event["Records"][0]["dynamodb"]["Keys"] == {"pk": {"S": "a"}}
    health = sim.health()
    assert health["status"] == "ok"
    assert health["parts"]["dynamodb:orders->audit"]["restarts"] == 2


@pytest.mark.asyncio
async def test_health_names_a_part_that_is_down(
    make_sim: MakeSim, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervisor, "RESTART_BACKOFF_S", (3600.0, 3600.0))  # stays down
    raised = asyncio.Event()
    monkeypatch.setattr(Table, "changes", failing_n_times(1, Table.changes, raised))
    sim = await make_sim(
        {"audit": function("echo", isolation="thread", triggers=[
            {"dynamodb": {"table": "orders", "starting_position": "TRIM_HORIZON"}}])},
        tables={"orders": {"partition_key": "pk", "stream": "NEW_IMAGE"}},
    )  # fmt: skip
    await raised.wait()  # the reader failed; the supervisor saw it in the same step
    health = sim.health()
    assert health["status"] == "degraded"
    part = health["parts"]["dynamodb:orders->audit"]
    assert (part["state"], part["last_error"]) == ("restarting", "TypeError: boom")

    def get_health() -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(f"{sim.endpoint_url}/_eventsim/health") as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    status, body = await asyncio.to_thread(get_health)
    assert status == 503 and body["status"] == "degraded"
    assert body["parts"]["dynamodb:orders->audit"]["state"] == "restarting"


@pytest.mark.asyncio
async def test_a_stray_callback_failure_is_reported(make_sim: MakeSim) -> None:
    sim = await make_sim({"echo": function("echo", isolation="thread")})

    def broken() -> None:
        raise LookupError("from a timer")

    with capture_logs() as logs:
        asyncio.get_running_loop().call_soon(broken)
        await asyncio.sleep(0)  # let the callback run: one loop turn, not a wait for time
    assert sim.health()["parts"]["loop"]["last_error"] == "LookupError: from a timer"
    assert any(e["event"] == "part.failed" and e["part"] == "loop" for e in logs)


# --- stream capture with outside writers --------------------------------------------------


def test_the_reader_never_hands_on_an_unstamped_row(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    store = TableStore(path, TableConfig(partition_key="pk", stream="NEW_IMAGE"), "tables/t")
    outside = sqlite3.connect(path)
    with outside:
        for n in range(3):
            outside.execute("INSERT INTO items (item) VALUES (?)", (f'{{"pk":{{"S":"o{n}"}}}}',))
    with store.transaction() as db:  # eventsim's own write after them: stamped at once
        store.write(db, "mine", "", None, {"pk": {"S": "mine"}}, now=100.0)
    changes = store.changes(0, 10, now=200.0)
    assert [c.seq for c in changes] == [1, 2, 3, 4]
    assert [c.created for c in changes] == [200.0, 200.0, 200.0, 100.0]
    store.close()
    outside.close()


def test_stream_capture_with_racing_outside_writers(tmp_path: Path) -> None:
    """Two writers insert while the reader reads: every row comes out once, stamped, in
    sequence order — the race that returned a row with created = None."""
    path = tmp_path / "t.sqlite3"
    store = TableStore(path, TableConfig(partition_key="pk", stream="NEW_IMAGE"), "tables/t")
    rows_each, writers = 400, 2

    def write(name: str) -> None:
        db = sqlite3.connect(path, timeout=30)
        for n in range(rows_each):
            with db:
                db.execute(
                    "INSERT INTO items (item) VALUES (?)", (f'{{"pk":{{"S":"{name}{n}"}}}}',)
                )
        db.close()

    threads = [threading.Thread(target=write, args=(f"w{i}-",)) for i in range(writers)]
    for thread in threads:
        thread.start()
    seen: list[int] = []
    position, now = 0, 1.0
    while len(seen) < rows_each * writers:
        for change in store.changes(position, 50, now):
            assert change.created is not None
            seen.append(change.seq)
            position = change.seq
        now += 1
    for thread in threads:
        thread.join()
    assert seen == sorted(seen) and len(set(seen)) == rows_each * writers
    store.close()
