"""Table streams and the DynamoDB stream mapping: AWS's batch, retry and checkpoint rules,
driven on the virtual clock."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel

from eventsim import Outcome, Simulator
from eventsim.ledger import Code
from eventsim.testing import SimulatorFactory
from eventsim.triggers.dynamodb import StreamBinding

from .helpers import demo, function

pytestmark = pytest.mark.asyncio


def config(handler: str, trigger: dict[str, Any] | None = None, view: str = "NEW_AND_OLD_IMAGES",
           **function_options: Any) -> dict[str, Any]:  # fmt: skip
    options = {"table": "orders", "starting_position": "TRIM_HORIZON", **(trigger or {})}
    return {
        "functions": {
            "worker": function(
                f"streams.{handler}", triggers=[{"dynamodb": options}], **function_options
            ),  # fmt: skip
        },
        "tables": {"orders": {"partition_key": "pk", "sort_key": "sk", "stream": view}},
        "queues": {"failures": {}},
    }


async def mapped(factory: SimulatorFactory, handler: str, trigger: dict[str, Any] | None = None,
                 **options: Any) -> Simulator:  # fmt: skip
    return await factory(config(handler, trigger, **options))


def delivered(sim: Simulator) -> list[list[str]]:
    """Each invocation's records as 'EVENT pk/sk' strings."""
    return [
        [describe(record) for record in attempt.event["Records"]]
        for attempt in sim.ledger.for_function("worker")
        if attempt.ran
    ]


def describe(record: dict[str, Any]) -> str:
    keys = record["dynamodb"]["Keys"]
    return f"{record['eventName']} {keys['pk']['S']}/{keys['sk']['S']}"


def put(sim: Simulator, *keys: str, **attributes: Any) -> None:
    for key in keys:
        sim.table("orders").put_item({"pk": key[0], "sk": key[1:], **attributes})


