"""The edge under hostile input: foreign Host and Origin headers, slow and oversized requests,
deep nesting, lone surrogates, values AWS refuses, and services eventsim does not serve.

Each refusal is a 4xx (or a 501 for an unserved service) in the service's error shape, and
every test ends by checking that the edge still serves a normal request.
"""

from __future__ import annotations

import asyncio
import base64
import json
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import aiohttp
import boto3
import pytest
import pytest_asyncio
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from eventsim import Simulator
from eventsim.server.edge import EdgeServer
from eventsim.server.guard import Gate
from eventsim.server.protocol import Timeouts
from eventsim.testing import SimulatorFactory

from .helpers import function

CONFIG: dict[str, Any] = {
    "functions": {"echo": function("echo")},
    "queues": {"jobs": {}, "work.fifo": {}},
    "tables": {"orders": {"partition_key": "pk", "sort_key": "sk"}},
    "server": {"allowed_hosts": ["devbox.local"], "allowed_origins": ["http://app.test:8080"]},
}
#: Short enough that the timeout tests take a moment, long enough for any normal request.
TIMEOUTS = Timeouts(headers=0.5, body=0.5, linger=0.2)
SQS = "AmazonSQS."
DDB = "DynamoDB_20120810."


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Edge:
    def __init__(self, sim: Simulator, server: EdgeServer) -> None:
        self.sim = sim
        self.server = server
        self.queue_url = f"{server.url}/123456789012/jobs"

    def client(self, service: str) -> Any:
        return boto3.client(
            service, endpoint_url=self.server.url, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
            config=BotoConfig(retries={"max_attempts": 1}),
        )  # fmt: skip

    async def raw(self, data: bytes) -> bytes:
        """Send ``data`` on a new connection; everything the server sends until it closes."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.server.port)
        writer.write(data)
        await writer.drain()
        try:
            return await reader.read()
        finally:
            writer.close()

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
    ) -> Reply:  # fmt: skip
        """One HTTP/1.1 request as written here (Host included), on its own connection."""
        lines = [f"{method} {path} HTTP/1.1", "Connection: close",
                 f"Content-Length: {len(body)}"]  # fmt: skip
        headers = {"Host": f"127.0.0.1:{self.server.port}", **(headers or {})}
        lines += [f"{name}: {value}" for name, value in headers.items()]
        data = await self.raw(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return parse(data)

    async def call(self, target: str, body: Any, **headers: str) -> Reply:
        """An unsigned awsJson request (as eventsim's CLI sends them)."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return await self.request("POST", "/", raw, {
            "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0", **headers,
        })  # fmt: skip

    async def assert_still_serving(self) -> None:
        """A normal request after the hostile ones: the edge is up and answers it."""
        health = await self.request("GET", "/_eventsim/health")
        assert health.status == 200 and health.json()["status"] == "ok"
        sqs = self.client("sqs")
        sent = await asyncio.to_thread(
            partial(sqs.send_message, QueueUrl=self.queue_url, MessageBody="still here")
        )
        assert sent["MD5OfMessageBody"]


def parse(data: bytes) -> Reply:
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines if ": " in line)
    return Reply(int(status_line.split()[1]), headers, body)


def aws_error(reply: Reply) -> str:
    """The error code of a JSON error reply as botocore reads it: a query-compatible service's
    x-amzn-query-error code first (SQS), else the type (prefix stripped)."""
    assert "Traceback" not in reply.body.decode(errors="replace")
    if "x-amzn-query-error" in reply.headers:
        return reply.headers["x-amzn-query-error"].split(";", 1)[0]
    if "x-amzn-ErrorType" in reply.headers:
        return reply.headers["x-amzn-ErrorType"]
    return str(reply.json()["__type"]).rsplit("#", 1)[-1]


@pytest_asyncio.fixture
async def edge(eventsim_factory: SimulatorFactory) -> AsyncIterator[Edge]:
    sim = await eventsim_factory(CONFIG, virtual_time=False)
    server = EdgeServer(sim, port=0, timeouts=TIMEOUTS)
    await server.start()
    try:
        yield Edge(sim, server)
    finally:
        await server.stop()


