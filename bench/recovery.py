"""Recovery and the cost of durability, each measured against its floor in the same run.

    python bench/recovery.py [--pending 10000] [--events 2000] [--rounds 5]

* restart with a backlog: from ``start()`` to the first resumed delivery with ``--pending``
  asynchronous events left in the state folder, next to the floor: ``start()`` of the same
  config with nothing pending, then one event submitted, to its delivery;
* durable asynchronous invocations per second: ``--events`` Event invokes through the durable
  event store (``events.sqlite3``, every event written before it is accepted) next to the
  in-memory store that ``triggers=False`` uses, with the same warm process-isolation handler.

Rounds are paired and interleaved (eventsim, floor, eventsim, floor...), a fresh state folder
each; each measure prints min / median / max over the rounds with the per-round ratio
eventsim / floor (``bench/_rounds.py``).

Target (issue #13): durable rate >= 50% of the in-memory rate.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _rounds import arounds, measure, quiet, table, target

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


class Fresh:
    """Calls ``measure(state folder)`` with a new folder under ``root`` each time."""

    def __init__(self, root: Path, name: str, measure: Callable[[Path], Awaitable[float]]) -> None:
        self.root, self.name, self.measure, self.calls = root, name, measure, 0

    async def __call__(self) -> float:
        self.calls += 1
        return await self.measure(self.root / f"{self.name}{self.calls}")


async def main(pending: int, events: int, rounds: int) -> None:
    quiet()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "app.py").write_text(HANDLER)
        restarts = await arounds(
            rounds,
            Fresh(root, "backlog", lambda state: first_delivery(root, state, pending)),
            Fresh(root, "empty", lambda state: first_delivery(root, state, 0)),
        )
        table("restart -> first delivery", [
            measure(f"start() -> first resumed delivery, {pending:,} events pending", "ms",
                    "nothing-pending floor", ([t * 1e3 for t in restarts[0]],
                                              [t * 1e3 for t in restarts[1]])),
        ])  # fmt: skip
        rates = await arounds(
            rounds,
            Fresh(root, "durable", lambda state: async_rate(root, state, events, durable=True)),
            Fresh(root, "memory", lambda state: async_rate(root, state, events, durable=False)),
        )
        durable = measure(f"asynchronous invocations, durable store, {events:,} per round",
                          "events/s", "in-memory floor", rates)  # fmt: skip
        table("asynchronous invocations, process isolation", [durable])
        ratio = statistics.median(durable.ratios)
        target(f"durable rate >= 50% of the in-memory rate (median {ratio:.0%})", ratio >= 0.5)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.pending, args.events, args.rounds))
