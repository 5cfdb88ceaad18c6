import os
import urllib.parse


def lambda_handler(event, context):
    record = event["Records"][0]["s3"]
    key = urllib.parse.unquote_plus(record["object"]["key"])
    return {
        "source": f"{record['bucket']['name']}/{key}",
        "thumbnail": f"thumbnails/{int(os.environ['WIDTH'])}/{key}",
        "same_bucket": record["bucket"]["name"] == os.environ["BUCKET"],
    }
