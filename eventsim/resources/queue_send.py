"""Sending to a queue: a send checked against SQS's rules, and FIFO deduplication (§3.4).

A FIFO send whose deduplication id (given, or with content-based deduplication the SHA-256 of
the body) was sent in the last five minutes is accepted and not delivered again: it answers
with the first send's message id and sequence number. The id is the queue's, or the message
group's, by the scope the queue was created with (whatever it is set to later), as SQS does.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Mapping, Sized
from typing import Any

from ..config import QueueConfig
from ..errors import QueueError
from .messages import MAX_BATCH, attributes_size, check_attributes, check_body, check_placement

#: §3.4: FIFO deduplication interval.
DEDUP_WINDOW_S = 300


def check_send(
    fifo: bool,
    config: QueueConfig,
    body: str,
    attributes: Mapping[str, Mapping[str, Any]] | None = None,
    delay_seconds: int | None = None,
    group_id: str | None = None,
    deduplication_id: str | None = None,
    system_attributes: Mapping[str, Mapping[str, Any]] | None = None,
    trace_header: str | None = None,
) -> tuple[Any, ...]:
    """Check a send to a queue (FIFO or not, with ``config``) against SQS's rules; the
    arguments of ``Queue._enqueue``."""
    checked = check_attributes(attributes)
    system = check_attributes(system_attributes, system=True)
    if system is not None:
        trace_header = system["AWSTraceHeader"]["StringValue"]
    check_placement(fifo, delay_seconds, group_id, deduplication_id)
    body = check_body(body, config.maximum_message_size, attributes_size(checked))
    if fifo and deduplication_id is None:
        if not config.content_based_deduplication:
            raise QueueError(
                "InvalidParameterValue",
                "The queue should either have ContentBasedDeduplication enabled or "
                "MessageDeduplicationId provided explicitly",
            )
        deduplication_id = hashlib.sha256(body.encode()).hexdigest()
    return body, checked, delay_seconds, group_id, deduplication_id, trace_header, system


def check_batch(entries: Sized) -> None:
    """SendMessageBatch's entries: at least one, at most 10."""
    if not entries:
        raise QueueError("EmptyBatchRequest",
                         "There should be at least one SendMessageBatchRequestEntry in the "
                         "request.")  # fmt: skip
    if len(entries) > MAX_BATCH:
        raise QueueError("TooManyEntriesInBatchRequest", f"Maximum number of entries per "
                         f"request are 10. You have sent {len(entries)}.")  # fmt: skip


class Deduplication:
    """The deduplication ids one FIFO queue was sent within the interval, and what each send
    answered."""

    def __init__(self, group_scoped: bool) -> None:
        self._group_scoped = group_scoped
        self._seen: dict[Any, tuple[float, str, str | None]] = {}  # key -> (at, id, seq no.)
        self._order: deque[tuple[float, Any]] = deque()

    def seen(
        self, group_id: str | None, deduplication_id: str | None, now: float
    ) -> tuple[float, str, str | None] | None:
        """(sent at, message id, sequence number) of the send of ``deduplication_id`` within
        the interval before ``now``, if any."""
        while self._order and self._order[0][0] <= now - DEDUP_WINDOW_S:
            _, key = self._order.popleft()
            seen = self._seen.get(key)
            if seen is not None and seen[0] <= now - DEDUP_WINDOW_S:
                del self._seen[key]
        key = (group_id, deduplication_id) if self._group_scoped else deduplication_id
        return self._seen.get(key)

    def remember(
        self,
        group_id: str | None,
        deduplication_id: str | None,
        at: float,
        message_id: str,
        sequence_number: str | None,
    ) -> None:
        key = (group_id, deduplication_id) if self._group_scoped else deduplication_id
        self._seen[key] = (at, message_id, sequence_number)
        self._order.append((at, key))

    def clear(self) -> None:
        self._seen.clear()
        self._order.clear()
