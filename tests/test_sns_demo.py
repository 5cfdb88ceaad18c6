"""The demo's order flow, end to end: checkout publishes with boto3 through the edge, the topic
fans out to a function and a filtered queue, and a rule routes OrderPlaced to fulfil."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eventsim import Outcome
from eventsim.testing import SimulatorFactory

from .helpers import demo


@pytest.mark.asyncio
async def test_the_order_flow_fans_out(eventsim_factory: SimulatorFactory, tmp_path: Path) -> None:
    sim = await eventsim_factory(demo(tmp_path))
    express = await sim.invoke("checkout", {"id": 7, "total": 42.5, "shipping": "express"})
    assert express.function_error is None, express.payload
    standard = await sim.invoke("checkout", {"id": 8, "total": 3.0})
    assert standard.function_error is None, standard.payload
    await sim.settle()

    receipts = sim.ledger.for_function("receipt", Outcome.SUCCESS)
    assert {a.event["Records"][0]["Sns"]["MessageId"] for a in receipts} == {
        express.payload["message_id"], standard.payload["message_id"]
    }  # fmt: skip
    fulfilled = sim.ledger.for_function("fulfil", Outcome.SUCCESS)
    assert {a.event["id"]: a.payload["fulfilled"] for a in fulfilled} == {
        express.payload["event_id"]: 7, standard.payload["event_id"]: 8
    }  # fmt: skip
    assert {a.source for a in fulfilled} == {"eventbridge:default/route-orders"}

    [queued] = await sim.queue("express-orders").receive_messages(max_messages=10)
    assert json.loads(queued.body) == {"id": 7, "total": 42.5, "shipping": "express"}
    assert queued.message_attributes["shipping"]["StringValue"] == "express"
    explained = sim.explain(message_id=standard.payload["message_id"])
    assert "queue subscription" in explained and "filtered out" in explained
