"""DynamoDB: commit -> stream handler entered, records/s through a mapping, and Query
``Limit=10`` by table size; each next to a floor measured in this same run, in paired rounds.

    python bench/dynamodb.py [--only latency,throughput,query] [--rounds 5] [--n 100]
                             [--records 5000] [--sizes 1000,100000] [--queries 1000]

Every figure is measured in paired, interleaved rounds (eventsim, floor, eventsim, floor...),
printed as min / median / max over the rounds with the per-round ratio eventsim / floor
(``bench/_rounds.py``):

* latency, ``--n`` commits per round, one at a time, p50 and p99 of each round, ms:
  - eventsim, in-process write: ``sim.table().put_item`` committed -> the stream-triggered
    handler (warm, process isolation, batch size 1) entered, as the handler's own clock
    reading;
  - eventsim, SQL write: the same, with the row written by another connection with plain SQL
    (noticed through the file watcher);
  - floor (one, shared by both; its round runs between theirs): a commit on one connection ->
    watchdog's event for the WAL file write, on the loop -> the new row read by another
    connection -> sent as JSON over a pipe to a warm child process, which reads its clock.
    That is eventsim's own path for a write from elsewhere, with nothing else on it;
* throughput: ``--records`` items per round written in 25-item batches (yielding to the loop
  every 1,000) -> every record through a mapping with batch size 100 (process isolation),
  records/s. Floor: the same batches into a bare SQLite file whose trigger copies each row into
  a stream table (eventsim's layout), read 100 rows at a time as each commit is announced,
  built into records by the same event builder and sent as JSON to a warm child running the
  same handler, one batch at a time (as one shard is);
* Query ``Limit=10`` at each of ``--sizes`` (all items in one partition, numeric sort key,
  from a random key; every size in every round, so eventsim's growth from the smallest size
  to the largest is a per-round ratio too), ms per query, ``--queries`` per round: eventsim's
  ``Table.query_page(..., limit=10, start_key=...)`` (key condition parsed, SQL range read,
  items decoded, LastEvaluatedKey built). Floor: ``SELECT item FROM items WHERE pk = ? AND
  sko > ? ORDER BY sko LIMIT 10`` on another connection to the same file (the same index;
  rows fetched, not decoded), its key ready-made.

Targets: commit -> handler p50 <= 5 ms (issue #6); Query ``Limit=10`` at 100k items <= 20x
the floor and within 1.5x of 1k (issue #16).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from _rounds import (
    MIN_ROUNDS,
    Measure,
    arounds,
    measure,
    percentile,
    quiet,
    single,
    table,
    target,
)
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from eventsim import Outcome, Simulator
from eventsim.clock import RealClock
from eventsim.config import TableConfig
from eventsim.events import dynamodb
from eventsim.resources.table import Table
from eventsim.resources.table_keys import number_order
from eventsim.resources.table_store import TableStore

HANDLER = """\
import time

def entered(event, context):
    return time.time()

def count(event, context):
    return len(event["Records"])
