""" "Why didn't it fire?": what the ledger knows about one S3 key, SQS message or table item.

Every delivery attempt, every event dropped by a filter, expired or discarded, and every S3
change that matched no notification configuration is in the ledger with its reason; this
finds the entries about one thing and says what happened to it, in order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .ledger import Attempt, Outcome
from .triggers import registry

#: The ledger's ``function`` for an event that reached no function at all.
NO_FUNCTION = ""


def find(
    attempts: Iterable[Attempt],
    *,
    key: str | None = None,
    message_id: str | None = None,
    item: dict[str, Any] | None = None,
) -> list[Attempt]:
    """The ledger entries about an S3 key, a message (id or body text) or an item's key.

    Each entry's trigger kind (its ``source`` prefix: ``s3:``, ``sqs:``...) tells which of its
    records are about the thing (``TriggerKind.identifies``), plug-in kinds included.
    """
    query = {"key": key, "message_id": message_id, "item": item}
    kinds = registry.kinds()
    found = []
    for attempt in attempts:
        kind = kinds.get(attempt.source.partition(":")[0])
        if kind is not None and any(
            kind.identifies(record, query) for record in kind.records(attempt.event)
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
