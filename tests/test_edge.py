"""Real boto3 clients against a real edge server on a free loopback port."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from functools import partial
from typing import Any

import aiohttp
import boto3
import pytest
import pytest_asyncio
import urllib3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from eventsim import Outcome, Simulator
from eventsim.errors import StartupError
from eventsim.resources.bucket import BucketSource
from eventsim.server.edge import EdgeServer
from eventsim.testing import SimulatorFactory

from .helpers import function

pytestmark = pytest.mark.asyncio

CONFIG = {
    "functions": {
        "echo": function("echo"),
        "fail": function("fail"),
        "chatty": function("chatty"),
        "context": function("describe_context"),
        "worker": function("batches.bodies", triggers=[{"sqs": {"queue": "jobs"}}]),
        "audit": function(
            "streams.changes",
            triggers=[{"dynamodb": {"table": "orders", "starting_position": "TRIM_HORIZON"}}],
        ),
        "throttled": function("echo", reserved_concurrency=0),
    },
    "queues": {"jobs": {}, "idle": {"visibility_timeout": 5}, "work.fifo": {}},
    "tables": {"orders": {"partition_key": "pk", "sort_key": "sk", "stream": "NEW_IMAGE"}},
}


class Edge:
    def __init__(self, sim: Simulator, server: EdgeServer) -> None:
        self.sim = sim
        self.server = server

    def _options(self) -> dict[str, Any]:
        return {
            "endpoint_url": self.server.url,
            "region_name": "us-east-1",
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",
        }

    def client(self, service: str) -> Any:
        retries = BotoConfig(retries={"max_attempts": 1})
        return boto3.client(service, config=retries, **self._options())

    def resource(self, service: str) -> Any:
        return boto3.resource(service, **self._options())


@pytest_asyncio.fixture
async def edge(eventsim_factory: SimulatorFactory) -> AsyncIterator[Edge]:
    sim = await eventsim_factory(CONFIG, virtual_time=False)
    server = EdgeServer(sim, port=0)
    await server.start()
    try:
        yield Edge(sim, server)
    finally:
        await server.stop()


async def call(method: Callable[..., Any], **kwargs: Any) -> Any:
    """A blocking boto3 call, off the loop that serves it."""
    return await asyncio.to_thread(partial(method, **kwargs))


# --- Lambda ---------------------------------------------------------------------------------


async def test_lambda_invoke_request_response(edge: Edge) -> None:
    client = edge.client("lambda")
    response = await call(client.invoke, FunctionName="echo", Payload=b'{"a": 1}',
                          LogType="Tail")  # fmt: skip
    assert response["StatusCode"] == 200
    assert json.loads(response["Payload"].read()) == {"a": 1}
    assert "FunctionError" not in response
    assert "START RequestId:" in base64.b64decode(response["LogResult"]).decode()
    assert response["ExecutedVersion"] == "$LATEST"


async def test_lambda_function_errors_and_forms_of_names(edge: Edge) -> None:
    client = edge.client("lambda")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:fail"
    response = await call(client.invoke, FunctionName=arn, Payload=b"{}")
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"]
    partial_arn = "123456789012:function:echo"
    response = await call(client.invoke, FunctionName=partial_arn, Payload=b"[1]")
    assert json.loads(response["Payload"].read()) == [1]


async def test_lambda_async_dry_run_and_client_context(edge: Edge) -> None:
    client = edge.client("lambda")
    queued = await call(client.invoke, FunctionName="echo", InvocationType="Event",
                        Payload=b'{"later": true}')  # fmt: skip
    assert queued["StatusCode"] == 202
    await edge.sim.ledger.wait_for("echo", count=1)
    dry = await call(client.invoke, FunctionName="echo", InvocationType="DryRun")
    assert dry["StatusCode"] == 204
    context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    response = await call(client.invoke, FunctionName="context", ClientContext=context)
    described = json.loads(response["Payload"].read())
    assert described["client_context_custom"] == {"k": "v"}


async def test_lambda_errors_have_aws_shapes(edge: Edge) -> None:
    client = edge.client("lambda")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        await call(client.invoke, FunctionName="nope")
    with pytest.raises(client.exceptions.TooManyRequestsException) as throttled:
        await call(client.invoke, FunctionName="throttled")
    assert throttled.value.response["Reason"] == (
        "ReservedFunctionConcurrentInvocationLimitExceeded"
    )
    with pytest.raises(client.exceptions.InvalidRequestContentException):
        await call(client.invoke, FunctionName="echo", Payload=b"{not json")
    with pytest.raises(client.exceptions.RequestTooLargeException):
        await call(client.invoke, FunctionName="echo", Payload=b'"' + b"x" * 6_300_000 + b'"')


# --- SQS ------------------------------------------------------------------------------------


async def test_sqs_send_triggers_the_mapping(edge: Edge) -> None:
    sqs = edge.client("sqs")
    url = (await call(sqs.get_queue_url, QueueName="jobs"))["QueueUrl"]
    assert url == f"{edge.server.url}/123456789012/jobs"
    sent = await call(sqs.send_message, QueueUrl=url, MessageBody="hello")
    assert sent["MD5OfMessageBody"] == "5d41402abc4b2a76b9719d911017c592"
    [attempt] = await edge.sim.ledger.wait_for("worker", count=1)
    assert attempt.payload == ["hello"] and attempt.outcome is Outcome.SUCCESS


async def test_sqs_receive_delete_and_visibility(edge: Edge) -> None:
    sqs = edge.client("sqs")
    url = (await call(sqs.get_queue_url, QueueName="idle"))["QueueUrl"]
    attributes = {"kind": {"DataType": "String", "StringValue": "x"},
                  "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}}  # fmt: skip
    batch = await call(sqs.send_message_batch, QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "one", "MessageAttributes": attributes},
        {"Id": "b", "MessageBody": "two", "DelaySeconds": 1000},
    ])  # fmt: skip
    assert [s["Id"] for s in batch["Successful"]] == ["a"]
    assert batch["Failed"][0]["Id"] == "b" and batch["Failed"][0]["SenderFault"]
    received = await call(sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=10,
                          MessageAttributeNames=["All"], AttributeNames=["All"])  # fmt: skip
    [message] = received["Messages"]
    assert message["Body"] == "one"
    assert message["MessageAttributes"]["raw"]["BinaryValue"] == b"\x00\x01"
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    attrs = await call(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["All"])
    assert attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"
    await call(sqs.change_message_visibility, QueueUrl=url,
               ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)  # fmt: skip
    again = await call(sqs.receive_message, QueueUrl=url, WaitTimeSeconds=1)
    handle = again["Messages"][0]["ReceiptHandle"]
    deleted = await call(sqs.delete_message_batch, QueueUrl=url, Entries=[
        {"Id": "x", "ReceiptHandle": handle}, {"Id": "y", "ReceiptHandle": "bogus"},
    ])  # fmt: skip
    assert [s["Id"] for s in deleted["Successful"]] == ["x"]
    assert deleted["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    assert len(edge.sim.queue("idle")) == 0


async def test_sqs_long_polling_returns_when_a_message_arrives(edge: Edge) -> None:
    sqs = edge.client("sqs")
    url = (await call(sqs.get_queue_url, QueueName="idle"))["QueueUrl"]
    receiving = asyncio.ensure_future(call(sqs.receive_message, QueueUrl=url, WaitTimeSeconds=10))
    await edge.server.wait_in_flight(1)  # the receive is waiting; the queue is empty
    await call(sqs.send_message, QueueUrl=url, MessageBody="late")
    received = await receiving
    assert received["Messages"][0]["Body"] == "late"


async def test_sqs_fifo_create_list_purge_and_errors(edge: Edge) -> None:
    sqs = edge.client("sqs")
    created = await call(sqs.create_queue, QueueName="adhoc",
                         Attributes={"VisibilityTimeout": "60"})  # fmt: skip
    listed = await call(sqs.list_queues)
    assert created["QueueUrl"] in listed["QueueUrls"] and len(listed["QueueUrls"]) == 4
    assert edge.sim.queue("adhoc").config.visibility_timeout == 60
    fifo = (await call(sqs.get_queue_url, QueueName="work.fifo"))["QueueUrl"]
    await call(sqs.send_message, QueueUrl=fifo, MessageBody="1", MessageGroupId="g",
               MessageDeduplicationId="d1")  # fmt: skip
    await call(sqs.purge_queue, QueueUrl=fifo)
    assert len(edge.sim.queue("work.fifo")) == 0
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        await call(sqs.get_queue_url, QueueName="missing")
    with pytest.raises(ClientError) as missing_group:
        await call(sqs.send_message, QueueUrl=fifo, MessageBody="x")
    assert missing_group.value.response["Error"]["Code"] == "MissingParameter"
    with pytest.raises(ClientError) as bad:  # a .fifo name without FifoQueue: true
        await call(sqs.create_queue, QueueName="bad.fifo")
    assert bad.value.response["Error"]["Code"] == "InvalidParameterValue"


# --- DynamoDB -------------------------------------------------------------------------------


async def test_dynamodb_client_writes_fire_the_stream(edge: Edge) -> None:
    ddb = edge.client("dynamodb")
    assert (await call(ddb.list_tables))["TableNames"] == ["orders"]
    described = (await call(ddb.describe_table, TableName="orders"))["Table"]
    assert described["LatestStreamArn"] == edge.sim.table("orders").stream_arn
    assert described["KeySchema"][0] == {"AttributeName": "pk", "KeyType": "HASH"}
    await call(ddb.put_item, TableName="orders", Item={"pk": {"S": "a"}, "sk": {"S": "1"},
                                                      "n": {"N": "1"}})  # fmt: skip
    updated = await call(ddb.update_item, TableName="orders",
                         Key={"pk": {"S": "a"}, "sk": {"S": "1"}},
                         UpdateExpression="SET n = n + :one",
                         ExpressionAttributeValues={":one": {"N": "1"}},
                         ReturnValues="ALL_NEW")  # fmt: skip
    assert updated["Attributes"]["n"] == {"N": "2"}
    got = await call(ddb.get_item, TableName="orders", Key={"pk": {"S": "a"}, "sk": {"S": "1"}})
    assert got["Item"]["n"] == {"N": "2"}
    await edge.sim.ledger.wait_for("audit", count=1)
    while sum(len(a.event["Records"]) for a in edge.sim.ledger.for_function("audit")) < 2:
        await edge.sim.ledger.wait_for(
            "audit", count=len(edge.sim.ledger.for_function("audit")) + 1
        )
    names = [r["eventName"] for a in edge.sim.ledger.for_function("audit")
             for r in a.event["Records"]]  # fmt: skip
    assert names == ["INSERT", "MODIFY"]


async def test_dynamodb_conditions_and_errors(edge: Edge) -> None:
    ddb = edge.client("dynamodb")
    item = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    await call(ddb.put_item, TableName="orders", Item=item)
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException) as failed:
        await call(ddb.put_item, TableName="orders", Item=item,
                   ConditionExpression="attribute_not_exists(pk)",
                   ReturnValuesOnConditionCheckFailure="ALL_OLD")  # fmt: skip
    assert failed.value.response["Item"] == item
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        await call(ddb.get_item, TableName="nope", Key=item)
    with pytest.raises(ClientError) as invalid:
        await call(ddb.put_item, TableName="orders", Item={"pk": {"S": "a"}})
    assert invalid.value.response["Error"]["Code"] == "ValidationException"


async def test_dynamodb_resource_table_api(edge: Edge) -> None:
    table = edge.resource("dynamodb").Table("orders")

    def work() -> tuple[Any, Any, Any]:
        with table.batch_writer() as batch:
            for n in range(30):
                batch.put_item(Item={"pk": "u", "sk": f"{n:02d}", "price": Decimal("1.5") * n})
        from boto3.dynamodb.conditions import Attr, Key

        page = table.query(KeyConditionExpression=Key("pk").eq("u") & Key("sk").begins_with("1"),
                           FilterExpression=Attr("price").gt(16))  # fmt: skip
        scanned = table.scan(Limit=10)
        got = table.get_item(Key={"pk": "u", "sk": "05"})
        return page, scanned, got

    page, scanned, got = await asyncio.to_thread(work)
    assert [i["sk"] for i in page["Items"]] == ["11", "12", "13", "14", "15", "16", "17", "18",
                                                "19"]  # fmt: skip
    assert page["Count"] == 9 and page["ScannedCount"] == 10
    assert len(scanned["Items"]) == 10 and "LastEvaluatedKey" in scanned
    assert got["Item"]["price"] == Decimal("7.5")
    assert len(edge.sim.table("orders")) == 30


# --- admin and bad requests -----------------------------------------------------------------


async def test_admin_health_and_ledger(edge: Edge) -> None:
    await edge.sim.invoke("echo", {"x": 1})
    http = urllib3.PoolManager()
    health = await asyncio.to_thread(http.request, "GET", f"{edge.server.url}/_eventsim/health")
    assert health.status == 200 and json.loads(health.data)["status"] == "ok"
    ledger = await asyncio.to_thread(
        http.request, "GET", f"{edge.server.url}/_eventsim/ledger?function=echo&limit=5"
    )
    [attempt] = json.loads(ledger.data)
    assert attempt["function"] == "echo" and attempt["outcome"] == "success"
    assert attempt["event"] == {"x": 1}


@pytest.mark.parametrize(
    ("headers", "body", "status", "expected"),
    [
        ({"X-Amz-Target": "AmazonSQS.SendMessage"}, b"{not json", 400, "SerializationException"),
        ({"X-Amz-Target": "AmazonSQS.Nope"}, b"{}", 400, "UnsupportedOperation"),
        ({"X-Amz-Target": "DynamoDB_20120810.PutItem"}, b"[]", 400, "SerializationException"),
        ({"X-Amz-Target": "DynamoDB_20120810.PutItem"}, b'{"TableName": "orders", "Item": 3}',
         400, "InvalidParameterValue"),
        ({"X-Amz-Target": "Other.Thing"}, b"{}", 400, "UnknownOperationException"),
    ],
)  # fmt: skip
async def test_bad_requests_get_aws_shaped_errors(
    edge: Edge, headers: dict[str, str], body: bytes, status: int, expected: str
) -> None:
    http = urllib3.PoolManager()
    response = await asyncio.to_thread(
        http.request, "POST", edge.server.url + "/", body=body, headers=headers
    )
    assert response.status == status
    payload = json.loads(response.data)
    assert expected in payload["__type"] and "Traceback" not in response.data.decode()


@pytest.mark.asyncio
async def test_a_request_while_the_simulator_starts_waits_for_it(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edge listens before the simulator has started (handlers resumed meanwhile reach
    it). An Invoke in that window waits for the start instead of a 500 with a traceback
    (found by killing and restarting `eventsim up` under load); health says "starting"."""
    entered, release = asyncio.Event(), asyncio.Event()
    starting = BucketSource.start

    async def slow_start(self: BucketSource) -> None:
        entered.set()
        await release.wait()  # the start of the sources, held open by the test
        await starting(self)

    monkeypatch.setattr(BucketSource, "start", slow_start)
    config = {"functions": {"echo": function("echo")},
              "buckets": {"uploads": {"path": str(tmp_path / "uploads")}}}  # fmt: skip
    sim = Simulator.from_dict(config, state_dir=tmp_path / "state", edge=True)
    start = asyncio.create_task(sim.start())
    await entered.wait()
    assert sim.edge is not None
    async with aiohttp.ClientSession(sim.endpoint_url) as session:
        async with session.get("/_eventsim/health") as health:
            assert (health.status, (await health.json())["status"]) == (503, "starting")
        invoke = asyncio.create_task(
            session.post("/2015-03-31/functions/echo/invocations", data=b'{"n": 1}')
        )
        waiting = asyncio.create_task(sim.edge.wait_in_flight(1))
        await asyncio.wait([invoke, waiting], return_when=asyncio.FIRST_COMPLETED)
        assert not invoke.done(), "answered before the simulator had started"
        release.set()
        await start
        async with await invoke as reply:
            assert (reply.status, await reply.json()) == (200, {"n": 1})
    await sim.close()
    async with aiohttp.ClientSession() as session:  # closed: nothing listens any more
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(f"{sim.endpoint_url}/_eventsim/health")


