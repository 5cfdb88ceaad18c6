"""The S3 demo: summarises each file dropped into uploads/incoming/ into uploads/summaries/.

It reads the upload and writes the summary with boto3, as it would in AWS: eventsim points
the SDK at its edge (``AWS_ENDPOINT_URL``), so the same code runs against real S3 unchanged.
The summary goes to another prefix than the trigger's, so the function never triggers itself.
"""

import hashlib
import json
from pathlib import PurePosixPath
from urllib.parse import unquote_plus

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    summaries = []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])  # keys arrive URL-encoded
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        summary = {
            "key": key,
            "event": record["eventName"],
            "size": record["s3"]["object"]["size"],
            "lines": body.count(b"\n"),
            "sha256": hashlib.sha256(body).hexdigest(),
        }
        target = f"summaries/{PurePosixPath(key).name}.json"
        s3.put_object(
            Bucket=bucket,
            Key=target,
            Body=json.dumps(summary, indent=2).encode(),
            ContentType="application/json",
        )
        print(f"summarised {key} -> {target}")
        summaries.append(summary)
    return summaries
