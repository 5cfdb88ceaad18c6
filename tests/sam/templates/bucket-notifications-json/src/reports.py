def handler(event, context):
    record = event["Records"][0]
    return {"event": record["eventName"], "key": record["s3"]["object"]["key"]}