@pytest.mark.asyncio
@pytest.mark.timeout(20)
async def test_a_request_waiting_for_a_start_that_fails_is_answered_at_once(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A start that fails (a corrupt state file, say) answers the requests waiting for it with
    a 503 at once, so that `eventsim up` exits without waiting for them."""
    entered, release = asyncio.Event(), asyncio.Event()

    async def failing_start(self: BucketSource) -> None:
        entered.set()
        await release.wait()
        raise StartupError("the bucket cannot start")

    monkeypatch.setattr(BucketSource, "start", failing_start)
    config = {"functions": {"echo": function("echo")},
              "buckets": {"uploads": {"path": str(tmp_path / "uploads")}}}  # fmt: skip
    sim = Simulator.from_dict(config, state_dir=tmp_path / "state", edge=True)
    start = asyncio.create_task(sim.start())
    await entered.wait()
    assert sim.edge is not None
    async with aiohttp.ClientSession(sim.endpoint_url) as session:
        invoke = asyncio.create_task(
            session.post("/2015-03-31/functions/echo/invocations", data=b"{}")
        )
        waiting = asyncio.create_task(sim.edge.wait_in_flight(1))
        await asyncio.wait([invoke, waiting], return_when=asyncio.FIRST_COMPLETED)
        release.set()
        with pytest.raises(StartupError):
            await start
        async with await invoke as reply:
            assert reply.status == 503
            assert reply.headers["X-Amzn-ErrorType"].startswith("ServiceUnavailable")
