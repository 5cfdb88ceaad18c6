"""SQS batch handlers: plain ones and one written with Powertools' BatchProcessor."""

import json

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record):
    if "fail" in record.body:
        raise ValueError(f"cannot process {record.body}")


def partial(event, context):
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


def bodies(event, context):
    return [r["body"] for r in event["Records"]]


def fail_all(event, context):
    raise RuntimeError("batch failed")


def malformed(event, context):
    return {"batchItemFailures": [{"itemIdentifier": ""}]}


def wrong_key(event, context):
    return {"failures": [r["messageId"] for r in event["Records"]]}


def report(event, context):
    """Reports the messages whose body says so, in the exact response shape."""
    return {
        "batchItemFailures": [
            {"itemIdentifier": r["messageId"]} for r in event["Records"] if "fail" in r["body"]
        ]
    }


def json_bodies(event, context):
    return [json.loads(r["body"]) for r in event["Records"]]
