"""Subscribed to the order-events topic (filter: kind = placed): sends the receipt."""

import json


def handler(event, context):
    for record in event["Records"]:
        order = json.loads(record["Sns"]["Message"])
        print(f"receipt for order {order['id']}: {order['total']} ({record['Sns']['Subject']})")
    return {"receipts": len(event["Records"])}
