"""Cost against stored size: every operation that touches stored data, at several sizes.

    python bench/scale.py [--only NAME[,NAME]] [--sizes 1000,10000,100000] [--rounds 5]

For each case and each size, the case builds that much stored state (items in a table,
messages in a queue, files in a bucket, pending events...), then times its operation in
``--rounds`` rounds. It prints, per size: the time per operation as min / median / max over
the rounds, the ratio of the median to the smallest size's (1.0x means the cost does not grow
with the data: the smallest size is the floor here), the longest event-loop stall seen while
building and operating (a probe task that wakes every millisecond measures how late it wakes),
and the process's RSS. The sizes run one after another, not interleaved: on a shared machine,
compare the ratio with the min / max spread before reading growth into it.

Targets (issue #16): each cost flat in the size (DynamoDB Query ``Limit=10`` at 100k within
1.5x of 1k); the longest loop stall <= 20 ms at 100k files and 1M stream rows. Before the
cases, a warm-up simulator imports what they use, and the probe runs on an idle loop for 2 s:
that stall floor is what the machine alone adds to every stall figure.

The cases live beside this file, one module per area: ``scale_<area>.py`` defines ``CASES``,
a list of ``Case``. A case's ``prepare`` (optional) makes data outside eventsim first, not
measured; ``build`` gets a fresh folder and a size and returns a context; ``operate`` runs one
operation on it (awaitable); ``close`` tears it down.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _rounds import number, quiet, record, spread


@dataclass
class Case:
    """One operation measured at several stored sizes."""

    name: str
    build: Callable[[Path, int], Awaitable[Any]]
    operate: Callable[[Any], Awaitable[None]]
    close: Callable[[Any], Awaitable[None]] | None = None
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    operations: int = 100  # per round
    note: str = ""
    #: Makes the stored data outside eventsim before ``build`` (files written by the bench),
    #: so that the stall column measures eventsim, not the bench's own writing.
    prepare: Callable[[Path, int], None] | None = None


@dataclass
class Lag:
    """The longest stall of the event loop while running: how late a 1 ms timer wakes."""

    worst: float = 0.0
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def _probe(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            self.worst = max(self.worst, time.perf_counter() - before - 0.001)

    def __enter__(self) -> Lag:
        self._task = asyncio.get_running_loop().create_task(self._probe())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


def rss_mb() -> float:
    """The resident set size now (Linux; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


async def measure(
    case: Case, size: int, rounds: int, root: Path
) -> tuple[list[float], float, float]:
    """Seconds per operation in each round, the worst loop stall and RSS (MB) at ``size``."""
    folder = root / f"{case.name.replace(' ', '_')}-{size}"
    folder.mkdir()
    if case.prepare is not None:
        case.prepare(folder, size)
    with Lag() as lag:
        context = await case.build(folder, size)
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(case.operations):
                await case.operate(context)
            times.append((time.perf_counter() - started) / case.operations)
        memory = rss_mb()
        if case.close is not None:
            await case.close(context)
    return times, lag.worst, memory


def load_cases(only: set[str] | None) -> list[Case]:
    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    cases: list[Case] = []
    for module in sorted(here.glob("scale_*.py")):
        cases += importlib.import_module(module.stem).CASES
    return [c for c in cases if only is None or any(o in c.name for o in only)]


async def warm_up(root: Path) -> None:
    """Start and stop a simulator with a bucket, a queue and a table once, so that the first
    case's stall does not count importing eventsim's modules (the same at every size)."""
    from eventsim import Simulator

    config = {"buckets": {"warm": {"path": str(root / "warm")}}, "queues": {"warm": {}},
              "tables": {"warm": {"partition_key": "pk", "stream": "NEW_IMAGE"}}}  # fmt: skip
    async with Simulator.from_dict(config, state_dir=root / "state"):
        pass


async def idle_stall(seconds: float = 2.0) -> float:
    """The floor for the stall column: the probe's worst lateness on an idle loop (what the
    machine alone costs: other processes, the scheduler)."""
    with Lag() as lag:
        await asyncio.sleep(seconds)
    return lag.worst


async def main(only: set[str] | None, sizes: tuple[int, ...] | None, rounds: int) -> None:
    quiet()
    with tempfile.TemporaryDirectory() as tmp:
        await warm_up(Path(tmp))
    floor = await idle_stall()
    print(f"stall floor: the probe on an idle loop for 2 s, worst {floor * 1e3:.1f} ms")
    record({"label": "stall floor: the probe on an idle loop for 2 s", "unit": "ms",
            "values": [floor * 1e3]})  # fmt: skip
    print(f"{'':<13}{'min':>8} {'median':>8} {'max':>8} (over {rounds} rounds)  vs smallest")
    for case in load_cases(only):
        print(f"{case.name}{f'  ({case.note})' if case.note else ''}")
        first: float | None = None
        with tempfile.TemporaryDirectory() as tmp:
            for size in sizes or case.sizes:
                times, stall, memory = await measure(case, size, rounds, Path(tmp))
                low, median, high = (t * 1e3 for t in spread(times))
                first = first or median
                print(
                    f"  {size:>9,}: {number(low):>8} {number(median):>8} {number(high):>8} "
                    f"ms/op  {median / first:5.2f}x  stall {stall * 1e3:6.1f} ms  "
                    f"rss {memory:7.1f} MB"
                )
                record({"label": f"{case.name} at {size:,}", "unit": "ms/op",
                        "values": [t * 1e3 for t in times], "vs_smallest": median / first,
                        "stall_ms": stall * 1e3, "rss_mb": memory})  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated parts of case names")
    parser.add_argument("--sizes", help="comma-separated sizes (default: each case's own)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(
        main(
            set(args.only.split(",")) if args.only else None,
            tuple(int(s) for s in args.sizes.split(",")) if args.sizes else None,
            args.rounds,
        )
    )
