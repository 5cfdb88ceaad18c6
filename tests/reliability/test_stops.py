"""Nothing accepted is lost when `eventsim up` is stopped mid-backlog (issue 13).

For each trigger, events are accepted in chunks while `up` runs — files complete in a bucket
folder, SendMessage to a persisted queue that returned a MessageId, rows committed to a table
with a stream, Invoke(Event) answered 202 — for a handler slow enough that a backlog builds.
After each chunk `up` is stopped (SIGKILL, or SIGTERM: exit 0 after its grace period) once k
more ids were delivered, k drawn from a seeded random (the seed is printed), and started again
on the same folder. In the end every accepted id is delivered at least once, in order per key
where AWS keeps one (a FIFO message group, a stream item key).
"""

from __future__ import annotations

import json
import signal
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from random import Random

import pytest

from .harness import (
    StartUp,
    Up,
    delivered,
    ids_for,
    missing_message,
    order_problems,
    sink,
    wait_delivered,
    write_config,
)

Accept = Callable[[Up, Path, list[str]], set[str]]


def put_files(up: Up, project: Path, ids: list[str]) -> set[str]:
    folder = project / "uploads" / "incoming"
    for id_ in ids:
        (folder / f"{id_}.txt").write_text(id_)
    return set(ids)


def send_messages(queue: str) -> Accept:
    fifo = queue.endswith(".fifo")

    def send(up: Up, project: Path, ids: list[str]) -> set[str]:
        sqs = up.client("sqs")
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        accepted: set[str] = set()
        for start in range(0, len(ids), 10):
            batch = ids[start : start + 10]
            entries = [
                {"Id": str(n), "MessageBody": id_}
                | ({"MessageGroupId": id_.rsplit("-", 1)[0], "MessageDeduplicationId": id_}
                   if fifo else {})
                for n, id_ in enumerate(batch)
            ]  # fmt: skip
            reply = sqs.send_message_batch(QueueUrl=url, Entries=entries)
            accepted |= {batch[int(e["Id"])] for e in reply.get("Successful", []) if e["MessageId"]}
        return accepted

    return send


def insert_rows(up: Up, project: Path, ids: list[str]) -> set[str]:
    """Plain SQL, one committed transaction per row, as an app beside eventsim would."""
    db = sqlite3.connect(project / "state" / "tables" / "orders.sqlite3", timeout=30,
                         isolation_level=None)  # fmt: skip
    try:
        for id_ in ids:
            key, n = id_.rsplit("-", 1)
            item = json.dumps({"pk": {"S": key}, "n": {"N": n}})
            db.execute("INSERT INTO items (item) VALUES (?)", (item,))
    finally:
        db.close()
    return set(ids)


def invoke_events(up: Up, project: Path, ids: list[str]) -> set[str]:
    client = up.client("lambda")
    accepted: set[str] = set()
    for id_ in ids:
        reply = client.invoke(
            FunctionName="sink", InvocationType="Event", Payload=json.dumps({"id": id_}).encode()
        )
        if reply["StatusCode"] == 202:
            accepted.add(id_)
    return accepted


@dataclass(frozen=True)
class Kind:
    """One trigger: its config, its keys (ordered: AWS keeps the order per key) and how an
    event is accepted."""

    name: str
    triggers: str
    resources: str
    keys: list[str]
    ordered: bool
    accept: Accept


