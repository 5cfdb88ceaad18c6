"""The same, in plain `def` tests with the `eventsim_sync` fixture: every call blocks."""

import json

from eventsim.testing import assert_delivered


def test_s3_upload(eventsim_sync):
    eventsim_sync.bucket("uploads").put_object("images/dog.jpg", b"...")
    eventsim_sync.settle()
    [attempt] = assert_delivered(eventsim_sync, "thumbnail")
    assert attempt.payload == ["thumbs/images/dog.jpg"]


def test_sqs_at_least_once(eventsim_sync):
    eventsim_sync.faults.duplicate("orders")  # the next message is delivered twice
    message_id = eventsim_sync.queue("orders").send_message(json.dumps({"id": 3, "total": 1}))
    eventsim_sync.settle()
    deliveries = assert_delivered(eventsim_sync, "orders", count=2)
    assert {a.event["Records"][0]["messageId"] for a in deliveries} == {message_id}


def test_dynamodb_stream(eventsim_sync):
    eventsim_sync.table("carts").put_item({"id": "c2", "items": 5})
    eventsim_sync.settle()
    [event] = eventsim_sync.recorded("audit")
    assert event["Records"][0]["dynamodb"]["Keys"] == {"id": {"S": "c2"}}


def test_schedule(eventsim_sync):
    eventsim_sync.advance(hours=1)
    assert_delivered(eventsim_sync, "cleanup", count=1)


def test_http_route(eventsim_sync):
    response = eventsim_sync.request("GET", "/carts/c3")
    assert json.loads(response.body) == {"cart": "c3"}
