"""Scale cases: SQS queues at 1k / 100k / 1M messages (bench/scale.py runs them).

* send + receive + delete on a queue already holding N messages (in memory);
* GetQueueAttributes (the counts) through the edge's JSON protocol at depth N;
* a persisted queue: N messages restored at start (a chunk per loop turn: the stall column
  shows the longest turn), then send (committed before it returns) + receive + delete.

    python bench/scale.py --only SQS
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp
from scale import Case

from eventsim import Simulator
from eventsim.resources.queue import Queue

SIZES = (1_000, 100_000, 1_000_000)
#: Sends per loop turn while filling: the stall probe measures eventsim, not this loop.
FILL_CHUNK = 500


async def fill(queue: Queue, size: int) -> None:
    for start in range(0, size, FILL_CHUNK):
        for n in range(start, min(size, start + FILL_CHUNK)):
            queue.send_message(f"message {n}")
        await asyncio.sleep(0)


async def deep(folder: Path, size: int, *, edge: bool = False) -> Simulator:
    config = {"queues": {"deep": {"visibility_timeout": 3600}}, "server": {"port": 0}}
    sim = Simulator.from_dict(config, virtual_time=True, state_dir=folder / "state", edge=edge)
    await sim.start()
    await fill(sim.queue("deep"), size)
    return sim


#: Operations between two turns of the loop (scale.py awaits operations back to back).
TURN = 32
_operations = itertools.count(1)


async def send_receive_delete(sim: Simulator) -> None:
    queue = sim.queue("deep")
    queue.send_message("op")
    [message] = queue.receive_now(1)
    queue.delete_message(message.receipt_handle)
    if next(_operations) % TURN == 0:
        await asyncio.sleep(0)


class EdgeContext:
    def __init__(self, sim: Simulator, session: aiohttp.ClientSession, url: str) -> None:
        self.sim, self.session, self.url = sim, session, url


async def with_edge(folder: Path, size: int) -> EdgeContext:
    sim = await deep(folder, size, edge=True)
    assert sim.endpoint_url is not None
    session = aiohttp.ClientSession(sim.endpoint_url)
    return EdgeContext(sim, session, f"{sim.endpoint_url}/123456789012/deep")


async def get_queue_attributes(context: EdgeContext) -> None:
    body = json.dumps({"QueueUrl": context.url, "AttributeNames": ["All"]})
    headers = {"X-Amz-Target": "AmazonSQS.GetQueueAttributes",
               "Content-Type": "application/x-amz-json-1.0"}  # fmt: skip
    async with context.session.post("/", data=body, headers=headers) as response:
        answer = await response.json(content_type=None)
    assert int(answer["Attributes"]["ApproximateNumberOfMessages"]) > 0


async def close_edge(context: EdgeContext) -> None:
    await context.session.close()
    await context.sim.close(grace=0)


WRITE = """
import random, sqlite3, sys, time
from pathlib import Path
from eventsim.events import ids
from eventsim.resources.queue_store import QueueStore

path, size = Path(sys.argv[1]), int(sys.argv[2])
QueueStore(path, "us-east-1").close()
rng, now = random.Random(1), time.time()
db = sqlite3.connect(path)
db.executemany(
    "INSERT INTO messages (queue, id, seq, body, sent_at, available_at) VALUES (?, ?, ?, ?, ?, ?)",
    (("us-east-1/kept", ids.uuid4(rng), n, f"message {n}", now, now) for n in range(size)),
)
db.commit()
db.close()
"""


async def restored(folder: Path, size: int) -> Simulator:
    """A persisted queue holding ``size`` messages, written while eventsim was down."""
    state = folder / "state"
    state.mkdir()
    # Written by another process: the stall probe measures eventsim, not this setup.
    writer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITE, str(state / "queues.sqlite3"), str(size)
    )
    assert await writer.wait() == 0
    sim = Simulator.from_dict(
        {"queues": {"kept": {"persist": True, "visibility_timeout": 3600}}}, state_dir=state
    )
    await sim.start()
    assert len(sim.queue("kept")) == size
    return sim


async def persisted_ops(sim: Simulator) -> None:
    """As requests arrive: a turn of the loop each (the bookkeeping is written then)."""
    queue = sim.queue("kept")
    queue.send_message("op")
    [message] = queue.receive_now(1)
    queue.delete_message(message.receipt_handle)
    await asyncio.sleep(0)


async def close(sim: Any) -> None:
    await sim.close(grace=0)


CASES = [
    Case(
        "SQS send+receive+delete at depth N",
        deep,
        send_receive_delete,
        close,
        SIZES,
        operations=1000,
        note="in memory; the fill sends 500 per loop turn",
    ),  # fmt: skip
    Case(
        "SQS GetQueueAttributes All at depth N (edge, JSON)",
        with_edge,
        get_queue_attributes,
        close_edge,
        SIZES,
        operations=200,
        note="counts are counters, not a scan",
    ),  # fmt: skip
    Case(
        "SQS persisted: restore N at start, then send+receive+delete",
        restored,
        persisted_ops,
        close,
        SIZES,
        operations=500,
        note="each send committed before it returns; bookkeeping batched",
    ),  # fmt: skip
]
