"""The order flow's start: checkout publishes each order to the order-events topic and puts an
OrderPlaced event on the default event bus, with plain boto3. eventsim points every handler's
SDK at its edge (AWS_ENDPOINT_URL), so nothing here knows about eventsim.

    echo '{"id": 7, "total": 42.5, "shipping": "express"}' | eventsim invoke checkout --event -
"""

import json
import os

import boto3

TOPIC = os.environ.get("ORDER_TOPIC", "order-events")

# Made once per execution environment, as in Lambda.
sns = boto3.client("sns")
events = boto3.client("events")


def handler(event, context):
    order = {
        "id": event["id"],
        "total": event.get("total", 0),
        "shipping": event.get("shipping", "standard"),
    }
    topic_arn = sns.create_topic(Name=TOPIC)["TopicArn"]  # the existing topic's ARN
    published = sns.publish(
        TopicArn=topic_arn,
        Message=json.dumps(order),
        Subject=f"Order {order['id']}",
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "placed"},
            "shipping": {"DataType": "String", "StringValue": order["shipping"]},
        },
    )
    put = events.put_events(
        Entries=[{"Source": "shop", "DetailType": "OrderPlaced", "Detail": json.dumps(order)}]
    )
    print(f"checked out order {order['id']}")
    return {"message_id": published["MessageId"], "event_id": put["Entries"][0]["EventId"]}
