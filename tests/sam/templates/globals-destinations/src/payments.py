import os


def charge(event, context):
    if event["amount"] <= 0:
        raise ValueError(f"cannot charge {event['amount']}")
    return {
        "charged": event["amount"],
        "service": os.environ["SERVICE"],
        "log_level": os.environ["LOG_LEVEL"],
    }


def receipt(event, context):
    return {
        "receipt_for": event["responsePayload"]["charged"],
        "condition": event["requestContext"]["condition"],
    }