# --- Host and Origin --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "origin", "served"),
    [
        ("127.0.0.1:8642", None, True),
        ("localhost", None, True),
        ("LOCALHOST:1", None, True),
        ("[::1]:8642", None, True),
        ("bucket.localhost:8642", None, True),
        ("127.0.0.2", None, True),
        ("devbox.local:9000", None, True),
        (None, None, True),
        ("evil.example:8642", None, False),
        ("localhost.evil.example", None, False),
        ("127.0.0.1.nip.io:8642", None, False),
        ("[::1].evil.example", None, False),
        ("localhost", "http://localhost:5173", True),
        ("localhost", "http://127.0.0.1", True),
        ("localhost", "https://[::1]:3000", True),
        ("localhost", "http://app.test:8080", True),
        ("localhost", "http://app.test:8081", False),
        ("localhost", "http://evil.example", False),
        ("localhost", "null", False),
        ("localhost", "file://", False),
        ("localhost", "http://localhost:notaport", False),
    ],
)
def test_the_gate_serves_loopback_and_configured_names_only(
    host: str | None, origin: str | None, served: bool
) -> None:
    gate = Gate(["devbox.local"], ["http://app.test:8080"])
    assert (gate.refusal(host, origin) is None) is served


@pytest.mark.asyncio
async def test_a_rebinding_host_cannot_read_the_ledger(edge: Edge) -> None:
    await edge.sim.invoke("echo", {"secret": "s3cr3t"})
    port = edge.server.port
    for host in ("evil.example", f"evil.example:{port}", f"localhost.evil.example:{port}"):
        reply = await edge.request("GET", "/_eventsim/ledger", headers={"Host": host})
        assert reply.status == 403, host
        assert b"s3cr3t" not in reply.body and aws_error(reply) == "AccessDenied"
        assert "allowed_hosts" in reply.json()["message"]
    for host in (f"localhost:{port}", f"[::1]:{port}", "devbox.local"):
        reply = await edge.request("GET", "/_eventsim/ledger", headers={"Host": host})
        assert reply.status == 200 and b"s3cr3t" in reply.body, host
    await edge.assert_still_serving()


@pytest.mark.asyncio
async def test_a_cross_site_post_cannot_invoke_a_function(edge: Edge) -> None:
    invoke = "/2015-03-31/functions/echo/invocations"
    simple = {"Content-Type": "text/plain"}  # what a page's fetch()/form may send unasked
    for origin in ("http://evil.example", "null", "http://localhost.evil.example"):
        reply = await edge.request("POST", invoke, b"{}", {**simple, "Origin": origin})
        assert reply.status == 403 and aws_error(reply) == "AccessDenied", origin
    assert edge.sim.ledger.for_function("echo") == []
    for origin in ("http://localhost:5173", "http://app.test:8080"):
        reply = await edge.request("POST", invoke, b'{"ok": 1}', {**simple, "Origin": origin})
        assert reply.status == 200 and reply.json() == {"ok": 1}, origin
    await edge.assert_still_serving()


@pytest.mark.asyncio
async def test_a_refused_origin_reaches_boto3_as_a_client_error(edge: Edge) -> None:
    sqs = edge.client("sqs")

    def add_origin(request: Any, **kwargs: Any) -> None:
        request.headers["Origin"] = "http://evil.example"

    sqs.meta.events.register("before-send.sqs", add_origin)
    with pytest.raises(ClientError) as refused:
        await asyncio.to_thread(partial(sqs.get_queue_url, QueueName="jobs"))
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    await edge.assert_still_serving()


# --- slow and large requests ------------------------------------------------------------------


