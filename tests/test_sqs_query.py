"""SQS's query protocol (``Action=...``, XML answers) for SDKs from before the JSON protocol:
raw requests shaped as old botocore sent them, and boto3 itself speaking query (the installed
SQS model, switched to the query protocol with the old model's wire names)."""

from __future__ import annotations

import asyncio
import copy
import json
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import botocore.session
import pytest
from aiohttp.test_utils import make_mocked_request
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from eventsim import Simulator
from eventsim.server.sqs_api import SqsApi
from eventsim.testing import SimulatorFactory

pytestmark = pytest.mark.asyncio

NS = "http://queue.amazonaws.com/doc/2012-11-05/"
ACCOUNT = "123456789012"
CONFIG = {"queues": {"jobs": {}, "work.fifo": {"content_based_deduplication": True}}}


def signed(region: str = "us-east-1") -> dict[str, str]:
    """Headers as botocore sent a query request (the signature is not checked)."""
    return {
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=AKID/20260101/{region}/sqs/aws4_request, "
                         "SignedHeaders=host;x-amz-date, Signature=0123",
        "X-Amz-Date": "20260101T000000Z",
    }  # fmt: skip


class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def xml(self) -> ET.Element:
        return ET.fromstring(self.body)

    def find(self, path: str) -> list[str]:
        """Texts at ``path`` (``q:`` is SQS's namespace)."""
        return [e.text or "" for e in self.xml.findall(path, {"q": NS})]


async def query(
    sim: Simulator, params: dict[str, str], path: str = "/", method: str = "POST",
    headers: dict[str, str] | None = None, region: str = "us-east-1",
) -> Reply:  # fmt: skip
    assert sim.endpoint_url is not None
    data = urllib.parse.urlencode(params)
    async with aiohttp.ClientSession() as session:
        if method == "GET":
            request = session.get(f"{sim.endpoint_url}{path}?{data}",
                                  headers={**signed(region), **(headers or {})})  # fmt: skip
        else:
            request = session.post(sim.endpoint_url + path, data=data.encode(),
                                   headers={**signed(region), **(headers or {})})  # fmt: skip
        async with request as response:
            return Reply(response.status, dict(response.headers), await response.read())


