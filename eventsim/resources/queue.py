"""In-memory SQS queues (docs/aws-behaviour.md §3): visibility, delays, FIFO groups, dedup, redrive.

Every timed state change happens on the injected clock. A message is DELAYED, VISIBLE or
IN_FLIGHT (``messages.py``); the counts of each are kept as counters, so GetQueueAttributes
costs O(1). A message waiting for a delay or a visibility timeout is on the *timeline* heap,
keyed by when its state changes next; operations first apply the changes that fell due, so
each operation costs O(log n) in queue depth. Heap entries are invalidated lazily by a
per-message version.

Standard queues hand out visible messages oldest first: a message sent visible joins a deque,
one that becomes visible later (a delay ended, a visibility timeout expired) a heap by send
order. FIFO queues keep each message group in send order and hand out a group's messages from
its first one up to the first that is not visible, as SQS does: a group whose first message is
in flight gives nothing.

Receipt handles: a standard queue honours every handle it issued for a message still there
(SQS does: an old handle deletes the message, or changes its visibility); a FIFO queue only the
latest, and only while the message is in flight ("The receipt handle has expired").

Memory: a message is one ``_Message`` with ``__slots__`` (digests are computed when handed
out), held by send sequence in dicts of 16k each (one dict of a million would stall the
loop for tens of milliseconds each time it grows). Every 16k messages a deep queue takes in (sends,
restores), what exists is moved out of the garbage collector's way (``memory.after_bulk_load``:
messages hold no reference cycles, so reference counting still frees them), and full
collections do not stall the loop for time proportional to the depth.

Example::

    queue = sim.queue("jobs")
    queue.send_message('{"n": 1}', attributes={"kind": {"DataType": "String",
                                                         "StringValue": "resize"}})
    [message] = await queue.receive_messages(max_messages=10)
    queue.delete_message(message.receipt_handle)
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import itertools
import random
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ..clock import Clock
from ..config import QueueConfig
from ..events import ids
from ..events.sqs import md5_of_body, md5_of_message_attributes, queue_arn, system_attributes
from ..memory import after_bulk_load
from .messages import (
    DELAYED,
    IN_FLIGHT,
    MAX_BATCH,
    VISIBLE,
    Counts,
    Message,
    QueueError,
    Sent,
    _Extra,
    _Message,
    attributes_size,
    check_attributes,
    check_body,
    check_placement,
    check_range,
    invalid,
    receive_limits,
)
from .queue_store import QueueStore

#: §3.4: FIFO deduplication interval.
DEDUP_WINDOW_S = 300
#: SQS allows one PurgeQueue per queue every 60 seconds.
PURGE_INTERVAL_S = 60
#: Every this many messages taken in by a queue at least this deep, freeze what exists.
FREEZE_STEP = 16_384
#: Messages per shard of the index by sequence (a shard grows without a long stall).
SHARD_BITS = 14
_GONE = 3  # state of a message no longer in the queue (its heap entries are stale)


class _Group:
    """A FIFO message group: its messages in order."""

    __slots__ = ("messages", "queued")

    def __init__(self) -> None:
        self.messages: deque[_Message] = deque()
        self.queued = False  # an entry for it is in the group heap


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
        self._shards: dict[int, dict[int, _Message]] = {}  # seq >> SHARD_BITS -> seq -> m
        self._count = 0
        self._by_handle: dict[str, _Message] = {}
        self._timeline: list[tuple[float, int, int, _Message]] = []  # (when, seq, version, m)
        self._fresh: deque[_Message] = deque()  # standard: sent visible, in send order
        self._returned: list[tuple[int, _Message]] = []  # standard: visible again, by seq
        self._groups: dict[str, _Group] = {}
        self._group_heap: list[tuple[int, str]] = []  # FIFO: (head seq, group) available
        self._counts = [0, 0, 0]  # DELAYED, VISIBLE, IN_FLIGHT
        self._dedup: dict[Any, tuple[float, str, str | None]] = {}  # key -> (at, id, seq no.)
        self._dedup_order: deque[tuple[float, Any]] = deque()
        self._seq = itertools.count()
        self._sequence = itertools.count(1)
        self._purged_at: float | None = None
        # SQS deduplicates by the scope a queue was created with, whatever it is set to later.
        self._group_scoped = config.deduplication_scope == "messageGroup"
        self._taken_in = 0  # messages added since the last freeze
        self.changed = asyncio.Event()  # set whenever a message may have become visible
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
        prepared = self._prepare(body, attributes, delay_seconds, group_id, deduplication_id,
                                 system_attributes, trace_header)  # fmt: skip
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
                outcomes.append(self._enqueue(*self._prepare(**entry)))
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
        if not entries:
            raise QueueError("EmptyBatchRequest",
                             "There should be at least one SendMessageBatchRequestEntry in the "
                             "request.")  # fmt: skip
        if len(entries) > MAX_BATCH:
            raise QueueError("TooManyEntriesInBatchRequest", f"Maximum number of entries per "
                             f"request are 10. You have sent {len(entries)}.")  # fmt: skip
        prepared = [self._prepare(**entry) for entry in entries]
        sent = [self._enqueue(*args) for args in prepared]
        if self._store is not None:
            self._store.commit()
        return [s.message_id for s in sent]

    def _prepare(
        self,
        body: str,
        attributes: Mapping[str, Mapping[str, Any]] | None = None,
        delay_seconds: int | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        system_attributes: Mapping[str, Mapping[str, Any]] | None = None,
        trace_header: str | None = None,
    ) -> tuple[Any, ...]:
        """Check a send against SQS's rules; the arguments of ``_enqueue``."""
        self._check_alive()
        checked = check_attributes(attributes)
        system = check_attributes(system_attributes, system=True)
        if system is not None:
            trace_header = system["AWSTraceHeader"]["StringValue"]
        check_placement(self.fifo, delay_seconds, group_id, deduplication_id)
        body = check_body(body, self.config.maximum_message_size, attributes_size(checked))
        if self.fifo and deduplication_id is None:
            if not self.config.content_based_deduplication:
                raise QueueError(
                    "InvalidParameterValue",
                    "The queue should either have ContentBasedDeduplication enabled or "
                    "MessageDeduplicationId provided explicitly",
                )
            deduplication_id = hashlib.sha256(body.encode()).hexdigest()
        return body, checked, delay_seconds, group_id, deduplication_id, trace_header, system

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
        self._apply_due(now)
        sequence_number = None
        if self.fifo:
            key = (group_id, deduplication_id) if self._group_scoped else deduplication_id
            self._forget_old_dedup(now)
            seen = self._dedup.get(key)
            if seen is not None:  # accepted, not delivered again
                return Sent(seen[1], seen[2], body, attributes, system)
            sequence_number = f"{next(self._sequence):020d}"
        # FIFO queues take no per-message delay (0 is accepted and means the queue's).
        delay = self.config.delay_seconds if delay_seconds is None or self.fifo else delay_seconds
        extra = None
        if group_id is not None or trace_header is not None:
            extra = _Extra(group_id, deduplication_id, sequence_number, trace_header)
        message = _Message(
            ids.uuid4(self._rng), body, attributes, now, next(self._seq),
            now + delay if delay else now, extra,
        )  # fmt: skip
        if self.fifo:
            self._dedup[key] = (now, message.id, sequence_number)
            self._dedup_order.append((now, key))
        self._add(message, now)
        if self._store is not None:
            self._store.add(self._key, message)
        self._notify()
        return Sent(message.id, sequence_number, body, attributes, system)

    def _notify(self) -> None:
        for listener in list(self.listeners):
            listener()

    def _add(self, message: _Message, now: float) -> None:
        shard = self._shards.get(message.seq >> SHARD_BITS)
        if shard is None:
            shard = self._shards[message.seq >> SHARD_BITS] = {}
        shard[message.seq] = message
        self._count += 1
        self._taken_in += 1
        if self._taken_in >= FREEZE_STEP and self._count >= FREEZE_STEP:
            after_bulk_load(self._count)
            self._taken_in = 0
        if self.fifo:
            group = self._groups.get(message.group_id or "")
            if group is None:
                group = self._groups[message.group_id or ""] = _Group()
            group.messages.append(message)
        if message.available_at > now:
            message.state = DELAYED
            self._counts[DELAYED] += 1
            heapq.heappush(self._timeline, (message.available_at, message.seq, 0, message))
        else:
            message.state = VISIBLE
            self._counts[VISIBLE] += 1
            if self.fifo:
                self._offer_group(message.group_id or "", now)
            else:
                self._fresh.append(message)
            self.changed.set()

    def restore(self, messages: Iterable[_Message]) -> int:
        """Take back messages a persisted queue stored (in send order); return how many.
        In-flight ones stay hidden until their visibility timeout ends; handles do not
        survive a restart. FIFO deduplication ids sent within the interval are remembered."""
        now = self._clock.time()
        count, last, numbers = 0, -1, 0
        for message in messages:
            in_flight = message.state == IN_FLIGHT and message.available_at > now
            message.state, message.handle = DELAYED, None
            self._add(message, now)
            if in_flight:
                self._set_state(message, IN_FLIGHT)
            extra = message.extra
            if extra is not None and extra.sequence_number is not None:
                numbers = max(numbers, int(extra.sequence_number))
                if now - message.sent_at < DEDUP_WINDOW_S:
                    key = (
                        (extra.group_id, extra.deduplication_id)
                        if self._group_scoped
                        else extra.deduplication_id
                    )
                    self._dedup[key] = (message.sent_at, message.id, extra.sequence_number)
                    self._dedup_order.append((message.sent_at, key))
            count, last = count + 1, max(last, message.seq)
        self._seq = itertools.count(last + 1)
        self._sequence = itertools.count(numbers + 1)
        return count

    # --- state ----------------------------------------------------------------------------

    def _set_state(self, message: _Message, state: int) -> None:
        self._counts[message.state] -= 1
        self._counts[state] += 1
        message.state = state

    def _make_visible(self, message: _Message, now: float) -> None:
        self._set_state(message, VISIBLE)
        if self.fifo:
            self._offer_group(message.group_id or "", now)
        else:
            heapq.heappush(self._returned, (message.seq, message))
        self.changed.set()

    def _hide(self, message: _Message, until: float) -> None:
        """In flight until ``until`` (a visibility timeout starts or changes)."""
        message.version += 1
        message.available_at = until
        heapq.heappush(self._timeline, (until, message.seq, message.version, message))
        if message.state != IN_FLIGHT:
            self._set_state(message, IN_FLIGHT)

    def _offer_group(self, group_id: str, now: float) -> None:
        """Hand a FIFO group out again once its first message is visible (SQS returns a
        group's messages from its first up to one not visible: one in flight blocks those
        after it, not those before). Groups are handed out in the order their first message
        became visible: sent (its send sequence), or back from a receive (now)."""
        group = self._groups.get(group_id)
        if group is None or group.queued or not group.messages:
            return
        head = group.messages[0]
        if head.state == VISIBLE:
            group.queued = True
            order = head.seq if head.receive_count == 0 else next(self._seq)
            heapq.heappush(self._group_heap, (order, group_id))
            self.changed.set()

    def _apply_due(self, now: float) -> None:
        """Delays that ended and visibility timeouts that expired, up to ``now``."""
        timeline = self._timeline
        while timeline and timeline[0][0] <= now:
            _, _, version, message = heapq.heappop(timeline)
            if message.version != version or message.state not in (DELAYED, IN_FLIGHT):
                continue  # deleted or rescheduled since
            self._make_visible(message, now)

    def next_change(self) -> float | None:
        """When a message next becomes visible, if none is now (for pollers' sleeps)."""
        while self._timeline:
            when, _, version, message = self._timeline[0]
            if message.version == version and message.state in (DELAYED, IN_FLIGHT):
                return when
            heapq.heappop(self._timeline)
        return None

    def _forget_old_dedup(self, now: float) -> None:
        while self._dedup_order and self._dedup_order[0][0] <= now - DEDUP_WINDOW_S:
            _, key = self._dedup_order.popleft()
            seen = self._dedup.get(key)
            if seen is not None and seen[0] <= now - DEDUP_WINDOW_S:
                del self._dedup[key]

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
        self._apply_due(now)
        visibility = (
            self.config.visibility_timeout if visibility_timeout is None else visibility_timeout
        )
        taken: list[Message] = []
        for message in self._visible(now):
            if now - message.sent_at >= self.config.message_retention_period:
                self._remove(message, now)
                self.notify("expired", message.id, message.body, None)
                continue
            redrive = self.config.redrive
            if redrive is not None and message.receive_count >= redrive.max_receive_count:
                if self._move_to_dead_letter(message, now):
                    continue
            taken.append(self._deliver(message, now, visibility))
            if len(taken) >= max_messages:
                break
        if not self._has_visible():
            self.changed.clear()
        return taken

    def _visible(self, now: float) -> Iterator[_Message]:
        """Visible messages in the order SQS hands them out; each is delivered or dropped
        before the next is looked at."""
        if not self.fifo:
            fresh, returned = self._fresh, self._returned
            while fresh or returned:
                if returned and (not fresh or returned[0][0] < fresh[0].seq):
                    message = heapq.heappop(returned)[1]
                else:
                    message = fresh.popleft()
                if message.state == VISIBLE:
                    yield message
            return
        while self._group_heap:
            _, group_id = heapq.heappop(self._group_heap)
            group = self._groups.get(group_id)
            if group is None:
                continue
            group.queued = False
            index = 0  # the group's visible messages from its head, in order
            while index < len(group.messages) and group.messages[index].state == VISIBLE:
                message = group.messages[index]
                yield message
                if message.state != _GONE:  # delivered; a removed one shifted the rest
                    index += 1
            self._offer_group(group_id, now)  # a group whose candidates were all dropped

    def _deliver(self, message: _Message, now: float, visibility: int) -> Message:
        message.receive_count += 1
        if message.first_receive_at is None:
            message.first_receive_at = now
        if message.handle is not None:
            extra = message.extra = message.extra or _Extra()
            extra.old_handles = (extra.old_handles or []) + [message.handle]
        message.handle = ids.receipt_handle(self._rng)
        self._by_handle[message.handle] = message
        self._hide(message, now + visibility)
        if self._store is not None:
            self._store.update(self._key, message)
        return self._view(message, message.handle)

    def _view(self, message: _Message, handle: str) -> Message:
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

    def _has_visible(self) -> bool:
        return bool(self._fresh or self._returned) if not self.fifo else bool(self._group_heap)

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
            waiters = [
                asyncio.create_task(self.changed.wait()),
                asyncio.create_task(self._clock.sleep_until(wake)),
            ]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()

    # --- deleting and visibility ------------------------------------------------------------

    def _handle(self, receipt_handle: object) -> _Message | None:
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

    def _fifo_current(self, message: _Message, handle: str) -> bool:
        return message.handle == handle and message.state == IN_FLIGHT

    def delete_message(self, receipt_handle: str) -> None:
        """DeleteMessage. A handle of a message already gone is accepted, as SQS does (and
        every handle of a deleted queue: its messages are gone)."""
        if self.deleted:
            return
        now = self._clock.time()
        self._apply_due(now)
        message = self._handle(receipt_handle)
        if message is None:
            return
        if self.fifo and not self._fifo_current(message, receipt_handle):
            raise invalid("ReceiptHandle", receipt_handle, "The receipt handle has expired.")
        if self._redeliver:  # an injected fault: at-least-once, delivered again
            self._redeliver -= 1
            self._hide(message, now)
            self._notify()
            return
        self._remove(message, now)

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
        self._apply_due(now)
        message = self._handle(receipt_handle)
        if message is None or (self.fifo and not self._fifo_current(message, receipt_handle)):
            raise invalid("ReceiptHandle", receipt_handle, "Message does not exist or is not "
                          "available for visibility timeout change.")  # fmt: skip
        if message.state == DELAYED:
            raise QueueError("MessageNotInflight", "The message is not in flight.")
        self._hide(message, now + visibility_timeout)
        if self._store is not None:
            self._store.update(self._key, message)
        self._apply_due(now)

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
        for message in self._all():
            message.state = _GONE
        self._shards.clear()
        self._count = 0
        self._by_handle.clear()
        self._timeline.clear()
        self._fresh.clear()
        self._returned.clear()
        self._groups.clear()
        self._group_heap.clear()
        self._dedup.clear()
        self._dedup_order.clear()
        self._counts = [0, 0, 0]
        self.changed.clear()

    def close(self) -> None:
        """DeleteQueue: its messages go, and it refuses every later request."""
        self._clear()
        self.deleted = True
        self.changed.set()  # long polls return

    def _remove(self, message: _Message, now: float) -> None:
        key = message.seq >> SHARD_BITS
        shard = self._shards[key]
        del shard[message.seq]
        if not shard:
            del self._shards[key]
        self._count -= 1
        self._counts[message.state] -= 1
        message.state = _GONE
        if self._store is not None:
            self._store.remove(self._key, message)
        if message.handle is not None:
            self._by_handle.pop(message.handle, None)
            for old in (message.extra.old_handles or []) if message.extra else []:
                self._by_handle.pop(old, None)
        if self.fifo:
            group_id = message.group_id or ""
            group = self._groups[group_id]
            if group.messages and group.messages[0] is message:
                group.messages.popleft()  # the usual case: processed in order
            else:
                group.messages.remove(message)
            if not group.messages:
                del self._groups[group_id]
            else:
                self._offer_group(group_id, now)

    def _move_to_dead_letter(self, message: _Message, now: float) -> bool:
        """Move ``message`` to the dead-letter queue; False when there is none (it stays)."""
        dead_letter = self._dead_letter()
        if dead_letter is None or dead_letter.deleted:
            return False
        self._remove(message, now)
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
        self._apply_due(now)
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
                         next(self._seq), now, extra)  # fmt: skip
        if source is not None:
            moved.receive_count = message.receive_count
            moved.first_receive_at = message.first_receive_at
        self._add(moved, now)
        if self._store is not None:
            self._store.add(self._key, moved)
            self._store.commit()
        self._notify()

    def peek_oldest(self) -> _Message | None:
        """The oldest message not in flight (for message move tasks)."""
        self._apply_due(self._clock.time())
        for message in self._all():
            if message.state != IN_FLIGHT:
                return message
        return None

    def take_oldest(self) -> _Message | None:
        """Remove and return the oldest message not in flight."""
        message = self.peek_oldest()
        if message is not None:
            self._remove(message, self._clock.time())
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
        self._apply_due(self._clock.time())
        delayed, visible, in_flight = self._counts
        return Counts(visible, in_flight, delayed)

    def snapshot(self) -> dict[str, list[str]]:
        """Bodies by state, in queue order, for tests."""
        self._apply_due(self._clock.time())
        state: dict[str, list[str]] = {"visible": [], "in_flight": [], "delayed": []}
        names = {DELAYED: "delayed", VISIBLE: "visible", IN_FLIGHT: "in_flight"}
        for message in self._all():
            state[names[message.state]].append(message.body)
        return state

    def __len__(self) -> int:
        return self._count

    def _all(self) -> Iterator[_Message]:
        """Every message, oldest first."""
        for key in sorted(self._shards):
            yield from self._shards[key].values()

    def __repr__(self) -> str:
        return f"<Queue {self.arn} ({len(self)} messages)>"
