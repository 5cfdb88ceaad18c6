"""TransactWriteItems and TransactGetItems: all or nothing, reasons in order, idempotency
tokens for ten minutes (issue #17)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from eventsim.testing import SimulatorFactory

from .test_dynamodb_api import N, S, call, client, refused

pytestmark = pytest.mark.asyncio

TABLES = {
    "accounts": {"partition_key": "id", "stream": "NEW_IMAGE"},
    "ledger": {"partition_key": "id"},
}


def transfer(amount: int, token: str | None = None) -> dict[str, object]:
    items = [
        {"Update": {"TableName": "accounts", "Key": {"id": S("a")},
                    "UpdateExpression": "SET balance = balance - :n",
                    "ConditionExpression": "balance >= :n",
                    "ExpressionAttributeValues": {":n": N(amount)},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        {"Update": {"TableName": "accounts", "Key": {"id": S("b")},
                    "UpdateExpression": "ADD balance :n",
                    "ExpressionAttributeValues": {":n": N(amount)}}},
        {"Put": {"TableName": "ledger", "Item": {"id": S(f"t{amount}"), "n": N(amount)},
                 "ConditionExpression": "attribute_not_exists(id)"}},
        {"ConditionCheck": {"TableName": "accounts", "Key": {"id": S("bank")},
                            "ConditionExpression": "attribute_exists(id)"}},
    ]  # fmt: skip
    return {"TransactItems": items, **({"ClientRequestToken": token} if token else {})}


async def test_all_or_nothing_with_reasons_in_order(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory({"tables": TABLES}, virtual_time=False)
    ddb = client(sim)
    accounts = sim.table("accounts")
    accounts.batch_write(
        put=[{"id": "a", "balance": 10}, {"id": "b", "balance": 0}, {"id": "bank"}]
    )
    await call(ddb.transact_write_items, **transfer(4))
    assert accounts.get_item({"id": "a"})["balance"] == 6  # type: ignore[index]
    assert accounts.get_item({"id": "b"})["balance"] == 4  # type: ignore[index]
    seq = accounts.store.last_seq()
    with pytest.raises(ClientError) as failed:
        await call(ddb.transact_write_items, **transfer(7))
    error = failed.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert error["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[ConditionalCheckFailed, None, None, None]"
    )
    reasons = error["CancellationReasons"]
    assert reasons[0]["Code"] == "ConditionalCheckFailed"
    assert reasons[0]["Item"] == {"id": S("a"), "balance": N(6)}
    assert [r["Code"] for r in reasons[1:]] == ["None", "None", "None"]
    # Nothing was written: not b's balance, not the ledger, no stream record.
    assert accounts.get_item({"id": "b"})["balance"] == 4  # type: ignore[index]
    assert sim.table("ledger").get_item({"id": "t7"}) is None
    assert accounts.store.last_seq() == seq
    both = await call(ddb.transact_get_items, TransactItems=[
        {"Get": {"TableName": "accounts", "Key": {"id": S("a")},
                 "ProjectionExpression": "balance"}},
        {"Get": {"TableName": "ledger", "Key": {"id": S("t4")}}},
        {"Get": {"TableName": "ledger", "Key": {"id": S("none")}}},
    ])  # fmt: skip
    assert both["Responses"] == [{"Item": {"balance": N(6)}},
                                 {"Item": {"id": S("t4"), "n": N(4)}}, {}]  # fmt: skip


async def test_one_item_once_per_transaction(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory({"tables": TABLES}, virtual_time=False)
    ddb = client(sim)
    key = {"id": S("a")}
    error = await refused(ddb.transact_write_items, TransactItems=[
        {"Put": {"TableName": "accounts", "Item": key}},
        {"Delete": {"TableName": "accounts", "Key": key}},
    ])  # fmt: skip
    assert error == {
        "Code": "ValidationException",
        "Message": "Transaction request cannot include multiple operations on one item",
    }
    error = await refused(ddb.transact_write_items, TransactItems=[
        {"Put": {"TableName": "accounts", "Item": key},
         "Delete": {"TableName": "accounts", "Key": key}},
    ])  # fmt: skip
    assert error["Message"] == "TransactItems can only contain one of Check, Put, Update or Delete"


async def test_a_token_makes_a_retry_harmless_for_ten_minutes(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory({"tables": TABLES})
    ddb = client(sim)
    accounts = sim.table("accounts")
    accounts.batch_write(
        put=[{"id": "a", "balance": 10}, {"id": "b", "balance": 0}, {"id": "bank"}]
    )
    await call(ddb.transact_write_items, **transfer(1, token="t-1"))
    await call(ddb.transact_write_items, **transfer(1, token="t-1"))  # the same: not again
    assert accounts.get_item({"id": "b"})["balance"] == 1  # type: ignore[index]
    error = await refused(ddb.transact_write_items, **transfer(2, token="t-1"))
    assert error["Code"] == "IdempotentParameterMismatchException"
    sim.table("ledger").delete_item({"id": "t1"})
    await sim.advance(minutes=11)
    await call(ddb.transact_write_items, **transfer(1, token="t-1"))  # a new request now
    assert accounts.get_item({"id": "b"})["balance"] == 2  # type: ignore[index]
