import json
import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def handler(event, context):
    order = json.loads(event["body"])
    table.put_item(Item={"id": order["id"], "total": order["total"]})
    return {"statusCode": 201, "body": json.dumps({"id": order["id"]})}
