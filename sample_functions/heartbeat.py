"""The schedule demo: logs each EventBridge firing (a Scheduled Event, or a rule's Input)."""


def handler(event, context):
    if event.get("detail-type") == "Scheduled Event":
        print(f"tick at {event['time']} from {event['resources'][0]}")
    else:
        print(f"scheduled job: {event}")
    return {"ok": True}
