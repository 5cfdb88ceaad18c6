"""DynamoDB stream handlers: plain ones and one written with Powertools' BatchProcessor."""

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _poisoned(record):
    image = record["dynamodb"].get("NewImage", {})
    return "poison" in image


def changes(event, context):
    return None


def fail_on_poison(event, context):
    if any(_poisoned(r) for r in event["Records"]):
        raise ValueError("poison record in the batch")


def report_poison(event, context):
    return {
        "batchItemFailures": [
            {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
            for r in event["Records"]
            if _poisoned(r)
        ]
    }


def malformed(event, context):
    return {"batchItemFailures": [{"itemIdentifier": "not-a-sequence-number"}]}


def count_in_window(event, context):
    state = event.get("state") or {}
    total = state.get("count", 0) + len(event["Records"])
    return {"state": {"count": total}, "batchItemFailures": []}


def forget_state(event, context):
    return {"batchItemFailures": []}


def _record_handler(record):
    if record.dynamodb.new_image and "poison" in record.dynamodb.new_image:
        raise ValueError("poison")


def powertools(event, context):
    return process_partial_response(
        event=event, record_handler=_record_handler, processor=processor, context=context
    )


def append_to_file(event, context):
    """Appends 'key n' per record to $OUT, slowly enough to be killed mid-stream."""
    import os
    import time

    with open(os.environ["OUT"], "a") as out:
        for record in event["Records"]:
            image = record["dynamodb"]["NewImage"]
            line = f"{image['pk']['S']} {image['n']['N']}"
            out.write(line + "\n")
            out.flush()
            print(f"processed {line}")
    time.sleep(0.005)  # the behaviour under test: a slow handler, so a kill lands mid-stream
