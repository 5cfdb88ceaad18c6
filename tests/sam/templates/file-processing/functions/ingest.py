import json
import os

import boto3

sqs = boto3.client("sqs")


def handler(event, context):
    for record in event["Records"]:
        message = {
            "bucket": record["s3"]["bucket"]["name"],
            "key": record["s3"]["object"]["key"],
            "size": record["s3"]["object"]["size"],
        }
        sqs.send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps(message))
