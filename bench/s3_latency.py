"""File closed -> handler entered, next to the raw watchdog floor; and a 10,000-file burst.

    python bench/s3_latency.py [--n 300] [--burst 10000]

* floor: watchdog alone: a file written and closed -> its close event seen on the event loop;
* eventsim: a file written and closed in a bucket folder -> the S3-triggered handler (warm,
  process isolation) entered, as the handler's own clock reading;
* burst: N files written as fast as one thread can -> every one delivered exactly once.

Targets (issue #4): p50 <= 2 ms, p99 <= 10 ms; the burst fully delivered.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import structlog
from watchdog.events import FileClosedEvent, FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from eventsim import Outcome, Simulator

HANDLER = """\
import time

def entered(event, context):
    return time.time()

def key(event, context):
    return event["Records"][0]["s3"]["object"]["key"]
"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def floor(folder: Path, n: int) -> list[float]:
    loop = asyncio.get_running_loop()
    seen: dict[str, asyncio.Future[float]] = {}

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            if isinstance(event, FileClosedEvent):
                path, now = str(event.src_path), time.time()
                loop.call_soon_threadsafe(
                    lambda: seen[path].set_result(now) if path in seen else None
                )

    observer = Observer()
    observer.schedule(Handler(), str(folder), recursive=True)
    observer.start()
    latencies = []
    try:
        for i in range(n):
            path = folder / f"f{i}.txt"
            seen[str(path)] = loop.create_future()
            path.write_bytes(b"x" * 100)
            closed = time.time()
            latencies.append((await seen[str(path)]) - closed)
    finally:
        observer.stop()
        observer.join()
    return latencies


async def eventsim_latency(root: Path, n: int) -> list[float]:
    config = {
        "functions": {
            "entered": {
                "handler": "app.entered",
                "code": str(root / "code"),
                "triggers": [{"s3": {"bucket": "latency"}}],
            }
        },
        "buckets": {"latency": {"path": str(root / "latency")}},
    }
    latencies = []
    async with Simulator.from_dict(config, state_dir=root / "state-latency") as sim:
        folder = root / "latency"
        await sim.bucket("latency").put_object("warm-up", b"")  # cold start outside
        await sim.ledger.wait_for("entered", count=1)
        for i in range(n):
            (folder / f"f{i}.txt").write_bytes(b"x" * 100)
            closed = time.time()
            attempts = await sim.ledger.wait_for("entered", count=i + 2)
            latencies.append(attempts[-1].payload - closed)
    return latencies


async def burst(root: Path, files: int) -> tuple[float, int, int, int]:
    config = {
        "functions": {
            "key": {
                "handler": "app.key",
                "code": str(root / "code"),
                "triggers": [{"s3": {"bucket": "burst"}}],
            }
        },
        "buckets": {"burst": {"path": str(root / "burst")}},
    }
    async with Simulator.from_dict(config, state_dir=root / "state-burst") as sim:
        folder = root / "burst"

        def write_all() -> None:
            for i in range(files):
                (folder / f"{i:05d}.bin").write_bytes(b"y" * 64)

        started = time.perf_counter()
        await asyncio.to_thread(write_all)
        await sim.ledger.wait_for("key", count=files, outcome=Outcome.SUCCESS, timeout=600)
        await sim.settle(timeout=600)
        elapsed = time.perf_counter() - started
        attempts = sim.ledger.for_function("key")
        keys = Counter(a.payload for a in attempts if a.outcome is Outcome.SUCCESS)
        duplicates = sum(c - 1 for c in keys.values() if c > 1)
        failed = sum(1 for a in attempts if a.outcome is not Outcome.SUCCESS)
        return elapsed, len(keys), duplicates, failed


async def main(n: int, files: int) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "code").mkdir()
        (root / "code" / "app.py").write_text(HANDLER)
        (root / "floor").mkdir()
        floor_ms = [x * 1000 for x in await floor(root / "floor", n)]
        ours_ms = [x * 1000 for x in await eventsim_latency(root, n)]
        elapsed, delivered, duplicates, failed = await burst(root, files)

    print(f"{'file closed -> ...':<44}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for label, values in (
        ("watchdog floor: close event on the loop", floor_ms),
        ("eventsim: S3 handler entered (process)", ours_ms),
    ):
        print(
            f"{label:<44}{statistics.median(values):>9.2f}{percentile(values, 99):>9.2f}"
            f"{max(values):>9.2f}"
        )
    print(
        f"burst of {files} files: {delivered} delivered, {duplicates} duplicated, "
        f"{files - delivered} lost, {failed} attempts not successful, in {elapsed:.1f} s "
        f"({delivered / elapsed:.0f} files/s)"
    )
    p50, p99 = statistics.median(ours_ms), percentile(ours_ms, 99)
    print(
        f"targets: p50 <= 2 ms: {'met' if p50 <= 2 else 'MISSED'}; "
        f"p99 <= 10 ms: {'met' if p99 <= 10 else 'MISSED'}; "
        f"burst fully delivered: {'met' if delivered == files and not duplicates else 'MISSED'}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="files timed one at a time")
    parser.add_argument("--burst", type=int, default=10000, help="files in the burst")
    args = parser.parse_args()
    asyncio.run(main(args.n, args.burst))
