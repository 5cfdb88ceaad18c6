import json


def handler(event, context):
    cart = event["pathParameters"]["id"]
    return {"statusCode": 200, "body": json.dumps({"cart": cart})}