@pytest.mark.timeout(10)
@pytest.mark.asyncio
async def test_headers_that_never_end_are_cut_off(edge: Edge) -> None:
    # The server closes the connection: read() returns what it sent (nothing) at EOF.
    data = await edge.raw(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: Amaz")
    assert data == b""
    silent = await edge.raw(b"")  # a connection that sends nothing at all
    assert silent == b""
    await edge.assert_still_serving()


@pytest.mark.timeout(10)
@pytest.mark.asyncio
async def test_a_body_shorter_than_its_content_length_times_out(edge: Edge) -> None:
    head = (
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: AmazonSQS.SendMessage\r\n"
        "Content-Type: application/x-amz-json-1.0\r\nContent-Length: 100\r\n\r\n"
    )
    reply = parse(await edge.raw(head.encode() + b'{"QueueUrl": '))
    assert reply.status == 408 and aws_error(reply) == "RequestTimeout"
    await edge.assert_still_serving()


@pytest.mark.timeout(10)
@pytest.mark.asyncio
async def test_an_oversized_body_is_refused_from_its_content_length_unread(edge: Edge) -> None:
    # Only the headers are sent: the answer comes without the body having been read.
    for path, target, expected in [
        ("/", "AmazonSQS.SendMessage", "RequestEntityTooLarge"),
        ("/", "DynamoDB_20120810.PutItem", "RequestEntityTooLarge"),
        ("/2015-03-31/functions/echo/invocations", None, "RequestTooLargeException"),
    ]:
        extra = f"X-Amz-Target: {target}\r\n" if target else ""
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}"
            "Content-Type: application/x-amz-json-1.0\r\nContent-Length: 1000000000\r\n\r\n"
        )
        reply = parse(await edge.raw(head.encode()))
        assert reply.status == 413 and aws_error(reply) == expected, path
    await edge.assert_still_serving()


@pytest.mark.asyncio
async def test_a_chunked_body_over_the_limit_is_refused(edge: Edge) -> None:
    chunk = b"A" * 70_000  # STS takes 64 KiB
    head = (
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n"
        b"Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sts/aws4_request, "
        b"SignedHeaders=host, Signature=0\r\n\r\n"
    )
    body = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n0\r\n\r\n"
    reply = parse(await edge.raw(head + body))
    assert reply.status == 413 and b"<Code>RequestEntityTooLarge</Code>" in reply.body
    await edge.assert_still_serving()


@pytest.mark.asyncio
async def test_a_compressed_body_is_not_inflated(edge: Edge) -> None:
    # 64 MiB of spaces in a JSON array, gzipped to some 64 KiB: taken as sent, it is not JSON.
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = squeeze.compress(b"[") + squeeze.compress(b" " * (64 << 20)) + squeeze.compress(b"]")
    bomb += squeeze.flush()
    assert len(bomb) < 1 << 20
    reply = await edge.call(SQS + "ListQueues", bomb, **{"Content-Encoding": "gzip"})
    assert reply.status == 400 and aws_error(reply) == "SerializationException"
    await edge.assert_still_serving()


@pytest.mark.asyncio
async def test_lambdas_own_limit_reaches_boto3(edge: Edge) -> None:
    client = edge.client("lambda")
    with pytest.raises(client.exceptions.RequestTooLargeException) as refused:
        await asyncio.to_thread(partial(
            client.invoke, FunctionName="echo", Payload=b'"' + b"x" * 6_300_000 + b'"'
        ))  # fmt: skip
    assert "6291456 bytes" in refused.value.response["Error"]["Message"]
    await edge.assert_still_serving()


# --- nesting and lone surrogates --------------------------------------------------------------


def nested(levels: int, inner: str = "1") -> bytes:
    return ("[" * levels + inner + "]" * levels).encode()


@pytest.mark.asyncio
async def test_deep_json_is_a_400_in_every_service(edge: Edge) -> None:
    deep = nested(100_000)
    for target in (SQS + "SendMessage", DDB + "PutItem"):
        reply = await edge.call(target, b'{"QueueUrl": ' + deep + b"}")
        assert reply.status == 400 and aws_error(reply) == "SerializationException", target
        assert "nests deeper" in reply.json()["message"]
    invoke = "/2015-03-31/functions/echo/invocations"
    reply = await edge.request("POST", invoke, deep)
    assert reply.status == 400 and aws_error(reply) == "InvalidRequestContentException"
    reply = await edge.request("POST", invoke, nested(400))  # deep, but within Lambda's reach
    assert reply.status == 200 and reply.body.startswith(b"[[[")
    context = base64.b64encode(b'{"a": ' + nested(1500) + b"}").decode()[:3500]
    reply = await edge.request("POST", invoke, b"{}", {"X-Amz-Client-Context": context})
    assert reply.status == 400 and aws_error(reply) == "InvalidRequestContentException"
    item = json.dumps({"pk": json.loads(nested(900, '"x"'))})
    reply = await edge.request("GET", f"/_eventsim/explain?item={item}")
    assert reply.status == 400
    await edge.assert_still_serving()


