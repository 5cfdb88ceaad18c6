"""The dashboard's JSON API over real HTTP against a simulator's edge (no browser)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from eventsim import Outcome, Simulator
from eventsim.daemon import ready_block
from eventsim.ledger import Attempt
from eventsim.server.dashboard import cost
from eventsim.testing import SimulatorFactory
from eventsim.triggers import registry

from .conftest import client, scenario

pytestmark = pytest.mark.asyncio

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday


async def started(factory: SimulatorFactory, tmp_path: Path, **options: object) -> Simulator:
    return await factory(
        scenario(tmp_path), virtual_time=True, isolation="thread", start_time=START, **options
    )


# --- the page ---------------------------------------------------------------------------------


async def test_the_page_and_its_files_are_served_from_the_package(
    eventsim_factory: SimulatorFactory, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    sim = await started(eventsim_factory, tmp_path)
    base = f"{sim.endpoint_url}/_eventsim"
    async with session.get(base, allow_redirects=False) as response:
        assert response.status == 302 and response.headers["Location"] == "/_eventsim/"
    async with session.get(base + "/") as response:
        page = await response.text()
        assert response.status == 200 and response.content_type == "text/html"
        policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert 'src="/_eventsim/static/app.js"' in page
    # Nothing from elsewhere: no scheme-qualified address in the page, script or style.
    for name, kind in (("app.js", "text/javascript"), ("app.css", "text/css")):
        async with session.get(f"{base}/static/{name}") as response:
            assert response.status == 200 and response.content_type == kind
            text = await response.text()
        assert "http://" not in text and "https://" not in text, name
    assert "http://" not in page and "https://" not in page
    async with session.get(f"{base}/static/..%2Fapi.py") as response:
        assert response.status == 404


async def test_the_ready_block_links_the_dashboard(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    sim = await started(eventsim_factory, tmp_path)
    assert f"  dashboard: {sim.endpoint_url}/_eventsim/" in ready_block(sim).splitlines()


# --- functions --------------------------------------------------------------------------------


async def test_functions_count_what_the_ledger_holds(
    eventsim_factory: SimulatorFactory, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    sim = await started(eventsim_factory, tmp_path)
    api = client(session, sim)
    for n in range(3):
        await sim.invoke("echo", {"n": n})
    await sim.invoke("fail", {})
    sim.faults.throttle("echo")
    with pytest.raises(Exception, match="injected"):
        await sim.invoke("echo", {})

    status, functions = await api.get("/functions")
    assert status == 200
    by_name = {f["name"]: f for f in functions}
    assert set(by_name) == set(sim.functions)
    echo = by_name["echo"]
    durations = sorted(a.duration_ms for a in sim.ledger.for_function("echo") if a.ran)
    assert (echo["invocations"], echo["errors"], echo["throttles"]) == (3, 0, 1)
    assert echo["cold_starts"] == sum(a.cold_start for a in sim.ledger.for_function("echo"))
    assert echo["p50_ms"] == durations[1] and echo["p99_ms"] == durations[2]
    assert echo["memory_mb"] == 256
    assert (echo["concurrency_now"], echo["peak_concurrency"]) == (0, 1)  # one at a time
    assert (by_name["fail"]["invocations"], by_name["fail"]["errors"]) == (1, 1)
    [trigger] = sim.config.functions["orders"].triggers
    assert by_name["orders"]["triggers"] == [registry.kind("sqs").summary(trigger.spec)]
    assert by_name["echo"]["triggers"] == [] and len(by_name["tick"]["triggers"]) == 2

    status, fail = await api.get("/functions/fail")
    assert status == 200
    assert "about to fail" in "\n".join(fail["log"])
    assert [e["outcome"] for e in fail["recent"]] == ["error"]
    assert fail["sample"] == {"kind": "invoke", "event": {}}
    status, missing = await api.get("/functions/nope")
    assert status == 404 and "echo" in missing["message"]


async def test_the_sample_event_is_the_first_triggers_event(
    eventsim_factory: SimulatorFactory, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    sim = await started(eventsim_factory, tmp_path)
    api = client(session, sim)
    samples = {name: (await api.get(f"/functions/{name}"))[1]["sample"] for name in sim.functions}
    [record] = samples["orders"]["event"]["Records"]
    assert (
        samples["orders"]["kind"] == "sqs" and record["eventSourceARN"] == sim.queue("orders").arn
    )
    [record] = samples["uploads"]["event"]["Records"]
    assert record["s3"]["bucket"]["name"] == "uploads"
    [record] = samples["changes"]["event"]["Records"]
    assert record["dynamodb"]["Keys"] == {"sku": {"S": "1"}} and record["eventName"] == "INSERT"
    assert samples["tick"]["event"]["detail-type"] == "Scheduled Event"
    # The sample runs: the handler takes it as the trigger would have sent it.
    status, result = await api.post(
        "/functions/orders/invoke", {"event": samples["orders"]["event"]}
    )
    assert status == 200 and result["function_error"] is None
    assert result["payload"] == {"batchItemFailures": []}


async def test_invoke_runs_the_function_and_reports_its_result(
    eventsim_factory: SimulatorFactory, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    sim = await started(eventsim_factory, tmp_path)
    api = client(session, sim)
    status, result = await api.post("/functions/echo/invoke", {"event": {"name": "Ada"}})
    assert status == 200
    assert result["payload"] == {"echoed": {"name": "Ada"}} and "echo got" in result["log"]
    [attempt] = sim.ledger.for_function("echo")
    assert attempt.request_id == result["request_id"] and attempt.source == "invoke"

    status, result = await api.post("/functions/fail/invoke", {"event": {}})
    assert status == 200 and result["function_error"] == "Unhandled"
    assert result["payload"]["errorType"] == "ValueError"

    status, result = await api.post(
        "/functions/echo/invoke", {"event": {"n": 2}, "invocation_type": "Event"}
    )
    assert status == 200 and result["status_code"] == 202
    await sim.settle()
    assert sim.ledger.count("echo", Outcome.SUCCESS) == 2

    for body, code in (({"invocation_type": "DryRunX"}, 400), ([1, 2], 400)):
        status, refused = await api.post("/functions/echo/invoke", body)
        assert status == code and refused["error"]
    status, refused = await api.post("/functions/nope/invoke", {"event": {}})
    assert status == 404


# --- the ledger: pages, entries, the timeline -------------------------------------------------


def synthetic(n: int, function: str, at: datetime, outcome: Outcome = Outcome.SUCCESS) -> Attempt:
    return Attempt(
        function=function, request_id=f"req-{function}-{n}", invocation_type="Event",
        source="invoke", event={"n": n}, attempt=1, started_at=at, outcome=outcome,
        duration_ms=10.0, billed_duration_ms=10, log_tail=f"line {n}\n",
    )  # fmt: skip


async def test_attempts_page_back_through_the_ledger_by_stable_numbers(
    eventsim_factory: SimulatorFactory, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    sim = await started(eventsim_factory, tmp_path)
    sim.ledger.limit = 200  # the ledger evicts the oldest past this
    api = client(session, sim)
    for n in range(250):
        outcome = Outcome.ERROR if n % 10 == 0 else Outcome.SUCCESS
        sim.ledger.record(synthetic(n, "echo" if n % 2 else "fail", START, outcome))
    assert sim.ledger.evicted == 50

    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": "64"} if cursor is None else {"limit": "64", "before": str(cursor)}
        status, page = await api.get("/attempts", **params)
        assert status == 200 and page["total"] == 250 and page["evicted"] == 50
        seen += [e["seq"] for e in page["entries"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == list(range(249, 49, -1))  # newest first, each held entry once

    status, page = await api.get("/attempts", function="fail", outcome="error", limit="1000")
    expected = [n for n in range(249, 49, -1) if n % 10 == 0]
    assert [e["seq"] for e in page["entries"]] == expected and page["next"] is None
    assert all(e["function"] == "fail" for e in page["entries"])

    status, entry = await api.get("/attempts/120")
    assert status == 200 and entry["event"] == {"n": 120} and entry["log"] == "line 120\n"
    assert entry["request_id"] == "req-fail-120"
    status, gone = await api.get("/attempts/10")
    assert status == 404 and "evicted" in gone["message"]
    status, bad = await api.get("/attempts", outcome="sideways")
    assert status == 400 and "success" in bad["message"]


async def test_the_timeline_is_a_window_of_time(
    eventsim_factory: SimulatorFactory, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    sim = await started(eventsim_factory, tmp_path)
    api = client(session, sim)
    for minute in range(10):
        for n in range(5):
            at = START + timedelta(minutes=minute, seconds=n)
            sim.ledger.record(synthetic(minute * 5 + n, "echo", at))
    base = int(START.timestamp() * 1000)
    status, window = await api.get(
        "/timeline", **{"from": str(base + 120_000), "to": str(base + 179_999)}
    )
    assert status == 200 and not window["truncated"]
    assert sorted(b["seq"] for b in window["bars"]) == list(range(10, 15))
    assert set(window["rows"]) >= set(sim.functions)
    status, capped = await api.get("/timeline", **{"from": str(base), "to": str(base + 600_000),
                                                   "limit": "7"})  # fmt: skip
    assert len(capped["bars"]) == 7 and capped["truncated"]
    assert [b["seq"] for b in capped["bars"]] == list(range(49, 42, -1))  # the newest


@pytest.mark.timeout(60)
async def test_a_full_ledger_of_100k_entries_is_paged_not_sent(
    eventsim_factory: SimulatorFactory, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    sim = await started(eventsim_factory, tmp_path)
    api = client(session, sim)
    for n in range(100_000):
        at = START + timedelta(milliseconds=10 * n)
        sim.ledger.record(synthetic(n, ("echo", "fail", "orders")[n % 3], at))
    assert len(sim.ledger) == 100_000
    status, page = await api.get("/attempts", limit="50")
    assert len(page["entries"]) == 50 and page["entries"][0]["seq"] == 99_999
    newest = int((START + timedelta(milliseconds=10 * 99_999)).timestamp() * 1000)
    status, window = await api.get("/timeline", **{"from": str(newest - 60_000),
                                                   "to": str(newest)})  # fmt: skip
    assert len(window["bars"]) == 2000 and window["truncated"]
    status, functions = await api.get("/functions")
    counts = {f["name"]: f["invocations"] for f in functions}
    assert (counts["echo"], counts["fail"], counts["orders"]) == (33_334, 33_333, 33_333)
    status, estimate = await api.get("/cost")
    assert sum(f["requests"] for f in estimate["functions"]) == 100_000


# --- queues -----------------------------------------------------------------------------------


async def test_queues_send_peek_and_purge(
    eventsim_factory: SimulatorFactory, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    sim = await started(eventsim_factory, tmp_path)
    [orders_mapping] = [m for m in sim.mappings() if m.source == "sqs:orders"]
    await orders_mapping.set_enabled(False)  # the messages stay where they are
    api = client(session, sim)
    ids = []
    for n in range(3):
        status, sent = await api.post("/queues/orders/send", {"body": json.dumps({"id": n})})
        assert status == 200
        ids.append(sent["message_id"])
    status, sent = await api.post("/queues/orders/send", {"body": "later", "delay_seconds": 30})
    assert status == 200
    status, queues = await api.get("/queues")
    orders = next(q for q in queues if q["name"] == "orders")
    assert (orders["visible"], orders["in_flight"], orders["delayed"]) == (3, 0, 1)
    assert orders["dead_letter"] == {"name": "orders-dlq", "depth": 0}
    assert orders["functions"] == ["orders"]
    dlq = next(q for q in queues if q["name"] == "orders-dlq")
    assert dlq["dead_letter_for"] == ["orders"]

    status, peek = await api.get("/queues/orders/messages", limit="2")
    # The 2 oldest messages only (Queue.peek); the counts are the whole queue's.
    assert peek["visible"] == {"count": 3, "bodies": ['{"id": 0}', '{"id": 1}']}
    assert peek["delayed"] == {"count": 1, "bodies": []}
    assert [(m["id"], m["state"], m["receive_count"]) for m in peek["messages"]] == [
        (ids[0], "visible", 0), (ids[1], "visible", 0),
    ]  # fmt: skip
    status, peek = await api.get("/queues/orders/messages")
    assert peek["delayed"]["bodies"] == ["later"] and peek["messages"][3]["attributes"] == {}
    assert sim.queue("orders").counts().visible == 3  # peeking received nothing

    status, refused = await api.post("/queues/orders/send", {"body": 7})
    assert status == 400
    status, refused = await api.post("/queues/orders/send", {"body": "x", "delay_seconds": 901})
    assert status == 400 and refused["error"] == "InvalidParameterValue"
    status, purged = await api.post("/queues/orders/purge")
    assert status == 200 and purged == {"purged": 4} and len(sim.queue("orders")) == 0
    status, again = await api.post("/queues/orders/purge")
    assert status == 409 and again["error"] == "PurgeQueueInProgress"
    status, missing = await api.post("/queues/nope/purge")
    assert status == 404


async def test_redrive_moves_the_dead_letters_back_to_their_queue(
    eventsim_factory: SimulatorFactory, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    sim = await started(eventsim_factory, tmp_path)
    api = client(session, sim)
    bad = [sim.queue("orders").send_message(json.dumps({"id": n, "total": -1})) for n in (1, 2)]
    await sim.settle()  # received once, reported failed
    await sim.advance(seconds=2)  # visible again: max_receive_count 1 moves them on
    await sim.settle()
    assert sim.queue("orders-dlq").counts().visible == 2
    status, refused = await api.post("/queues/orders/redrive")
    assert status == 400  # orders is no dead-letter queue

    [mapping] = [m for m in sim.mappings() if m.source == "sqs:orders"]
    await mapping.set_enabled(False)
    status, started_task = await api.post("/queues/orders-dlq/redrive")
    assert status == 200 and started_task["to_move"] == 2
    await sim.settle()
    assert len(sim.queue("orders-dlq")) == 0
    peek = (await api.get("/queues/orders/messages"))[1]
    assert sorted(peek["visible"]["bodies"]) == sorted(
        json.dumps({"id": n, "total": -1}) for n in (1, 2)
    )
    status, queues = await api.get("/queues")
    dlq = next(q for q in queues if q["name"] == "orders-dlq")
    assert dlq["move_task"]["Status"] == "COMPLETED"
    assert dlq["move_task"]["ApproximateNumberOfMessagesMoved"] == 2
    explained = (await api.get("/explain", message=bad[0]))[1]
    assert [e["function"] for e in explained["entries"]][:2] == ["orders", "orders"]


# --- tables -----------------------------------------------------------------------------------


async def test_tables_browse_query_and_stream_positions(
    eventsim_factory: SimulatorFactory, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    sim = await started(eventsim_factory, tmp_path)
    api = client(session, sim)
    stock = sim.table("stock")
    for n in range(30):
        stock.put_item({"sku": f"sku-{n:02d}", "count": n, "tags": {"a", "b"}})
    await sim.settle()
    status, tables = await api.get("/tables")
    [table] = tables
    assert table["items"] == 30 and table["partition_key"] == ["sku", "S"]
    [mapping] = table["mappings"]
    assert mapping["function"] == "changes" and mapping["lag"] == 0
    assert mapping["checkpoint"] == table["last_sequence"]

    keys: list[str] = []
    cursor = None
    while True:
        params = {"limit": "12"} if cursor is None else {"limit": "12", "start": cursor}
        status, page = await api.get("/tables/stock/items", **params)
        assert status == 200
        keys += [item["sku"] for item in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert sorted(keys) == [f"sku-{n:02d}" for n in range(30)]

    status, found = await api.get("/tables/stock/items", pk="sku-07")
    assert found["items"] == [{"sku": "sku-07", "count": 7, "tags": ["a", "b"]}]
    status, refused = await api.get("/tables/stock/items", start="not-a-cursor")
    assert status == 400

    [stream] = [m for m in sim.mappings() if m.source == "dynamodb:stock"]
    await stream.set_enabled(False)
    for n in range(4):
        stock.put_item({"sku": f"new-{n}"})
    status, tables = await api.get("/tables")
    [mapping] = tables[0]["mappings"]
    assert mapping["lag"] == 4 and not mapping["enabled"]


# --- buckets ----------------------------------------------------------------------------------


async def test_an_upload_writes_the_object_and_fires_the_trigger(
    eventsim_factory: SimulatorFactory, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    sim = await started(eventsim_factory, tmp_path)
    api = client(session, sim)
    body = b"one\ntwo\n"
    status, uploaded = await api.post(
        "/buckets/uploads/objects", data=body, params={"key": "in/notes 1.txt"},
        headers={"Content-Type": "application/octet-stream"},
    )  # fmt: skip
    assert status == 200 and uploaded["key"] == "in/notes 1.txt" and uploaded["size"] == 8
    assert await sim.bucket("uploads").get_object("in/notes 1.txt") == body
    await sim.settle()
    [attempt] = sim.ledger.for_function("uploads")
    assert attempt.source == "s3:uploads" and attempt.payload == ["in/notes+1.txt"]

    status, listing = await api.get("/buckets/uploads/objects", prefix="in/")
    [entry] = listing["objects"]
    assert entry["key"] == "in/notes 1.txt" and entry["size"] == 8 and listing["next"] is None
    status, buckets = await api.get("/buckets")
    assert buckets[0]["functions"] == ["uploads"]

    status, refused = await api.post(
        "/buckets/uploads/objects", data=b"x", params={"key": "../escape.txt"},
        headers={"Content-Type": "application/octet-stream"},
    )  # fmt: skip
    assert status == 400 and refused["error"] == "InvalidKey"
    status, refused = await api.post(
        "/buckets/uploads/objects", data=b"x", params={"key": "a.txt"},
        headers={"Content-Type": "text/plain"},
    )  # fmt: skip
    assert status == 415


async def test_objects_are_listed_a_page_at_a_time(
    eventsim_factory: SimulatorFactory, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    sim = await started(eventsim_factory, tmp_path)
    api = client(session, sim)
    for n in range(25):
        await sim.bucket("uploads").put_object(f"k/{n:02d}", b"x")
    keys: list[str] = []
    after = None
    while True:
        params = {"limit": "10"} if after is None else {"limit": "10", "after": after}
        listing = (await api.get("/buckets/uploads/objects", **params))[1]
        keys += [o["key"] for o in listing["objects"]]
        after = listing["next"]
        if after is None:
            break
    assert keys == [f"k/{n:02d}" for n in range(25)]


# --- schedules, explain, cost -----------------------------------------------------------------


async def test_schedules_show_their_next_times_in_their_zone_and_fire_now(
    eventsim_factory: SimulatorFactory, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    sim = await started(eventsim_factory, tmp_path)
    api = client(session, sim)
    status, schedules = await api.get("/schedules", next="3")
    by_name = {s["name"]: s for s in schedules}
    assert [t["utc"] for t in by_name["hourly"]["next"]] == [
        (START + timedelta(hours=h)).isoformat() for h in (1, 2, 3)
    ]
    morning = by_name["morning"]
    assert morning["timezone"] == "Europe/Paris"
    # Monday 2 March 2026, 08:00 UTC is 09:00 in Paris: the next is Tuesday's 09:00 (+01:00).
    assert morning["next"][0] == {
        "utc": "2026-03-03T08:00:00+00:00",
        "local": "2026-03-03T09:00:00+01:00",
    }

    status, fired = await api.post("/schedules/morning/fire")
    assert status == 200 and fired["status_code"] == 202  # queued, as a due firing is
    await sim.settle()
    [attempt] = sim.ledger.for_function("tick")
    assert (attempt.request_id, attempt.source, attempt.invocation_type) == (
        fired["request_id"], "schedule:morning", "Event",
    )  # fmt: skip
    assert attempt.event == fired["event"] and attempt.payload == "ticked"
    assert attempt.event["detail-type"] == "Scheduled Event"
    status, missing = await api.post("/schedules/nope/fire")
    assert status == 404 and "hourly" in missing["message"]


async def test_explain_finds_the_life_of_a_message_key_or_item(
    eventsim_factory: SimulatorFactory, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    sim = await started(eventsim_factory, tmp_path)
    api = client(session, sim)
    good = sim.queue("orders").send_message(json.dumps({"id": 1, "total": 5}))
    bad = sim.queue("orders").send_message(json.dumps({"id": 2, "total": -5}))
    await sim.settle()
    await sim.bucket("uploads").put_object("docs/cv.pdf", b"%PDF")
    sim.table("stock").put_item({"sku": "apple", "count": 3})
    await sim.settle()

    status, life = await api.get("/explain", message=bad)
    assert status == 200 and f"message {bad!r}" in life["text"]
    assert [e["function"] for e in life["entries"]] == ["orders"]
    assert life["entries"][0]["records"] == {"failed": 1, "succeeded": 1}
    status, life = await api.get("/explain", message=good)
    assert [e["source"] for e in life["entries"]] == ["sqs:orders"]
    status, life = await api.get("/explain", key="docs/cv.pdf")
    assert [e["function"] for e in life["entries"]] == ["uploads"]
    status, life = await api.get("/explain", item=json.dumps({"sku": "apple"}))
    assert [e["function"] for e in life["entries"]] == ["changes"]
    status, life = await api.get("/explain", key="never/seen")
    assert life["entries"] == [] and "nothing in the ledger" in life["text"]
    for params in ({}, {"item": "[1]"}, {"item": "{not json"}):
        status, refused = await api.get("/explain", **params)
        assert status == 400 and refused["error"] == "InvalidParameter"


async def test_cost_prices_billed_duration_and_requests(
    eventsim_factory: SimulatorFactory, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    sim = await started(eventsim_factory, tmp_path)
    api = client(session, sim)
    for n in range(4):  # echo has 256 MB: 4 x 1 s = 1 GB-s
        sim.ledger.record(
            Attempt(function="echo", request_id=f"r{n}", invocation_type="Event",
                    source="invoke", event={}, attempt=1, started_at=START,
                    outcome=Outcome.SUCCESS, billed_duration_ms=1000)
        )  # fmt: skip
    sim.ledger.record(
        Attempt.dropped(function="echo", request_id="x", source="invoke", event={}, at=START,
                        reason="filtered")
    )  # fmt: skip
    status, estimate = await api.get("/cost")
    echo = next(f for f in estimate["functions"] if f["function"] == "echo")
    assert (echo["requests"], echo["billed_ms"], echo["gb_seconds"]) == (4, 4000, 1.0)
    assert echo["request_cost"] == pytest.approx(4 * 0.20 / 1_000_000)
    assert echo["duration_cost"] == pytest.approx(0.0000166667)
    assert echo["total"] == pytest.approx(4 * 0.2e-6 + 0.0000166667)
    assert estimate["total"] == pytest.approx(echo["total"])
    prices = estimate["prices"]
    assert prices == cost.PRICES.as_dict() and prices["region"] == "us-east-1"
    assert prices["taken"] == "2026-11-29" and prices["per_million_requests"] == 0.2


# --- the gate, methods, errors ----------------------------------------------------------------


MUTATIONS = [
    "/functions/echo/invoke",
    "/queues/orders/send",
    "/queues/orders/purge",
    "/queues/orders-dlq/redrive",
    "/buckets/uploads/objects?key=a.txt",
    "/schedules/hourly/fire",
]


@pytest.mark.parametrize("path", MUTATIONS)
async def test_a_cross_site_page_cannot_change_anything(
    eventsim_factory: SimulatorFactory, tmp_path: Path, session: aiohttp.ClientSession,
    path: str,
) -> None:  # fmt: skip
    sim = await started(eventsim_factory, tmp_path)
    url = f"{sim.endpoint_url}/_eventsim/api{path}"
    body = json.dumps({"event": {}, "body": "hi"}).encode()
    json_type = {"Content-Type": "application/json"}
    attacks = [
        {"Origin": "http://evil.example", **json_type},  # a cross-site fetch or form
        {"Host": "evil.example:8642", **json_type},  # DNS rebinding
        {"Origin": "null", **json_type},  # a sandboxed frame
    ]
    for headers in attacks:
        async with session.post(url, data=body, headers=headers) as response:
            assert response.status == 403, headers
    for simple in ("text/plain", "application/x-www-form-urlencoded"):
        async with session.post(url, data=body, headers={"Content-Type": simple}) as response:
            assert response.status == 415, simple
    if "/buckets/" not in path:  # GET there lists the objects
        async with session.get(url) as response:
            assert response.status == 405 and "POST" in response.headers["Allow"]
    assert len(sim.ledger) == 0 and len(sim.queue("orders")) == 0
    assert sim.bucket("uploads").list_objects() == []


async def test_unknown_endpoints_answer_json(
    eventsim_factory: SimulatorFactory, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    sim = await started(eventsim_factory, tmp_path)
    api = client(session, sim)
    status, answer = await api.get("/nothing/here")
    assert status == 404 and "docs/dashboard.md" in answer["message"]
    status, answer = await api.get("/attempts/abc")
    assert status == 400
    status, answer = await api.get("/attempts", limit="many")
    assert status == 400 and "limit" in answer["message"]


async def test_the_same_gate_lets_the_page_itself_in(
    eventsim_factory: SimulatorFactory, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    sim = await started(eventsim_factory, tmp_path)
    [mapping] = [m for m in sim.mappings() if m.source == "sqs:orders"]
    await mapping.set_enabled(False)
    origin = sim.endpoint_url
    assert origin is not None
    async with session.post(
        f"{origin}/_eventsim/api/queues/orders/send",
        data=json.dumps({"body": "from the page"}),
        headers={"Origin": origin, "Content-Type": "application/json"},
    ) as response:
        assert response.status == 200
    assert sim.queue("orders").snapshot()["visible"] == ["from the page"]


async def test_concurrency_is_the_runtimes_not_the_ledgers(
    eventsim_factory: SimulatorFactory, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    sim = await started(eventsim_factory, tmp_path)
    api = client(session, sim)
    for n in range(2):  # two entries that would overlap, but no handler of echo ever ran
        sim.ledger.record(synthetic(n, "echo", START))
    status, functions = await api.get("/functions")
    echo = next(f for f in functions if f["name"] == "echo")
    assert (echo["concurrency_now"], echo["peak_concurrency"]) == (0, 0)
    await sim.invoke("echo", {})
    status, echo = await api.get("/functions/echo")
    assert (echo["concurrency_now"], echo["peak_concurrency"]) == (0, 1)
    assert sim.concurrency("echo").peak == 1
