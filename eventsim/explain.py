""" "Why didn't it fire?": what the ledger knows about one S3 key, SQS message or table item.

Every delivery attempt, every event dropped by a filter, expired or discarded, and every S3
change that matched no notification configuration is in the ledger with its reason; this
finds the entries about one thing and says what happened to it, in order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .events import s3
from .ledger import Attempt, Outcome

#: The ledger's ``function`` for an event that reached no function at all.
NO_FUNCTION = ""


def _records(attempt: Attempt) -> list[dict[str, Any]]:
    event = attempt.event
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        return [r for r in event["Records"] if isinstance(r, dict)]
    if isinstance(event, dict) and ("messageId" in event or "dynamodb" in event):
        return [event]  # a single record, as filters drop them
    return []


def _about_key(record: dict[str, Any], key: str) -> bool:
    return record.get("s3", {}).get("object", {}).get("key") in (key, s3.encode_key(key))


def _about_message(record: dict[str, Any], message_id: str) -> bool:
    return record.get("messageId") == message_id or message_id in str(record.get("body", ""))


def _about_item(record: dict[str, Any], item: dict[str, Any]) -> bool:
    keys = record.get("dynamodb", {}).get("Keys", {})
    plain = {name: next(iter(value.values())) for name, value in keys.items()}
    return bool(plain) and all(str(item.get(name)) == str(v) for name, v in plain.items())


def find(
    attempts: Iterable[Attempt],
    *,
    key: str | None = None,
    message_id: str | None = None,
    item: dict[str, Any] | None = None,
) -> list[Attempt]:
    """The ledger entries about an S3 key, a message (id or body text) or an item's key."""
    found = []
    for attempt in attempts:
        records = _records(attempt)
        if (
            (key is not None and any(_about_key(r, key) for r in records))
            or (message_id is not None and any(_about_message(r, message_id) for r in records))
            or (item is not None and any(_about_item(r, item) for r in records))
        ):
            found.append(attempt)
    return found


def describe(attempt: Attempt) -> str:
    who = attempt.function or "(no function)"
    line = f"{attempt.started_at:%Y-%m-%d %H:%M:%S} {attempt.source} -> {who}: "
    if attempt.outcome is Outcome.DROPPED:
        line += f"dropped: {attempt.reason}"
    elif attempt.outcome is Outcome.SUCCESS:
        line += f"attempt {attempt.attempt} succeeded"
    else:
        line += f"attempt {attempt.attempt} {attempt.outcome.value}"
        if attempt.error_type:
            line += f" ({attempt.error_type})"
        if attempt.reason:
            line += f"; {attempt.reason}"
    return line


def explain(
    attempts: Iterable[Attempt],
    *,
    key: str | None = None,
    message_id: str | None = None,
    item: dict[str, Any] | None = None,
) -> str:
    """A few lines: every ledger entry about the thing, or why nothing is known."""
    what = (
        f"S3 key {key!r}" if key is not None
        else f"message {message_id!r}" if message_id is not None
        else f"item {json.dumps(item, default=str)}"
    )  # fmt: skip
    found = find(attempts, key=key, message_id=message_id, item=item)
    if not found:
        return (
            f"{what}: nothing in the ledger. No trigger saw it: check the bucket, queue or "
            "table name, that the write happened while eventsim ran, and for S3 that the file "
            "is complete (not an ignored temporary name)."
        )
    return "\n".join([f"{what}:", *("  " + describe(a) for a in found)])
