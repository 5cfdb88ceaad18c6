import json


def handler(event, context):
    """Accepts orders; an order with a negative total fails alone (partial batch response)."""
    failures = []
    for record in event["Records"]:
        if json.loads(record["body"]).get("total", 0) < 0:
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