TABLE = "{partition_key: pk, sort_key: n, sort_key_type: N, stream: NEW_IMAGE}"
# Visibility timeouts are as short as the function's timeout (3 s) allows, so that messages in
# flight at a SIGKILL come back soon; a batch (10 records, at most 0.06 s each) takes 0.6 s.
KINDS = [
    Kind("bucket", "[{s3: {bucket: uploads, prefix: incoming/, suffix: .txt}}]",
         "buckets: {uploads: {path: uploads}}\n", ["f"], False, put_files),
    Kind("queue", "[{sqs: {queue: jobs, batch_size: 10, maximum_concurrency: 2}}]",
         "queues: {jobs: {persist: true, visibility_timeout: 3}}\n", ["m"], False,
         send_messages("jobs")),
    Kind("fifo-queue", "[{sqs: {queue: jobs.fifo, batch_size: 10}}]",
         "queues: {jobs.fifo: {persist: true, visibility_timeout: 3}}\n",
         [f"g{n}" for n in range(5)], True, send_messages("jobs.fifo")),
    Kind("stream", "[{dynamodb: {table: orders, starting_position: TRIM_HORIZON, batch_size: 10}}]",
         f"tables: {{orders: {TABLE}}}\n", [f"k{n}" for n in range(8)], True, insert_rows),
    Kind("invoke", "[]", "", ["e"], False, invoke_events),
]  # fmt: skip


@dataclass(frozen=True)
class Plan:
    """How `up` is stopped: ``signal`` after each chunk but the last; ``chunks`` are the shares
    of the events accepted before each stop (the last in the final run); the moment is drawn
    from 1..backlog // ``reach`` deliveries after the chunk."""

    signal: signal.Signals
    events: int
    delay: float
    chunks: tuple[float, ...]
    reach: int


# SIGKILL: three kills, each with new events arriving. SIGTERM: two stops; at the first one
# the backlog (at least 112 events of 0.06 s, one environment) outlasts the 5 s grace period,
# so the next `up` has work left over to resume.
KILL = Plan(signal.SIGKILL, 240, 0.02, (0.4, 0.2, 0.2, 0.2), 2)
TERM = Plan(signal.SIGTERM, 200, 0.06, (0.7, 0.2, 0.1), 5)


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("plan", [KILL, TERM], ids=["SIGKILL", "SIGTERM"])
@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_every_accepted_event_survives_stops(
    kind: Kind, plan: Plan, tmp_path: Path, start_up: StartUp, seed: int
) -> None:
    rng = Random(seed)
    out = tmp_path / "delivered.txt"
    write_config(tmp_path, f"max_environments: 1\nfunctions:\n"
                 f"{sink(out, plan.delay, kind.triggers)}{kind.resources}")  # fmt: skip
    (tmp_path / "uploads" / "incoming").mkdir(parents=True)
    ids = ids_for(kind.keys, plan.events)
    bounds = [round(sum(plan.chunks[:n]) * plan.events) for n in range(len(plan.chunks) + 1)]
    chunks = [ids[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    notes = [f"{kind.name}, {plan.signal.name}, RELIABILITY_SEED={seed}"]
    accepted: set[str] = set()

    def done() -> int:
        return len(set(delivered(out)) & accepted)

    up = start_up(tmp_path)
    for number, chunk in enumerate(chunks[:-1], 1):
        accepted |= kind.accept(up, tmp_path, chunk)
        before = done()
        backlog = len(accepted) - before
        k = rng.randint(1, backlog // plan.reach) if backlog >= plan.reach else 0
        notes.append(f"stop {number}: {plan.signal.name} after {k} more deliveries "
                     f"({before} of {len(accepted)} delivered, backlog {backlog})")  # fmt: skip
        if not wait_delivered(up, out, accepted, before + k):
            pytest.fail(missing_message(f"before stop {number}, deliveries stopped at {done()}",
                                        accepted, out, notes, up))  # fmt: skip
        if plan.signal == signal.SIGKILL:
            up.kill()
        else:
            up.terminate()
        up = start_up(tmp_path)
    accepted |= kind.accept(up, tmp_path, chunks[-1])

    if not wait_delivered(up, out, accepted):
        pytest.fail(missing_message(f"{len(chunks) - 1} stops", accepted, out, notes, up))
    up.terminate()
    if kind.ordered:
        problems = order_problems([i for i in delivered(out) if i in accepted])
        assert not problems, f"first deliveries out of order per key: {problems}; {notes}"
