"""Handlers of the dashboard tests (a module of their own: thread isolation shares modules)."""

import json


def echo(event, context):
    print("echo got", json.dumps(event)[:80])
    return {"echoed": event}


def fail(event, context):
    print("about to fail")
    raise ValueError("this handler always fails")


def orders(event, context):
    """SQS, partial batch response: an order with a negative total fails."""
    failures = []
    for record in event["Records"]:
        order = json.loads(record["body"])
        if order.get("total", 0) < 0:
            print("rejecting order", order.get("id"))
            failures.append({"itemIdentifier": record["messageId"]})
        else:
            print("accepted order", order.get("id"))
    return {"batchItemFailures": failures}


def uploads(event, context):
    keys = [record["s3"]["object"]["key"] for record in event["Records"]]
    print("uploaded", *keys)
    return keys


def changes(event, context):
    names = [record["eventName"] for record in event["Records"]]
    print("stream", *names)
    return names


def tick(event, context):
    print("tick", event.get("time"))
    return "ticked"
