"""Wall time of long spans of virtual time, next to floors measured in this same run.

    python bench/schedule.py [--rounds 5] [--cron-days 20]

In paired interleaved rounds (eventsim, floor, eventsim, floor...), printed as min / median /
max over the rounds with the per-round ratio eventsim / floor (``bench/_rounds.py``):

* a virtual day of ``rate(1 minute)`` per round (the same simulator advancing day after day):
  1,440 asynchronous invocations of a real handler (warm, process isolation), each event's
  ``time`` the scheduled minute; seconds. Floor: the 1,440 minutes taken off a heap, each
  event built by the same builder and sent as JSON over a pipe to a warm child process that
  runs the same handler, one at a time;
* ``--cron-days`` virtual days of ``cron(0 12 * * ? *)`` per round: a firing a day, and the
  idle environment expires between them, so each is a real cold start, as in AWS; seconds
  (``--cron-days 365`` for the virtual year). Floor: per firing, a fresh Python child spawned
  that imports the handler and answers one JSON event.

Target (issue #7): the virtual day in <= 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import random
import statistics
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from _rounds import arounds, measure, quiet, table, target

from eventsim import Simulator
from eventsim.events import ids, schedule

START = datetime(2026, 1, 1, tzinfo=UTC)
HANDLER = "def handler(event, context):\n    return event['time']\n"
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
ARN = schedule.rule_arn("us-east-1", "123456789012", "tick")


class Span:
    """One simulator on a schedule; each call advances it ``days`` further."""

    def __init__(self, root: Path, expression: str, days: int) -> None:
        config = {
            "functions": {
                "tick": {
                    "handler": "app.handler",
                    "code": str(root),
                    "triggers": [{"schedule": {"expression": expression}}],
                }
            }
        }
        self.sim = Simulator.from_dict(
            config, virtual_time=True, start_time=START, state_dir=root / expression[:4]
        )
        self.days = days

    async def seconds(self) -> float:
        done = len(self.sim.ledger.for_function("tick"))
        started = time.perf_counter()
        await self.sim.advance(days=self.days)
        elapsed = time.perf_counter() - started
        attempts = self.sim.ledger.for_function("tick")[done:]
        assert attempts and all(a.outcome == "success" for a in attempts)
        return elapsed


async def spawn(root: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, cwd=root,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def deliver(child: asyncio.subprocess.Process, due: datetime, event_id: str) -> None:
    assert child.stdin is not None and child.stdout is not None
    event = schedule.scheduled_event(event_id=event_id, time=due, region="us-east-1",
                                     account="123456789012", rule_arn=ARN)  # fmt: skip
    child.stdin.write(json.dumps(event).encode() + b"\n")
    await child.stdin.drain()
    json.loads(await child.stdout.readline())


async def close(child: asyncio.subprocess.Process) -> None:
    assert child.stdin is not None
    child.stdin.close()
    await child.wait()


class Floor:
    """Due times off a heap, each event to a child: warm (one child) or cold (one per event)."""

    def __init__(self, root: Path, step: timedelta, days: int, cold: bool) -> None:
        self.root, self.step, self.days, self.cold = root, step, days, cold
        self.now = START

    async def seconds(self, child: asyncio.subprocess.Process | None) -> float:
        rng = random.Random(1)
        end = self.now + timedelta(days=self.days)
        due = [self.now + self.step]
        started = time.perf_counter()
        while due and due[0] <= end:
            at = heapq.heappop(due)
            heapq.heappush(due, at + self.step)
            if self.cold:
                child = await spawn(self.root)
            assert child is not None
            await deliver(child, at, ids.uuid4(rng))
            if self.cold:
                await close(child)
        self.now = end
        return time.perf_counter() - started


async def main(rounds: int, cron_days: int) -> None:
    quiet()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "app.py").write_text(HANDLER)
        day = Span(root, "rate(1 minute)", 1)
        cron = Span(root, "cron(0 12 * * ? *)", cron_days)
        warm = await spawn(root)
        async with day.sim, cron.sim:
            day_floor = Floor(root, timedelta(minutes=1), 1, cold=False)
            days = await arounds(rounds, day.seconds, partial(day_floor.seconds, warm))
            cron_floor = Floor(root, timedelta(days=1), cron_days, cold=True)
            crons = await arounds(rounds, cron.seconds, partial(cron_floor.seconds, None))
        await close(warm)
    table(
        "spans of virtual time",
        [
            measure("a virtual day of rate(1 minute): 1,440 warm invokes", "s", "pipe floor", days),
            measure(f"{cron_days} virtual days of cron(0 12 * * ? *): a cold start each", "s",
                    "spawn floor", crons),
        ],
    )  # fmt: skip
    median = statistics.median(days[0])
    target(f"the virtual day in <= 2 s (median {median:.2f} s)", median <= 2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cron-days", type=int, default=20, help="virtual days of the cron")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.cron_days))
