def handler(event, context):
    """Makes a thumbnail name for every uploaded image."""
    return [f"thumbs/{r['s3']['object']['key']}" for r in event["Records"]]
