"""Commit -> stream handler entered, next to SQLite's own floor; and records/s through a mapping.
With ``--query``: Query ``Limit=10`` against SQLite's own indexed ``LIMIT 10``, by table size.

    python bench/dynamodb.py [--n 300] [--records 20000]
    python bench/dynamodb.py --query [--sizes 1000,100000] [--rounds 7]

* floor: a commit on one connection -> the change visible to another connection (a process
  spinning on ``PRAGMA data_version``, the fastest anything can notice it);
* eventsim, in-process write: ``sim.table().put_item`` committed -> the stream-triggered handler
  (warm, process isolation) entered, as the handler's own clock reading;
* eventsim, SQL write: the same, with the row written by another connection with plain SQL
  (noticed through the file watcher);
* throughput: N items written in 25-item batches -> every record through a mapping with
  batch size 100.

Target (issue #6): p50 <= 5 ms.

``--query``, at each size (all items in one partition, numeric sort key, from a random key):

* eventsim: ``Table.query_page(..., limit=10, start_key=...)`` (key condition parsed, SQL
  range read, items decoded, LastEvaluatedKey built);
* floor: ``SELECT item FROM items WHERE pk = ? AND sko > ? ORDER BY sko LIMIT 10`` on another
  connection to the same file (the same index; rows fetched, not decoded);

in paired rounds (eventsim, floor, eventsim, floor...), 1000 queries each. Printed: ms per
query (min/median/max over the rounds), the median of the per-round ratios, and eventsim's
median at each size against the smallest. Targets (issue #16): <= 20x the floor, and the
largest size within 1.5x of the smallest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import structlog

from eventsim import Outcome, Simulator
from eventsim.clock import RealClock
from eventsim.config import TableConfig
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


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


WATCHER = """
import sqlite3, sys, time
reader = sqlite3.connect(sys.argv[1])
version = reader.execute("PRAGMA data_version").fetchone()[0]
print("ready", flush=True)
while True:
    now = reader.execute("PRAGMA data_version").fetchone()[0]
    if now != version:
        version = now
        print(time.time(), flush=True)
