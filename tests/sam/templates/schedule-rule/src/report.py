def handler(event, context):
    return {"report_for": event["environment"]}
