"""Warm invoke rate and cold start, next to the floors they are measured against.

    python bench/invoke.py [--n 2000] [--rounds 7] [--cold 15]

Floors, run in this same process, interleaved with the measurements they are compared with
(``--rounds`` rounds of each, best of each kept) so that both see the same machine state:
* pipe floor: a bare JSON round trip to a child Python process over asyncio pipes (what a
  process-isolated invoke cannot beat);
* executor floor: a bare ``loop.run_in_executor`` no-op (the same for thread isolation).

Targets (issue #2): warm process invoke >= 50% of the pipe floor's rate; cold start <= 100 ms.
The figures vary with the machine; the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import structlog

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


class PipeFloor:
    """A bare JSON round trip to a child Python process over asyncio pipes."""

    async def __aenter__(self) -> PipeFloor:
        self.child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            ECHO_CHILD,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return self

    async def rate(self, n: int) -> float:
        stdin, stdout = self.child.stdin, self.child.stdout
        assert stdin is not None and stdout is not None
        started = time.perf_counter()
        for _ in range(n):
            # A whole JSON round trip: encode, send, the child decodes and encodes, decode.
            stdin.write(json.dumps({"n": 1}).encode() + b"\n")
            await stdin.drain()
            json.loads(await stdout.readline())
        return n / (time.perf_counter() - started)

    async def __aexit__(self, *exc: object) -> None:
        assert self.child.stdin is not None
        self.child.stdin.close()
        await self.child.wait()


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


async def cold_starts(code: Path, state: Path, rounds: int) -> tuple[list[float], list[float]]:
    """End-to-end first-invoke latency and the reported Init Duration, per fresh environment."""
    latencies, inits = [], []
    for i in range(rounds):
        async with Simulator.from_dict(config(code, "process"), state_dir=state / f"c{i}") as sim:
            started = time.perf_counter()
            result = await sim.invoke("echo", {"n": 1})
            latencies.append((time.perf_counter() - started) * 1000)
            assert result.init_duration_ms is not None
            inits.append(result.init_duration_ms)
    return latencies, inits


async def main(n: int, rounds: int, cold: int) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    best = {"pipe": 0.0, "process": 0.0, "executor": 0.0, "thread": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        code, state = Path(tmp) / "code", Path(tmp) / "state"
        code.mkdir()
        (code / "app.py").write_text(HANDLER)
        process = Simulator.from_dict(config(code, "process"), state_dir=state / "process")
        thread = Simulator.from_dict(config(code, "thread"), state_dir=state / "thread")
        async with PipeFloor() as pipe, process, thread:
            for sim in (process, thread):
                await sim.invoke("echo", {"n": 1})  # cold starts outside the measurement
            for _ in range(rounds):
                best["pipe"] = max(best["pipe"], await pipe.rate(n))
                best["process"] = max(best["process"], await invoke_rate(process, n))
                best["executor"] = max(best["executor"], await executor_rate(n))
                best["thread"] = max(best["thread"], await invoke_rate(thread, n))
        latencies, inits = await cold_starts(code, state, cold)

    ratio_process = best["process"] / best["pipe"]
    cold_median = statistics.median(latencies)

    def row(label: str, rate: float, floor: float) -> str:
        return f"{label:<34}{rate:>10.0f}{floor:>10.0f}{rate / floor:>8.0%}"

    print(f"{f'measure (best of {rounds} rounds)':<34}{'rate/s':>10}{'floor/s':>10}{'ratio':>8}")
    print(row("warm invoke, process isolation", best["process"], best["pipe"]))
    print(row("warm invoke, thread isolation", best["thread"], best["executor"]))
    print(
        f"cold start, trivial handler ({cold} runs): first invoke median {cold_median:.1f} ms "
        f"(max {max(latencies):.1f}), Init Duration median {statistics.median(inits):.1f} ms"
    )
    print(
        f"targets: process >= 50% of pipe floor: {'met' if ratio_process >= 0.5 else 'MISSED'}; "
        f"cold start <= 100 ms: {'met' if cold_median <= 100 else 'MISSED'}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="invocations per round")
    parser.add_argument("--rounds", type=int, default=7, help="rounds of each measurement")
    parser.add_argument("--cold", type=int, default=15, help="cold starts to measure")
    args = parser.parse_args()
    asyncio.run(main(args.n, args.rounds, args.cold))
