"""The parameters of an SQS request in the JSON protocol's shapes, read and checked as SQS
checks them: required and optional values of the right type, lists and maps of strings, a
visibility timeout, a queue's tag count, and a batch's entries (how many, their ids). Each
refusal is an ``ApiError`` in SQS's words (``MissingParameter``, ``InvalidParameterValue``,
``InvalidBatchEntryId``...). The query protocol's requests reach them too, turned into these
shapes first (``sqs_query.py``).

Example::

    required({"QueueName": "jobs"}, "QueueName")   # "jobs"
    optional({"MaxResults": "5"}, "MaxResults", int)   # ApiError: it must be an integer
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ApiError
from ..resources.messages import MAX_BATCH

_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
MAX_TAGS = 50


def missing(name: str) -> ApiError:
    return ApiError("MissingParameter", f"The request must contain the parameter {name}.")


def required(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None or value == "" and name != "MessageBody":
        raise missing(name)
    if not isinstance(value, str):
        raise ApiError("InvalidParameterValue", f"Value for parameter {name} is invalid. "
                       "Reason: it must be a string.")  # fmt: skip
    return value


def optional(body: dict[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ApiError(
            "InvalidParameterValue",
            f"Value {value!r} for parameter {name} is "
            f"invalid. Reason: it must be {'an integer' if kind is int else 'a string'}.",
        )
    return value


def strings(body: dict[str, Any], name: str) -> list[str]:
    values = body.get(name)
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ApiError("InvalidParameterValue", f"{name} must be a list of strings")
    return values


def string_map(body: dict[str, Any], name: str) -> dict[str, str]:
    values = body.get(name)
    if values is None:
        return {}
    if not isinstance(values, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in values.items()
    ):
        raise ApiError("InvalidParameterValue", f"{name} must be a map of strings to strings")
    return values


def check_tag_count(queue: str, tags: dict[str, str]) -> None:
    """SQS's refusal of more than 50 tags on a queue (counting those it has)."""
    if len(tags) > MAX_TAGS:
        raise ApiError("InvalidParameterValue", f"Too many tags added for queue {queue}.")


def visibility_timeout(body: dict[str, Any]) -> int:
    if body.get("VisibilityTimeout") is None:
        raise missing("VisibilityTimeout")
    value = optional(body, "VisibilityTimeout", int)
    return int(value)


def batch_entries(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    entries = body.get("Entries")
    if entries is None:
        raise missing("Entries")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ApiError("InvalidParameterValue", "Entries must be a list of entries")
    if not entries:
        raise ApiError("EmptyBatchRequest",
                       f"There should be at least one {kind} in the request.")  # fmt: skip
    if len(entries) > MAX_BATCH:
        raise ApiError("TooManyEntriesInBatchRequest", f"Maximum number of entries per request "
                       f"are {MAX_BATCH}. You have sent {len(entries)}.")  # fmt: skip
    ids = [e.get("Id") for e in entries]
    for entry_id in ids:
        if not isinstance(entry_id, str) or not _BATCH_ID.match(entry_id):
            raise ApiError("InvalidBatchEntryId", "A batch entry id can only contain "
                           "alphanumeric characters, hyphens and underscores. It can be at most "
                           "80 letters long.")  # fmt: skip
    seen: set[str] = set()
    for entry_id in ids:  # SQS names the first entry whose id came before
        if entry_id in seen:
            raise ApiError("BatchEntryIdsNotDistinct", f"Id {entry_id} repeated.")
        seen.add(entry_id)
    return entries
