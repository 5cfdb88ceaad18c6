"""In-memory SQS queues (docs/aws-behaviour.md §3): visibility, delays, FIFO groups, dedup, redrive.

``Queue`` is the API of one queue; every timed state change happens on the injected clock.
Its parts: ``queue_states.py`` (the messages by state, the timeline of delays and visibility
timeouts, the order visible ones are handed out in, FIFO groups), ``queue_receive.py``
(receipt handles, what a receive returns), ``queue_send.py`` (a send's checks, FIFO
deduplication) and ``queue_store.py`` (SQLite, for a persisted queue).

Example::

    queue = sim.queue("jobs")
    queue.send_message('{"n": 1}', attributes={"kind": {"DataType": "String",
                                                         "StringValue": "resize"}})
    [message] = await queue.receive_messages(max_messages=10)
    queue.delete_message(message.receipt_handle)
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..clock import Clock
from ..config import QueueConfig
from ..errors import QueueError, ValueRejected
from ..events import ids
from ..events.sqs import queue_arn
from .messages import (
    DELAYED,
    IN_FLIGHT,
    VISIBLE,
    Counts,
    Message,
    Sent,
    _Extra,
    _Message,
    check_range,
    invalid,
    receive_limits,
)
from .queue_receive import Peeked, Receipts, latest, peeked, view, wait_for_change
from .queue_send import DEDUP_WINDOW_S, Deduplication, check_batch, check_send
from .queue_states import States
from .queue_store import QueueStore

#: SQS allows one PurgeQueue per queue every 60 seconds.
PURGE_INTERVAL_S = 60

#: Called with (queue, what, message id, body, target queue) by ``Queue.notify``.
Observe = Callable[["Queue", str, str, str, "Queue | None"], None]


class Queue:
    """One SQS queue (standard, or FIFO when the name ends in ``.fifo``)."""

    def __init__(
        self,
        name: str,
        config: QueueConfig,
        *,
        clock: Clock,
        rng: random.Random,
        region: str,
        account: str,
        dead_letter: Callable[[], Queue | None] = lambda: None,
        store: QueueStore | None = None,
        observe: Observe | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.fifo = name.endswith(".fifo")
        self.region = region
        self.account = account
        self.arn = queue_arn(region, account, name)
        self.created_at = self.modified_at = clock.time()
        #: Set once DeleteQueue removed it: it takes nothing more.
        self.deleted = False
        self._clock = clock
        self._rng = rng
        self._dead_letter = dead_letter
        self._observe = observe
        self._store = store if config.persist else None
        self._key = f"{region}/{name}"
        self.changed = asyncio.Event()  # set whenever a message may have become visible
        self._states = States(self.fifo, self.changed)
        self._receipts = Receipts(rng)
        # SQS deduplicates by the scope a queue was created with, whatever it is set to later.
        self._dedup = Deduplication(config.deduplication_scope == "messageGroup")
        self._sequence = itertools.count(1)
        self._purged_at: float | None = None
        self.listeners: list[Callable[[], None]] = []  # called synchronously on sends
        self._redeliver = 0

    # --- sending --------------------------------------------------------------------------

    def send(
        self,
        body: str,
        *,
        attributes: Mapping[str, Mapping[str, Any]] | None = None,
        delay_seconds: int | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        system_attributes: Mapping[str, Mapping[str, Any]] | None = None,
        trace_header: str | None = None,
    ) -> Sent:
        """SendMessage: the message id (the original's for a FIFO duplicate) and, on FIFO
        queues, its sequence number. ``system_attributes``: ``AWSTraceHeader`` only
        (``trace_header`` is the same, as a caller's ``X-Amzn-Trace-Id`` header)."""
        self._check_alive()
        prepared = check_send(self.fifo, self.config, body, attributes, delay_seconds, group_id,
                              deduplication_id, system_attributes, trace_header)  # fmt: skip
        sent = self._enqueue(*prepared)
        if self._store is not None:
            self._store.commit()  # durable before it is acknowledged
        return sent

    def send_each(self, entries: list[Mapping[str, Any]]) -> list[Sent | QueueError]:
        """SendMessageBatch's entries (each the keywords of ``send``), each sent or refused on
        its own; one commit for all."""
        outcomes: list[Sent | QueueError] = []
        for entry in entries:
            try:
                self._check_alive()
                outcomes.append(self._enqueue(*check_send(self.fifo, self.config, **entry)))
            except QueueError as exc:
                outcomes.append(exc)
        if self._store is not None:
            self._store.commit()
        return outcomes

    def send_message(self, body: str, **options: Any) -> str:
        """Send one message; return its id (see ``send`` for the options)."""
        return self.send(body, **options).message_id

    def send_message_batch(self, entries: list[Mapping[str, Any]]) -> list[str]:
        """Send up to 10 entries (each the keyword arguments of ``send_message``), all or
        none: every entry is checked before any is sent."""
        check_batch(entries)
        self._check_alive()
        prepared = [check_send(self.fifo, self.config, **entry) for entry in entries]
        sent = [self._enqueue(*args) for args in prepared]
        if self._store is not None:
            self._store.commit()
        return [s.message_id for s in sent]

    def _enqueue(
        self,
        body: str,
        attributes: dict[str, dict[str, Any]] | None,
        delay_seconds: int | None,
        group_id: str | None,
        deduplication_id: str | None,
        trace_header: str | None,
        system: dict[str, dict[str, Any]] | None = None,
    ) -> Sent:
        now = self._clock.time()
        self._states.apply_due(now)
        sequence_number = None
        if self.fifo:
            seen = self._dedup.seen(group_id, deduplication_id, now)
            if seen is not None:  # accepted, not delivered again
                return Sent(seen[1], seen[2], body, attributes, system)
            sequence_number = f"{next(self._sequence):020d}"
        # FIFO queues take no per-message delay (0 is accepted and means the queue's).
        delay = self.config.delay_seconds if delay_seconds is None or self.fifo else delay_seconds
        extra = None
        if group_id is not None or trace_header is not None:
            extra = _Extra(group_id, deduplication_id, sequence_number, trace_header)
        message = _Message(
            ids.uuid4(self._rng), body, attributes, now, next(self._states.seq),
            now + delay if delay else now, extra,
        )  # fmt: skip
        if self.fifo:
            self._dedup.remember(group_id, deduplication_id, now, message.id, sequence_number)
        self._states.add(message, now)
        if self._store is not None:
            self._store.add(self._key, message)
        self._notify()
        return Sent(message.id, sequence_number, body, attributes, system)

    def _notify(self) -> None:
        for listener in list(self.listeners):
            listener()

    def restore(self, messages: Iterable[_Message]) -> int:
        """Take back messages a persisted queue stored (in send order); return how many.
        In-flight ones stay hidden until their visibility timeout ends; handles do not
        survive a restart. FIFO deduplication ids sent within the interval are remembered."""
        now = self._clock.time()
        count, last, numbers = 0, -1, 0
        for message in messages:
            in_flight = message.state == IN_FLIGHT and message.available_at > now
            message.state, message.handle = DELAYED, None
            self._states.add(message, now)
            if in_flight:
                self._states.set_state(message, IN_FLIGHT)
            extra = message.extra
            if extra is not None and extra.sequence_number is not None:
                numbers = max(numbers, int(extra.sequence_number))
                if now - message.sent_at < DEDUP_WINDOW_S:
                    self._dedup.remember(extra.group_id, extra.deduplication_id, message.sent_at,
                                         message.id, extra.sequence_number)  # fmt: skip
            count, last = count + 1, max(last, message.seq)
        self._states.seq = itertools.count(last + 1)
        self._sequence = itertools.count(numbers + 1)
        return count

    def next_change(self) -> float | None:
        """When a message next becomes visible, if none is now (for pollers' sleeps)."""
        return self._states.next_change()

    def _check_alive(self) -> None:
        if self.deleted:
            raise QueueError("QueueDoesNotExist", "The specified queue does not exist.")

    # --- receiving ------------------------------------------------------------------------

    def receive_now(
        self, max_messages: int = 1, visibility_timeout: int | None = None
    ) -> list[Message]:
        """Receive up to ``max_messages`` visible messages without waiting (none from a
        deleted queue: a trigger still holding it finds it empty)."""
        receive_limits(max_messages, None, visibility_timeout)
        if self.deleted:
            return []
        now = self._clock.time()
        self._states.apply_due(now)
        visibility = (
            self.config.visibility_timeout if visibility_timeout is None else visibility_timeout
        )
        taken: list[Message] = []
        for message in self._states.visible():
            if now - message.sent_at >= self.config.message_retention_period:
                self._remove(message)
                self.notify("expired", message.id, message.body, None)
                continue
            redrive = self.config.redrive
            if redrive is not None and message.receive_count >= redrive.max_receive_count:
                if self._move_to_dead_letter(message):
                    continue
            taken.append(self._deliver(message, now, visibility))
            if len(taken) >= max_messages:
                break
        if not self._states.has_visible():
            self.changed.clear()
        return taken

    def _deliver(self, message: _Message, now: float, visibility: int) -> Message:
        message.receive_count += 1
        if message.first_receive_at is None:
            message.first_receive_at = now
        handle = self._receipts.issue(message)
        self._states.hide(message, now + visibility)
        if self._store is not None:
            self._store.update(self._key, message)
        return view(message, handle)

    async def receive_messages(
        self,
        max_messages: int = 1,
        wait_seconds: int | None = None,
        visibility_timeout: int | None = None,
    ) -> list[Message]:
        """ReceiveMessage: long-polls on the clock up to ``wait_seconds`` (queue default)."""
        receive_limits(max_messages, wait_seconds, visibility_timeout)
        wait = (
            self.config.receive_message_wait_time_seconds if wait_seconds is None else wait_seconds
        )
        deadline = self._clock.time() + wait
        while True:
            found = self.receive_now(max_messages, visibility_timeout)
            if found or self._clock.time() >= deadline or self.deleted:
                return found
            next_change = self.next_change()
            wake = deadline if next_change is None else min(deadline, next_change)
            await wait_for_change(self.changed, self._clock, wake)

    # --- deleting and visibility ------------------------------------------------------------

    def delete_message(self, receipt_handle: str) -> None:
        """DeleteMessage. A handle of a message already gone is accepted, as SQS does (and
        every handle of a deleted queue: its messages are gone)."""
        if self.deleted:
            return
        now = self._clock.time()
        self._states.apply_due(now)
        message = self._receipts.find(receipt_handle)
        if message is None:
            return
        if self.fifo and not latest(message, receipt_handle):
            raise invalid("ReceiptHandle", receipt_handle, "The receipt handle has expired.")
        if self._redeliver:  # an injected fault: at-least-once, delivered again
            self._redeliver -= 1
            self._states.hide(message, now)
            self._notify()
            return
        self._remove(message)

    def redeliver_next(self, count: int = 1) -> None:
        """Fault injection: the next ``count`` messages deleted become visible once more."""
        self._redeliver += count

    def change_message_visibility(self, receipt_handle: str, visibility_timeout: int) -> None:
        """ChangeMessageVisibility: hidden for ``visibility_timeout`` seconds from now (0: at
        once visible). On a standard queue any handle of the message works, even after its
        timeout expired (the message is hidden again), as SQS does."""
        check_range("VisibilityTimeout", visibility_timeout, 0, 43200,
                    "Must be >= 0 and <= 43200, if provided.")  # fmt: skip
        self._check_alive()
        now = self._clock.time()
        self._states.apply_due(now)
        message = self._receipts.find(receipt_handle)
        if message is None or (self.fifo and not latest(message, receipt_handle)):
            raise invalid("ReceiptHandle", receipt_handle, "Message does not exist or is not "
                          "available for visibility timeout change.")  # fmt: skip
        if message.state == DELAYED:
            raise QueueError("MessageNotInflight", "The message is not in flight.")
        self._states.hide(message, now + visibility_timeout)
        if self._store is not None:
            self._store.update(self._key, message)
        self._states.apply_due(now)

    def purge(self) -> None:
        """PurgeQueue: every message goes (and the FIFO deduplication history); once per
        60 seconds, as SQS allows."""
        self._check_alive()
        now = self._clock.time()
        if self._purged_at is not None and now - self._purged_at < PURGE_INTERVAL_S:
            raise QueueError("PurgeQueueInProgress", f"Only one PurgeQueue operation on "
                             f"{self.name} is allowed every 60 seconds.")  # fmt: skip
        self._purged_at = now
        self._clear()

    def _clear(self) -> None:
        if self._store is not None:
            self._store.purge(self._key)
        self._states.clear()
        self._receipts.clear()
        self._dedup.clear()
        self.changed.clear()

    def close(self) -> None:
        """DeleteQueue: its messages go, and it refuses every later request."""
        self._clear()
        self.deleted = True
        self.changed.set()  # long polls return

    def _remove(self, message: _Message) -> None:
        self._states.remove(message)
        if self._store is not None:
            self._store.remove(self._key, message)
        self._receipts.forget(message)

    def _move_to_dead_letter(self, message: _Message) -> bool:
        """Move ``message`` to the dead-letter queue; False when there is none (it stays)."""
        dead_letter = self._dead_letter()
        if dead_letter is None or dead_letter.deleted:
            return False
        self._remove(message)
        dead_letter.take(message, source=self.arn)
        self.notify("dead_lettered", message.id, message.body, dead_letter)
        return True

    def notify(self, what: str, message_id: str, body: str, target: Queue | None) -> None:
        """Tell the observer what became of a message other than a delete: ``dead_lettered``,
        ``expired`` (retention), ``redriven`` (a message move task took it to ``target``)."""
        if self._observe is not None:
            self._observe(self, what, message_id, body, target)

    def take(self, message: _Message, *, source: str | None) -> None:
        """Accept a message another queue moves here: to its dead-letter queue (``source``:
        that queue's ARN; the receive count carries on, as in SQS) or back from one by a
        message move task (``source`` None; received afresh). Same id, body and attributes;
        retention counts from the original send."""
        now = self._clock.time()
        self._states.apply_due(now)
        old = message.extra
        extra = None
        if old is not None or source is not None:
            extra = _Extra(
                old.group_id if old else None,
                old.deduplication_id if old else None,
                f"{next(self._sequence):020d}" if self.fifo else None,
                old.trace_header if old else None,
                source,
            )
        moved = _Message(message.id, message.body, message.attributes, message.sent_at,
                         next(self._states.seq), now, extra)  # fmt: skip
        if source is not None:
            moved.receive_count = message.receive_count
            moved.first_receive_at = message.first_receive_at
        self._states.add(moved, now)
        if self._store is not None:
            self._store.add(self._key, moved)
            self._store.commit()
        self._notify()

    def peek_oldest(self) -> _Message | None:
        """The oldest message not in flight (for message move tasks)."""
        self._states.apply_due(self._clock.time())
        for message in self._states:
            if message.state != IN_FLIGHT:
                return message
        return None

    def take_oldest(self) -> _Message | None:
        """Remove and return the oldest message not in flight."""
        message = self.peek_oldest()
        if message is not None:
            self._remove(message)
        return message

    # --- attributes -----------------------------------------------------------------------

    def reconfigure(self, config: QueueConfig) -> None:
        """New attributes (SetQueueAttributes, TagQueue): LastModifiedTimestamp moves."""
        self.config = config
        self.modified_at = self._clock.time()

    def dead_letter_target(self) -> Queue | None:
        return self._dead_letter()

    # --- inspection -----------------------------------------------------------------------

    def counts(self) -> Counts:
        """Approximate counts (exact here): visible, in flight, delayed; O(1)."""
        self._states.apply_due(self._clock.time())
        delayed, visible, in_flight = self._states.counts
        return Counts(visible, in_flight, delayed)

    def peek(self, limit: int = 10) -> list[Peeked]:
        """The ``limit`` oldest messages as they stand (id, body, attributes, receive count,
        state), in queue order, without receiving them: nothing changes, no handle is made.
        Reads those messages only, however deep the queue.

        Example::

            [first] = sim.queue("jobs").peek(1)
            assert first.state == "visible" and first.receive_count == 0
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueRejected(
                f"{self.name}: peek's limit must be a whole number >= 0, not {limit!r}"
            )
        self._states.apply_due(self._clock.time())
        return [peeked(message) for message in self._states.oldest(limit)]

    def snapshot(self) -> dict[str, list[str]]:
        """Bodies by state, in queue order, for tests (reads every message: ``peek`` reads
        only the oldest few)."""
        self._states.apply_due(self._clock.time())
        state: dict[str, list[str]] = {"visible": [], "in_flight": [], "delayed": []}
        names = {DELAYED: "delayed", VISIBLE: "visible", IN_FLIGHT: "in_flight"}
        for message in self._states:
            state[names[message.state]].append(message.body)
        return state

    def __len__(self) -> int:
        return self._states.count

    def __repr__(self) -> str:
        return f"<Queue {self.arn} ({len(self)} messages)>"
