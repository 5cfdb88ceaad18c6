import os


def handler(event, context):
    names = ("STAGE", "LOG_LEVEL", "ARCHIVE_BUCKET")
    return {name: os.environ.get(name) for name in names} | {"memory": context.memory_limit_in_mb}
