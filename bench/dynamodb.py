"""Commit -> stream handler entered, next to SQLite's own floor; and records/s through a mapping.

    python bench/dynamodb.py [--n 300] [--records 20000]

* floor: a commit on one connection -> the change visible to another connection (a process
  spinning on ``PRAGMA data_version``, the fastest anything can notice it);
* eventsim, in-process write: ``sim.table().put_item`` committed -> the stream-triggered handler
  (warm, process isolation) entered, as the handler's own clock reading;
* eventsim, SQL write: the same, with the row written by another connection with plain SQL
  (noticed through the file watcher);
* throughput: N items written in 25-item batches -> every record through a mapping with
  batch size 100.

Target (issue #6): p50 <= 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import structlog

from eventsim import Outcome, Simulator

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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.records))
