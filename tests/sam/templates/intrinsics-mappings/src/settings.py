import os

NAMES = (
    "SUFFIX",
    "FIRST_SUBNET",
    "SUBNETS",
    "HOST",
    "SHARED_TABLE",
    "QUEUE_URL",
    "QUEUE_ARN",
    "PREFIXED",
    "ENCODED",
    "LITERAL",
    "DOMAIN",
    "ZONE",
)


def handler(event, context):
    return {name: os.environ[name] for name in NAMES}
