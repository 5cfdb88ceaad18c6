"""The Simulator's public interface: invoke types, limits, concurrency, lifecycle, ledger."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from eventsim import (
    FunctionNotFound,
    InvalidRequestContent,
    Outcome,
    RequestTooLarge,
    Simulator,
    SimulatorStateError,
    StartupError,
    TooManyRequests,
)
from eventsim.testing import SimulatorFactory

from .helpers import REPO, MakeSim, demo, function

pytestmark = pytest.mark.asyncio


async def test_demo_config_through_the_eventsim_fixture(eventsim: Simulator) -> None:
    result = await eventsim.invoke("hello", {"name": "Ada"})
    assert result.payload["message"] == "Hello, Ada!"


async def test_event_invocation_is_accepted_then_runs(make_sim: MakeSim) -> None:
    sim = await make_sim({"echo": function("echo")})
    result = await sim.invoke("echo", {"n": 1}, invocation_type="Event")

    assert result.status_code == 202 and result.payload is None
    [attempt] = await sim.ledger.wait_for("echo", count=1)
    assert attempt.invocation_type == "Event"
    assert attempt.request_id == result.request_id
    assert attempt.outcome is Outcome.SUCCESS and attempt.payload == {"n": 1}


async def test_settle_waits_for_queued_events(make_sim: MakeSim) -> None:
    sim = await make_sim({"echo": function("echo")})
    for n in range(3):
        await sim.invoke("echo", n, invocation_type="Event")
    await sim.settle()
    assert sorted(a.event for a in sim.ledger.for_function("echo")) == [0, 1, 2]


async def test_dry_run_runs_nothing(make_sim: MakeSim) -> None:
    sim = await make_sim({"echo": function("echo")})
    assert (await sim.invoke("echo", {}, invocation_type="DryRun")).status_code == 204
    await sim.settle()
    assert len(sim.ledger) == 0


async def test_no_payload_is_an_empty_object_and_json_text_is_accepted(make_sim: MakeSim) -> None:
    sim = await make_sim({"echo": function("echo")})
    assert (await sim.invoke("echo")).payload == {}
    assert (await sim.invoke("echo", b'{"a": [1]}')).payload == {"a": [1]}
    assert (await sim.invoke("echo", "{nope")).payload == "{nope"  # a str is a JSON string
    with pytest.raises(InvalidRequestContent, match="not valid JSON"):
        await sim.invoke("echo", b"{nope")
    with pytest.raises(InvalidRequestContent, match="cannot be encoded as JSON"):
        await sim.invoke("echo", {1, 2})


async def test_function_names_arns_and_unknown_functions(make_sim: MakeSim) -> None:
    sim = await make_sim({"echo": function("echo")})
    for name in [
        "echo",
        "echo:$LATEST",
        "arn:aws:lambda:us-east-1:123456789012:function:echo",
        "123456789012:function:echo",
    ]:
        assert (await sim.invoke(name, 1)).payload == 1
    with pytest.raises(FunctionNotFound, match="no function named 'ech' .*defined: echo"):
        await sim.invoke("ech")


async def test_payload_limits(make_sim: MakeSim) -> None:
    sim = await make_sim({"echo": function("echo"), "big": function("big_response")})
    with pytest.raises(RequestTooLarge):
        await sim.invoke("echo", "x" * (6 * 1024 * 1024))
    with pytest.raises(RequestTooLarge):
        await sim.invoke("echo", "x" * (1024 * 1024), invocation_type="Event")
    result = await sim.invoke("big", {"size": 6 * 1024 * 1024 + 10})
    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == "Function.ResponseSizeTooLarge"


async def test_reserved_concurrency_throttles_sync_invokes(make_sim: MakeSim) -> None:
    sim = await make_sim({"slow": function("slow", reserved_concurrency=1, timeout=5)})
    first, second = await asyncio.gather(
        sim.invoke("slow", {"seconds": 0.3}),
        sim.invoke("slow", {"seconds": 0}),
        return_exceptions=True,
    )
    assert not isinstance(first, BaseException) and first.payload == "finished"
    assert isinstance(second, TooManyRequests)
    assert second.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert second.status == 429
    outcomes = [a.outcome for a in sim.ledger.for_function("slow")]
    assert sorted(outcomes) == [Outcome.SUCCESS, Outcome.THROTTLED]


async def test_account_concurrency_caps_all_functions(make_sim: MakeSim) -> None:
    sim = await make_sim(
        {"a": function("slow", timeout=5), "b": function("echo")}, account_concurrency=1
    )
    _, throttled = await asyncio.gather(
        sim.invoke("a", {"seconds": 0.3}), sim.invoke("b", 1), return_exceptions=True
    )
    assert isinstance(throttled, TooManyRequests)
    assert throttled.reason == "ConcurrentInvocationLimitExceeded"


async def test_zero_reserved_concurrency_is_fully_throttled(make_sim: MakeSim) -> None:
    sim = await make_sim({"off": function("echo", reserved_concurrency=0)})
    with pytest.raises(TooManyRequests):
        await sim.invoke("off", 1)


async def test_concurrent_invokes_use_separate_environments(make_sim: MakeSim) -> None:
    sim = await make_sim({"count": function("count")})
    results = await asyncio.gather(*(sim.invoke("count") for _ in range(3)))
    assert len({r.payload["pid"] for r in results}) == 3
    assert all(r.init_duration_ms is not None for r in results)
    # All three are now warm and idle.
    again = await asyncio.gather(*(sim.invoke("count") for _ in range(3)))
    assert all(r.init_duration_ms is None for r in again)


async def test_requests_beyond_max_environments_wait_for_one(make_sim: MakeSim) -> None:
    sim = await make_sim({"count": function("count")}, max_environments=1)
    results = await asyncio.gather(*(sim.invoke("count") for _ in range(4)))
    assert sorted(r.payload["count"] for r in results) == [1, 2, 3, 4]  # one environment
    assert len({r.payload["pid"] for r in results}) == 1
    assert all(r.function_error is None for r in results)


async def test_idle_environments_expire_on_the_clock(make_sim: MakeSim) -> None:
    sim = await make_sim({"count": function("count")}, idle_timeout=300)
    await sim.invoke("count")
    await sim.advance(seconds=299)
    assert (await sim.invoke("count")).init_duration_ms is None  # still warm; idle restarts
    await sim.advance(seconds=300)
    cold = await sim.invoke("count")
    assert cold.init_duration_ms is not None and cold.payload["count"] == 1


async def test_advance_needs_virtual_time(make_sim: MakeSim) -> None:
    sim = await make_sim({"echo": function("echo")}, virtual_time=False)
    with pytest.raises(SimulatorStateError, match="virtual_time=True"):
        await sim.advance(minutes=1)


async def test_using_a_closed_or_unstarted_simulator_is_a_clear_error(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    sim = Simulator.from_file(REPO / "config" / "eventsim.yaml")
    with pytest.raises(SimulatorStateError, match="not running"):
        await sim.invoke("hello")
    started = await eventsim_factory(demo(tmp_path))
    await started.close()
    with pytest.raises(SimulatorStateError):
        await started.invoke("hello")


async def test_a_part_that_cannot_start_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should go")
    sim = Simulator.from_dict(
        {"buckets": {"uploads": {"path": str(blocker / "uploads")}}}, state_dir=tmp_path / "s"
    )
    with pytest.raises(StartupError, match="could not start"):
        await sim.start()
    assert not sim.running
    await sim.close()  # harmless after a failed start


async def test_close_kills_every_child_process(make_sim: MakeSim) -> None:
    sim = await make_sim({"count": function("count")})
    results = await asyncio.gather(*(sim.invoke("count") for _ in range(2)))
    pids = {r.payload["pid"] for r in results}
    await sim.close()
    assert not [pid for pid in pids if _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_ledger_wait_for_explains_a_shortfall(make_sim: MakeSim) -> None:
    sim = await make_sim({"echo": function("echo")})
    await sim.invoke("echo")
    with pytest.raises(TimeoutError, match="wanted 2 attempt"):
        await sim.ledger.wait_for("echo", count=2, timeout=0.05)


async def test_an_event_nested_too_deeply_is_refused(make_sim: MakeSim) -> None:
    sim = await make_sim({"echo": function("echo", isolation="thread")})
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(InvalidRequestContent, match="nested too deeply"):
        await sim.invoke("echo", deep)
    nested: list[object] = []
    for _ in range(100_000):
        nested = [nested]
    with pytest.raises(InvalidRequestContent, match="nested too deeply"):
        await sim.invoke("echo", nested)
