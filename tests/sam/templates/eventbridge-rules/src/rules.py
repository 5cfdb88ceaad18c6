def fulfil(event, context):
    return {"fulfilled": event["order"]}


def audit(event, context):
    return {"source": event["source"], "type": event["detail-type"]}
