"""Built events match AWS's documented samples and parse with Powertools' models and classes."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
from aws_lambda_powertools.utilities.data_classes import (
    APIGatewayProxyEvent,
    APIGatewayProxyEventV2,
    DynamoDBStreamEvent,
    EventBridgeEvent,
    S3Event,
    SQSEvent,
)
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    APIGatewayProxyEventV2Model,
    DynamoDBStreamLambdaOnFailureDestinationModel,
    DynamoDBStreamModel,
    EventBridgeModel,
    S3Model,
    SqsModel,
)
from hypothesis import given
from hypothesis import strategies as st

from eventsim.events import apigateway, destinations, dynamodb, ids, s3, schedule, sqs
from eventsim.events.dynamodb_json import marshal_item

SAMPLES = Path(__file__).parent / "samples"
NOW = datetime(2026, 3, 14, 15, 9, 26, 535000, tzinfo=UTC)
REGION, ACCOUNT = "us-east-1", "123456789012"
rng = random.Random(7)


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def shape(value: Any) -> Any:
    """Keys and JSON types, recursively: what 'the same shape as AWS' means here.

    Header maps hold whatever the request sent, so only their value types count.
    """
    if isinstance(value, dict):
        return {
            key: {"*": shape(next(iter(item.values())))}
            if key in ("headers", "multiValueHeaders") and isinstance(item, dict) and item
            else shape(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


# --- S3 ------------------------------------------------------------------------------------


def s3_put(**overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = dict(
        bucket="mybucket", key="photos/red flower.jpg", size=1024,
        etag="d41d8cd98f00b204e9800998ecf8427e", sequencer=s3.sequencer(0x55AED6DCD90281E5),
        configuration_id="thumbnail-trigger", time=NOW, region=REGION,
        request_id=ids.hex_id(rng, 16, upper=True), host_id=ids.host_id(rng),
        version_id="096fKKXTRTtl3on89fVO.nfljtsv6qko",
    )  # fmt: skip
    options.update(overrides)
    return s3.notification(s3.object_created("Put", **options))


def test_s3_put_matches_the_documented_sample() -> None:
    event = s3_put()
    assert shape(event) == shape(sample("s3_put.json"))
    record = event["Records"][0]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["eventTime"] == "2026-03-14T15:09:26.535Z"
    assert record["s3"]["object"]["key"] == "photos/red+flower.jpg"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::mybucket"
    assert record["s3"]["object"]["sequencer"] == "0055AED6DCD90281E5"


def test_s3_unversioned_put_has_no_version_id() -> None:
    assert "versionId" not in s3_put(version_id=None)["Records"][0]["s3"]["object"]


@pytest.mark.parametrize("kind", ["Delete", "DeleteMarkerCreated"])
def test_s3_removed_records_carry_only_key_and_sequencer(kind: Any) -> None:
    record = s3.object_removed(
        kind, bucket="b", key="a b", sequencer="00AA", configuration_id="c", time=NOW,
        region=REGION, request_id="R", host_id="H",
    )  # fmt: skip
    assert record["s3"]["object"] == {"key": "a+b", "sequencer": "00AA"}
    assert record["eventName"] == f"ObjectRemoved:{kind}"
    S3Model.model_validate(s3.notification(record))


@pytest.mark.parametrize("kind", ["Put", "Post", "Copy", "CompleteMultipartUpload"])
def test_s3_records_parse_with_powertools(kind: Any) -> None:
    record = s3.object_created(
        kind, bucket="b", key="k/é=x:y", size=3, etag="e", sequencer="01", configuration_id="c",
        time=NOW, region=REGION, request_id="R", host_id="H",
    )  # fmt: skip
    event = s3.notification(record)
    model = S3Model.model_validate(event)
    assert model.Records[0].s3.object.size == 3
    data = S3Event(event)
    assert data.object_key == "k/é=x:y"  # Powertools decodes with unquote_plus
    assert data.bucket_name == "b"


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        ("red flower.jpg", "red+flower.jpg"),
        ("photos/2024/cat.jpg", "photos/2024/cat.jpg"),
        ("a=b", "a%3Db"),
        ("time:12", "time%3A12"),
        ("1+1", "1%2B1"),
        ("café", "caf%C3%A9"),
    ],
)
def test_s3_key_encoding(key: str, encoded: str) -> None:
    assert s3.encode_key(key) == encoded


@given(st.text(min_size=1))
def test_s3_keys_decode_back(key: str) -> None:
    assert unquote_plus(s3.encode_key(key)) == key


# --- DynamoDB ------------------------------------------------------------------------------

ARN = dynamodb.stream_arn(REGION, ACCOUNT, "ExampleTable", dynamodb.stream_label(NOW))


def ddb_record(event_name: Any, view_type: Any = "NEW_AND_OLD_IMAGES", **kw: Any) -> Any:
    return dynamodb.stream_record(
        event_name,
        keys={"Id": {"N": "101"}},
        new_image=kw.get("new", {"Message": {"S": "This item has changed"}, "Id": {"N": "101"}}),
        old_image=kw.get("old", {"Message": {"S": "New item!"}, "Id": {"N": "101"}}),
        view_type=view_type, sequence_number=4421584500000000017450439092,
        event_id=ids.hex_id(rng, 32), created=NOW, region=REGION, stream_arn=ARN,
        ttl_delete=kw.get("ttl", False),
    )  # fmt: skip


def test_dynamodb_modify_matches_the_documented_sample() -> None:
    event = dynamodb.batch([ddb_record("MODIFY")])
    expected = sample("dynamodb_modify.json")
    del expected["Records"][0]["userIdentity"]  # the sample notes it is only on TTL deletes
    assert shape(event) == shape(expected)
    change = event["Records"][0]["dynamodb"]
    assert change["SequenceNumber"] == "4421584500000000017450439092"
    assert change["ApproximateCreationDateTime"] == int(NOW.timestamp())
    assert event["Records"][0]["eventSourceARN"].endswith(
        "table/ExampleTable/stream/2026-03-14T15:09:26.535"
    )


@pytest.mark.parametrize(
    ("view_type", "event_name", "images"),
    [
        ("KEYS_ONLY", "INSERT", set()), ("KEYS_ONLY", "MODIFY", set()),
        ("KEYS_ONLY", "REMOVE", set()),
        ("NEW_IMAGE", "INSERT", {"NewImage"}), ("NEW_IMAGE", "MODIFY", {"NewImage"}),
        ("NEW_IMAGE", "REMOVE", set()),
        ("OLD_IMAGE", "INSERT", set()), ("OLD_IMAGE", "MODIFY", {"OldImage"}),
        ("OLD_IMAGE", "REMOVE", {"OldImage"}),
        ("NEW_AND_OLD_IMAGES", "INSERT", {"NewImage"}),
        ("NEW_AND_OLD_IMAGES", "MODIFY", {"NewImage", "OldImage"}),
        ("NEW_AND_OLD_IMAGES", "REMOVE", {"OldImage"}),
    ],
)  # fmt: skip
def test_dynamodb_images_per_view_type(view_type: Any, event_name: Any, images: set[str]) -> None:
    record = ddb_record(event_name, view_type)
    change = record["dynamodb"]
    assert {"NewImage", "OldImage"} & set(change) == images
    assert change["StreamViewType"] == view_type and change["Keys"] == {"Id": {"N": "101"}}
    model = DynamoDBStreamModel.model_validate(dynamodb.batch([record]))
    assert model.Records[0].eventName == event_name
    data = next(DynamoDBStreamEvent(dynamodb.batch([record])).records)
    assert data.dynamodb is not None and data.dynamodb.keys == {"Id": 101}


def test_dynamodb_ttl_remove_has_the_service_identity() -> None:
    record = ddb_record("REMOVE", ttl=True)
    assert record["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    DynamoDBStreamModel.model_validate(dynamodb.batch([record]))
    with pytest.raises(ValueError):
        ddb_record("INSERT", ttl=True)


def test_dynamodb_size_bytes_counts_the_images() -> None:
    small = ddb_record("MODIFY", new={"Id": {"N": "1"}}, old={"Id": {"N": "1"}})
    large = ddb_record("MODIFY", new={"Id": {"N": "1"}, "x": {"S": "y" * 100}})
    assert large["dynamodb"]["SizeBytes"] >= small["dynamodb"]["SizeBytes"] + 100


# --- SQS -----------------------------------------------------------------------------------


def test_md5_of_message_attributes_reproduces_a_real_event() -> None:
    # From a captured real Lambda SQS event (docs/aws-behaviour.md §3.3).
    attributes = {
        "RiderID": {"DataType": "String", "StringValue": "1"},
        "id": {"DataType": "Number", "StringValue": "7110437108"},
    }
    assert sqs.md5_of_message_attributes(attributes) == "ab4045fac17001608f5b6e227ef83df9"


def test_md5_of_message_attributes_by_hand() -> None:
    # The buffer written out from the algorithm's definition, not by eventsim's code.
    buffer = (
        b"\x00\x00\x00\x04blob" b"\x00\x00\x00\x0aBinary.png"  # name, data type
        b"\x02" b"\x00\x00\x00\x03\x00\x01\x02"  # binary transport byte, value
        b"\x00\x00\x00\x04name" b"\x00\x00\x00\x06String"
        b"\x01" b"\x00\x00\x00\x03Ada"  # string transport byte, value
    )  # fmt: skip
    attributes = {
        "name": {"DataType": "String", "StringValue": "Ada"},
        "blob": {"DataType": "Binary.png", "BinaryValue": b"\x00\x01\x02"},
    }
    assert sqs.md5_of_message_attributes(attributes) == hashlib.md5(buffer).hexdigest()
    assert sqs.md5_of_message_attributes({}) is None


def test_md5_of_body() -> None:
    assert sqs.md5_of_body('{"order": 42}') == "b71e9489176c82c46586e26a98a9f10f"  # §3.1
    assert sqs.md5_of_body("") == "d41d8cd98f00b204e9800998ecf8427e"  # MD5 of nothing


def sqs_record(fifo: bool = False) -> dict[str, Any]:
    fifo_attributes = (
        dict(group_id="1", deduplication_id="1", sequence_number="18849496460467696128")
        if fifo
        else {}
    )
    return sqs.record(
        message_id=ids.uuid4(rng),
        receipt_handle=ids.receipt_handle(rng),
        body='{"order": 42}',
        attributes=sqs.system_attributes(
            sent_ms=1545082649183,
            receive_count=1,
            first_receive_ms=1545082649185,
            **fifo_attributes,
        ),  # fmt: skip
        message_attributes={
            "RiderID": {"DataType": "String", "StringValue": "1"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\x02"},
        },
        queue_arn=sqs.queue_arn("us-east-2", ACCOUNT, "my-queue" + (".fifo" if fifo else "")),
        region="us-east-2",
    )


def test_sqs_record_matches_the_documented_sample() -> None:
    documented = sample("sqs.json")
    event = sqs.batch([sqs_record()])
    assert shape(event) == shape(documented)
    assert list(event["Records"][0]) == list(documented["Records"][0])  # AWS's key order
    for field in ("messageAttributes", "md5OfMessageAttributes", "md5OfBody"):
        assert event["Records"][0][field] == documented["Records"][0][field], field


@pytest.mark.parametrize("fifo", [False, True])
def test_sqs_records_parse_with_powertools(fifo: bool) -> None:
    event = sqs.batch([sqs_record(fifo)])
    model = SqsModel.model_validate(event)
    attributes = model.Records[0].attributes
    assert (attributes.MessageGroupId == "1") is fifo
    data = next(SQSEvent(event).records)
    assert data.json_body == {"order": 42}
    assert data.message_attributes["blob"].binary_value == "AAEC"


def test_sqs_record_without_attributes_has_null_digest() -> None:
    record = sqs.record(
        message_id="m", receipt_handle="r", body="b", message_attributes={},
        attributes=sqs.system_attributes(sent_ms=1, receive_count=1, first_receive_ms=1),
        queue_arn="arn:aws:sqs:us-east-1:1:q", region=REGION,
    )  # fmt: skip
    assert record["messageAttributes"] == {} and record["md5OfMessageAttributes"] is None


# --- EventBridge ---------------------------------------------------------------------------


def test_scheduled_event_matches_the_documented_sample() -> None:
    event = schedule.scheduled_event(
        event_id=ids.uuid4(rng), time=NOW, region=REGION, account=ACCOUNT,
        rule_arn=schedule.rule_arn(REGION, ACCOUNT, "my-scheduled-rule"),
    )  # fmt: skip
    assert shape(event) == shape(sample("scheduled_event.json"))
    assert event["time"] == "2026-03-14T15:09:26Z"
    assert EventBridgeModel.model_validate(event).detail_type == "Scheduled Event"
    assert EventBridgeEvent(event).resources == [
        "arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule"
    ]


def test_scheduler_payload_replaces_placeholders() -> None:
    text = schedule.scheduler_payload(
        '{"arn": "<aws.scheduler.schedule-arn>", "at": "<aws.scheduler.scheduled-time>", '
        '"id": "<aws.scheduler.execution-id>", "n": <aws.scheduler.attempt-number>}',
        schedule_arn="arn:s", scheduled_time=NOW, execution_id="e-1", attempt=2,
    )  # fmt: skip
    assert json.loads(text) == {"arn": "arn:s", "at": "2026-03-14T15:09:26Z", "id": "e-1", "n": 2}


# --- API Gateway ---------------------------------------------------------------------------

REQUEST = apigateway.HttpRequest(
    "POST",
    "/items/42",
    query=[("q", "a"), ("q", "b")],
    headers=[
        ("Content-Type", "application/json"),
        ("X-Forwarded-For", "127.0.0.1"),
        ("User-Agent", "curl/8.0"),
        ("Cookie", "session=abc; theme=dark"),
    ],
    body=b'{"name": "x"}',
)


def test_rest_event_matches_the_documented_sample() -> None:
    event = apigateway.rest_event(
        REQUEST, resource="/items/{id}", path_parameters={"id": "42"}, request_id="r",
        time=NOW, api_id="1234567890", account=ACCOUNT, region=REGION,
    )  # fmt: skip
    documented = sample("apigw_rest.json")
    assert shape(event) == shape(documented)
    assert event["multiValueQueryStringParameters"] == {"q": ["a", "b"]}
    assert event["queryStringParameters"] == {"q": "b"}
    assert event["requestContext"]["path"] == "/prod/items/42"
    assert event["requestContext"]["requestTime"] == "14/Mar/2026:15:09:26 +0000"
    model = APIGatewayProxyEventModel.model_validate(event)
    assert model.pathParameters == {"id": "42"}
    data = APIGatewayProxyEvent(event)
    assert data.json_body == {"name": "x"} and data.http_method == "POST"


def test_rest_event_without_query_or_body_uses_null() -> None:
    # A bare request (real ones carry Host): null members, but headers stay objects.
    bare = apigateway.HttpRequest("GET", "/")
    event = apigateway.rest_event(
        bare, resource="/", path_parameters=None, request_id="r", time=NOW, api_id="a",
        account=ACCOUNT, region=REGION,
    )  # fmt: skip
    for key in ("queryStringParameters", "multiValueQueryStringParameters", "pathParameters",
                "stageVariables", "body"):  # fmt: skip
        assert event[key] is None, key
    assert event["headers"] == {} and event["multiValueHeaders"] == {}
    APIGatewayProxyEventModel.model_validate(event)


def test_http_event_matches_the_documented_sample() -> None:
    event = apigateway.http_event(
        REQUEST, route_key="POST /items/{id}", path_parameters={"id": "42"}, request_id="id",
        time=NOW, api_id="api-id", account=ACCOUNT, region=REGION,
        stage_variables={"stageVariable1": "value1"},
    )  # fmt: skip
    documented = sample("apigw_http.json")
    for optional in ("authentication", "authorizer"):  # only with mTLS / an authorizer
        del documented["requestContext"][optional]
    del documented["headers"]["accept"]
    assert shape(event) == shape(documented)
    assert event["cookies"] == ["session=abc", "theme=dark"]
    assert "cookie" not in event["headers"]
    assert event["queryStringParameters"] == {"q": "a,b"}
    assert event["rawQueryString"] == "q=a&q=b"
    model = APIGatewayProxyEventV2Model.model_validate(event)
    assert model.routeKey == "POST /items/{id}"
    assert APIGatewayProxyEventV2(event).json_body == {"name": "x"}


def test_binary_bodies_are_base64() -> None:
    request = apigateway.HttpRequest(
        "PUT", "/f", headers=[("content-type", "image/png")], body=b"\x89PNG\x00"
    )
    event = apigateway.http_event(
        request, route_key="$default", path_parameters=None, request_id="r", time=NOW,
        api_id="a", account=ACCOUNT, region=REGION,
    )  # fmt: skip
    assert event["isBase64Encoded"] is True and event["body"] == "iVBORwA="


@pytest.mark.parametrize(
    ("result", "error", "status", "body", "headers"),
    [
        ({"statusCode": 201, "body": "ok", "headers": {"X-A": "1"}}, None, 201, b"ok",
         [("X-A", "1"), ("Content-Type", "application/json")]),
        ({"statusCode": 200, "headers": {"X": "a"}, "multiValueHeaders": {"X": ["b", "c"]}},
         None, 200, b"", [("X", "b"), ("X", "c"), ("Content-Type", "application/json")]),
        ({"statusCode": 200, "body": "aGk=", "isBase64Encoded": True}, None, 200, b"hi", None),
        ({"statusCode": 200, "body": {"not": "a string"}}, None, 502, None, None),
        ({"statusCode": 200, "cookies": ["a=1"]}, None, 502, None, None),
        ({"body": "no status"}, None, 502, None, None),
        ("just a string", None, 502, None, None),
        ({"statusCode": 200}, "Unhandled", 502, None, None),
    ],
)  # fmt: skip
def test_rest_responses(result: Any, error: Any, status: int, body: Any, headers: Any) -> None:
    response = apigateway.response_v1(json.dumps(result).encode(), error)
    assert response.status == status
    if status == 502:
        assert json.loads(response.body) == {"message": "Internal server error"}
    if body is not None:
        assert response.body == body
    if headers is not None:
        assert response.headers == headers


@pytest.mark.parametrize(
    ("result", "error", "status", "body", "headers"),
    [
        ("Hello", None, 200, b"Hello", [("content-type", "application/json")]),
        ({"message": "hi"}, None, 200, b'{"message": "hi"}', None),
        ({"statusCode": 201, "headers": {"X-Multi": "a,b"}, "cookies": ["a=1; Path=/", "b=2"],
          "body": "{}"}, None, 201, b"{}",
         [("x-multi", "a,b"), ("set-cookie", "a=1; Path=/"), ("set-cookie", "b=2")]),
        ({"statusCode": "200"}, None, 500, None, None),
        ({"statusCode": 200}, "Unhandled", 500, None, None),
    ],
)  # fmt: skip
def test_http_responses(result: Any, error: Any, status: int, body: Any, headers: Any) -> None:
    response = apigateway.response_v2(json.dumps(result).encode(), error)
    assert response.status == status
    if status == 500:
        assert json.loads(response.body) == {"message": "Internal Server Error"}
    if body is not None:
        assert response.body == body
    if headers is not None:
        assert response.headers == headers


# --- destinations --------------------------------------------------------------------------


def test_async_failure_record_matches_the_documented_sample() -> None:
    error = {"errorMessage": "x", "errorType": "KeyError", "requestId": "r", "stackTrace": ["x"]}
    record = destinations.invocation_record(
        request_id="r", function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f:$LATEST",
        condition="RetriesExhausted", approximate_invoke_count=3,
        request_payload={"ORDER_IDS": ["9e07af03"]}, response_payload=error,
        function_error="Unhandled", timestamp=NOW,
    )  # fmt: skip
    assert shape(record) == shape(sample("destination_failure.json"))


def test_async_success_and_expired_records() -> None:
    common: dict[str, Any] = dict(request_id="r", function_arn="arn", request_payload={},
                                  timestamp=NOW)  # fmt: skip
    success = destinations.invocation_record(
        **common, condition="Success", approximate_invoke_count=1, response_payload={"ok": 1}
    )
    assert "functionError" not in success["responseContext"]
    expired = destinations.invocation_record(
        **common, condition="EventAgeExceeded", approximate_invoke_count=0
    )
    assert "responseContext" not in expired and "responsePayload" not in expired


def test_dlq_attributes() -> None:
    attributes = destinations.dlq_message_attributes(
        request_id="r", error_code=200, error_message="é" * 1000
    )
    assert attributes["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}
    assert len(attributes["ErrorMessage"]["StringValue"].encode()) <= 1024
    assert sqs.md5_of_message_attributes(attributes)  # a valid SQS attribute set


def test_stream_failure_record_matches_the_documented_sample() -> None:
    record = destinations.stream_failure_record(
        request_id="r", function_arn="arn:aws:lambda:us-east-2:1:function:f",
        condition="RetryAttemptsExhausted", approximate_invoke_count=1, timestamp=NOW,
        shard_id="shardId-00000001573689847184-864758bb", start_sequence_number="800",
        end_sequence_number="800", first_arrival=NOW, last_arrival=NOW, batch_size=1,
        stream_arn=ARN,
    )  # fmt: skip
    assert shape(record) == shape(sample("ddb_stream_failure.json"))
    model = DynamoDBStreamLambdaOnFailureDestinationModel.model_validate(record)
    assert model.ddb_stream_batch_info.batch_size == 1


def test_ids_are_deterministic_per_seed() -> None:
    assert ids.uuid4(random.Random(1)) == ids.uuid4(random.Random(1))
    assert len(ids.host_id(rng)) == 76 and len(ids.hex_id(rng, 16, upper=True)) == 16


def test_marshal_item_for_keys() -> None:
    assert marshal_item({"pk": "a", "n": 1}) == {"pk": {"S": "a"}, "n": {"N": "1"}}
