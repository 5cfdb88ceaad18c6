"""Recovery and the cost of durability, each measured against its floor in the same run.

    python bench/recovery.py [--pending 10000] [--events 3000] [--rounds 5]

* restart with a backlog: from ``start()`` to the first resumed delivery with ``--pending``
  asynchronous events left in the state folder, next to the floor: ``start()`` of the same
  config with nothing pending, then one event submitted, to its delivery;
* durable asynchronous invocations per second: ``--events`` Event invokes through the durable
  event store (``events.sqlite3``, every event written before it is accepted) next to the
  in-memory store that ``triggers=False`` uses, with the same warm process-isolation handler.

Rounds are paired and interleaved (floor, measured, floor, measured...); each line prints
min / median / max over the rounds and the ratio of the medians.

Target (issue #13): durable rate >= 50% of the in-memory rate.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import structlog

from eventsim import Simulator
from eventsim.invocation.event_store import EventStore

HANDLER = """\
import os, time
def handler(event, context):
    return event
"""


def config(root: Path, isolation: str = "process") -> dict[str, Any]:
    return {"functions": {"f": {"handler": "app.handler", "code": str(root),
                                "isolation": isolation}}}  # fmt: skip


async def first_delivery(root: Path, state: Path, pending: int) -> float:
    """Seconds from ``start()`` to the first handler run, with ``pending`` events stored (or
    one submitted right after start when there are none)."""
    if pending:
        store = EventStore(state / "events.sqlite3")
        now = time.time()
        for n in range(pending):
            store.add(f"req-{n}", "f", "invoke", b'{"n": %d}' % n, now)
        store.close()
    first = asyncio.get_running_loop().create_future()
    sim = Simulator.from_dict(config(root, "thread"), state_dir=state)
    sim.ledger.subscribe(lambda attempt: first.done() or first.set_result(None))
    started = time.perf_counter()
    await sim.start()
    if not pending:
        await sim.invoke("f", {"n": 0}, invocation_type="Event")
    await first
    elapsed = time.perf_counter() - started
    await sim.close(grace=0)
    return elapsed


async def async_rate(root: Path, state: Path, events: int, durable: bool) -> float:
    """Event invokes per second from the first submit to the last delivery."""
    sim = Simulator.from_dict(config(root), state_dir=state, triggers=durable)
    async with sim:
        await sim.invoke("f", {"warm": True})  # a warm environment, not a cold start
        started = time.perf_counter()
        for n in range(events):
            await sim.invoke("f", {"n": n}, invocation_type="Event")
        await sim.settle(timeout=600)
        elapsed = time.perf_counter() - started
    assert len(sim.ledger.for_function("f")) == events + 1
    return events / elapsed


async def paired(
    rounds: int,
    floor: Callable[[int], Awaitable[float]],
    measured: Callable[[int], Awaitable[float]],
) -> tuple[list[float], list[float]]:
    floors, values = [], []
    for n in range(rounds):
        floors.append(await floor(n))
        values.append(await measured(n))
    return floors, values


def summary(values: list[float], unit: str, scale: float = 1.0) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{low * scale:,.1f} / {mid * scale:,.1f} / {high * scale:,.1f} {unit}"


async def main(pending: int, events: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "app.py").write_text(HANDLER)

        floors, values = await paired(
            rounds,
            lambda n: first_delivery(root, root / f"empty{n}", 0),
            lambda n: first_delivery(root, root / f"backlog{n}", pending),
        )
        print(f"restart -> first delivery (min / median / max over {rounds} rounds)")
        print(f"  floor, nothing pending:   {summary(floors, 'ms', 1000)}")
        print(f"  {pending:,} events pending: {summary(values, 'ms', 1000)}")
        ratio = statistics.median(values) / statistics.median(floors)
        print(f"  ratio (median):           {ratio:.2f}x")

        floors, values = await paired(
            rounds,
            lambda n: async_rate(root, root / f"memory{n}", events, durable=False),
            lambda n: async_rate(root, root / f"durable{n}", events, durable=True),
        )
        print(f"asynchronous invocations, process isolation ({events:,} per round)")
        print(f"  in memory (floor): {summary(floors, 'events/s')}")
        print(f"  durable:           {summary(values, 'events/s')}")
        ratio = statistics.median(values) / statistics.median(floors)
        print(f"  durable / in memory (median): {ratio:.0%}   target >= 50%")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=3_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    asyncio.run(main(args.pending, args.events, args.rounds))
