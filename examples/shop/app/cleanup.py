def handler(event, context):
    """Runs every hour."""
    return {"cleaned_at": event["time"]}
