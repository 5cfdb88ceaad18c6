import json


def lambda_handler(event, context):
    """Sample pure Lambda function (sam init's, with the item route added)."""
    body = {"message": "hello world"}
    if event.get("pathParameters"):
        body = {"item": event["pathParameters"]["id"], "method": event["httpMethod"]}
    body["stage"] = event["requestContext"]["stage"]
    return {"statusCode": 200, "body": json.dumps(body)}