@pytest.mark.parametrize(
    ("view", "images"),
    [
        ("KEYS_ONLY", [set(), set(), set()]),
        ("NEW_IMAGE", [{"NewImage"}, {"NewImage"}, set()]),
        ("OLD_IMAGE", [set(), {"OldImage"}, {"OldImage"}]),
        ("NEW_AND_OLD_IMAGES", [{"NewImage"}, {"NewImage", "OldImage"}, {"OldImage"}]),
    ],
)
async def test_each_view_type_carries_its_images(
    eventsim_factory: SimulatorFactory, view: str, images: list[set[str]]
) -> None:
    sim = await eventsim_factory(config("changes", view=view))
    orders = sim.table("orders")
    orders.put_item({"pk": "a", "sk": "1", "n": 1})
    orders.put_item({"pk": "a", "sk": "1", "n": 1})  # changes nothing: no record
    orders.update_item({"pk": "a", "sk": "1"}, "SET n = :two", values={":two": 2})
    orders.delete_item({"pk": "a", "sk": "1"})
    orders.delete_item({"pk": "a", "sk": "1"})  # deletes nothing: no record
    await sim.settle()
    [attempt] = sim.ledger.for_function("worker")
    records = attempt.event["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert [set(r["dynamodb"]) & {"NewImage", "OldImage"} for r in records] == images
    assert all(r["dynamodb"]["StreamViewType"] == view for r in records)
    assert all(r["dynamodb"]["Keys"] == {"pk": {"S": "a"}, "sk": {"S": "1"}} for r in records)
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    assert len({r["eventID"] for r in records}) == 3
    assert records[0]["eventSourceARN"] == sim.table("orders").stream_arn
    assert attempt.source == "dynamodb:orders"
    DynamoDBStreamModel.model_validate(attempt.event)


async def test_records_arrive_in_order_in_batches(eventsim_factory: SimulatorFactory) -> None:
    sim = await mapped(eventsim_factory, "changes", {"batch_size": 3})
    await sim.settle()
    put(sim, *(f"a{n}" for n in range(7)))
    await sim.settle()
    flat = [record for batch in delivered(sim) for record in batch]
    assert flat == [f"INSERT a/{n}" for n in range(7)]
    assert all(len(batch) <= 3 for batch in delivered(sim))


async def test_a_failing_batch_blocks_the_shard_then_goes_to_on_failure(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await mapped(
        eventsim_factory,
        "fail_on_poison",
        {"maximum_retry_attempts": 2, "on_failure": "queue:failures", "batch_size": 1},
    )
    put(sim, "a1", poison=True)
    put(sim, "a2")
    await sim.settle()
    assert delivered(sim) == [["INSERT a/1"]]  # a/2 waits behind the failing record
    await sim.advance(minutes=5)  # two retries after back-off
    outcomes = [a.outcome for a in sim.ledger.for_function("worker")]
    assert outcomes == [Outcome.ERROR] * 3 + [Outcome.DROPPED, Outcome.MOVED, Outcome.SUCCESS]
    # The truth per attempt: retry numbers, and what the last one did with the record.
    failed = sim.ledger.for_function("worker", Outcome.ERROR)
    assert [a.attempt for a in failed] == [1, 2, 3]
    assert [a.code for a in failed] == [Code.BATCH_RETRIED] * 2 + [Code.DISCARDED]
    assert [r.outcome for a in failed for r in a.records] == ["retried", "retried", "discarded"]
    assert "discarded after 3 attempt(s)" in str(failed[-1].reason)
    assert delivered(sim)[-1] == ["INSERT a/2"]
    [message] = await sim.queue("failures").receive_messages()
    info = json.loads(message.body)
    assert info["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["requestContext"]["approximateInvokeCount"] == 3
    batch = info["DDBStreamBatchInfo"]
    assert batch["batchSize"] == 1 and batch["streamArn"] == sim.table("orders").stream_arn
    assert batch["startSequenceNumber"] == batch["endSequenceNumber"]
    dropped = sim.ledger.for_function("worker", Outcome.DROPPED)[0]
    assert "RetryAttemptsExhausted" in (dropped.reason or "")


async def test_records_older_than_the_maximum_age_are_discarded(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await mapped(
        eventsim_factory, "fail_on_poison",
        {"maximum_record_age": 60, "on_failure": "queue:failures"},
    )  # fmt: skip
    put(sim, "a1", poison=True)
    await sim.advance(minutes=10)
    failures = sim.ledger.for_function("worker", Outcome.ERROR)
    assert 1 < len(failures) < 10  # retried with back-off, not spinning
    [message] = await sim.queue("failures").receive_messages()
    assert json.loads(message.body)["requestContext"]["condition"] == "RecordAgeExceeded"


async def test_a_topic_on_failure_destination_gets_the_batch_info(
    eventsim_factory: SimulatorFactory,
) -> None:
    settings = config("fail_on_poison", {"maximum_retry_attempts": 0, "on_failure": "topic:bad"})
    settings["topics"] = {
        "bad": {"subscriptions": [{"queue": "failures", "raw_message_delivery": True}]}
    }
    sim = await eventsim_factory(settings)
    put(sim, "a1", poison=True)
    await sim.settle()
    [message] = await sim.queue("failures").receive_messages()
    info = json.loads(message.body)
    assert info["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["DDBStreamBatchInfo"]["streamArn"] == sim.table("orders").stream_arn


async def test_retention_ends_endless_retries(eventsim_factory: SimulatorFactory) -> None:
    sim = await mapped(eventsim_factory, "fail_on_poison")  # retries -1: until expiry
    put(sim, "a1", poison=True)
    await sim.advance(hours=25)
    [dropped] = sim.ledger.for_function("worker", Outcome.DROPPED)
    assert "RecordAgeExceeded" in (dropped.reason or "")
    put(sim, "a2")
    await sim.settle()
    assert delivered(sim)[-1] == ["INSERT a/2"]


async def test_bisection_isolates_the_poison_record(eventsim_factory: SimulatorFactory) -> None:
    sim = await mapped(
        eventsim_factory, "fail_on_poison",
        {"bisect_on_error": True, "maximum_retry_attempts": 1, "on_failure": "queue:failures",
         "batch_size": 8, "batching_window": 1},
    )  # fmt: skip
    for n in range(8):
        put(sim, f"a{n}", **({"poison": True} if n == 5 else {}))
    await sim.advance(minutes=5)
    sizes = [len(batch) for batch in delivered(sim)]
    # 8 fails -> [0-3] ok, [4-7] fails -> [4,5] fails -> [4] ok, [5] fails, retried once -> [6,7]
    assert sizes == [8, 4, 4, 2, 1, 1, 1, 2]
    [message] = await sim.queue("failures").receive_messages()
    assert json.loads(message.body)["DDBStreamBatchInfo"]["batchSize"] == 1
    succeeded = [
        r["dynamodb"]["Keys"]["sk"]["S"]
        for a in sim.ledger.for_function("worker", Outcome.SUCCESS)
        for r in a.event["Records"]
    ]
    assert sorted(succeeded) == ["0", "1", "2", "3", "4", "6", "7"]


async def test_partial_batch_responses_checkpoint_at_the_lowest_failure(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await mapped(
        eventsim_factory, "report_poison",
        {"report_batch_item_failures": True, "maximum_retry_attempts": 1, "batch_size": 5,
         "batching_window": 1},
    )  # fmt: skip
    for n in range(5):
        put(sim, f"a{n}", **({"poison": True} if n == 2 else {}))
    await sim.advance(minutes=2)
    assert delivered(sim) == [
        [f"INSERT a/{n}" for n in range(5)],
        [f"INSERT a/{n}" for n in (2, 3, 4)],  # retried from the failure on, once
    ]
    [dropped] = sim.ledger.for_function("worker", Outcome.DROPPED)
    assert [r["dynamodb"]["NewImage"]["sk"]["S"] for r in dropped.event["Records"]] == [
        "2", "3", "4"
    ]  # fmt: skip


async def test_a_malformed_batch_response_fails_the_whole_batch(
    eventsim_factory: SimulatorFactory,
) -> None:
    trigger = {"report_batch_item_failures": True, "maximum_retry_attempts": 1}
    sim = await mapped(eventsim_factory, "malformed", trigger)
    put(sim, "a1", "a2")
    await sim.advance(minutes=1)
    assert len(delivered(sim)) == 2 and all(len(b) == 2 for b in delivered(sim))


async def test_powertools_batch_processor_handlers(eventsim_factory: SimulatorFactory) -> None:
    sim = await mapped(
        eventsim_factory, "powertools",
        {"report_batch_item_failures": True, "maximum_retry_attempts": 0, "batching_window": 1,
         "on_failure": "queue:failures"},
    )  # fmt: skip
    put(sim, "a1")
    put(sim, "a2", poison=True)
    put(sim, "a3")
    await sim.advance(minutes=1)
    assert delivered(sim) == [["INSERT a/1", "INSERT a/2", "INSERT a/3"]]
    [message] = await sim.queue("failures").receive_messages()
    info = json.loads(message.body)["DDBStreamBatchInfo"]
    assert info["batchSize"] == 2  # a/2 and what followed it in the batch


async def test_parallelization_keeps_order_per_item(eventsim_factory: SimulatorFactory) -> None:
    sim = await mapped(eventsim_factory, "changes", {"parallelization_factor": 4, "batch_size": 2})
    orders = sim.table("orders")
    for round_ in range(5):
        for key in "abcdef":
            orders.put_item({"pk": key, "sk": "x", "round": round_})
    await sim.settle()
    seen: dict[str, list[int]] = {}
    for attempt in sim.ledger.for_function("worker"):
        for record in attempt.event["Records"]:
            image = record["dynamodb"]["NewImage"]
            seen.setdefault(image["pk"]["S"], []).append(int(image["round"]["N"]))
    assert seen == {key: list(range(5)) for key in "abcdef"}


async def test_tumbling_windows_carry_state(eventsim_factory: SimulatorFactory) -> None:
    sim = await mapped(eventsim_factory, "count_in_window", {"tumbling_window": 60,
                                                              "batch_size": 2})  # fmt: skip
    await sim.advance(seconds=60 - sim.clock.time() % 60)  # start of a window
    put(sim, "a1", "a2", "a3")
    await sim.settle()
    await sim.advance(seconds=61)
    events = [a.event for a in sim.ledger.for_function("worker")]
    assert [len(e["Records"]) for e in events] == [2, 1, 0]
    assert [e["state"] for e in events] == [{}, {"count": 2}, {"count": 3}]
    assert [e["isFinalInvokeForWindow"] for e in events] == [False, False, True]
    window = events[0]["window"]
    assert window == events[2]["window"] and window["start"] < window["end"]
    assert events[0]["shardId"] and events[0]["eventSourceARN"].endswith(
        events[0]["Records"][0]["eventSourceARN"].split("/stream/")[1]
    )


async def test_a_window_handler_must_return_state(eventsim_factory: SimulatorFactory) -> None:
    sim = await mapped(eventsim_factory, "forget_state",
                       {"tumbling_window": 60, "maximum_retry_attempts": 1})  # fmt: skip
    put(sim, "a1")
    await sim.advance(seconds=30)
    assert len(delivered(sim)) == 2  # the first try and one retry; then discarded
    assert sim.ledger.for_function("worker", Outcome.DROPPED)


async def test_filters_skip_records_and_say_so(eventsim_factory: SimulatorFactory) -> None:
    pattern = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["paid"]}}}}
    sim = await mapped(eventsim_factory, "changes", {"filters": [pattern]})
    put(sim, "a1", kind="paid")
    put(sim, "a2", kind="draft")
    sim.table("orders").delete_item({"pk": "a", "sk": "1"})
    await sim.settle()
    assert delivered(sim) == [["INSERT a/1"]]
    dropped = sim.ledger.for_function("worker", Outcome.DROPPED)
    assert len(dropped) == 2 and all("filter" in (d.reason or "") for d in dropped)


async def test_latest_skips_what_was_written_before(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    sim = await eventsim_factory({"tables": config("changes")["tables"]}, state_dir=state)
    put(sim, "a1")
    await sim.close()
    sim = await eventsim_factory(config("changes", {"starting_position": "LATEST"}),
                                 state_dir=state)  # fmt: skip
    put(sim, "a2")
    await sim.settle()
    assert delivered(sim) == [["INSERT a/2"]]


async def test_a_restart_resumes_from_the_checkpoint(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    sim = await eventsim_factory(config("changes"), state_dir=state)
    put(sim, "a1", "a2")
    await sim.settle()
    await sim.close()
    second = await eventsim_factory({"tables": config("changes")["tables"]}, state_dir=state)
    put(second, "a3")  # written while the mapping is not running
    await second.close()
    third = await eventsim_factory(config("changes"), state_dir=state)
    put(third, "a4")
    await third.settle()
    assert [r for b in delivered(third) for r in b] == ["INSERT a/3", "INSERT a/4"]


WRITER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
with db:
    db.execute("INSERT INTO items (item) VALUES (?)", ('{"pk":{"S":"sql"},"sk":{"S":"1"}}',))
    db.execute("UPDATE items SET item = json_set(item, '$.n', json('{\\"N\\":\\"2\\"}')) "
               "WHERE pk = 'sql' AND sk = '1'")
    db.execute("DELETE FROM items WHERE pk = 'sql'")
"""


async def test_writes_with_sql_from_another_process_are_delivered(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory(config("changes"), virtual_time=False)
    path = sim.table("orders").path
    writer = await asyncio.create_subprocess_exec(sys.executable, "-c", WRITER, str(path))
    assert await writer.wait() == 0
    [attempt] = await sim.ledger.wait_for("worker", count=1, timeout=10)
    records = attempt.event["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert records[1]["dynamodb"]["NewImage"]["n"] == {"N": "2"}


README_SQL = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute(
    "INSERT INTO items (item) VALUES "
    "('{\\"sku\\":{\\"S\\":\\"apple\\"},\\"count\\":{\\"N\\":\\"5\\"}}')"
)
db.execute("UPDATE items SET item = json_set(item, '$.count.N', '3') WHERE pk = 'apple'")
"""


async def test_the_demo_stock_table_with_the_readme_sql(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    sim = await eventsim_factory(demo(tmp_path), virtual_time=False)
    path = sim.table("stock").path
    writer = await asyncio.create_subprocess_exec(sys.executable, "-c", README_SQL, str(path))
    assert await writer.wait() == 0
    await sim.ledger.wait_for("stock", count=1, timeout=10)
    while sum(len(a.event["Records"]) for a in sim.ledger.for_function("stock")) < 2:
        await sim.ledger.wait_for("stock", count=len(sim.ledger.for_function("stock")) + 1)
    records = [r for a in sim.ledger.for_function("stock") for r in a.event["Records"]]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    assert records[1]["dynamodb"]["OldImage"]["count"] == {"N": "5"}
    assert records[1]["dynamodb"]["NewImage"]["count"] == {"N": "3"}
    assert sim.ledger.for_function("stock")[-1].outcome is Outcome.SUCCESS


async def test_throttles_do_not_count_as_attempts(eventsim_factory: SimulatorFactory) -> None:
    sim = await mapped(
        eventsim_factory, "changes",
        {"maximum_retry_attempts": 0, "maximum_record_age": 60, "on_failure": "queue:failures"},
        reserved_concurrency=0,
    )  # fmt: skip
    put(sim, "a1")
    await sim.advance(minutes=3)
    assert sim.ledger.for_function("worker", Outcome.THROTTLED)
    [message] = await sim.queue("failures").receive_messages()
    assert json.loads(message.body)["requestContext"]["condition"] == "RecordAgeExceeded"


async def test_the_demo_stock_function_takes_decimal_counts(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    """README: ``eventsim put-item stock '{"sku": "pear", "count": 2.50}'`` on the demo."""
    sim = await eventsim_factory(demo(tmp_path), virtual_time=False)
    sim.table("stock").put_item({"sku": "pear", "count": Decimal("2.50")})
    [attempt] = await sim.ledger.wait_for("stock", count=1)
    assert attempt.outcome is Outcome.SUCCESS, attempt.payload
    assert "stock INSERT pear: None -> 2.5\n" in attempt.log_tail  # DynamoDB drops the 0


async def test_the_mapping_shows_its_live_checkpoint(eventsim_factory: SimulatorFactory) -> None:
    sim = await mapped(
        eventsim_factory, "report_poison",
        {"report_batch_item_failures": True, "maximum_retry_attempts": 2, "batch_size": 5},
    )  # fmt: skip
    [binding] = [b for b in sim.mappings() if isinstance(b, StreamBinding)]
    store = sim.table("orders").store
    assert binding.checkpoint == store.checkpoint(binding.key) == 0  # TRIM_HORIZON
    for n in range(5):
        put(sim, f"a{n}", **({"poison": True} if n == 2 else {}))
    await sim.settle()  # a0, a1 are done; a2..a4 wait for their retry, blocking the shard
    [first] = [a for a in sim.ledger.for_function("worker") if a.ran]
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in first.event["Records"]]
    assert binding.checkpoint == numbers[1]  # live: past a0 and a1 already
    assert store.checkpoint(binding.key) == numbers[0] - 1  # saved once the batch is settled
    await sim.advance(minutes=2)  # the retries fail too: a2..a4 are discarded
    assert binding.checkpoint == store.checkpoint(binding.key) == numbers[4]
    await binding.set_enabled(False)
    put(sim, "b0")
    assert binding.checkpoint == numbers[4]  # paused: the saved position


async def test_a_checkpoint_gives_way_to_another_writer_and_is_saved_once_it_can_be(
    eventsim_factory: SimulatorFactory,
) -> None:
    """An app holding the table file's write lock when a batch finishes: the mapping does not
    wait on the event loop for it, and no part fails (before: the checkpoint's save waited 5 s
    with the loop stopped, then failed the lane with ``database is locked``). The checkpoint
    is saved once the app lets go."""
    sim = await mapped(eventsim_factory, "changes", {"batching_window": 5})
    [binding] = [b for b in sim.mappings() if isinstance(b, StreamBinding)]
    store = sim.table("orders").store
    put(sim, "a0")
    await sim.settle()  # read, waiting for its batching window
    app = sqlite3.connect(store.path, isolation_level=None)
    try:
        app.execute("BEGIN IMMEDIATE")  # the app's write transaction, open
        window = asyncio.create_task(sim.advance(5))
        [attempt] = await sim.ledger.wait_for("worker", count=1)
        assert attempt.outcome is Outcome.SUCCESS
        assert binding.checkpoint is not None and store.checkpoint(binding.key) == 0
        assert sim.health()["status"] == "ok", sim.health()
        app.execute("COMMIT")
        await window
    finally:
        app.close()
    assert store.checkpoint(binding.key) == binding.checkpoint > 0
    assert sim.health()["status"] == "ok"
