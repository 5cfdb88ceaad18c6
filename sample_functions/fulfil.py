"""The route-orders rule on the default bus sends every OrderPlaced event here."""


def handler(event, context):
    order = event["detail"]
    print(f"fulfilling order {order['id']} ({order['shipping']}), event {event['id']}")
    return {"fulfilled": order["id"]}
