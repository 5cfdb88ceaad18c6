"""HTTP trigger handlers."""

import base64
import json
import time


def echo(event, context):
    """A v2 handler returning plain JSON (API Gateway infers a 200)."""
    return {
        "route": event.get("routeKey") or event.get("resource"),
        "params": event.get("pathParameters"),
        "query": event.get("queryStringParameters"),
        "body": event.get("body"),
        "base64": event.get("isBase64Encoded"),
        "cookies": event.get("cookies"),
    }


def v1(event, context):
    return {
        "statusCode": 201,
        "headers": {"X-One": "1"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": json.dumps(
            {"resource": event["resource"], "path": event["path"], "method": event["httpMethod"]}
        ),
    }


def v1_bad_shape(event, context):
    return {"statusCode": 200, "body": {"not": "a string"}}


def png(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "image/png"},
        "cookies": ["session=1; Path=/", "theme=dark"],
        "body": base64.b64encode(b"\x89PNG\x00").decode(),
        "isBase64Encoded": True,
    }


def slow(event, context):
    time.sleep(1.0)  # the behaviour under test: a handler slower than the integration timeout
    return {"statusCode": 200, "body": "late"}


def drain(event, context):
    print("drain started", flush=True)
    time.sleep(0.5)  # the behaviour under test: in flight when SIGTERM arrives
    print("drain finished", flush=True)
    return {"drained": True}


def call_echo(event, context):
    """Invokes another function through boto3, as functions do in AWS."""
    import boto3

    response = boto3.client("lambda").invoke(FunctionName="echo", Payload=json.dumps(event))
    return json.loads(response["Payload"].read())


def print_records(event, context):
    for record in event["Records"]:
        keys = record.get("dynamodb", {}).get("Keys")
        print("record", record.get("body") or json.dumps(keys, sort_keys=True), flush=True)
