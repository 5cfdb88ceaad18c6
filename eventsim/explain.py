""" "Why didn't it fire?": what the ledger knows about one S3 key, SQS message or table item.

Every delivery attempt, every event dropped by a filter, expired or discarded, and every S3
change that matched no notification configuration is in the ledger with its reason; this
finds the entries about one thing and says what happened to it, in order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .ledger import Attempt, Outcome, RecordOutcome
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


#: How a record's own outcome in a batch reads.
_RECORD = {
    "succeeded": "succeeded",
    "failed": "reported failed by the batch response; it comes back",
    "retried": "failed with its batch; it comes back",
    "discarded": "discarded",
}


def describe(attempt: Attempt, record: RecordOutcome | None = None) -> str:
    """One line about one entry; with ``record``, about that record of a batch attempt."""
    who = attempt.function or "(no function)"
    line = f"{attempt.started_at:%Y-%m-%d %H:%M:%S} {attempt.source} -> {who}: "
    if attempt.outcome is Outcome.DROPPED:
        return line + f"dropped: {attempt.reason}"
    if attempt.outcome is Outcome.MOVED:
        return line + f"moved: {attempt.reason}"
    number = record.attempt if record is not None else attempt.attempt
    if record is not None and attempt.ran:
        phrase = _RECORD.get(record.outcome, record.outcome)
        if record.outcome == "retried" and attempt.error_type:
            why = attempt.error_type + (f"; {attempt.reason}" if attempt.reason else "")
            phrase = f"failed with its batch ({why}); it comes back"
        return line + f"attempt {number} {phrase}"
    if attempt.outcome is Outcome.SUCCESS:
        return line + f"attempt {number} succeeded"
    line += f"attempt {number} {attempt.outcome.value}"
    if attempt.error_type:
        line += f" ({attempt.error_type})"
    if attempt.reason:
        line += f"; {attempt.reason}"
    return line


def _record_of(attempt: Attempt, message_id: str | None, item: dict[str, Any] | None) -> Any:
    """The outcome of the asked-about record in a batch attempt, if the entry has them."""
    if not attempt.records:
        return None
    if message_id is not None:
        return next((r for r in attempt.records if r.id == message_id), None)
    if item is not None:
        kind = registry.kinds().get(attempt.source.partition(":")[0])
        if kind is not None:
            ids = {
                str(r.get("dynamodb", {}).get("SequenceNumber"))
                for r in kind.records(attempt.event)
                if kind.identifies(r, {"item": item})
            }
            return next((r for r in attempt.records if r.id in ids), None)
    return None


def explain(
    attempts: Iterable[Attempt],
    *,
    key: str | None = None,
    message_id: str | None = None,
    item: dict[str, Any] | None = None,
) -> str:
    """A few lines: every ledger entry about the thing, in time order — each attempt with
    the outcome of that very record, and where it ended (deleted, a dead-letter queue, a
    destination, expired) — or why nothing is known."""
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
    lines = [describe(a, _record_of(a, message_id, item)) for a in found]
    return "\n".join([f"{what}:", *("  " + line for line in lines)])