@pytest.mark.asyncio
async def test_lone_surrogates_are_refused_not_crashed_on(edge: Edge) -> None:
    surrogate = "\ud800"
    item = {"pk": {"S": surrogate}, "sk": {"S": "1"}}
    reply = await edge.call(DDB + "PutItem", {"TableName": "orders", "Item": item})
    assert reply.status == 400 and aws_error(reply) == "SerializationException"
    assert "Item.pk.S" in reply.json()["message"]
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    reply = await edge.call(DDB + "GetItem", {"TableName": "orders", "Key": key,
                                              "ProjectionExpression": "#" + surrogate})  # fmt: skip
    assert reply.status == 400
    sends = [
        ({"MessageBody": "a" + surrogate}, "InvalidMessageContents"),
        # AWS's code for a bad character in an attribute (not in the body):
        ({"MessageBody": "x", "MessageAttributes": {
            "a": {"DataType": "String", "StringValue": surrogate}}}, "InvalidParameterValue"),
        ({"MessageBody": "x", "MessageAttributes": {
            "a": {"DataType": "String." + surrogate, "StringValue": "v"}}},
         "InvalidParameterValue"),
        ({"MessageBody": "x", "MessageAttributes": {
            surrogate: {"DataType": "String", "StringValue": "v"}}}, "InvalidParameterValue"),
    ]  # fmt: skip
    for body, expected in sends:
        reply = await edge.call(SQS + "SendMessage", {"QueueUrl": edge.queue_url, **body})
        assert reply.status == 400 and aws_error(reply) == expected, body
    fifo = f"{edge.server.url}/123456789012/work.fifo"
    reply = await edge.call(SQS + "SendMessage", {
        "QueueUrl": fifo, "MessageBody": "x", "MessageGroupId": surrogate,
        "MessageDeduplicationId": "d",
    })  # fmt: skip
    assert reply.status == 400 and aws_error(reply) == "InvalidParameterValue"
    assert len(edge.sim.queue("jobs")) == 0 and len(edge.sim.table("orders")) == 0
    await edge.assert_still_serving()


@pytest.mark.asyncio
async def test_deeply_nested_expressions_are_validation_errors(edge: Edge) -> None:
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    base = {"TableName": "orders", "Item": key, "ExpressionAttributeValues": {":v": {"S": "a"}}}
    cases = {
        "(" * 10_000 + "pk = :v" + ")" * 10_000: "Expression size has exceeded",
        "(" * 2000 + "pk = :v" + ")" * 2000: "deeper than 100 levels",
        "NOT " * 1000 + "pk = :v": "deeper than 100 levels",
    }
    for condition, words in cases.items():
        reply = await edge.call(DDB + "PutItem", {**base, "ConditionExpression": condition})
        assert reply.status == 400 and aws_error(reply) == "ValidationException"
        assert words in reply.json()["message"]
    update = "SET n = " + "if_not_exists(n," * 200 + ":v" + ")" * 200  # under 4 KB
    reply = await edge.call(DDB + "UpdateItem", {
        "TableName": "orders", "Key": key, "UpdateExpression": update,
        "ExpressionAttributeValues": {":v": {"N": "1"}},
    })  # fmt: skip
    assert reply.status == 400 and "deeper than 100 levels" in reply.json()["message"]
    # 100 levels is within the limit, and is evaluated (each level holds more than the next:
    # parentheses around parentheses alone are DynamoDB's "redundant parentheses").
    condition = "pk = :v"
    for _ in range(99):
        condition = f"(attribute_not_exists(pk) OR {condition})"
    reply = await edge.call(DDB + "PutItem", {**base, "ConditionExpression": condition})
    assert reply.status == 200 and len(edge.sim.table("orders")) == 1
    await edge.assert_still_serving()


