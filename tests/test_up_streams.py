"""`eventsim up` killed with SIGKILL mid-stream resumes from its checkpoint: every record
written with plain SQL is delivered at least once, in order per item key."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .helpers import FUNCTIONS
from .test_up_s3 import Up

KEYS, ROUNDS = 10, 10


def test_a_killed_up_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    out = tmp_path / "delivered.txt"
    (tmp_path / "eventsim.yaml").write_text(
        f"""\
state_dir: state
functions:
  audit:
    handler: streams.append_to_file
    code: {FUNCTIONS}
    environment: {{OUT: {out}}}
    triggers:
      - dynamodb: {{table: orders, starting_position: TRIM_HORIZON, batch_size: 2}}
tables:
  orders: {{partition_key: pk, sort_key: n, sort_key_type: N, stream: NEW_IMAGE}}
"""
    )
    first = Up(tmp_path)
    db = sqlite3.connect(tmp_path / "state" / "tables" / "orders.sqlite3")
    for n in range(ROUNDS):
        with db:  # one transaction per round, as an app writing rows one by one would
            for key in range(KEYS):
                item = f'{{"pk":{{"S":"k{key}"}},"n":{{"N":"{n}"}}}}'
                db.execute("INSERT INTO items (item) VALUES (?)", (item,))
    db.close()
    first.wait_for("processed k")  # mid-stream: some records done, most not
    first.process.kill()
    first.process.wait()
    assert first.process.returncode != 0
    assert len(out.read_text().splitlines()) < KEYS * ROUNDS  # killed mid-stream

    second = Up(tmp_path)
    try:
        second.wait_for(*(f"processed k{key} {ROUNDS - 1}" for key in range(KEYS)))
    finally:
        second.stop()

    lines = out.read_text().split()
    pairs = [(lines[i], int(lines[i + 1])) for i in range(0, len(lines), 2)]
    assert set(pairs) == {(f"k{k}", n) for k in range(KEYS) for n in range(ROUNDS)}
    for key in range(KEYS):
        rounds = [n for k, n in pairs if k == f"k{key}"]
        first_seen = list(dict.fromkeys(rounds))
        assert first_seen == list(range(ROUNDS)), f"k{key} out of order: {rounds}"