"""
#: The floors' child: each line is a JSON event; it answers what the handler returns.
CHILD = textwrap.dedent(
    """
    import json, sys
    from app import entered, count
    handler = {"entered": entered, "count": count}[sys.argv[1]]
    read, write = sys.stdin.buffer.readline, sys.stdout.buffer
    while line := read():
        write.write(json.dumps(handler(json.loads(line), None)).encode() + b"\\n")
        write.flush()
    """
)
ARN = dynamodb.stream_arn("us-east-1", "123456789012", "bench", "2026-01-01T00:00:00.000")


async def child(code: Path, handler: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, handler, cwd=code,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def stop(process: asyncio.subprocess.Process) -> None:
    assert process.stdin is not None
    process.stdin.close()
    await process.wait()


def config(root: Path, handler: str, batch_size: int) -> dict[str, object]:
    trigger = {"table": "bench", "starting_position": "LATEST", "batch_size": batch_size}
    if batch_size > 10:
        trigger["batching_window"] = 0
    return {
        "functions": {
            "f": {
                "handler": f"app.{handler}",
                "code": str(root / "code"),
                "triggers": [{"dynamodb": trigger}],
            }
        },
        "tables": {"bench": {"partition_key": "pk", "stream": "NEW_IMAGE"}},
    }


def records_of(rows: list[tuple[int, str]]) -> dict[str, Any]:
    """The stream event of ``(seq, new item JSON)`` rows, built as eventsim builds it."""
    records = []
    for seq, new in rows:
        image = json.loads(new)
        records.append(dynamodb.stream_record(
            "INSERT", keys={"pk": image["pk"]}, new_image=image, old_image=None,
            view_type="NEW_IMAGE", sequence_number=seq,
            event_id=hashlib.md5(f"{ARN}/{seq}".encode()).hexdigest(),
            created=datetime.now(UTC), region="us-east-1", stream_arn=ARN,
        ))  # fmt: skip
    return dynamodb.batch(records)


# --- commit -> handler entered -----------------------------------------------------------


class WalFloor:
    """A commit -> watchdog's WAL event on the loop -> the row read -> a warm child's clock."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "floor.sqlite3"
        self.writer = sqlite3.connect(self.path, isolation_level=None)
        self.writer.execute("PRAGMA journal_mode=WAL")
        self.writer.execute("PRAGMA synchronous=NORMAL")  # as eventsim's files
        self.writer.execute("CREATE TABLE items (seq INTEGER PRIMARY KEY, item TEXT)")
        self.reader = sqlite3.connect(self.path, isolation_level=None)
        self.last = 0
        self.written = 0

    async def start(self, code: Path) -> None:
        self.child = await child(code, "entered")
        loop, poked = asyncio.get_running_loop(), self.poked
        wal = str(self.path) + "-wal"

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if str(event.src_path) == wal:
                    loop.call_soon_threadsafe(poked)

        self.observer = Observer()
        self.observer.schedule(Handler(), str(self.folder), recursive=False)
        self.observer.start()

    def poked(self) -> None:
        sql = "SELECT seq, item FROM items WHERE seq > ? ORDER BY seq"
        rows = self.reader.execute(sql, (self.last,)).fetchall()
        if rows:
            self.last = rows[-1][0]
            assert self.child.stdin is not None
            self.child.stdin.write(json.dumps(records_of(rows)).encode() + b"\n")

    async def latencies(self, n: int) -> list[float]:
        assert self.child.stdout is not None
        latencies = []
        for _ in range(n):
            self.written += 1
            item = {"pk": {"S": str(self.written)}}
            self.writer.execute("INSERT INTO items (item) VALUES (?)", (json.dumps(item),))
            committed = time.time()
            latencies.append(float(await self.child.stdout.readline()) - committed)
        return latencies

    async def close(self) -> None:
        self.observer.stop()
        self.observer.join()
        await stop(self.child)
        self.writer.close()
        self.reader.close()


class Entered:
    """eventsim: a commit -> the stream-triggered handler entered (its clock reading)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim, self.table = sim, sim.table("bench")
        self.other = sqlite3.connect(self.table.path, isolation_level=None)
        self.written = 0

    async def latencies(self, n: int, sql: bool) -> list[float]:
        latencies = []
        for _ in range(n):
            self.written += 1
            if sql:
                item = json.dumps({"pk": {"S": str(self.written)}})
                self.other.execute("INSERT INTO items (item) VALUES (?)", (item,))
            else:
                self.table.put_item({"pk": str(self.written)})
            committed = time.time()
            attempts = await self.sim.ledger.wait_for("f", count=self.written + 1)
            latencies.append(attempts[-1].payload - committed)
        return latencies


async def latency(root: Path, rounds_: int, n: int) -> list[Measure]:
    async with Simulator.from_dict(config(root, "entered", 1), state_dir=root / "s-lat") as sim:
        sim.table("bench").put_item({"pk": "warm-up"})  # cold start outside the measurement
        await sim.ledger.wait_for("f", count=1)
        ours = Entered(sim)
        floor = WalFloor(root)
        await floor.start(root / "code")
        try:
            await floor.latencies(10)  # the child warm, as eventsim's environment is
            api, sql, bare = [], [], []
            for _ in range(max(rounds_, MIN_ROUNDS)):  # interleaved: put_item, floor, SQL
                api.append(await ours.latencies(n, sql=False))
                bare.append(await floor.latencies(n))
                sql.append(await ours.latencies(n, sql=True))
        finally:
            ours.other.close()
            await floor.close()
    measures = []
    for p in (50, 99):
        ms = [[percentile(r, p) * 1e3 for r in runs] for runs in (api, sql, bare)]
        measures.append(measure(f"p{p}, handler entered after put_item", "ms",
                                "WAL-watch floor", (ms[0], ms[2])))  # fmt: skip
        measures.append(measure(f"p{p}, handler entered after an SQL INSERT elsewhere", "ms",
                                "WAL-watch floor", (ms[1], ms[2])))  # fmt: skip
    return measures


# --- throughput --------------------------------------------------------------------------


class Mapped:
    """eventsim: 25-item ``batch_write``s -> every record through the mapping."""

    def __init__(self, sim: Simulator) -> None:
        self.sim, self.written = sim, 0

    def handled(self) -> int:
        return sum(a.payload or 0 for a in self.sim.ledger.for_function("f", Outcome.SUCCESS))

    async def rate(self, records: int) -> float:
        table, ledger = self.sim.table("bench"), self.sim.ledger
        base, goal = self.written, self.handled() + records
        self.written += records
        started = time.perf_counter()
        for start in range(base, base + records, 25):
            table.batch_write(put=[{"pk": str(i)} for i in range(start, start + 25)])
            if start % 1000 == 0:
                await asyncio.sleep(0)  # let the mapping run alongside, as a live app would
        while self.handled() < goal:
            await ledger.wait_for("f", count=len(ledger.for_function("f")) + 1)
        return records / (time.perf_counter() - started)


STREAM_SQL = """
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE items (pk TEXT PRIMARY KEY, item TEXT NOT NULL);
CREATE TABLE stream (seq INTEGER PRIMARY KEY AUTOINCREMENT, old TEXT, new TEXT);
CREATE TRIGGER items_insert AFTER INSERT ON items BEGIN
    INSERT INTO stream (old, new) VALUES (NULL, NEW.item);
