import json


def notify(event, context):
    record = event["Records"][0]["Sns"]
    return {"notified": record["Message"], "kind": record["MessageAttributes"]["kind"]["Value"]}


def ship(event, context):
    shipped = []
    for record in event["Records"]:
        envelope = json.loads(record["body"])
        shipped.append(envelope["Message"])
    return shipped
