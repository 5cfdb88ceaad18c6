"""Ledger soak: the process's memory while the ledger fills to its cap and keeps turning over,
and the invoke rate throughout, next to a floor, in paired rounds.

    python bench/soak.py [--attempts 100000] [--block 10000]

One simulator, one function (thread isolation, a handler returning its ~100-byte event), and
``2 * --attempts`` synchronous invokes in blocks of ``--block``; each is one ledger entry. The
ledger keeps at most 100,000 entries and about 64 MB of them (its default caps: an entry of
this size, with its log lines and overhead, is about 1 KB, so the bytes bind first, near 68,000
entries); the first half fills it and the second half only replaces its oldest entries.
Blocks alternate with floor blocks (eventsim, floor, eventsim, floor...), printed as min /
median / max with the per-block ratio eventsim / floor (``bench/_rounds.py``):

* invokes/s per block. Floor: the same calls of the handler through ``loop.run_in_executor``
  (what thread isolation needs at least);
* RSS after each block of the second half, as a ratio to the RSS after the first half, when
  the ledger is full (what the flat-memory target is about).

Target (issue #16): memory flat within +-10% over the second ``--attempts`` attempts, once the
ledger is full.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
from pathlib import Path

from _rounds import MIN_ROUNDS, measure, quiet, single, table, target

from eventsim import Simulator

HANDLER = "def handler(event, context):\n    return event\n"
BODY = "x" * 80


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def eventsim_block(sim: Simulator, start: int, block: int) -> float:
    started = time.perf_counter()
    for n in range(start, start + block):
        result = await sim.invoke("echo", {"n": n, "body": BODY})
        result.payload  # noqa: B018 - decoded, as the floor's result is
    return block / (time.perf_counter() - started)


async def floor_block(start: int, block: int) -> float:
    namespace: dict[str, object] = {}
    exec(HANDLER, namespace)  # noqa: S102 - the same handler, compiled here
    handler = namespace["handler"]
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    for n in range(start, start + block):
        await loop.run_in_executor(None, handler, {"n": n, "body": BODY}, None)  # type: ignore[arg-type]
    return block / (time.perf_counter() - started)


async def main(attempts: int, block: int) -> None:
    quiet()
    blocks = 2 * attempts // block
    if blocks // 2 < MIN_ROUNDS:
        raise SystemExit(f"--attempts / --block must be at least {MIN_ROUNDS}")
    rates: tuple[list[float], list[float]] = ([], [])
    full_mb, memory = 0.0, []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "app.py").write_text(HANDLER)
        config = {"functions": {"echo": {"handler": "app.handler", "code": str(root),
                                         "isolation": "thread"}}}  # fmt: skip
        async with Simulator.from_dict(config, state_dir=root / "state") as sim:
            await sim.invoke("echo", {})  # cold start outside
            for b in range(blocks):
                rates[0].append(await eventsim_block(sim, b * block, block))
                rates[1].append(await floor_block(b * block, block))
                gc.collect()
                if b + 1 == blocks // 2:
                    full_mb = rss_mb()
                elif b + 1 > blocks // 2:
                    memory.append(rss_mb())
            held = len(sim.ledger.for_function("echo"))
    table(f"{2 * attempts:,} invokes in blocks of {block:,}", [
        measure("synchronous invoke, thread isolation", "invokes/s", "executor floor", rates),
    ])  # fmt: skip
    single(f"RSS after each block of the second half (ledger holding {held:,})", "MB", memory)
    drift = [m / full_mb for m in memory]
    single(f"  as a ratio to the RSS when the ledger was first full ({full_mb:.1f} MB)", "x",
           drift)  # fmt: skip
    worst = max(abs(d - 1) for d in drift)
    target(f"memory flat within +-10% once the ledger is full (worst {worst:.1%})", worst <= 0.1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=100_000, help="the ledger's cap")
    parser.add_argument("--block", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(main(args.attempts, args.block))
