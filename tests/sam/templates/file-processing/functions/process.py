import json
import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["RESULTS_TABLE"])


def handler(event, context):
    for record in event["Records"]:
        file = json.loads(record["body"])
        table.put_item(Item={"key": file["key"], "size": file["size"], "status": "processed"})
