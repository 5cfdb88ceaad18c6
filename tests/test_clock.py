"""Virtual time and the settle barrier."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from eventsim import Activity, RealClock, VirtualClock
from eventsim.errors import ValueRejected

pytestmark = pytest.mark.asyncio


async def test_advance_wakes_sleepers_in_deadline_order() -> None:
    clock = VirtualClock(datetime(2026, 3, 1, tzinfo=UTC))
    clock.bind(Activity())
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.time() - clock_start))

    clock_start = clock.time()
    tasks = [asyncio.create_task(sleeper(n, s)) for n, s in [("c", 30), ("a", 10), ("b", 20)]]
    await clock.advance(25)
    assert woke == [("a", 10), ("b", 20)]
    assert clock.time() - clock_start == 25
    await clock.advance(5)
    assert woke[-1] == ("c", 30)
    await asyncio.gather(*tasks)


async def test_work_started_by_a_sleeper_finishes_before_time_moves_on() -> None:
    activity = Activity()
    clock = VirtualClock()
    clock.bind(activity)
    seen: list[str] = []
    release = asyncio.Event()

    async def job() -> None:
        with activity.track("job"):
            await release.wait()  # real work that takes several loop turns
            seen.append(f"job done at {clock.time() - start}")

    async def first() -> None:
        await clock.sleep(10)
        task = asyncio.create_task(job())
        activity.begin("starter")  # counted before this task awaits anything
        asyncio.get_running_loop().call_soon(release.set)
        await task
        activity.end("starter")

    async def second() -> None:
        await clock.sleep(11)
        seen.append(f"second at {clock.time() - start}")

    start = clock.time()
    tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
    await clock.advance(60)
    assert seen == ["job done at 10.0", "second at 11.0"]
    await asyncio.gather(*tasks)


async def test_cancelled_sleepers_are_skipped() -> None:
    clock = VirtualClock()
    clock.bind(Activity())
    task = asyncio.create_task(clock.sleep(5))
    await asyncio.sleep(0)  # let it register as a sleeper (scheduling, not synchronisation)
    task.cancel()
    await clock.advance(10)
    assert task.cancelled()
    assert clock.next_deadline is None


async def test_now_is_aware_utc_and_time_never_goes_back() -> None:
    clock = VirtualClock(datetime(2026, 1, 1, 12, tzinfo=UTC))
    assert clock.now() == datetime(2026, 1, 1, 12, tzinfo=UTC)
    with pytest.raises(ValueRejected):
        await clock.advance(-1)
    with pytest.raises(ValueRejected):
        VirtualClock(datetime(2026, 1, 1))
    assert RealClock().now().tzinfo is UTC


async def test_settle_waits_for_pending_work() -> None:
    activity = Activity()
    activity.begin("invoke")
    settled = asyncio.create_task(activity.settle())
    await asyncio.sleep(0)  # one loop turn so settle() starts waiting (scheduling only)
    assert not settled.done()
    assert activity.pending() == {"invoke": 1}
    activity.end("invoke")
    await settled
    with pytest.raises(RuntimeError):
        activity.end("invoke")
