"""The S3 demo: summarises each file dropped into uploads/incoming/ into uploads/summaries/.

Writes go to another prefix than the trigger's, so the function never triggers itself.
"""

import hashlib
import json
import os
from pathlib import Path
from urllib.parse import unquote_plus

BUCKET_ROOT = Path(os.environ["BUCKET_ROOT"])


def handler(event, context):
    summaries = []
    for record in event["Records"]:
        key = unquote_plus(record["s3"]["object"]["key"])  # keys arrive URL-encoded
        body = (BUCKET_ROOT / key).read_bytes()
        summary = {
            "key": key,
            "event": record["eventName"],
            "size": record["s3"]["object"]["size"],
            "lines": body.count(b"\n"),
            "sha256": hashlib.sha256(body).hexdigest(),
        }
        target = BUCKET_ROOT / "summaries" / (Path(key).name + ".json")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(summary, indent=2))
        print(f"summarised {key} -> summaries/{target.name}")
        summaries.append(summary)
    return summaries
