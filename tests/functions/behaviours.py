"""Handlers that exercise the runtime contract: each does one thing a real handler might do."""

import ctypes
import json
import logging
import os
import sys
import time
from decimal import Decimal

logger = logging.getLogger(__name__)
counter = 0


def echo(event, context):
    return event


def count(event, context):
    global counter
    counter += 1
    return {"count": counter, "pid": os.getpid()}


def fail(event, context):
    return {"action": event["action"]}  # KeyError without "action"


def slow(event, context):
    time.sleep(event.get("seconds", 10))  # the behaviour under test: a handler that overruns
    return "finished"


def exit_(event, context):
    sys.exit(event.get("code", 1))


def hard_exit(event, context):
    os._exit(3)


def segfault(event, context):
    ctypes.string_at(0)


def unserializable(event, context):
    return {"values": {1, 2}}


def decimals(event, context):
    return {"price": Decimal("1.50"), "qty": Decimal("3")}


def raw_bytes(event, context):
    return b"not json at all"


def big_response(event, context):
    return "x" * event["size"]


def chatty(event, context):
    print("printed line")
    sys.stderr.write("stderr line\n")
    logger.warning("a warning from logging")
    os.write(1, b"raw fd write\n")
    return "ok"


def describe_context(event, context):
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "client_context_custom": context.client_context.custom if context.client_context else None,
        "identity_id": context.identity.cognito_identity_id,
    }


def environment(event, context):
    return {name: os.environ.get(name) for name in event["names"]}


def cwd_and_path(event, context):
    return {"cwd": os.getcwd(), "path0": sys.path[0]}


def echo_json_text(event, context):
    return json.dumps(event)


def process_facts(event, context):
    """What a test of the execution environment's process needs to see."""
    return {
        "trace": os.environ["_X_AMZN_TRACE_ID"],
        "pid": os.getpid(),
        "pgid": os.getpgid(0),
        "sid": os.getsid(0),
    }