# --- values AWS refuses -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_sqs_refuses_waits_and_visibility_out_of_range(edge: Edge) -> None:
    sqs = edge.client("sqs")
    receive = partial(sqs.receive_message, QueueUrl=edge.queue_url)
    for kwargs, words in [
        ({"WaitTimeSeconds": 21}, "Value 21 for parameter WaitTimeSeconds is invalid. "
                                  "Reason: Must be >= 0 and <= 20, if provided."),
        ({"WaitTimeSeconds": -1}, "Value -1 for parameter WaitTimeSeconds is invalid."),
        ({"VisibilityTimeout": 43201}, "Value 43201 for parameter VisibilityTimeout is invalid"),
        ({"VisibilityTimeout": -1}, "Value -1 for parameter VisibilityTimeout is invalid"),
        ({"MaxNumberOfMessages": 11}, "Value 11 for parameter MaxNumberOfMessages is invalid"),
    ]:  # fmt: skip
        with pytest.raises(ClientError) as refused:
            await asyncio.to_thread(partial(receive, **kwargs))
        error = refused.value.response["Error"]
        assert error["Code"] == "InvalidParameterValue", kwargs
        assert error["Message"].startswith(words), kwargs
    await asyncio.to_thread(partial(sqs.send_message, QueueUrl=edge.queue_url, MessageBody="m"))
    [message] = (await asyncio.to_thread(receive))["Messages"]
    handle = message["ReceiptHandle"]
    with pytest.raises(ClientError) as refused:
        await asyncio.to_thread(partial(sqs.change_message_visibility, QueueUrl=edge.queue_url,
                                        ReceiptHandle=handle, VisibilityTimeout=43201))  # fmt: skip
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    batch = await asyncio.to_thread(partial(
        sqs.change_message_visibility_batch, QueueUrl=edge.queue_url,
        Entries=[{"Id": "a", "ReceiptHandle": handle, "VisibilityTimeout": 50000},
                 {"Id": "b", "ReceiptHandle": handle, "VisibilityTimeout": 0}],
    ))  # fmt: skip
    assert [f["Id"] for f in batch["Failed"]] == ["a"] and batch["Successful"] == [{"Id": "b"}]
    assert batch["Failed"][0]["Code"] == "InvalidParameterValue"
    await edge.assert_still_serving()


@pytest.mark.asyncio
async def test_sqs_refuses_characters_outside_its_set_and_numbers_that_are_not(
    edge: Edge,
) -> None:
    sqs = edge.client("sqs")
    send = partial(sqs.send_message, QueueUrl=edge.queue_url)
    refused_sends = [
        ({"MessageBody": "nul \x00 here"}, "InvalidMessageContents", "'#x0'"),
        ({"MessageBody": "bell \x07"}, "InvalidMessageContents", "'#x7'"),
        ({"MessageBody": "\ufffe"}, "InvalidMessageContents", "'#xFFFE'"),
        ({"MessageBody": "x", "MessageAttributes": {"a": {
            "DataType": "String", "StringValue": "\x1f"}}}, "InvalidParameterValue", "'#x1F'"),
        ({"MessageBody": "x", "MessageAttributes": {"n": {
            "DataType": "Number", "StringValue": "twelve"}}}, "InvalidParameterValue",
         "Can't cast the value of message (user) attribute 'n' to a number."),
        ({"MessageBody": "x", "MessageAttributes": {"n": {
            "DataType": "Number", "StringValue": "NaN"}}}, "InvalidParameterValue",
         "to a number"),
        ({"MessageBody": "x", "MessageAttributes": {"n": {
            "DataType": "Number", "StringValue": "1" * 39}}}, "InvalidParameterValue",
         "38 digits"),
        ({"MessageBody": "x", "MessageAttributes": {"s": {
            "DataType": "String", "StringValue": ""}}}, "InvalidParameterValue", "non-empty"),
    ]  # fmt: skip
    for kwargs, code, words in refused_sends:
        with pytest.raises(ClientError) as refused:
            await asyncio.to_thread(partial(send, **kwargs))
        error = refused.value.response["Error"]
        assert error["Code"] == code and words in error["Message"], kwargs
    accepted = await asyncio.to_thread(partial(
        send, MessageBody="tab\t newline\n é 😀 \U0010ffff",
        MessageAttributes={"n": {"DataType": "Number.float", "StringValue": "-1.5e3"}},
    ))  # fmt: skip
    assert accepted["MessageId"]
    batch = await asyncio.to_thread(
        partial(
            sqs.send_message_batch,
            QueueUrl=edge.queue_url,
            Entries=[{"Id": "bad", "MessageBody": "\x01"}, {"Id": "good", "MessageBody": "ok"}],
        )
    )
    assert [f["Id"] for f in batch["Failed"]] == ["bad"]
    assert batch["Failed"][0]["Code"] == "InvalidMessageContents"
    assert len(edge.sim.queue("jobs")) == 2
    await edge.assert_still_serving()


