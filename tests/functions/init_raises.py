raise ValueError("configuration missing at import time")


def handler(event, context):
    return 1
