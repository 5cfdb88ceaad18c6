"""Handlers that use the AWS SDK as real handlers do: a plain boto3 client, no endpoint given."""

import os

import boto3


def dump_environment(event, context):
    return dict(os.environ)


def send_to_queue(event, context):
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=event["queue"])["QueueUrl"]
    return sqs.send_message(QueueUrl=url, MessageBody=event["body"])["MessageId"]


def caller_identity(event, context):
    return boto3.client("sts").get_caller_identity()["Account"]


def list_queues(event, context):
    from botocore.exceptions import EndpointConnectionError

    try:
        return boto3.client("sqs").list_queues().get("QueueUrls", [])
    except EndpointConnectionError as exc:
        return {"refused": str(exc)}
