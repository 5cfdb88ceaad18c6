import json


def handler(event, context):
    return [json.loads(json.loads(r["body"])["Message"])["id"] for r in event["Records"]]
