"""TTL: expired items are deleted on the simulator's clock, their stream records marked as the
TTL service's (issue #17)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from eventsim import Outcome
from eventsim.testing import SimulatorFactory

from .test_dynamodb_api import N, S, call, client, refused

pytestmark = pytest.mark.asyncio

START = 1_767_225_600  # the virtual clock's start, 2026-01-01T00:00:00Z


async def test_expired_items_are_deleted_on_the_clock(eventsim_factory: SimulatorFactory) -> None:
    config = {
        "functions": {"audit": {"handler": "eventsim.testing.record", "isolation": "thread",
                                "triggers": [{"dynamodb": {"table": "sessions",
                                                           "starting_position": "TRIM_HORIZON"}}]}},
        "tables": {"sessions": {"partition_key": "id", "stream": "NEW_AND_OLD_IMAGES",
                                "ttl": "expires"}},
    }  # fmt: skip
    sim = await eventsim_factory(config)
    sessions = sim.table("sessions")
    sessions.put_item({"id": "soon", "expires": START + 60})
    sessions.put_item({"id": "later", "expires": START + 3600})
    sessions.put_item({"id": "ancient", "expires": START - 6 * 365 * 86400})  # > 5 years past
    sessions.put_item({"id": "text", "expires": "tomorrow"})  # not a number: never expires
    sessions.put_item({"id": "none"})
    with sqlite3.connect(sessions.path) as db:  # plain SQL rows expire too
        item = {"id": {"S": "sql"}, "expires": {"N": str(START + 120)}}
        db.execute("INSERT INTO items (item) VALUES (?)", (json.dumps(item),))
    await sim.settle()
    await sim.advance(59)
    assert sessions.get_item({"id": "soon"}) is not None
    await sim.advance(2)
    assert sessions.get_item({"id": "soon"}) is None
    assert sessions.get_item({"id": "sql"}) is not None
    await sim.advance(minutes=2)
    assert sessions.get_item({"id": "sql"}) is None
    await sim.advance(hours=1)
    assert sorted(i["id"] for i in sessions.scan()) == ["ancient", "none", "text"]
    await sim.settle()
    records = [r for a in sim.ledger.for_function("audit", Outcome.SUCCESS)
               for r in a.event["Records"]]  # fmt: skip
    removed = [r for r in records if r["eventName"] == "REMOVE"]
    assert [r["dynamodb"]["Keys"]["id"]["S"] for r in removed] == ["soon", "sql", "later"]
    assert all(r["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
               for r in removed)  # fmt: skip
    assert all("userIdentity" not in r for r in records if r["eventName"] != "REMOVE")
    sessions.delete_item({"id": "none"})
    await sim.settle()
    last = sim.ledger.for_function("audit", Outcome.SUCCESS)[-1].event["Records"][-1]
    assert last["eventName"] == "REMOVE" and "userIdentity" not in last  # deleted by a user


async def test_ttl_through_the_api(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory({"tables": {"sessions": {"partition_key": "id"}}})
    ddb = client(sim)
    described = await call(ddb.describe_time_to_live, TableName="sessions")
    assert described["TimeToLiveDescription"] == {"TimeToLiveStatus": "DISABLED"}
    spec = {"Enabled": True, "AttributeName": "expires"}
    answer = await call(ddb.update_time_to_live, TableName="sessions",
                        TimeToLiveSpecification=spec)  # fmt: skip
    assert answer["TimeToLiveSpecification"] == spec
    described = await call(ddb.describe_time_to_live, TableName="sessions")
    assert described["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED",
                                                  "AttributeName": "expires"}  # fmt: skip
    error = await refused(ddb.update_time_to_live, TableName="sessions",
                          TimeToLiveSpecification=spec)  # fmt: skip
    assert error == {"Code": "ValidationException", "Message": "TimeToLive is already enabled"}
    await call(ddb.put_item, TableName="sessions", Item={"id": S("a"), "expires": N(START + 10)})
    await sim.advance(11)
    gone = await call(ddb.get_item, TableName="sessions", Key={"id": S("a")})
    assert "Item" not in gone
    await call(ddb.update_time_to_live, TableName="sessions",
               TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"})  # fmt: skip
    await call(ddb.put_item, TableName="sessions", Item={"id": S("b"), "expires": N(START)})
    await sim.advance(60)
    assert (await call(ddb.get_item, TableName="sessions", Key={"id": S("b")}))["Item"]
