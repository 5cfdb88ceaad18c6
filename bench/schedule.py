"""Wall time of long spans of virtual time.

    python bench/schedule.py

* a virtual day of ``rate(1 minute)``: 1,440 asynchronous invocations of a real handler (warm,
  process isolation), each event's ``time`` the scheduled minute;
* a virtual year of ``cron(0 12 * * ? *)``: 365 firings (idle environments expire between
  them, so each is a real cold start, as in AWS).

Target (issue #7): the day in <= 2 s.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import structlog

from eventsim import Simulator

START = datetime(2026, 1, 1, tzinfo=UTC)


async def span(root: Path, expression: str, days: int) -> tuple[float, int]:
    config = {
        "functions": {
            "tick": {
                "handler": "app.handler",
                "code": str(root),
                "triggers": [{"schedule": {"expression": expression}}],
            }
        }
    }
    async with Simulator.from_dict(
        config, virtual_time=True, start_time=START, state_dir=root / expression[:4]
    ) as sim:
        started = time.perf_counter()
        await sim.advance(days=days)
        elapsed = time.perf_counter() - started
        attempts = sim.ledger.for_function("tick")
        assert all(a.outcome == "success" for a in attempts)
        return elapsed, len(attempts)


async def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "app.py").write_text("def handler(event, context):\n    return event['time']\n")
        day, day_count = await span(root, "rate(1 minute)", 1)
        year, year_count = await span(root, "cron(0 12 * * ? *)", 365)
    print(f"virtual day of rate(1 minute):      {day_count:>5} invocations in {day:6.2f} s")
    print(f"virtual year of cron(0 12 * * ? *): {year_count:>5} invocations in {year:6.2f} s")
    print(f"target: the day in <= 2 s: {'met' if day <= 2 else 'MISSED'}")


if __name__ == "__main__":
    asyncio.run(main())