END;
"""


class StreamFloor:
    """25-item transactions into a bare table with a stream trigger (WAL, synchronous=NORMAL,
    as eventsim's files); a reader ships pages of 100 stream rows to a warm child, one batch at
    a time."""

    def __init__(self, folder: Path) -> None:
        self.db = sqlite3.connect(folder / "stream-floor.sqlite3", isolation_level=None)
        self.db.executescript(STREAM_SQL)
        self.reader = sqlite3.connect(folder / "stream-floor.sqlite3", isolation_level=None)
        self.written = 0
        self.seq = 0

    async def start(self, code: Path) -> None:
        self.child = await child(code, "count")

    async def rate(self, records: int) -> float:
        assert self.child.stdin is not None and self.child.stdout is not None
        stdin, stdout = self.child.stdin, self.child.stdout
        committed = asyncio.Event()
        handled = 0

        async def consume() -> None:
            nonlocal handled
            sql = "SELECT seq, new FROM stream WHERE seq > ? ORDER BY seq LIMIT 100"
            while handled < records:
                rows = self.reader.execute(sql, (self.seq,)).fetchall()
                if not rows:
                    committed.clear()
                    await committed.wait()
                    continue
                self.seq = rows[-1][0]
                stdin.write(json.dumps(records_of(rows)).encode() + b"\n")
                await stdin.drain()
                handled += json.loads(await stdout.readline())

        started = time.perf_counter()
        consumer = asyncio.create_task(consume())
        base = self.written
        self.written += records
        for start in range(base, base + records, 25):
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT INTO items (pk, item) VALUES (?, ?)",
                ((str(i), json.dumps({"pk": {"S": str(i)}})) for i in range(start, start + 25)),
            )
            self.db.execute("COMMIT")
            committed.set()
            if start % 1000 == 0:
                await asyncio.sleep(0)
        await consumer
        return records / (time.perf_counter() - started)

    async def close(self) -> None:
        await stop(self.child)
        self.db.close()
        self.reader.close()


async def throughput(root: Path, rounds_: int, records: int) -> Measure:
    async with Simulator.from_dict(config(root, "count", 100), state_dir=root / "s-n") as sim:
        floor = StreamFloor(root)
        await floor.start(root / "code")
        try:
            ours = Mapped(sim)
            await ours.rate(200)  # the environment warm
            await floor.rate(200)
            pair = await arounds(rounds_, partial(ours.rate, records), partial(floor.rate, records))
        finally:
            await floor.close()
    return measure(f"{records:,} items in 25-item batches, batch size 100", "records/s",
                   "SQLite-stream floor", pair)  # fmt: skip


# --- Query Limit=10 ----------------------------------------------------------------------


QUERY_TABLE = {"partition_key": "pk", "sort_key": "sk", "sort_key_type": "N"}


def fill(path: Path, size: int) -> None:
    store = TableStore(path, TableConfig.model_validate(QUERY_TABLE), "tables/bench")
    db = store.begin()
    db.executemany(
        "INSERT INTO items (item) VALUES (?)",
        (
            (json.dumps({"pk": {"S": "p"}, "sk": {"N": str(n)}, "body": {"S": f"item {n}"}}),)
            for n in range(size)
        ),
    )
    store.end(commit=True)
    store.close()


class QueryPair:
    """eventsim's ``query_page`` and the floor's SQL on one table file of ``size`` items."""

    def __init__(self, root: Path, size: int, queries: int) -> None:
        path = root / f"q{size}" / "tables" / "bench.sqlite3"
        fill(path, size)
        self.table = Table("bench", TableConfig.model_validate(QUERY_TABLE),
                           state_dir=path.parent.parent, clock=RealClock(), region="us-east-1",
                           account="123456789012")  # fmt: skip
        self.raw = sqlite3.connect(path, isolation_level=None)
        self.size, self.queries = size, queries
        self.rng = random.Random(7)
        self.starts: list[int] = []

    def eventsim_ms(self) -> float:
        """ms per query; draws the random start keys that the floor's round then uses."""
        self.starts = [self.rng.randrange(self.size - 10) for _ in range(self.queries)]
        values = {":p": {"S": "p"}}
        began = time.perf_counter()
        for n in self.starts:
            start = {"pk": {"S": "p"}, "sk": {"N": str(n)}}
            page = self.table.query_page("pk = :p", values=values, limit=10, start_key=start)
            assert len(page.items) == 10
        return (time.perf_counter() - began) / self.queries * 1e3

    def floor_ms(self) -> float:
        sql = "SELECT item FROM items WHERE pk = ? AND sko > ? ORDER BY sko LIMIT 10"
        orders = [number_order(str(n)) for n in self.starts]  # its key ready-made
        began = time.perf_counter()
        for order in orders:
            assert len(self.raw.execute(sql, ("p", order)).fetchall()) == 10
        return (time.perf_counter() - began) / self.queries * 1e3

    def close(self) -> None:
        self.raw.close()
        self.table.close()


def query(root: Path, rounds_: int, sizes: list[int], queries: int) -> list[Measure]:
    """Every size in every round (the growth between sizes is paired too)."""
    pairs = [QueryPair(root, size, queries) for size in sizes]
    try:
        for _ in range(2):  # caches warm; not counted
            for pair in pairs:
                pair.eventsim_ms(), pair.floor_ms()
        ms: list[tuple[list[float], list[float]]] = [([], []) for _ in pairs]
        for _ in range(max(rounds_, MIN_ROUNDS)):
            for pair, (ours, floor) in zip(pairs, ms, strict=True):
                ours.append(pair.eventsim_ms())
                floor.append(pair.floor_ms())
    finally:
        for pair in pairs:
            pair.close()
    return [
        measure(f"Query Limit=10, one partition of {size:,} items", "ms/query",
                "raw SQLite floor", values)
        for size, values in zip(sizes, ms, strict=True)
    ]  # fmt: skip


async def main(only: set[str], rounds_: int, n: int, records: int, sizes: list[int],
               queries: int) -> None:  # fmt: skip
    quiet()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "code").mkdir()
        (root / "code" / "app.py").write_text(HANDLER)
        if "latency" in only:
            measures = await latency(root, rounds_, n)
            table(f"commit -> stream handler entered, {n} commits per round", measures)
            p50 = statistics.median(measures[0].ours)
            target(f"commit -> handler p50 <= 5 ms (put_item, median {p50:.2f} ms)", p50 <= 5)
        if "throughput" in only:
            table("records through a stream mapping, process isolation",
                  [await throughput(root, rounds_, records)])  # fmt: skip
        if "query" in only:
            measures = query(root, rounds_, sizes, queries)
            table(f"Query Limit=10 from a random key, {queries:,} queries per round", measures)
            first, last = measures[0], measures[-1]
            growths = [b / a for a, b in zip(first.ours, last.ours, strict=True)]
            growth = statistics.median(growths)
            single(f"eventsim's Query at {sizes[-1]:,} / at {sizes[0]:,} items, per round", "x",
                   growths)  # fmt: skip
            ratio = statistics.median(last.ratios)
            target(f"Query at {sizes[-1]:,} items <= 20x the floor ({ratio:.1f}x)", ratio <= 20)
            target(f"Query at {sizes[-1]:,} within 1.5x of {sizes[0]:,} ({growth:.2f}x)",
                   growth <= 1.5)  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="latency,throughput,query", help="parts to run")
    parser.add_argument("--rounds", type=int, default=5, help="paired rounds of each part")
    parser.add_argument("--n", type=int, default=100, help="commits timed per round")
    parser.add_argument("--records", type=int, default=5_000, help="items per throughput round")
    parser.add_argument("--sizes", default="1000,100000", help="table sizes for Query")
    parser.add_argument("--queries", type=int, default=1000, help="queries per round")
    args = parser.parse_args()
    asyncio.run(main(set(args.only.split(",")), args.rounds, args.n, args.records,
                     [int(s) for s in args.sizes.split(",")], args.queries))  # fmt: skip
