"""In-memory SQS queues (reference §3): visibility, delays, FIFO groups, dedup, redrive.

Every timed state change happens on the injected clock. A message is on a *timeline* heap
keyed by the instant its state changes next (a delay ends, a visibility timeout expires);
operations first apply the changes that fell due, so each operation costs O(log n) in queue
depth. Heap entries are invalidated lazily by a per-message version.

Standard queues hand out visible messages oldest-available first. FIFO queues keep each message
group in send order and hand out nothing more from a group while any of its messages is in
flight; a group becomes available again when its in-flight messages are deleted or reappear.

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
from collections.abc import Callable, Mapping
from typing import Any

from ..clock import Clock
from ..config import QueueConfig
from ..events import ids
from ..events.sqs import md5_of_body, md5_of_message_attributes, queue_arn, system_attributes
from .messages import Counts, Message, QueueError, _Group, _Message, check_send
from .queue_store import QueueStore

#: §3.4: FIFO deduplication interval.
DEDUP_WINDOW_S = 300
MAX_RECEIVE = 10


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
    ) -> None:
        self.name = name
        self.config = config
        self.fifo = name.endswith(".fifo")
        self.arn = queue_arn(region, account, name)
        self._clock = clock
        self._rng = rng
        self._dead_letter = dead_letter
        self._messages: dict[str, _Message] = {}
        self._by_handle: dict[str, str] = {}
        self._timeline: list[tuple[float, int, int, str]] = []  # (when, seq, version, id)
        self._ready: list[tuple[float, int, int, str]] = []  # standard: visible messages
        self._groups: dict[str, _Group] = {}
        self._group_heap: list[tuple[int, str]] = []  # FIFO: (head seq, group) available
        self._dedup: dict[str, float] = {}
        self._dedup_order: deque[tuple[float, str]] = deque()
        self._seq = itertools.count()
        self._sequence = itertools.count(1)
        self._store = store if config.persist else None
        self.changed = asyncio.Event()  # set whenever a message may have become visible
        self.listeners: list[Callable[[], None]] = []  # called synchronously on sends
        self._redeliver = 0

    # --- sending --------------------------------------------------------------------------

    def send_message(
        self,
        body: str,
        *,
        attributes: Mapping[str, Mapping[str, Any]] | None = None,
        delay_seconds: int | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
    ) -> str:
        """Send one message; return its id (the original id for a FIFO duplicate)."""
        now = self._clock.time()
        self._apply_due(now)
        copied = {name: dict(value) for name, value in (attributes or {}).items()}
        check_send(self.name, self.config, self.fifo, body, copied, delay_seconds, group_id)
        if self.fifo:
            deduplication_id = deduplication_id or (
                hashlib.sha256(body.encode()).hexdigest()
                if self.config.content_based_deduplication
                else None
            )
            if deduplication_id is None:
                raise QueueError(
                    "InvalidParameterValue",
                    f"{self.name}: a FIFO queue needs a MessageDeduplicationId or "
                    "content_based_deduplication",
                )
            self._forget_old_dedup(now)
            if deduplication_id in self._dedup:
                return ids.uuid4(self._rng)  # accepted, not delivered again
            self._dedup[deduplication_id] = now
            self._dedup_order.append((now, deduplication_id))
        delay = self.config.delay_seconds if delay_seconds is None else delay_seconds
        message = _Message(
            id=ids.uuid4(self._rng),
            body=body,
            message_attributes=copied,
            md5_of_body=md5_of_body(body),
            md5_of_attributes=md5_of_message_attributes(copied),
            sent_at=now,
            seq=next(self._seq),
            available_at=now + delay,
            group_id=group_id,
            deduplication_id=deduplication_id if self.fifo else None,
            sequence_number=f"{next(self._sequence):020d}" if self.fifo else None,
        )
        self._add(message, now)
        for listener in list(self.listeners):
            listener()
        return message.id

    def send_message_batch(self, entries: list[Mapping[str, Any]]) -> list[str]:
        """Send up to 10 entries (each the keyword arguments of ``send_message``)."""
        if not 1 <= len(entries) <= MAX_RECEIVE:
            raise QueueError("TooManyEntriesInBatchRequest", "a batch holds 1 to 10 entries")
        return [self.send_message(**entry) for entry in entries]

    def restore(self) -> int:
        """Load a persisted queue's messages (``persist: true``); return how many."""
        if self._store is None:
            return 0
        now = self._clock.time()
        restored = self._store.load(self.name, _Message)
        for message in restored:
            in_flight = message.in_flight and message.available_at > now
            message.in_flight = False
            message.receipt_handle = None  # handles do not survive a restart
            self._add(message, now, save=False)
            if in_flight:  # still hidden until its visibility timeout ends
                self._hide_until(message, message.available_at)
        if restored:
            self._seq = itertools.count(restored[-1].seq + 1)
            numbers = [int(m.sequence_number) for m in restored if m.sequence_number]
            self._sequence = itertools.count(max(numbers, default=0) + 1)
        return len(restored)

    def _hide_until(self, message: _Message, until: float) -> None:
        message.in_flight = True
        message.version += 1
        message.available_at = until
        heapq.heappush(self._timeline, (until, message.seq, message.version, message.id))
        if self.fifo:
            self._groups[message.group_id or ""].in_flight += 1

    def _save(self, message: _Message) -> None:
        if self._store is not None:
            self._store.save(self.name, message)

    def _add(self, message: _Message, now: float, save: bool = True) -> None:
        self._messages[message.id] = message
        if save:
            self._save(message)
        if self.fifo:
            group = self._groups.setdefault(message.group_id or "", _Group())
            group.messages.append(message)
        if message.available_at > now:
            heapq.heappush(
                self._timeline, (message.available_at, message.seq, message.version, message.id)
            )
        else:
            self._make_available(message)

    def _make_available(self, message: _Message) -> None:
        self.changed.set()
        if not self.fifo:
            heapq.heappush(
                self._ready, (message.available_at, message.seq, message.version, message.id)
            )
            return
        self._offer_group(message.group_id or "")

    def _offer_group(self, group_id: str) -> None:
        """Hand a FIFO group out again if nothing of it is in flight and its head is visible."""
        group = self._groups.get(group_id)
        if group is None or group.queued or group.in_flight or not group.messages:
            return
        head = group.messages[0]
        if not head.in_flight and head.available_at <= self._clock.time():
            group.queued = True
            heapq.heappush(self._group_heap, (head.seq, group_id))
            self.changed.set()

    # --- time -----------------------------------------------------------------------------

    def _apply_due(self, now: float) -> None:
        """Delays that ended and visibility timeouts that expired, up to ``now``."""
        while self._timeline and self._timeline[0][0] <= now:
            _, _, version, message_id = heapq.heappop(self._timeline)
            message = self._messages.get(message_id)
            if message is None or message.version != version:
                continue  # deleted or rescheduled since
            if message.in_flight:
                message.in_flight = False
                message.receipt_handle = None
                if self.fifo:
                    self._groups[message.group_id or ""].in_flight -= 1
            self._make_available(message)

    def next_change(self) -> float | None:
        """When a message next becomes visible, if none is now (for pollers' sleeps)."""
        while self._timeline:
            when, _, version, message_id = self._timeline[0]
            message = self._messages.get(message_id)
            if message is not None and message.version == version:
                return when
            heapq.heappop(self._timeline)
        return None

    def _forget_old_dedup(self, now: float) -> None:
        while self._dedup_order and self._dedup_order[0][0] <= now - DEDUP_WINDOW_S:
            _, dedup = self._dedup_order.popleft()
            if self._dedup.get(dedup, now) <= now - DEDUP_WINDOW_S:
                del self._dedup[dedup]

    # --- receiving ------------------------------------------------------------------------

    def receive_now(
        self, max_messages: int = 1, visibility_timeout: int | None = None
    ) -> list[Message]:
        """Receive up to ``max_messages`` visible messages without waiting."""
        if not 1 <= max_messages <= MAX_RECEIVE:
            raise QueueError("InvalidParameterValue", "MaxNumberOfMessages must be 1..10")
        now = self._clock.time()
        self._apply_due(now)
        visibility = (
            self.config.visibility_timeout if visibility_timeout is None else visibility_timeout
        )
        taken: list[Message] = []
        while len(taken) < max_messages:
            # Candidates that expired or moved to the dead-letter queue do not count.
            candidates = self._candidates(now, max_messages - len(taken))
            if not candidates:
                break
            for message in candidates:
                if now - message.sent_at >= self.config.message_retention_period:
                    self._remove(message)
                    continue
                redrive = self.config.redrive
                if redrive is not None and message.receive_count >= redrive.max_receive_count:
                    self._move_to_dead_letter(message)
                    continue
                taken.append(self._deliver(message, now, visibility))
            for group_id in {m.group_id or "" for m in candidates if self.fifo}:
                self._offer_group(group_id)  # a group whose candidates were all dropped
        if not self._has_visible():
            self.changed.clear()
        return taken

    def _candidates(self, now: float, limit: int) -> list[_Message]:
        found: list[_Message] = []
        if not self.fifo:
            while self._ready and len(found) < limit:
                _, _, version, message_id = heapq.heappop(self._ready)
                message = self._messages.get(message_id)
                if message is not None and message.version == version and not message.in_flight:
                    found.append(message)
            return found
        while self._group_heap and len(found) < limit:
            _, group_id = heapq.heappop(self._group_heap)
            group = self._groups[group_id]
            group.queued = False
            for message in group.messages:
                if len(found) >= limit or message.in_flight or message.available_at > now:
                    break
                found.append(message)
        return found

    def _deliver(self, message: _Message, now: float, visibility: int) -> Message:
        message.receive_count += 1
        if message.first_receive_at is None:
            message.first_receive_at = now
        message.in_flight = True
        message.version += 1
        message.available_at = now + visibility
        if message.receipt_handle is not None:
            self._by_handle.pop(message.receipt_handle, None)
        message.receipt_handle = ids.receipt_handle(self._rng)
        self._by_handle[message.receipt_handle] = message.id
        heapq.heappush(
            self._timeline, (message.available_at, message.seq, message.version, message.id)
        )
        if self.fifo:
            self._groups[message.group_id or ""].in_flight += 1
        self._save(message)
        return self._view(message)

    def _view(self, message: _Message) -> Message:
        assert message.receipt_handle is not None and message.first_receive_at is not None
        return Message(
            message_id=message.id,
            receipt_handle=message.receipt_handle,
            body=message.body,
            attributes=system_attributes(
                sent_ms=int(message.sent_at * 1000),
                receive_count=message.receive_count,
                first_receive_ms=int(message.first_receive_at * 1000),
                group_id=message.group_id,
                deduplication_id=message.deduplication_id,
                sequence_number=message.sequence_number,
                dead_letter_source_arn=message.dead_letter_source,
            ),
            message_attributes=message.message_attributes,
            md5_of_body=message.md5_of_body,
            md5_of_message_attributes=message.md5_of_attributes,
        )

    def _has_visible(self) -> bool:
        return bool(self._ready) if not self.fifo else bool(self._group_heap)

    async def receive_messages(
        self,
        max_messages: int = 1,
        wait_seconds: int | None = None,
        visibility_timeout: int | None = None,
    ) -> list[Message]:
        """ReceiveMessage: long-polls on the clock up to ``wait_seconds`` (queue default)."""
        wait = (
            self.config.receive_message_wait_time_seconds if wait_seconds is None else wait_seconds
        )
        deadline = self._clock.time() + wait
        while True:
            found = self.receive_now(max_messages, visibility_timeout)
            if found or self._clock.time() >= deadline:
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

    def _by_receipt(self, receipt_handle: str) -> _Message:
        message_id = self._by_handle.get(receipt_handle)
        message = self._messages.get(message_id or "")
        if message is None or message.receipt_handle != receipt_handle:
            raise QueueError("ReceiptHandleIsInvalid", f"{self.name}: unknown receipt handle")
        return message

    def delete_message(self, receipt_handle: str) -> None:
        """DeleteMessage. A handle of a message already gone is accepted, as SQS does."""
        self._apply_due(self._clock.time())
        message_id = self._by_handle.get(receipt_handle)
        if message_id is None:
            if self.fifo or not ids.looks_like_receipt_handle(receipt_handle):
                raise QueueError("ReceiptHandleIsInvalid", f"{self.name}: unknown receipt handle")
            return
        message = self._messages.get(message_id)
        if message is not None and message.receipt_handle == receipt_handle:
            if self._redeliver:  # an injected fault: at-least-once, delivered again
                self._redeliver -= 1
                self._hide_until_again(message, self._clock.time())
                return
            self._remove(message)

    def redeliver_next(self, count: int = 1) -> None:
        """Fault injection: the next ``count`` messages deleted become visible once more."""
        self._redeliver += count

    def _hide_until_again(self, message: _Message, when: float) -> None:
        message.version += 1
        message.available_at = when
        heapq.heappush(self._timeline, (when, message.seq, message.version, message.id))
        for listener in list(self.listeners):
            listener()

    def change_message_visibility(self, receipt_handle: str, visibility_timeout: int) -> None:
        if not 0 <= visibility_timeout <= 43200:
            raise QueueError("InvalidParameterValue", "VisibilityTimeout must be 0..43200")
        now = self._clock.time()
        self._apply_due(now)
        message = self._by_receipt(receipt_handle)
        if not message.in_flight:
            raise QueueError("MessageNotInflight", f"{self.name}: the message is not in flight")
        message.version += 1
        message.available_at = now + visibility_timeout
        heapq.heappush(
            self._timeline, (message.available_at, message.seq, message.version, message.id)
        )
        self._save(message)
        self._apply_due(now)

    def purge(self) -> None:
        if self._store is not None:
            self._store.purge(self.name)
        self._messages.clear()
        self._by_handle.clear()
        self._timeline.clear()
        self._ready.clear()
        self._groups.clear()
        self._group_heap.clear()
        self.changed.clear()

    def _remove(self, message: _Message) -> None:
        del self._messages[message.id]
        if self._store is not None:
            self._store.delete(self.name, message.id)
        if message.receipt_handle is not None:
            self._by_handle.pop(message.receipt_handle, None)
        if self.fifo:
            group = self._groups[message.group_id or ""]
            if message.in_flight:
                group.in_flight -= 1
            try:
                group.messages.remove(message)  # the head, in order of processing
            except ValueError:
                pass
            if not group.messages and group.in_flight == 0:
                del self._groups[message.group_id or ""]
            else:
                self._offer_group(message.group_id or "")

    def _move_to_dead_letter(self, message: _Message) -> None:
        dead_letter = self._dead_letter()
        self._remove(message)
        if dead_letter is None:
            return
        moved = _Message(
            id=message.id,
            body=message.body,
            message_attributes=message.message_attributes,
            md5_of_body=message.md5_of_body,
            md5_of_attributes=message.md5_of_attributes,
            sent_at=message.sent_at,  # retention counts from the original send
            seq=next(dead_letter._seq),
            available_at=dead_letter._clock.time(),
            group_id=message.group_id,
            deduplication_id=message.deduplication_id,
            sequence_number=message.sequence_number,
            dead_letter_source=self.arn,
        )
        dead_letter._add(moved, dead_letter._clock.time())
        for listener in list(dead_letter.listeners):
            listener()

    # --- inspection -----------------------------------------------------------------------

    def counts(self) -> Counts:
        """Approximate counts (exact here): visible, in flight, delayed."""
        now = self._clock.time()
        self._apply_due(now)
        in_flight = sum(1 for m in self._messages.values() if m.in_flight)
        delayed = sum(
            1 for m in self._messages.values() if not m.in_flight and m.available_at > now
        )
        return Counts(len(self._messages) - in_flight - delayed, in_flight, delayed)

    def snapshot(self) -> dict[str, list[str]]:
        """Bodies by state, in queue order, for tests."""
        now = self._clock.time()
        self._apply_due(now)
        state: dict[str, list[str]] = {"visible": [], "in_flight": [], "delayed": []}
        for message in sorted(self._messages.values(), key=lambda m: m.seq):
            key = (
                "in_flight"
                if message.in_flight
                else "delayed"
                if message.available_at > now
                else "visible"
            )
            state[key].append(message.body)
        return state

    def __len__(self) -> int:
        return len(self._messages)