async def test_a_session_as_old_botocore_spoke_it(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory(CONFIG)
    created = await query(sim, {
        "Action": "CreateQueue", "Version": "2012-11-05", "QueueName": "made",
        "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "60",
        "Tag.1.Key": "team", "Tag.1.Value": "a",
    })  # fmt: skip
    assert created.status == 200
    assert created.xml.tag == f"{{{NS}}}CreateQueueResponse"
    [url] = created.find("q:CreateQueueResult/q:QueueUrl")
    assert url == f"{sim.endpoint_url}/{ACCOUNT}/made"
    [request_id] = created.find("q:ResponseMetadata/q:RequestId")
    assert created.headers["x-amzn-RequestId"] == request_id
    assert sim.queue("made").config.visibility_timeout == 60
    assert sim.queue("made").config.tags == {"team": "a"}

    sent = await query(sim, {
        "Action": "SendMessage", "QueueUrl": url, "MessageBody": "{\r\n <&> \"quoted\"}",
        "MessageAttribute.1.Name": "kind", "MessageAttribute.1.Value.DataType": "String",
        "MessageAttribute.1.Value.StringValue": "resize",
        "MessageAttribute.2.Name": "blob", "MessageAttribute.2.Value.DataType": "Binary",
        "MessageAttribute.2.Value.BinaryValue": "AAE=",
    })  # fmt: skip
    assert sent.status == 200
    [digest] = sent.find("q:SendMessageResult/q:MD5OfMessageAttributes")
    [message_id] = sent.find("q:SendMessageResult/q:MessageId")

    batch = await query(sim, {
        "Action": "SendMessageBatch", "QueueUrl": url,
        "SendMessageBatchRequestEntry.1.Id": "a", "SendMessageBatchRequestEntry.1.MessageBody": "2",
        "SendMessageBatchRequestEntry.2.Id": "b", "SendMessageBatchRequestEntry.2.MessageBody": "",
    })  # fmt: skip
    assert batch.find("q:SendMessageBatchResult/q:SendMessageBatchResultEntry/q:Id") == ["a"]
    assert batch.find("q:SendMessageBatchResult/q:BatchResultErrorEntry/q:Code") == [
        "MissingParameter"
    ]
    assert batch.find("q:SendMessageBatchResult/q:BatchResultErrorEntry/q:SenderFault") == ["true"]

    received = await query(sim, {
        "Action": "ReceiveMessage", "QueueUrl": url, "AttributeName.1": "All",
        "MessageAttributeName.1": "All", "MaxNumberOfMessages": "10",
    })  # fmt: skip
    messages = received.xml.findall("q:ReceiveMessageResult/q:Message", {"q": NS})
    assert len(messages) == 2
    first = messages[0]
    assert first.findtext("q:MessageId", namespaces={"q": NS}) == message_id
    assert first.findtext("q:Body", namespaces={"q": NS}) == '{\r\n <&> "quoted"}'
    assert first.findtext("q:MD5OfMessageAttributes", namespaces={"q": NS}) == digest
    names = {"q": NS}
    system = {a.findtext("q:Name", namespaces=names): a.findtext("q:Value", namespaces=names)
              for a in first.findall("q:Attribute", names)}  # fmt: skip
    assert system["ApproximateReceiveCount"] == "1" and "SentTimestamp" in system
    user = {a.findtext("q:Name", namespaces={"q": NS}): (
                a.findtext("q:Value/q:DataType", namespaces={"q": NS}),
                a.findtext("q:Value/q:StringValue", namespaces={"q": NS}),
                a.findtext("q:Value/q:BinaryValue", namespaces={"q": NS}))
            for a in first.findall("q:MessageAttribute", {"q": NS})}  # fmt: skip
    assert user == {"kind": ("String", "resize", None), "blob": ("Binary", None, "AAE=")}

    handle = first.findtext("q:ReceiptHandle", namespaces={"q": NS})
    assert handle is not None
    deleted = await query(
        sim, {"Action": "DeleteMessage", "QueueUrl": url, "ReceiptHandle": handle}
    )
    assert deleted.status == 200 and deleted.xml.tag == f"{{{NS}}}DeleteMessageResponse"
    assert deleted.find("q:DeleteMessageResult") == []
    attributes = await query(
        sim,
        {
            "Action": "GetQueueAttributes",
            "QueueUrl": url,
            "AttributeName.1": "ApproximateNumberOfMessagesNotVisible",
        },
    )
    assert attributes.find("q:GetQueueAttributesResult/q:Attribute/q:Name") == [
        "ApproximateNumberOfMessagesNotVisible"
    ]
    assert attributes.find("q:GetQueueAttributesResult/q:Attribute/q:Value") == ["1"]
    listed = await query(sim, {"Action": "ListQueues"})
    assert listed.find("q:ListQueuesResult/q:QueueUrl") == [
        f"{sim.endpoint_url}/{ACCOUNT}/{name}" for name in ("jobs", "made", "work.fifo")
    ]


async def test_errors_in_the_query_shape(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory(CONFIG)
    missing = await query(
        sim,
        {
            "Action": "GetQueueAttributes",
            "AttributeName.1": "All",
            "QueueUrl": f"{sim.endpoint_url}/{ACCOUNT}/nope",
        },
    )
    assert missing.status == 400 and missing.xml.tag == f"{{{NS}}}ErrorResponse"
    assert missing.find("q:Error/q:Type") == ["Sender"]
    assert missing.find("q:Error/q:Code") == ["AWS.SimpleQueueService.NonExistentQueue"]
    assert missing.find("q:Error/q:Message") == [
        "The specified queue does not exist for this wsdl version."
    ]
    assert missing.find("q:RequestId") == [missing.headers["x-amzn-RequestId"]]
    url = f"{sim.endpoint_url}/{ACCOUNT}/jobs"
    for params, status, code, message in [
        ({"Action": "FooBar"}, 400, "InvalidAction",
         "The action FooBar is not valid for this endpoint."),
        ({"Action": "SendMessage", "QueueUrl": url}, 400, "MissingParameter",
         "The request must contain the parameter MessageBody."),
        ({"Action": "GetQueueAttributes", "QueueUrl": url, "AttributeName.1": "Foobar"}, 400,
         "InvalidAttributeName", "Unknown Attribute Foobar."),
        ({"Action": "ReceiveMessage", "QueueUrl": url, "WaitTimeSeconds": "x"}, 400,
         "InvalidParameterValue", None),
        ({"Action": "CreateQueue", "QueueName": "bad/name"}, 400, "InvalidParameterValue", None),
        ({"Action": "PurgeQueue", "QueueUrl": url}, 200, None, None),
        ({"Action": "PurgeQueue", "QueueUrl": url}, 403,
         "AWS.SimpleQueueService.PurgeQueueInProgress", None),
    ]:  # fmt: skip
        reply = await query(sim, params)
        assert reply.status == status, (params, reply.body)
        if code is not None:
            assert reply.find("q:Error/q:Code") == [code], params
        if message is not None:
            assert reply.find("q:Error/q:Message") == [message], params


async def test_requests_to_a_queues_url(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory(CONFIG)
    path = f"/{ACCOUNT}/jobs"
    sent = await query(sim, {"Action": "SendMessage", "MessageBody": "foobar"}, path, "GET")
    assert sent.status == 200 and len(sim.queue("jobs")) == 1
    every = await query(sim, {"Action": "GetQueueAttributes", "AttributeName.1": "All"}, path,
                        "GET")  # fmt: skip
    assert (b"<Attribute><Name>QueueArn</Name><Value>arn:aws:sqs:us-east-1:123456789012:jobs"
            in every.body)  # fmt: skip
    received = await query(sim, {"Action": "ReceiveMessage"}, path)
    assert b"<Body>foobar</Body>" in received.body
    empty = await query(sim, {"Action": "ReceiveMessage"}, path, "GET")
    assert b"<ReceiveMessageResult/>" in empty.body
    for action in ("CreateQueue", "ListQueues"):
        refused = await query(sim, {"Action": action, "QueueName": "x"}, path, "GET")
        assert refused.find("q:Error/q:Code") == ["InvalidAction"]
        assert refused.find("q:Error/q:Message") == [
            f"The action {action} is not valid for this endpoint."
        ]
    nothing = await query(sim, {}, path, "GET")
    assert nothing.status == 404 and b"<UnknownOperationException" in nothing.body
    as_json = await query(sim, {"Action": "ListQueues"}, "/", "GET",
                          headers={"Accept": "application/json"})  # fmt: skip
    document = json.loads(as_json.body)
    assert document["ListQueuesResponse"]["ListQueuesResult"]["QueueUrls"][0].endswith("/jobs")
    as_json = await query(sim, {"Action": "GetQueueAttributes", "AttributeName.1": "QueueArn"},
                          path, "GET", headers={"Accept": "application/json"})  # fmt: skip
    result = json.loads(as_json.body)["GetQueueAttributesResponse"]["GetQueueAttributesResult"]
    assert result["Attributes"] == [
        {"Name": "QueueArn", "Value": f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"}
    ]
    # Another region, by the signature.
    made = await query(sim, {"Action": "CreateQueue", "QueueName": "jobs"}, region="eu-north-1")
    [url] = made.find("q:CreateQueueResult/q:QueueUrl")
    assert url == f"{sim.endpoint_url}/queue/eu-north-1/{ACCOUNT}/jobs"
    await query(sim, {"Action": "SendMessage", "MessageBody": "north"},
                f"/queue/eu-north-1/{ACCOUNT}/jobs", region="eu-north-1")  # fmt: skip
    queue = sim.queues.get_queue("jobs", "eu-north-1")
    assert queue is not None and queue.snapshot()["visible"] == ["north"]


# --- boto3 speaking the query protocol --------------------------------------------------------

#: The old model's element names for the list members the JSON model leaves unnamed.
_LIST_MEMBERS = {
    "AttributeNameList": "AttributeName", "MessageAttributeNameList": "MessageAttributeName",
    "MessageSystemAttributeList": "MessageSystemAttributeName", "QueueUrlList": "QueueUrl",
    "TagKeyList": "TagKey", "AWSAccountIdList": "AWSAccountId", "ActionNameList": "ActionName",
    "StringList": "StringListValue", "BinaryList": "BinaryListValue",
}  # fmt: skip
_MAP_MEMBERS = {"Attributes": "Attribute", "MessageAttributes": "MessageAttribute",
                "MessageSystemAttributes": "MessageSystemAttribute", "tags": "Tag"}  # fmt: skip
_LEGACY = {"QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
           "QueueNameExists": "QueueAlreadyExists"}  # fmt: skip
_PREFIXED = {"QueueDeletedRecently", "PurgeQueueInProgress", "TooManyEntriesInBatchRequest",
             "EmptyBatchRequest", "BatchEntryIdsNotDistinct", "InvalidBatchEntryId",
             "BatchRequestTooLong", "MessageNotInflight", "UnsupportedOperation"}  # fmt: skip


def query_model(model: dict[str, Any]) -> dict[str, Any]:
    """The JSON-protocol SQS model as the query-protocol model of botocore < 1.31 had it."""
    model = copy.deepcopy(model)
    metadata = model["metadata"]
    for key in ("jsonVersion", "targetPrefix", "awsQueryCompatible"):
        metadata.pop(key, None)
    metadata.update(protocol="query", protocols=["query"], xmlNamespace=NS)
    for name, operation in model["operations"].items():
        if "output" in operation:
            operation["output"]["resultWrapper"] = f"{name}Result"
    for name, shape in model["shapes"].items():
        if shape["type"] == "list":
            shape["member"]["locationName"] = _LIST_MEMBERS.get(name, shape["member"]["shape"])
        elif shape["type"] == "map":
            key = "Key" if name == "TagMap" else "Name"
            shape["key"]["locationName"], shape["value"]["locationName"] = key, "Value"
        elif shape["type"] == "structure":
            for member_name, member in shape.get("members", {}).items():
                if (
                    member_name in _MAP_MEMBERS
                    or member_name == "Tags"
                    and name != "TagQueueRequest"
                ):
                    member["locationName"] = _MAP_MEMBERS.get(member_name, "Tag")
        if shape.get("exception"):
            code = _LEGACY.get(
                name, f"AWS.SimpleQueueService.{name}" if name in _PREFIXED else name
            )
            shape["error"] = {"code": code, "httpStatusCode": 400, "senderFault": True}
    return model


def query_client(sim: Simulator, data: Path) -> Any:
    installed = botocore.session.Session().get_component("data_loader")
    model = query_model(installed.load_service_model("sqs", "service-2"))
    folder = data / "sqs" / model["metadata"]["apiVersion"]
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.Session()
    session.get_component("data_loader").search_paths.insert(0, str(data))
    client = boto3.Session(botocore_session=session).client(
        "sqs", endpoint_url=sim.endpoint_url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=BotoConfig(retries={"max_attempts": 1}),
    )  # fmt: skip
    assert client.meta.service_model.protocol == "query"
    return client


async def call(method: Callable[..., Any], **kwargs: Any) -> Any:
    return await asyncio.to_thread(partial(method, **kwargs))


async def test_boto3_speaking_the_query_protocol(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    sim = await eventsim_factory(CONFIG)
    sqs = query_client(sim, tmp_path / "models")
    url = (await call(sqs.create_queue, QueueName="q", Attributes={"DelaySeconds": "0"},
                      tags={"a": "1"}))["QueueUrl"]  # fmt: skip
    assert (await call(sqs.list_queue_tags, QueueUrl=url))["Tags"] == {"a": "1"}
    await call(sqs.tag_queue, QueueUrl=url, Tags={"b": "2"})
    await call(sqs.untag_queue, QueueUrl=url, TagKeys=["a"])
    assert (await call(sqs.list_queue_tags, QueueUrl=url))["Tags"] == {"b": "2"}
    attributes = {"n": {"DataType": "Number", "StringValue": "7"},
                  "raw": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}}  # fmt: skip
    sent = await call(sqs.send_message, QueueUrl=url, MessageBody="one",
                      MessageAttributes=attributes)  # fmt: skip
    batch = await call(
        sqs.send_message_batch,
        QueueUrl=url,
        Entries=[{"Id": "two", "MessageBody": "two"}, {"Id": "bad", "MessageBody": "\x01"}],
    )
    assert [s["Id"] for s in batch["Successful"]] == ["two"]
    assert batch["Failed"][0]["Code"] == "InvalidMessageContents"
    received = await call(sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=10,
                          AttributeNames=["All"], MessageAttributeNames=["All"])  # fmt: skip
    one, two = received["Messages"]
    assert one["MessageId"] == sent["MessageId"] and one["Body"] == "one"
    assert one["MessageAttributes"]["raw"]["BinaryValue"] == b"\x00\xff"
    assert one["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert one["Attributes"]["ApproximateReceiveCount"] == "1"
    deleted = await call(sqs.delete_message_batch, QueueUrl=url, Entries=[
        {"Id": "x", "ReceiptHandle": one["ReceiptHandle"]},
        {"Id": "y", "ReceiptHandle": "garbage"}])  # fmt: skip
    assert [s["Id"] for s in deleted["Successful"]] == ["x"]
    assert deleted["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    changed = await call(
        sqs.change_message_visibility_batch,
        QueueUrl=url,
        Entries=[{"Id": "z", "ReceiptHandle": two["ReceiptHandle"], "VisibilityTimeout": 0}],
    )
    assert changed["Successful"] == [{"Id": "z"}]
    counts = await call(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["All"])
    assert counts["Attributes"]["ApproximateNumberOfMessages"] == "1"
    assert counts["ResponseMetadata"]["RequestId"]
    fifo = (await call(sqs.get_queue_url, QueueName="work.fifo"))["QueueUrl"]
    first = await call(sqs.send_message, QueueUrl=fifo, MessageBody="f", MessageGroupId="g",
                       DelaySeconds=0)  # fmt: skip
    assert first["SequenceNumber"]
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        await call(sqs.get_queue_url, QueueName="missing")
    with pytest.raises(sqs.exceptions.QueueNameExists):
        await call(sqs.create_queue, QueueName="q", Attributes={"DelaySeconds": "5"})
    with pytest.raises(ClientError) as refused:
        await call(sqs.receive_message, QueueUrl=url, WaitTimeSeconds=21)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    dlq_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"
    await call(
        sqs.set_queue_attributes,
        QueueUrl=url,
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
        },
    )
    dlq = (await call(sqs.get_queue_url, QueueName="jobs"))["QueueUrl"]
    sources = await call(sqs.list_dead_letter_source_queues, QueueUrl=dlq)
    assert sources["queueUrls"] == [url]
    handle = (await call(sqs.start_message_move_task, SourceArn=dlq_arn))["TaskHandle"]
    await sim.settle()
    [task] = (await call(sqs.list_message_move_tasks, SourceArn=dlq_arn))["Results"]
    assert task["Status"] == "COMPLETED" and handle
    await call(sqs.delete_queue, QueueUrl=url)
    assert "q" not in sim.queues


async def test_which_unsigned_requests_sqs_claims(eventsim_factory: SimulatorFactory) -> None:
    """What the edge may ask ``SqsApi.claims`` about a request no signature names."""
    sim = await eventsim_factory(CONFIG, edge=False)
    api = SqsApi(sim, lambda: "http://127.0.0.1")

    def claim(method: str, path: str, **headers: str) -> str | None:
        return api.claims(make_mocked_request(method, path, headers=headers))

    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert claim("GET", f"/{ACCOUNT}/jobs") == "sqs"
    assert claim("POST", f"/{ACCOUNT}/jobs", **form) == "sqs"
    assert claim("GET", "/?Action=ListQueues") == "sqs"
    assert claim("GET", f"/{ACCOUNT}/missing") is None
    assert claim("GET", "/?Action=Publish") is None
    assert claim("POST", "/", **form) is None
    assert claim("POST", f"/{ACCOUNT}/jobs", **{"X-Amz-Target": "AmazonSQS.SendMessage"}) is None
