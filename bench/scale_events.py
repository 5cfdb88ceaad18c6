"""Scale cases: the asynchronous event store (bench/scale.py runs them)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from scale import Case

from eventsim import Simulator
from eventsim.invocation.event_store import EventStore

HANDLER = "def handler(event, context):\n    return None\n"


async def with_waiting_events(folder: Path, size: int) -> Simulator:
    """A simulator whose store holds ``size`` events waiting an hour for their retry."""
    (folder / "app.py").write_text(HANDLER)

    def fill() -> None:  # off the loop: the stall probe measures eventsim, not this setup
        store = EventStore(folder / "state" / "events.sqlite3")
        due = time.time() + 3600
        for n in range(size):
            id = store.add(f"r{n}", "f", "invoke", b"{}", time.time())
            store.update(id, runs=1, retries=1, throttles=0, due=due, last=None)
        store.close()

    await asyncio.to_thread(fill)
    sim = Simulator.from_dict(
        {"functions": {"f": {"handler": "app.handler", "code": str(folder),
                             "isolation": "thread"}}},
        state_dir=folder / "state",
    )  # fmt: skip
    await sim.start()
    await sim.settle()  # resumed: every stored event waits on the timer
    return sim


async def submit_and_deliver(sim: Simulator) -> None:
    await sim.invoke("f", {}, invocation_type="Event")
    await sim.settle()


async def close(sim: Any) -> None:
    await sim.close(grace=0)


CASES = [
    Case(
        "async invoke (Event) while N events wait for a retry",
        with_waiting_events,
        submit_and_deliver,
        close,
        note="store write + delivery + removal; resume pages through the store",
    ),
]
