"""The dashboard's live stream (server-sent events) over real HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from eventsim import Simulator
from eventsim.server.dashboard import stream
from eventsim.testing import SimulatorFactory

from .conftest import scenario

pytestmark = pytest.mark.asyncio


class Events:
    """The messages of one open stream, read as they come."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def __aiter__(self) -> AsyncIterator[tuple[str, Any]]:
        name, data = None, []
        async for raw in self.response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
            elif line == "" and name is not None:
                yield name, json.loads("\n".join(data))
                name, data = None, []

    async def until(self, wanted: str, where: Any = lambda data: True) -> Any:
        async for name, data in self:
            if name == wanted and where(data):
                return data
        raise AssertionError(f"the stream ended before a {wanted!r} message")


async def open_stream(session: aiohttp.ClientSession, sim: Simulator) -> Events:
    response = await session.get(f"{sim.endpoint_url}/_eventsim/api/stream")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/event-stream"
    return Events(response)


@pytest.mark.timeout(30)
async def test_attempts_arrive_as_they_are_recorded_and_amended(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    sim = await eventsim_factory(scenario(tmp_path), virtual_time=True, isolation="thread")
    async with aiohttp.ClientSession() as session:
        events = await open_stream(session, sim)
        hello = await events.until("hello")
        assert hello == {"total": 0}
        state = await events.until("state")
        assert state["queues"]["orders"] == [0, 0, 0] and state["health"] == "ok"

        result = await sim.invoke("echo", {"n": 1})
        [entry] = await events.until("attempts")
        assert (entry["seq"], entry["function"], entry["request_id"]) == (
            0,
            "echo",
            result.request_id,
        )
        assert entry["outcome"] == "success" and "event" not in entry  # a summary only

        sim.queue("orders").send_message(json.dumps({"id": 1, "total": -1}))
        sim.queue("orders").send_message(json.dumps({"id": 2, "total": 3}))
        sent: list[dict[str, Any]] = []
        amended = await events.until(
            "attempts", lambda batch: sent.extend(batch) or any(e.get("amended") for e in batch)
        )
        [orders] = [e for e in amended if e.get("amended")]
        assert orders["function"] == "orders" and orders["records"] == {"failed": 1, "succeeded": 1}
        # Sent first as recorded (no records yet), then amended under the same number.
        mine = [e for e in sent if e["request_id"] == orders["request_id"]]
        assert [(e["seq"], e.get("amended", False)) for e in mine][:2] == [
            (orders["seq"], False), (orders["seq"], True),
        ]  # fmt: skip
        assert mine[0]["records"] == {}
        held = sim.ledger.get(orders["seq"])
        assert held is not None and held.request_id == orders["request_id"]
        later = await events.until("state", lambda s: s["ledger"]["total"] == len(sim.ledger))
        assert later["ledger"]["held"] == len(sim.ledger)
        events.response.close()


@pytest.mark.timeout(30)
async def test_a_send_to_a_queue_updates_its_depth_live(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    sim = await eventsim_factory(scenario(tmp_path), virtual_time=True, isolation="thread")
    [mapping] = [m for m in sim.mappings() if m.source == "sqs:orders"]
    await mapping.set_enabled(False)
    async with aiohttp.ClientSession() as session:
        events = await open_stream(session, sim)
        await events.until("state")
        for n in range(3):
            sim.queue("orders").send_message(str(n))
        state = await events.until("state", lambda s: s["queues"]["orders"][0] == 3)
        assert state["queues"]["orders-dlq"] == [0, 0, 0]
        events.response.close()


@pytest.mark.timeout(20)
async def test_an_open_stream_does_not_hold_up_shutdown(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    sim = await eventsim_factory(scenario(tmp_path), virtual_time=True, isolation="thread")
    async with aiohttp.ClientSession() as session:
        events = await open_stream(session, sim)
        await events.until("state")
        # aiohttp waits up to 60 s for running handlers at shutdown: the stream must end first.
        await asyncio.wait_for(sim.close(), 10)
        async for _ in events:
            pass  # the stream ends: the server closed it


async def test_a_page_that_falls_behind_is_told_to_reload() -> None:
    client = stream._Client()
    for n in range(stream.MAX_PENDING + 5):
        client.push({"seq": n})
    assert client.lost and len(client.pending) == 4 and client.wake.is_set()
