"""SQS: send -> handler throughput, queue operations at depth, memory per message; each next to
a floor measured in this same run, in paired interleaved rounds.

    python bench/sqs.py [--rounds 5] [--messages 10000] [--depths 1000,100000,1000000]
                        [--memory-depth 100000]

Every figure is measured in paired, interleaved rounds (eventsim, floor, eventsim, floor...),
so both see the same machine; each is printed as min / median / max over the rounds, with the
per-round ratio eventsim / floor (``bench/_rounds.py``):

* send -> handler, batch sizes 1, 10 and 100 (100 with a 1 s batching window, as AWS requires
  above 10; batch 1 sends a quarter of ``--messages``), process isolation, a trivial handler,
  at most 2 batches at a time, msg/s. Floor: the same messages through a bare
  ``asyncio.Queue``, taken in the same batches, each batch's records (built by the same event
  builder) sent as JSON over a pipe to a child process that decodes them, runs the same
  handler and answers, by 2 consumers with a child each;
* send + receive + delete on a queue already holding N messages, ops/s. Floor: the same ids
  and receipt handles through a bare ``dict`` and ``deque`` (what any queue must do at least);
* bytes per queued message at ``--memory-depth``, in a fresh process each round. Floor: a
  plain dict per message (id, body, sent time) in a dict by id.

Targets (issues #5, #16): >= 30,000 msg/s at batch 10 (absolute, machine-dependent: see the
ratio); depth 1M within 1.5x of depth 1k (eventsim's median ops/s at each depth, printed with
the floor's own growth); memory per message near the plain dict's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import deque
from functools import partial
from pathlib import Path

from _rounds import Measure, arounds, measure, quiet, single, table, target
from _rounds import rounds as rounds_

from eventsim import Simulator
from eventsim.events import ids, sqs

HANDLER = "def handler(event, context):\n    return len(event['Records'])\n"
CHILD = textwrap.dedent(
    """
    import json, sys
    from app import handler
    read, write = sys.stdin.buffer.readline, sys.stdout.buffer
    while line := read():
        write.write(json.dumps(handler(json.loads(line), None)).encode() + b"\\n")
        write.flush()
    """
)
CONCURRENCY = 2
MEMORY = textwrap.dedent(
    """
    import asyncio, gc, random, sys, time
    from eventsim.clock import VirtualClock
    from eventsim.config import QueueConfig
    from eventsim.events import ids
    from eventsim.resources.queue import Queue

    def rss():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    kind, n = sys.argv[1], int(sys.argv[2])
    bodies = [f"message {i}" for i in range(n)]
    gc.collect()
    before = rss()
    if kind == "queue":
        queue = Queue("q", QueueConfig(), clock=VirtualClock(), rng=random.Random(1),
                      region="us-east-1", account="123456789012")
        for body in bodies:
            queue.send_message(body)
    else:
        rng, plain = random.Random(1), {}
        for body in bodies:
            message_id = ids.uuid4(rng)
            plain[message_id] = {"id": message_id, "body": body, "sent": time.time()}
    gc.collect()
    print((rss() - before) / n)
    """
)


# --- send -> handler ---------------------------------------------------------------------


def trigger_config(root: Path, batch_size: int) -> dict[str, object]:
    trigger: dict[str, object] = {"queue": "jobs", "batch_size": batch_size,
                                  "maximum_concurrency": CONCURRENCY}  # fmt: skip
    if batch_size > 10:
        trigger["batching_window"] = 1
    return {
        "functions": {"worker": {"handler": "app.handler", "code": str(root),
                                 "triggers": [{"sqs": trigger}]}},
        "queues": {"jobs": {}},
    }  # fmt: skip


async def eventsim_rate(sim: Simulator, messages: int) -> float:
    jobs = sim.queue("jobs")
    delivered = len(sim.ledger.for_function("worker"))
    started = time.perf_counter()
    for n in range(messages):
        jobs.send_message(f"message {n}")
    await sim.advance(seconds=1)  # a batching window, if any, closes
    await sim.settle(timeout=600)
    elapsed = time.perf_counter() - started
    attempts = sim.ledger.for_function("worker")[delivered:]
    assert sum(a.payload for a in attempts) == messages and len(jobs) == 0
    return messages / elapsed


class Floor:
    """The same batches through an ``asyncio.Queue`` and pipes to child processes."""

    def __init__(self, root: Path, batch_size: int) -> None:
        self.root, self.batch_size = root, batch_size
        self.children: list[asyncio.subprocess.Process] = []
        self.rng = random.Random(1)

    async def start(self) -> None:
        for _ in range(CONCURRENCY):
            self.children.append(await asyncio.create_subprocess_exec(
                sys.executable, "-c", CHILD, cwd=self.root,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            ))  # fmt: skip

    async def rate(self, messages: int) -> float:
        queue: asyncio.Queue[tuple[str, str, float]] = asyncio.Queue()
        arn = sqs.queue_arn("us-east-1", "123456789012", "jobs")
        started = time.perf_counter()
        for n in range(messages):
            queue.put_nowait((ids.uuid4(self.rng), f"message {n}", time.time()))
        done = 0

        async def consume(child: asyncio.subprocess.Process) -> None:
            nonlocal done
            assert child.stdin is not None and child.stdout is not None
            while not queue.empty():
                batch = [queue.get_nowait()]
                while len(batch) < self.batch_size and not queue.empty():
                    batch.append(queue.get_nowait())
                records = [
                    sqs.record(
                        message_id=mid, receipt_handle=ids.receipt_handle(self.rng), body=body,
                        attributes=sqs.system_attributes(sent_ms=int(sent * 1000),
                                                         receive_count=1,
                                                         first_receive_ms=int(sent * 1000)),
                        message_attributes={}, queue_arn=arn, region="us-east-1",
                    )
                    for mid, body, sent in batch
                ]  # fmt: skip
                child.stdin.write(json.dumps(sqs.batch(records)).encode() + b"\n")
                await child.stdin.drain()
                handled = json.loads(await child.stdout.readline())
                done += handled

        await asyncio.gather(*(consume(child) for child in self.children))
        assert done == messages
        return messages / (time.perf_counter() - started)

    async def close(self) -> None:
        for child in self.children:
            assert child.stdin is not None
            child.stdin.close()
            await child.wait()


async def throughput(root: Path, rounds: int, messages: int) -> list[Measure]:
    measures = []
    for batch_size, count in ((1, messages // 4), (10, messages), (100, messages)):
        config = trigger_config(root, batch_size)
        async with Simulator.from_dict(
            config, virtual_time=True, state_dir=root / f"s{batch_size}"
        ) as sim:
            floor = Floor(root, batch_size)
            await floor.start()
            try:
                await eventsim_rate(sim, CONCURRENCY * batch_size)  # environments warm
                await floor.rate(CONCURRENCY * batch_size)
                pair = await arounds(
                    rounds, partial(eventsim_rate, sim, count), partial(floor.rate, count)
                )
            finally:
                await floor.close()
        label = f"send -> handler, batch {batch_size} ({count:,} messages)"
        measures.append(measure(label, "msg/s", "queue+pipe floor", pair))
    return measures


# --- operations at depth -----------------------------------------------------------------


async def queue_ops(sim: Simulator, ops: int) -> float:
    deep = sim.queue("deep")
    started = time.perf_counter()
    for n in range(ops):
        deep.send_message(f"op{n}")
        [message] = deep.receive_now(1)
        deep.delete_message(message.receipt_handle)
    return 3 * ops / (time.perf_counter() - started)


class BareQueue:
    """A dict by id and a deque of visible ids, with the same ids and handles drawn."""

    def __init__(self, depth: int) -> None:
        self.rng = random.Random(2)
        self.messages: dict[str, tuple[str, float]] = {}
        self.visible: deque[str] = deque()
        self.handles: dict[str, str] = {}
        for n in range(depth):
            self.send(f"m{n}")

    def send(self, body: str) -> None:
        message_id = ids.uuid4(self.rng)
        self.messages[message_id] = (body, time.time())
        self.visible.append(message_id)

    def ops(self, ops: int) -> float:
        started = time.perf_counter()
        for n in range(ops):
            self.send(f"op{n}")
            message_id = self.visible.popleft()
            handle = ids.receipt_handle(self.rng)
            self.handles[handle] = message_id
            del self.messages[self.handles.pop(handle)]
        return 3 * ops / (time.perf_counter() - started)


async def bare_ops(bare: BareQueue, ops: int) -> float:
    return bare.ops(ops)


async def at_depth(root: Path, rounds: int, depths: list[int], ops: int = 20000) -> list[Measure]:
    measures = []
    for depth in depths:
        async with Simulator.from_dict(
            {"queues": {"deep": {"visibility_timeout": 3600}}},
            virtual_time=True, state_dir=root / f"d{depth}",
        ) as sim:  # fmt: skip
            deep = sim.queue("deep")
            for n in range(depth):
                deep.send_message(f"m{n}")
            bare = BareQueue(depth)
            pair = await arounds(rounds, partial(queue_ops, sim, ops), partial(bare_ops, bare, ops))
        label = f"send+receive+delete at depth {depth:,}"
        measures.append(measure(label, "ops/s", "dict+deque floor", pair))
    return measures


def memory(depth: int, rounds: int) -> Measure:
    def bytes_per_message(kind: str) -> float:
        out = subprocess.run([sys.executable, "-c", MEMORY, kind, str(depth)], check=True,
                             capture_output=True, text=True)  # fmt: skip
        return float(out.stdout)

    pair = rounds_(rounds, lambda: bytes_per_message("queue"), lambda: bytes_per_message("plain"))
    return measure(f"memory per queued message at {depth:,}", "bytes", "plain dict floor", pair)


async def main(rounds: int, messages: int, depths: list[int], memory_depth: int) -> None:
    quiet()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "app.py").write_text(HANDLER)
        sends = await throughput(root, rounds, messages)
        table("send -> handler, process isolation, 2 batches at a time", sends)
        deep = await at_depth(root, rounds, depths)
        table("send + receive + delete on a queue at depth", deep)
    table("memory, a fresh process per figure", [memory(memory_depth, rounds)])
    first, last = deep[0], deep[-1]
    growth = statistics.median(first.ours) / statistics.median(last.ours)
    floor_growth = statistics.median(first.floor) / statistics.median(last.floor)
    single(f"eventsim's cost at depth {depths[-1]:,} / at {depths[0]:,} (medians; the floor's: "
           f"{floor_growth:.2f}x)", "x", [growth])  # fmt: skip
    batch10 = statistics.median(sends[1].ours)
    target(f"depth {depths[-1]:,} within 1.5x of {depths[0]:,} ({growth:.2f}x)", growth <= 1.5)
    target(f">= 30,000 msg/s at batch 10 ({batch10:,.0f}; absolute)", batch10 >= 30_000)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--depths", default="1000,100000,1000000")
    parser.add_argument("--memory-depth", type=int, default=100_000)
    args = parser.parse_args()
    depths = [int(d) for d in args.depths.split(",")]
    asyncio.run(main(args.rounds, args.messages, depths, args.memory_depth))
