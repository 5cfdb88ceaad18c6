import json
import os

import boto3

sns = boto3.client("sns")


def handler(event, context):
    for record in event["Records"]:
        image = record["dynamodb"]["NewImage"]
        sns.publish(
            TopicArn=os.environ["TOPIC_ARN"],
            Message=json.dumps({"id": image["id"]["S"], "total": image["total"]["N"]}),
        )