"""


def floor(path: Path, n: int) -> list[float]:
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE t (x)")
    watcher = subprocess.Popen(
        [sys.executable, "-c", WATCHER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert watcher.stdout is not None
    assert watcher.stdout.readline().strip() == "ready"
    latencies = []
    for i in range(n):
        writer.execute("INSERT INTO t VALUES (?)", (i,))
        committed = time.time()
        latencies.append(float(watcher.stdout.readline()) - committed)
    watcher.kill()
    watcher.wait()
    return latencies


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


async def latency(root: Path, n: int, sql: bool) -> list[float]:
    state = root / ("state-sql" if sql else "state-api")
    latencies = []
    async with Simulator.from_dict(config(root, "entered", 1), state_dir=state) as sim:
        table = sim.table("bench")
        table.put_item({"pk": "warm-up"})  # cold start outside the measurement
        await sim.ledger.wait_for("f", count=1)
        other = sqlite3.connect(table.path, isolation_level=None)
        for i in range(n):
            if sql:
                other.execute("INSERT INTO items (item) VALUES (?)", (f'{{"pk":{{"S":"{i}"}}}}',))
            else:
                table.put_item({"pk": str(i)})
            committed = time.time()
            attempts = await sim.ledger.wait_for("f", count=i + 2)
            latencies.append(attempts[-1].payload - committed)
        other.close()
    return latencies


async def throughput(root: Path, records: int) -> tuple[float, int]:
    async with Simulator.from_dict(config(root, "count", 100), state_dir=root / "state-n") as sim:
        table = sim.table("bench")
        started = time.perf_counter()
        for start in range(0, records, 25):
            table.batch_write(put=[{"pk": str(i)} for i in range(start, start + 25)])
            if start % 1000 == 0:
                await asyncio.sleep(0)  # let the mapping run alongside, as a live app would
        while sum(a.payload or 0 for a in sim.ledger.for_function("f", Outcome.SUCCESS)) < records:
            await sim.ledger.wait_for("f", count=len(sim.ledger.for_function("f")) + 1)
        elapsed = time.perf_counter() - started
        batches = len(sim.ledger.for_function("f"))
    return elapsed, batches


async def main(n: int, records: int) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "code").mkdir()
        (root / "code" / "app.py").write_text(HANDLER)
        floor_ms = [x * 1000 for x in floor(root / "floor.sqlite3", n)]
        api_ms = [x * 1000 for x in await latency(root, n, sql=False)]
        sql_ms = [x * 1000 for x in await latency(root, n, sql=True)]
        elapsed, batches = await throughput(root, records)

    print(f"{'commit -> ...':<50}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for label, values in (
        ("floor: visible to another connection", floor_ms),
        ("eventsim: handler entered (put_item)", api_ms),
        ("eventsim: handler entered (SQL, other connection)", sql_ms),
    ):
        print(
            f"{label:<50}{statistics.median(values):>9.3f}{percentile(values, 99):>9.3f}"
            f"{max(values):>9.3f}"
        )
    print(
        f"throughput, batch size 100: {records} records in {elapsed:.2f} s = "
        f"{records / elapsed:,.0f} records/s ({batches} invocations)"
    )


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


def query_rounds(root: Path, size: int, rounds: int, per_round: int) -> list[tuple[float, float]]:
    """(eventsim, floor) seconds per query, one pair per round."""
    path = root / f"q{size}" / "tables" / "bench.sqlite3"
    fill(path, size)
    table = Table("bench", TableConfig.model_validate(QUERY_TABLE), state_dir=path.parent.parent,
                  clock=RealClock(), region="us-east-1", account="123456789012")  # fmt: skip
    raw = sqlite3.connect(path, isolation_level=None)
    sql = "SELECT item FROM items WHERE pk = ? AND sko > ? ORDER BY sko LIMIT 10"
    rng = random.Random(7)
    values = {":p": {"S": "p"}}
    pairs = []
    for _ in range(rounds + 1):  # the first round warms the caches and is not counted
        starts = [rng.randrange(size - 10) for _ in range(per_round)]
        began = time.perf_counter()
        for n in starts:
            start = {"pk": {"S": "p"}, "sk": {"N": str(n)}}
            page = table.query_page("pk = :p", values=values, limit=10, start_key=start)
            assert len(page.items) == 10
        ours = (time.perf_counter() - began) / per_round
        orders = [number_order(str(n)) for n in starts]  # the floor gets its key ready-made
        began = time.perf_counter()
        for order in orders:
            assert len(raw.execute(sql, ("p", order)).fetchall()) == 10
        pairs.append((ours, (time.perf_counter() - began) / per_round))
    raw.close()
    table.close()
    return pairs[1:]


def query_main(sizes: list[int], rounds: int) -> None:
    print(f"{'Query Limit=10':<16}{'eventsim ms (min/med/max)':>30}{'floor ms (min/med/max)':>28}"
          f"{'ratio':>8}{'vs smallest':>13}")  # fmt: skip
    first = None
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            pairs = query_rounds(Path(tmp), size, rounds, 1000)
            ours = sorted(p[0] * 1e3 for p in pairs)
            floor_ = sorted(p[1] * 1e3 for p in pairs)
            ratio = statistics.median(p[0] / p[1] for p in pairs)
            median = statistics.median(ours)
            first = first or median
            print(f"{size:>12,} items {ours[0]:>8.4f} {median:>8.4f} {ours[-1]:>8.4f}   "
                  f"{floor_[0]:>8.4f} {statistics.median(floor_):>8.4f} {floor_[-1]:>8.4f}"
                  f"{ratio:>8.1f}x{median / first:>11.2f}x")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--query", action="store_true", help="Query Limit=10 against its floor")
    parser.add_argument("--sizes", default="1000,100000", help="with --query: table sizes")
    parser.add_argument("--rounds", type=int, default=7, help="with --query: paired rounds")
    args = parser.parse_args()
    if args.query:
        query_main([int(s) for s in args.sizes.split(",")], args.rounds)
    else:
        asyncio.run(main(args.n, args.records))
