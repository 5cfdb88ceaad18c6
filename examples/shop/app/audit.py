def handler(event, context):
    """Audits cart changes; refuses a cart whose items went negative."""
    for record in event["Records"]:
        items = record["dynamodb"].get("NewImage", {}).get("items", {}).get("N", "0")
        if int(items) < 0:
            raise ValueError(f"cart {record['dynamodb']['Keys']['id']['S']} has {items} items")
    return None
