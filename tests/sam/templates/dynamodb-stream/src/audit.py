def handler(event, context):
    changes = []
    for record in event["Records"]:
        image = record["dynamodb"].get("NewImage", {})
        if "poison" in image:
            raise ValueError(f"cannot audit {record['dynamodb']['Keys']}")
        changes.append((record["eventName"], image["pk"]["S"], image.get("status", {}).get("S")))
    return changes
