import json


def list_todos(event, context):
    return {"todos": [], "version": event["version"], "route": event["routeKey"]}


def create_todo(event, context):
    todo = json.loads(event["body"])
    version = "2.0" if "rawPath" in event else "1.0"
    return {"statusCode": 201, "body": json.dumps({"created": todo["title"], "version": version})}


def not_found(event, context):
    return {"statusCode": 404, "body": json.dumps({"path": event["rawPath"]})}
