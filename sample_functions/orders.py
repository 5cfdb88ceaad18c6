"""The SQS demo: processes order messages in batches, reporting the ones that fail.

Written with aws-lambda-powertools' BatchProcessor when it is installed (as in Lambda), else
with the same partial-batch response by hand. A message whose body has "total": a negative
number fails; after max_receive_count receives the queue moves it to the dead-letter queue.
"""

import json

try:
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )
except ImportError:  # pragma: no cover - the demo runs without Powertools too
    BatchProcessor = None


def process(body):
    order = json.loads(body)
    if order.get("total", 0) < 0:
        raise ValueError(f"order {order.get('id')} has a negative total")
    print(f"processed order {order.get('id')}: {order.get('total')}")


if BatchProcessor is not None:
    processor = BatchProcessor(event_type=EventType.SQS)

    def handler(event, context):
        return process_partial_response(
            event=event,
            record_handler=lambda record: process(record.body),
            processor=processor,
            context=context,
        )

else:

    def handler(event, context):
        failures = []
        for record in event["Records"]:
            try:
                process(record["body"])
            except ValueError as error:
                print(error)
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}
