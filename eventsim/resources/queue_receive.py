"""Receiving: a message as ReceiveMessage returns it, its receipt handle, and the long poll's
wait; and a message as it stands, for a look that receives nothing (``Peeked``).

A standard queue honours every handle it issued for a message still there (SQS does: an old
handle deletes the message, or changes its visibility); a FIFO queue only the latest, and only
while the message is in flight (``latest``; "The receipt handle has expired").
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any, Literal

from ..clock import Clock
from ..errors import QueueError
from ..events import ids
from ..events.sqs import md5_of_body, md5_of_message_attributes, system_attributes
from .messages import DELAYED, IN_FLIGHT, VISIBLE, Message, _Extra, _Message

#: ``Peeked.state``: waiting for its delay, visible, or received and not yet deleted.
PeekState = Literal["delayed", "visible", "in_flight"]
_STATE_NAMES: dict[int, PeekState] = {DELAYED: "delayed", VISIBLE: "visible",
                                      IN_FLIGHT: "in_flight"}  # fmt: skip


class Receipts:
    """The receipt handles of one queue's messages."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._by_handle: dict[str, _Message] = {}

    def issue(self, message: _Message) -> str:
        """A new handle for ``message``; the handles it had before stay valid."""
        if message.handle is not None:
            extra = message.extra = message.extra or _Extra()
            extra.old_handles = (extra.old_handles or []) + [message.handle]
        message.handle = ids.receipt_handle(self._rng)
        self._by_handle[message.handle] = message
        return message.handle

    def find(self, receipt_handle: object) -> _Message | None:
        """The live message ``receipt_handle`` names; None for a well-formed handle of one
        gone; ``ReceiptHandleIsInvalid`` for a handle eventsim never made."""
        if not isinstance(receipt_handle, str):
            raise QueueError("ReceiptHandleIsInvalid", "The input receipt handle is invalid.")
        message = self._by_handle.get(receipt_handle)
        if message is None and not ids.looks_like_receipt_handle(receipt_handle):
            raise QueueError(
                "ReceiptHandleIsInvalid",
                f'The input receipt handle "{receipt_handle}" is not a valid receipt handle.',
            )
        return message

    def forget(self, message: _Message) -> None:
        """Every handle of ``message`` (removed from the queue) names nothing any more."""
        if message.handle is not None:
            self._by_handle.pop(message.handle, None)
            for old in (message.extra.old_handles or []) if message.extra else []:
                self._by_handle.pop(old, None)

    def clear(self) -> None:
        self._by_handle.clear()


def latest(message: _Message, handle: str) -> bool:
    """Whether ``handle`` is one a FIFO queue honours for ``message``."""
    return message.handle == handle and message.state == IN_FLIGHT


def view(message: _Message, handle: str) -> Message:
    """``message`` as ReceiveMessage returns it, with ``handle``."""
    extra = message.extra
    attributes = system_attributes(
        sent_ms=int(message.sent_at * 1000),
        receive_count=message.receive_count,
        first_receive_ms=int((message.first_receive_at or message.sent_at) * 1000),
        group_id=extra.group_id if extra else None,
        deduplication_id=extra.deduplication_id if extra else None,
        sequence_number=extra.sequence_number if extra else None,
        trace_header=extra.trace_header if extra else None,
        dead_letter_source_arn=extra.dead_letter_source if extra else None,
    )
    return Message(
        message_id=message.id,
        receipt_handle=handle,
        body=message.body,
        attributes=attributes,
        message_attributes=message.attributes or {},
        md5_of_body=md5_of_body(message.body),
        md5_of_message_attributes=md5_of_message_attributes(message.attributes or {}),
    )


@dataclass(frozen=True, slots=True)
class Peeked:
    """A message as it stands in its queue, looked at without receiving it (``Queue.peek``).

    ``attributes`` are its message attributes as sent; ``receive_count`` how many times it was
    received; ``available_at`` (clock seconds) when its delay or visibility timeout ends, None
    for a visible one."""

    message_id: str
    body: str
    attributes: dict[str, dict[str, Any]]
    receive_count: int
    state: PeekState
    sent_at: float
    available_at: float | None
    group_id: str | None


def peeked(message: _Message) -> Peeked:
    """``message`` as ``Queue.peek`` shows it (a copy: the queue's own stays untouched)."""
    state = _STATE_NAMES[message.state]
    return Peeked(
        message_id=message.id,
        body=message.body,
        attributes={name: dict(value) for name, value in (message.attributes or {}).items()},
        receive_count=message.receive_count,
        state=state,
        sent_at=message.sent_at,
        available_at=None if state == "visible" else message.available_at,
        group_id=message.group_id,
    )


async def wait_for_change(changed: asyncio.Event, clock: Clock, wake: float) -> None:
    """Until ``changed`` is set or ``clock`` reaches ``wake``, whichever comes first."""
    waiters = [
        asyncio.create_task(changed.wait()),
        asyncio.create_task(clock.sleep_until(wake)),
    ]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
