import json


def handler(event, context):
    failures = []
    for record in event["Records"]:
        order = json.loads(record["body"])
        if order["total"] < 0:
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
