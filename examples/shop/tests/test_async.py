"""Every trigger kind, tested with the async `eventsim` fixture on virtual time."""

import json

import pytest

from eventsim import Outcome
from eventsim.testing import assert_delivered

pytestmark = pytest.mark.asyncio


async def test_s3_upload(eventsim):
    await eventsim.bucket("uploads").put_object("images/cat.jpg", b"...")
    await eventsim.bucket("uploads").put_object("docs/cv.pdf", b"...")  # matches no trigger
    await eventsim.settle()
    [attempt] = assert_delivered(eventsim, "thumbnail")
    assert attempt.payload == ["thumbs/images/cat.jpg"]
    assert "no notification configuration matches" in eventsim.explain(key="docs/cv.pdf")


async def test_sqs_partial_failure_and_redrive(eventsim):
    orders = eventsim.queue("orders")
    orders.send_message(json.dumps({"id": 1, "total": 10}))
    orders.send_message(json.dumps({"id": 2, "total": -5}))
    await eventsim.settle()
    await eventsim.advance(seconds=30)  # the failed order reappears, fails again
    await eventsim.advance(seconds=30)  # the third receive moves it to the dead-letter queue
    assert eventsim.queue("orders-dlq").snapshot()["visible"] == ['{"id": 2, "total": -5}']
    assert len(orders) == 0


async def test_dynamodb_stream(eventsim):
    carts = eventsim.table("carts")
    carts.put_item({"id": "c1", "items": 1})
    carts.update_item({"id": "c1"}, "SET #i = #i + :n", names={"#i": "items"}, values={":n": 2})
    await eventsim.settle()
    records = [r for e in eventsim.recorded("audit") for r in e["Records"]]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    assert records[1]["dynamodb"]["NewImage"]["items"] == {"N": "3"}


async def test_a_poison_cart_goes_to_on_failure(eventsim):
    eventsim.table("carts").put_item({"id": "bad", "items": -1})
    await eventsim.settle()
    await eventsim.advance(minutes=1)  # one retry after back-off, then discarded
    [message] = await eventsim.queue("audit-failures").receive_messages()
    assert json.loads(message.body)["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert_delivered(eventsim, "audit", count=2, outcome=Outcome.ERROR)


async def test_schedule(eventsim):
    await eventsim.advance(hours=3)
    times = [a.payload["cleaned_at"] for a in assert_delivered(eventsim, "cleanup", count=3)]
    assert times == sorted(times)


async def test_http_route(eventsim):
    response = await eventsim.request("GET", "/carts/c9")
    assert response.status == 200 and json.loads(response.body) == {"cart": "c9"}
    assert (await eventsim.request("GET", "/nothing")).status == 404


async def test_retries_of_an_async_invocation(eventsim):
    eventsim.faults.fail("cleanup", times=2)
    await eventsim.invoke("cleanup", {"time": "now"}, invocation_type="Event")
    await eventsim.settle()
    await eventsim.advance(minutes=3)  # Lambda retries at +60 s and +120 s
    [success] = assert_delivered(eventsim, "cleanup", where=lambda a: a.source == "invoke")
    assert success.attempt == 3
