"""Warm invoke rate and cold start, each next to its floor, in paired rounds.

    python bench/invoke.py [--n 2000] [--rounds 9] [--cold 9]

In paired interleaved rounds (eventsim, floor, eventsim, floor...) in this one process, each
printed as min / median / max over the rounds with the per-round ratio (``bench/_rounds.py``):

* warm invoke, process isolation, ``sim.invoke`` of a trivial handler, invokes/s. Floor: a
  bare JSON round trip to a warm child Python process over asyncio pipes (what a
  process-isolated invoke cannot beat);
* warm invoke, thread isolation, invokes/s. Floor: a bare ``loop.run_in_executor`` no-op;
* cold start: a fresh simulator's first invoke (spawn, INIT, invoke), ms, with the Init
  Duration it reports. Floor: spawning a bare Python child and one JSON round trip with it.

Targets (issues #2, #16): warm process invoke >= 50% of the pipe floor's rate; cold start
<= 100 ms. The figures vary with the machine; the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from _rounds import arounds, measure, quiet, single, table, target

from eventsim import Simulator

ECHO_CHILD = textwrap.dedent(
    """
    import json, sys
    read, write = sys.stdin.buffer.readline, sys.stdout.buffer
    while line := read():
        write.write(json.dumps({"result": json.loads(line)}).encode() + b"\\n")
        write.flush()
    """
)

HANDLER = "def handler(event, context):\n    return event\n"


async def echo_child() -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", ECHO_CHILD, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def round_trip(child: asyncio.subprocess.Process) -> None:
    """A whole JSON round trip: encode, send, the child decodes and encodes, decode."""
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(json.dumps({"n": 1}).encode() + b"\n")
    await child.stdin.drain()
    json.loads(await child.stdout.readline())


async def close(child: asyncio.subprocess.Process) -> None:
    assert child.stdin is not None
    child.stdin.close()
    await child.wait()


async def pipe_rate(child: asyncio.subprocess.Process, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        await round_trip(child)
    return n / (time.perf_counter() - started)


async def executor_rate(n: int) -> float:
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    for _ in range(n):
        await loop.run_in_executor(None, int)
    return n / (time.perf_counter() - started)


async def invoke_rate(sim: Simulator, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        result = await sim.invoke("echo", {"n": 1})
        result.payload  # noqa: B018 - decoded, as the floor decodes its reply
    return n / (time.perf_counter() - started)


def config(code: Path, isolation: str) -> dict[str, object]:
    return {
        "functions": {"echo": {"handler": "app.handler", "code": str(code), "isolation": isolation}}
    }


class ColdStarts:
    """A fresh simulator per cold start (started outside the timing); Init Durations kept."""

    def __init__(self, code: Path, state: Path) -> None:
        self.code, self.state = code, state
        self.inits: list[float] = []

    async def eventsim_ms(self) -> float:
        state = self.state / f"c{len(self.inits)}"
        async with Simulator.from_dict(config(self.code, "process"), state_dir=state) as sim:
            started = time.perf_counter()
            result = await sim.invoke("echo", {"n": 1})
            elapsed = (time.perf_counter() - started) * 1000
        assert result.init_duration_ms is not None
        self.inits.append(result.init_duration_ms)
        return elapsed

    @staticmethod
    async def floor_ms() -> float:
        """A bare Python child spawned and one JSON round trip with it."""
        started = time.perf_counter()
        child = await echo_child()
        await round_trip(child)
        elapsed = (time.perf_counter() - started) * 1000
        await close(child)
        return elapsed


async def main(n: int, rounds: int, cold: int) -> None:
    quiet()
    with tempfile.TemporaryDirectory() as tmp:
        code, state = Path(tmp) / "code", Path(tmp) / "state"
        code.mkdir()
        (code / "app.py").write_text(HANDLER)
        process = Simulator.from_dict(config(code, "process"), state_dir=state / "process")
        thread = Simulator.from_dict(config(code, "thread"), state_dir=state / "thread")
        child = await echo_child()
        async with process, thread:
            for sim in (process, thread):
                await sim.invoke("echo", {"n": 1})  # cold starts outside the measurement
            await pipe_rate(child, 10)
            warm_process = await arounds(
                rounds, lambda: invoke_rate(process, n), lambda: pipe_rate(child, n)
            )
            warm_thread = await arounds(
                rounds, lambda: invoke_rate(thread, n), lambda: executor_rate(n)
            )
        await close(child)
        starts = ColdStarts(code, state)
        cold_ms = await arounds(cold, starts.eventsim_ms, starts.floor_ms)

    table(
        f"warm invoke of a trivial handler, {n:,} invokes per round",
        [
            measure("warm invoke, process isolation", "invokes/s", "pipe floor", warm_process),
            measure("warm invoke, thread isolation", "invokes/s", "executor floor", warm_thread),
        ],
    )
    table(
        "cold start of a trivial handler",
        [measure("first invoke of a fresh environment", "ms", "spawn floor", cold_ms)],
    )
    single("  Init Duration reported by eventsim", "ms", starts.inits)
    ratio = statistics.median(o / f for o, f in zip(*warm_process, strict=True))
    target(
        f"warm process invoke >= 50% of the pipe floor's rate (median {ratio:.0%})", ratio >= 0.5
    )
    cold_median = statistics.median(cold_ms[0])
    target(f"cold start <= 100 ms (median {cold_median:.1f} ms)", cold_median <= 100)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="invocations per round")
    parser.add_argument("--rounds", type=int, default=9, help="paired rounds of warm invokes")
    parser.add_argument("--cold", type=int, default=9, help="paired rounds of cold starts")
    args = parser.parse_args()
    asyncio.run(main(args.n, args.rounds, args.cold))
