"""One owner per state folder (issue 13): a second `eventsim up` on a folder another `up` holds
exits 2 naming the folder and the holder, and a one-off `eventsim invoke` starts no source."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from ..helpers import FUNCTIONS
from .harness import (
    StartUp,
    delivered,
    eventsim,
    missing_message,
    sink,
    wait_delivered,
    write_config,
)

TRIGGERS = ("[{s3: {bucket: uploads, prefix: incoming/}},"
            " {dynamodb: {table: orders, starting_position: TRIM_HORIZON}}]")  # fmt: skip


def project(tmp_path: Path) -> Path:
    write_config(tmp_path, f"""functions:
{sink(tmp_path / "delivered.txt", 0, TRIGGERS)}\
  hello: {{handler: reliable.hello, code: {FUNCTIONS}}}
buckets: {{uploads: {{path: uploads}}}}
tables: {{orders: {{partition_key: pk, sort_key: n, sort_key_type: N, stream: NEW_IMAGE}}}}
""")  # fmt: skip
    (tmp_path / "uploads" / "incoming").mkdir(parents=True)
    return tmp_path


def insert_row(project: Path, id_: str) -> None:
    key, n = id_.rsplit("-", 1)
    with sqlite3.connect(project / "state" / "tables" / "orders.sqlite3", timeout=30) as db:
        db.execute("INSERT INTO items (item) VALUES (?)",
                   (json.dumps({"pk": {"S": key}, "n": {"N": n}}),))  # fmt: skip


@pytest.mark.timeout(120)
def test_a_second_up_on_the_same_state_folder_exits_2(tmp_path: Path, start_up: StartUp) -> None:
    out = project(tmp_path) / "delivered.txt"
    first = start_up(tmp_path)
    second = start_up(tmp_path, ready=False)
    code = second.wait_ready_or_exit()
    assert code is not None, (
        f"a second eventsim up (pid {second.pid}) started on the state folder eventsim up "
        f"(pid {first.pid}) holds, instead of exiting 2:\n{second.tail(12)}"
    )
    errors = [line for line in second.lines if line.startswith("error:")]
    assert code == 2, f"the second eventsim up exited {code}, expected 2:\n{second.log()}"
    assert "Traceback" not in second.log(), second.log()
    assert len(errors) == 1, f"expected one 'error:' line, got:\n{second.log()}"
    state = str((tmp_path / "state").resolve())
    assert state in errors[0] and str(first.pid) in errors[0], (
        f"the error line should name the state folder {state} and the pid {first.pid}: {errors[0]}"
    )

    # The first keeps running and delivering.
    (tmp_path / "uploads" / "incoming" / "f-1.txt").write_text("after the second start")
    first.client("dynamodb").put_item(TableName="orders", Item={"pk": {"S": "k"}, "n": {"N": "1"}})
    wanted = {"f-1", "k-1"}
    assert wait_delivered(first, out, wanted), missing_message(
        "the first eventsim up after the second one exited", wanted, out, [], first
    )
    first.terminate()


@pytest.mark.timeout(120)
def test_a_one_off_invoke_starts_no_source(tmp_path: Path, start_up: StartUp) -> None:
    out = project(tmp_path) / "delivered.txt"
    up = start_up(tmp_path)
    (tmp_path / "uploads" / "incoming" / "f-0.txt").write_text("while up runs")
    assert wait_delivered(up, out, {"f-0"}), missing_message("f-0", {"f-0"}, out, [], up)
    up.terminate()

    # While `up` is stopped: a file lands in the bucket, a row is committed to the table.
    (tmp_path / "uploads" / "incoming" / "f-1.txt").write_text("while up is stopped")
    insert_row(tmp_path, "k-1")
    invoked = eventsim(tmp_path, "invoke", "hello")
    assert invoked.returncode == 0, invoked.stderr
    assert json.loads(invoked.stdout) == {"message": "hello"}
    consumed = {"f-1", "k-1"} & set(delivered(out))
    assert not consumed, (
        f"`eventsim invoke hello` delivered {sorted(consumed)} (a file dropped and a row written "
        f"while up was stopped): a one-off invoke started the bucket and stream sources"
    )

    # The next `up` announces both.
    again = start_up(tmp_path)
    wanted = {"f-1", "k-1"}
    assert wait_delivered(again, out, wanted), missing_message(
        "the next eventsim up after a one-off invoke", wanted, out, [], again
    )
    again.terminate()
