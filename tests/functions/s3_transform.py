"""A public-style S3-triggered handler, unchanged from the shape of AWS's tutorial (the
image resizer): download the object to /tmp, transform it, upload the result to another
prefix. Here the "transform" upper-cases text, so the test needs no imaging library."""

import os
import uuid
from urllib.parse import unquote_plus

import boto3

s3_client = boto3.client("s3")


def transform(source_path, target_path):
    with open(source_path, "rb") as source, open(target_path, "wb") as target:
        target.write(source.read().upper())


def lambda_handler(event, context):
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])
        tmpkey = key.replace("/", "")
        download_path = "/tmp/{}{}".format(uuid.uuid4(), tmpkey)  # noqa: UP032 - as published
        upload_path = "/tmp/transformed-{}".format(tmpkey)  # noqa: UP032 - as published
        s3_client.download_file(bucket, key, download_path)
        transform(download_path, upload_path)
        s3_client.upload_file(upload_path, bucket, "processed/{}".format(key.split("/", 1)[1]))  # noqa: UP032, E501
        os.remove(download_path)
        os.remove(upload_path)
