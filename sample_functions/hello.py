"""The demo function: greets whoever the event names."""

import json
import logging
import os

logger = logging.getLogger()
logger.setLevel(logging.INFO)

GREETING = os.environ.get("GREETING", "Hello")
invocations = 0  # module globals survive warm invocations


def handler(event, context):
    global invocations
    invocations += 1
    name = (event or {}).get("name", "world") if isinstance(event, dict) else "world"
    logger.info("greeting %s (invocation %d of this environment)", name, invocations)
    print(json.dumps({"function": context.function_name, "request_id": context.aws_request_id}))
    return {"message": f"{GREETING}, {name}!", "warm_invocations": invocations}
