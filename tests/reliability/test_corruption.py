"""Corrupted state is never silently discarded (issue 13): each state file eventsim wrote,
damaged, makes `eventsim up` exit 2 with one ``error:`` line naming the file and the command
that discards it (``eventsim reset-state PART``), never a traceback and never a start over
empty state; after that command the next `up` starts, and only that part was discarded."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from random import Random

import pytest

from .harness import (
    StartUp,
    Up,
    eventsim,
    missing_message,
    sink,
    wait_delivered,
    write_config,
)

TRIGGERS = ("[{s3: {bucket: uploads, prefix: incoming/}}, {sqs: {queue: jobs}},"
            " {dynamodb: {table: orders, starting_position: TRIM_HORIZON}}]")  # fmt: skip


def configure(project: Path) -> None:
    write_config(project, f"""functions:
{sink(project / "delivered.txt", 0, TRIGGERS)}\
buckets: {{uploads: {{path: uploads}}}}
queues: {{jobs: {{persist: true}}, keep: {{persist: true}}}}
tables: {{orders: {{partition_key: pk, sort_key: n, sort_key_type: N, stream: NEW_IMAGE}}}}
""")  # fmt: skip


def state_files(project: Path) -> list[str]:
    """The state files eventsim keeps (not logs, not SQLite's -wal/-shm), relative to state/."""
    state = project / "state"
    return sorted(
        str(p.relative_to(state)) for p in state.rglob("*")
        if p.is_file() and p.relative_to(state).parts[0] != "logs"
        and not p.name.endswith(("-wal", "-shm", "-journal"))
    )  # fmt: skip


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project after one run of `eventsim up` that used every kind of state: a file announced,
    messages delivered and kept in persisted queues, a stream record delivered, an Event invoke."""
    project = tmp_path_factory.mktemp("baseline")
    configure(project)
    (project / "uploads" / "incoming").mkdir(parents=True)
    out = project / "delivered.txt"
    up = Up(project)
    try:
        (project / "uploads" / "incoming" / "f-0.txt").write_text("a file")
        sqs = up.client("sqs")
        sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="jobs")["QueueUrl"],
                         MessageBody="m-0")  # fmt: skip
        keep = sqs.get_queue_url(QueueName="keep")["QueueUrl"]
        for n in range(3):  # no function reads `keep`: these stay in queues.sqlite3
            sqs.send_message(QueueUrl=keep, MessageBody=f"b-{n}")
        up.client("dynamodb").put_item(TableName="orders", Item={"pk": {"S": "k"}, "n": {"N": "0"}})
        up.client("lambda").invoke(FunctionName="sink", InvocationType="Event",
                                   Payload=b'{"id": "e-0"}')  # fmt: skip
        wanted = {"f-0", "m-0", "k-0", "e-0"}
        assert wait_delivered(up, out, wanted), missing_message("baseline", wanted, out, [], up)
        up.terminate()
    finally:
        up.close()
    print("state files after a first run:", state_files(project))
    return project


def truncate(path: Path) -> None:
    path.write_bytes(b"")


def random_bytes(path: Path) -> None:
    path.write_bytes(Random(13).randbytes(8192))


def drop_stream(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("DROP TABLE stream")
    db.close()


def text(garbage: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_text(garbage)

    return write


@dataclass(frozen=True)
class Case:
    """Damage ``corrupt`` done to the state files ``pattern`` matches (relative to state/);
    ``part``: the reset-state part the message must name, where the issue fixes it."""

    id: str
    pattern: str
    corrupt: Callable[[Path], None]
    part: str | None = None


CASES = [
    Case("queues-truncated", "queues.sqlite3", truncate, "queues"),
    Case("queues-random-bytes", "queues.sqlite3", random_bytes, "queues"),
    Case("table-truncated", "tables/orders.sqlite3", truncate),
    Case("table-stream-dropped", "tables/orders.sqlite3", drop_stream),
    Case("events-random-bytes", "events.sqlite3", random_bytes),
    Case("bucket-manifest-garbage", "buckets/*", text("{garbage")),
    Case("bucket-manifest-empty", "buckets/*", text("")),
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corrupted_state_stops_up_until_reset(
    case: Case, baseline: Path, tmp_path: Path, start_up: StartUp
) -> None:
    shutil.copytree(baseline, tmp_path, dirs_exist_ok=True)
    configure(tmp_path)  # its own output file
    state = tmp_path / "state"
    targets = sorted(p for p in state.glob(case.pattern) if p.is_file())
    assert targets, (
        f"no state/{case.pattern} after a first run; the state files are {state_files(tmp_path)}"
    )
    before = state_files(tmp_path)
    damaged: dict[Path, bytes] = {}
    for path in targets:
        for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            extra.unlink(missing_ok=True)  # the file alone is what was damaged
        case.corrupt(path)
        damaged[path] = path.read_bytes()
    what = f"{case.id} ({', '.join(str(p.relative_to(tmp_path)) for p in targets)})"

    up = start_up(tmp_path, ready=False)
    code = up.wait_ready_or_exit()
    assert code is not None, f"eventsim up started over {what} instead of exiting 2:\n{up.tail(12)}"
    log = up.log()
    assert "Traceback" not in log, f"{what}: a traceback:\n{log}"
    assert code == 2, f"{what}: eventsim up exited {code}, expected 2:\n{log}"
    errors = [line.strip() for line in up.lines if line.startswith("error:")]
    assert len(errors) == 1, f"{what}: expected one 'error:' line:\n{log}"
    [error] = errors
    assert any(p.name in error for p in targets), (
        f"{what}: the error names no damaged file: {error}"
    )
    found = re.search(r"eventsim reset-state\s+([^\s`'\"]+)", error)
    assert found, f"{what}: the error does not say `eventsim reset-state PART`: {error}"
    part = found.group(1).rstrip(".,;:)")
    if case.part is not None:
        assert part == case.part, f"{what}: reset-state part {part!r}, expected {case.part!r}"

    reset = eventsim(tmp_path, "reset-state", part)
    said = reset.stdout + reset.stderr
    assert reset.returncode == 0, f"eventsim reset-state {part} exited {reset.returncode}: {said}"
    assert said.strip(), f"eventsim reset-state {part} said nothing about what it did"
    for path, bad in damaged.items():
        assert not path.exists() or path.read_bytes() != bad, (
            f"eventsim reset-state {part} left the damaged {path.relative_to(tmp_path)}: {said}"
        )
        moved = [p for p in tmp_path.rglob(f"{path.name}*")
                 if p.is_file() and p != path and p.read_bytes() == bad]  # fmt: skip
        for aside in moved:
            assert aside.name in said, f"{aside} was moved aside, but the command said: {said}"
    touched = {Path(p.relative_to(state)).parts[0] for p in targets}
    others = [f for f in before if Path(f).parts[0] not in touched]
    lost = [f for f in others if not (state / f).exists()]
    assert not lost, f"eventsim reset-state {part} also discarded {lost}: {said}"

    again = start_up(tmp_path)
    again.terminate()
