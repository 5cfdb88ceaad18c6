"""Handlers of the reliability suite: ``record`` appends the id of every event it gets to $OUT.

An id is ``<key>-<n>``: an S3 object ``incoming/<id>.txt``, an SQS body, a stream record's
NewImage ``pk`` and ``n``, or an asynchronous invocation's ``{"id": ...}``.
"""

import os
import time
from urllib.parse import unquote_plus


def _id(record):
    if "s3" in record:
        key = unquote_plus(record["s3"]["object"]["key"])
        return key.removeprefix("incoming/").removesuffix(".txt")
    if "dynamodb" in record:
        image = record["dynamodb"]["NewImage"]
        return f"{image['pk']['S']}-{image['n']['N']}"
    return record["body"]


def record(event, context):
    """Takes $DELAY seconds per id, then appends the ids, one line each, to $OUT."""
    records = event.get("Records") if isinstance(event, dict) else None
    ids = [_id(r) for r in records] if records is not None else [event["id"]]
    # The behaviour under test: a slow handler, so that a backlog builds and a stop lands in
    # the middle of it. The ids are written only once the work is done, so an invocation cut
    # short records nothing and must be delivered again.
    time.sleep(float(os.environ.get("DELAY", "0")) * len(ids))
    out = os.open(os.environ["OUT"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(out, "".join(f"{i}\n" for i in ids).encode())  # one append: whole lines
    finally:
        os.close(out)
    for i in ids:
        print(f"delivered {i}")


def hello(event, context):
    return {"message": "hello"}