def map_nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(levels):
        value = {"M": {"a": value}}
    return value


@pytest.mark.asyncio
async def test_dynamodb_refuses_deep_items_and_unused_placeholders(edge: Edge) -> None:
    ddb = edge.client("dynamodb")
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    put = partial(ddb.put_item, TableName="orders")
    await asyncio.to_thread(partial(put, Item={**key, "deep": map_nested(32)}))
    refusals = [
        ({"Item": {**key, "deep": map_nested(33)}},
         "Nesting Levels have exceeded supported limits"),
        ({"Item": {**key, "deep": {"L": [map_nested(32)]}}},
         "Nesting Levels have exceeded supported limits"),
        ({"Item": key, "ConditionExpression": "attribute_exists(pk)",
          "ExpressionAttributeValues": {":x": {"S": "x"}}},
         "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}"),
        ({"Item": key, "ConditionExpression": "#a = :v",
          "ExpressionAttributeNames": {"#a": "pk", "#n": "x", "#m": "y"},
          "ExpressionAttributeValues": {":v": {"S": "a"}}},
         "Value provided in ExpressionAttributeNames unused in expressions: keys: {#m, #n}"),
        ({"Item": key, "ExpressionAttributeNames": {"#n": "x"}},
         "ExpressionAttributeNames can only be specified when using expressions"),
        ({"Item": key, "ConditionExpression": "attribute_exists(pk)",
          "ExpressionAttributeValues": {}}, "ExpressionAttributeValues must not be empty"),
    ]  # fmt: skip
    for kwargs, message in refusals:
        with pytest.raises(ClientError) as refused:
            await asyncio.to_thread(partial(put, **kwargs))
        error = refused.value.response["Error"]
        if message.startswith(("Value provided", "Expression")):  # PutItem's request checks
            message = "1 validation error detected: " + message
        assert error["Code"] == "ValidationException" and error["Message"] == message, message
    query = partial(
        ddb.query,
        TableName="orders",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "a"}, ":unused": {"S": "b"}},
    )
    with pytest.raises(ClientError) as refused:
        await asyncio.to_thread(query)
    assert refused.value.response["Error"]["Message"].endswith("keys: {:unused}")
    # A value used only in the filter counts as used.
    page = await asyncio.to_thread(partial(
        ddb.query, TableName="orders", KeyConditionExpression="pk = :p",
        FilterExpression="attribute_exists(#d)", ExpressionAttributeNames={"#d": "deep"},
        ExpressionAttributeValues={":p": {"S": "a"}},
    ))  # fmt: skip
    assert page["Count"] == 1
    await edge.assert_still_serving()


@pytest.mark.asyncio
async def test_lambda_refuses_an_unknown_log_type(edge: Edge) -> None:
    client = edge.client("lambda")
    with pytest.raises(ClientError) as refused:
        await asyncio.to_thread(partial(client.invoke, FunctionName="echo", LogType="Verbose"))
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException" and "'Verbose'" in error["Message"]
    assert edge.sim.ledger.for_function("echo") == []
    await edge.assert_still_serving()


# --- no input gives a 500 ---------------------------------------------------------------------

HOSTILE: list[Any] = [
    None, True, -1, 10**40, 1.5, "", "x", "\ud800", "\x00", [], {}, [1], {"a": 1},
    {"S": "x"}, {"M": 3}, {"L": {}}, {"N": "1e999"},
]  # fmt: skip


