"""The HTTP demo: `curl http://127.0.0.1:3000/hello/Ada` while `eventsim up` runs.

An HTTP API (payload 2.0) route: the path parameter comes in ``pathParameters``; the result
is the response API Gateway sends back.
"""

import json


def handler(event, context):
    name = (event.get("pathParameters") or {}).get("name", "world")
    shout = (event.get("queryStringParameters") or {}).get("shout") == "1"
    message = f"Hello, {name}!"
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"message": message.upper() if shout else message}),
    }
