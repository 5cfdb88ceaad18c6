"""SQS throughput: send -> handler per batch size, and queue operations at depth.

    python bench/sqs.py [--messages 30000] [--depths 1000,100000,1000000]

* messages per second from send to handler (process isolation, a trivial handler), for batch
  sizes 1, 10 and 100 (100 with a 1 s batching window, as AWS requires above 10);
* send + receive + delete operations per second on a queue already holding N messages.

Targets (issue #5): >= 30,000 msg/s at batch 10; depth 1M within 1.5x of depth 1k.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from pathlib import Path

import structlog

from eventsim import Simulator

HANDLER = "def handler(event, context):\n    return len(event['Records'])\n"


async def throughput(root: Path, batch_size: int, messages: int) -> float:
    trigger = {"queue": "jobs", "batch_size": batch_size, "maximum_concurrency": 10}
    if batch_size > 10:
        trigger["batching_window"] = 1
    config = {
        "functions": {
            "worker": {"handler": "app.handler", "code": str(root), "triggers": [{"sqs": trigger}]}
        },
        "queues": {"jobs": {}},
    }
    async with Simulator.from_dict(
        config, virtual_time=True, state_dir=root / f"s{batch_size}"
    ) as sim:
        jobs = sim.queue("jobs")
        jobs.send_message("warm-up")
        await sim.settle()
        started = time.perf_counter()
        for n in range(messages):
            jobs.send_message(f"message {n}")
        await sim.advance(seconds=1)  # a batching window, if any, closes
        await sim.settle(timeout=600)
        elapsed = time.perf_counter() - started
        delivered = sum(a.payload for a in sim.ledger.for_function("worker")) - 1
        assert delivered == messages and len(jobs) == 0, (delivered, len(jobs))
        return messages / elapsed


async def operations(root: Path, depth: int, ops: int = 20000) -> float:
    async with Simulator.from_dict(
        {"queues": {"deep": {"visibility_timeout": 3600}}},
        virtual_time=True,
        state_dir=root / f"d{depth}",
    ) as sim:
        deep = sim.queue("deep")
        for n in range(depth):
            deep.send_message(f"m{n}")
        started = time.perf_counter()
        for n in range(ops):
            deep.send_message(f"op{n}")
            [message] = deep.receive_now(1)
            deep.delete_message(message.receipt_handle)
        return 3 * ops / (time.perf_counter() - started)


async def main(messages: int, depths: list[int]) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "app.py").write_text(HANDLER)
        rates = {size: await throughput(root, size, messages) for size in (1, 10, 100)}
        ops = {depth: await operations(root, depth) for depth in depths}
    for size, rate in rates.items():
        print(f"send -> handler, batch size {size:>3}: {rate:>9,.0f} messages/s")
    for depth, rate in ops.items():
        print(f"send+receive+delete at depth {depth:>9,}: {rate:>9,.0f} operations/s")
    first, last = ops[depths[0]], ops[depths[-1]]
    print(
        f"targets: >= 30,000 msg/s at batch 10: {'met' if rates[10] >= 30000 else 'MISSED'}; "
        f"depth {depths[-1]:,} within 1.5x of {depths[0]:,}: "
        f"{'met' if first / last <= 1.5 else 'MISSED'} ({first / last:.2f}x)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=30000)
    parser.add_argument("--depths", default="1000,100000,1000000")
    args = parser.parse_args()
    asyncio.run(main(args.messages, [int(d) for d in args.depths.split(",")]))