def requests(url: str) -> list[tuple[str, dict[str, Any]]]:
    """One valid request of every operation, to be spoiled a value at a time."""
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    values = {":v": {"S": "a"}}
    sqs: list[tuple[str, dict[str, Any]]] = [
        ("GetQueueUrl", {"QueueName": "jobs"}),
        ("ListQueues", {"QueueNamePrefix": "j"}),
        ("CreateQueue", {"QueueName": "made", "Attributes": {
            "VisibilityTimeout": "5",
            "RedrivePolicy": '{"deadLetterTargetArn": "arn:x:jobs", "maxReceiveCount": 2}'}}),
        ("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["All"]}),
        ("SendMessage", {"QueueUrl": url, "MessageBody": "x", "DelaySeconds": 0,
                         "MessageAttributes": {
                             "a": {"DataType": "String", "StringValue": "v"},
                             "b": {"DataType": "Binary", "BinaryValue": "AA=="}}}),
        ("SendMessageBatch", {"QueueUrl": url, "Entries": [{"Id": "a", "MessageBody": "x"}]}),
        ("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 1, "WaitTimeSeconds": 0,
                            "VisibilityTimeout": 0, "AttributeNames": ["All"],
                            "MessageSystemAttributeNames": ["All"],
                            "MessageAttributeNames": ["All"]}),
        ("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": "h"}),
        ("DeleteMessageBatch", {"QueueUrl": url, "Entries": [{"Id": "a", "ReceiptHandle": "h"}]}),
        ("ChangeMessageVisibility", {"QueueUrl": url, "ReceiptHandle": "h",
                                     "VisibilityTimeout": 0}),
        ("ChangeMessageVisibilityBatch", {"QueueUrl": url, "Entries": [
            {"Id": "a", "ReceiptHandle": "h", "VisibilityTimeout": 0}]}),
        ("PurgeQueue", {"QueueUrl": url}),
    ]  # fmt: skip
    ddb: list[tuple[str, dict[str, Any]]] = [
        ("ListTables", {"Limit": 10, "ExclusiveStartTableName": "a"}),
        ("DescribeTable", {"TableName": "orders"}),
        ("PutItem", {"TableName": "orders", "Item": {**key, "m": {"M": {"l": {"L": [{"N": "1"}]}}}},
                     "ConditionExpression": "attribute_not_exists(#p) OR #p = :v",
                     "ExpressionAttributeNames": {"#p": "pk"}, "ExpressionAttributeValues": values,
                     "ReturnValues": "ALL_OLD",
                     "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}),
        ("GetItem", {"TableName": "orders", "Key": key, "ProjectionExpression": "#p",
                     "ExpressionAttributeNames": {"#p": "pk"}}),
        ("UpdateItem", {"TableName": "orders", "Key": key, "UpdateExpression": "SET n = :v",
                        "ConditionExpression": "pk = :v", "ExpressionAttributeValues": values,
                        "ReturnValues": "ALL_NEW"}),
        ("DeleteItem", {"TableName": "orders", "Key": key, "ConditionExpression": "pk = :v",
                        "ExpressionAttributeValues": values}),
        ("Query", {"TableName": "orders", "KeyConditionExpression": "pk = :v",
                   "FilterExpression": "attribute_exists(sk)", "ProjectionExpression": "pk",
                   "ExpressionAttributeValues": values, "Limit": 5, "ScanIndexForward": False,
                   "Select": "ALL_ATTRIBUTES", "ExclusiveStartKey": key}),
        ("Scan", {"TableName": "orders", "FilterExpression": "pk = :v", "Limit": 5,
                  "ExpressionAttributeValues": values, "ExclusiveStartKey": key}),
        ("BatchWriteItem", {"RequestItems": {"orders": [
            {"PutRequest": {"Item": key}}, {"DeleteRequest": {"Key": key}}]}}),
        ("BatchGetItem", {"RequestItems": {"orders": {
            "Keys": [key], "ProjectionExpression": "#p",
            "ExpressionAttributeNames": {"#p": "pk"}}}}),
    ]  # fmt: skip
    return [(SQS + op, body) for op, body in sqs] + [(DDB + op, body) for op, body in ddb]


def spoiled(body: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """``body`` with one value (at any depth) replaced by each hostile value, in turn."""
    children = body.items() if isinstance(body, dict) else enumerate(body)
    for name, value in list(children):
        for hostile in HOSTILE:
            copy = json.loads(json.dumps(body))
            copy[name] = hostile
            yield (*path, name), copy
        if isinstance(value, dict | list) and value:
            for inner_path, inner in spoiled(value, (*path, name)):
                copy = json.loads(json.dumps(body))
                copy[name] = inner
                yield inner_path, copy


@pytest.mark.timeout(120)
@pytest.mark.asyncio
async def test_no_request_body_gets_a_500(edge: Edge) -> None:
    answered: dict[int, int] = {}
    async with aiohttp.ClientSession(edge.server.url) as session:
        for target, valid in requests(edge.queue_url):
            for path, body in [((), valid), *spoiled(valid)]:
                data = json.dumps(body).encode()
                async with session.post("/", data=data, headers={"X-Amz-Target": target}) as r:
                    reply = Reply(r.status, dict(r.headers), await r.read())
                assert reply.status < 500, (target, path, body, reply.body)
                if reply.status >= 400:
                    assert aws_error(reply), (target, path)
                answered[reply.status] = answered.get(reply.status, 0) + 1
    assert answered[400] > 1000 and answered[200] > 100  # both sides were reached
    await edge.assert_still_serving()


@pytest.mark.asyncio
async def test_no_lambda_header_gets_a_500(edge: Edge) -> None:
    invoke = "/2015-03-31/functions/echo/invocations"
    for name in ("X-Amz-Invocation-Type", "X-Amz-Log-Type", "X-Amz-Client-Context"):
        for value in ("", "x", "Tail" * 2000, "e30=", base64.b64encode(b"[1]").decode()):
            reply = await edge.request("POST", invoke, b"{}", {name: value})
            assert reply.status in (200, 400), (name, value, reply.body)
    for path in ("/2015-03-31/functions/echo/invocations?Qualifier=%ED%A0%80",
                 "/2015-03-31/functions/%ED%A0%80/invocations",
                 "/_eventsim/explain?key=%ED%A0%80", "/_eventsim/ledger?limit=x"):  # fmt: skip
        reply = await edge.request("POST" if "functions" in path else "GET", path, b"{}")
        assert reply.status < 500, (path, reply.body)
    await edge.assert_still_serving()


# --- services eventsim does not serve --------------------------------------------------------


UNSERVED: list[tuple[str, str, dict[str, Any]]] = [
    ("ses", "send_email", {"Source": "a@example.com", "Destination": {"ToAddresses": []},
                           "Message": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}}),
    ("stepfunctions", "start_execution", {"stateMachineArn": "arn:aws:states:us-east-1:"
                                          "123456789012:stateMachine:m"}),
    ("secretsmanager", "get_secret_value", {"SecretId": "db"}),
    ("kinesis", "put_record", {"StreamName": "s", "Data": b"x", "PartitionKey": "p"}),
    ("cloudwatch", "put_metric_data", {"Namespace": "n",
                                       "MetricData": [{"MetricName": "m", "Value": 1.0}]}),
    ("ec2", "describe_instances", {}),
    ("apigateway", "get_rest_apis", {}),
]  # fmt: skip


@pytest.mark.parametrize(("service", "operation", "kwargs"), UNSERVED)
@pytest.mark.asyncio
async def test_an_unserved_service_is_a_client_error_naming_it(
    edge: Edge, service: str, operation: str, kwargs: dict[str, Any]
) -> None:
    client = edge.client(service)
    method: Callable[..., Any] = getattr(client, operation)
    with pytest.raises(ClientError) as refused:
        await asyncio.to_thread(partial(method, **kwargs))
    response = refused.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert response["Error"]["Code"] == "NotImplemented"
    name = client.meta.service_model.signing_name
    assert response["Error"]["Message"].startswith(f"eventsim does not serve {name} (")
    assert "not sent to AWS" in response["Error"]["Message"]
    await edge.assert_still_serving()


@pytest.mark.asyncio
async def test_unserved_operations_of_served_services_get_their_own_errors(edge: Edge) -> None:
    lam = edge.client("lambda")
    with pytest.raises(ClientError) as refused:
        await asyncio.to_thread(lam.list_aliases, FunctionName="echo")
    assert refused.value.response["Error"]["Code"] == "UnknownOperationException"
    assert "was not sent to AWS" in refused.value.response["Error"]["Message"]
    ddb = edge.client("dynamodb")  # PartiQL is not served
    with pytest.raises(ClientError) as refused:
        await asyncio.to_thread(ddb.execute_statement, Statement="SELECT * FROM orders")
    assert refused.value.response["Error"]["Code"] == "UnknownOperationException"
    # SQS's query protocol (what SDKs before its JSON protocol speak) names its refusals too.
    reply = await edge.request("POST", "/", b"Action=FooBar&Version=2012-11-05", {
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sqs/aws4_request",
    })  # fmt: skip
    assert reply.status == 400 and b"<Code>InvalidAction</Code>" in reply.body
    await edge.assert_still_serving()
