"""The messages of one queue by state, and the order visible ones are handed out in.

A message is DELAYED, VISIBLE or IN_FLIGHT (``messages.py``), and GONE once removed; the counts
of each are kept as counters, so GetQueueAttributes costs O(1). A message waiting for a delay or
a visibility timeout is on the *timeline* heap, keyed by when its state changes next; the queue
first applies the changes that fell due (``apply_due``), so each operation costs O(log n) in
queue depth. Heap entries are invalidated lazily by a per-message version.

Standard queues hand out visible messages oldest first: a message sent visible joins a deque,
one that becomes visible later (a delay ended, a visibility timeout expired) a heap by send
order. FIFO queues keep each message group in send order and hand out a group's messages from
its first one up to the first that is not visible, as SQS does: a group whose first message is
in flight gives nothing.

Memory: messages are held by send sequence in dicts of 16k each (one dict of a million would
stall the loop for tens of milliseconds each time it grows). Every 16k messages a deep queue
takes in (sends, restores), what exists is moved out of the garbage collector's way
(``memory.after_bulk_load``: messages hold no reference cycles, so reference counting still
frees them), and full collections do not stall the loop for time proportional to the depth.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Iterator

from ..memory import after_bulk_load
from .messages import DELAYED, IN_FLIGHT, VISIBLE, _Message

#: Every this many messages taken in by a queue at least this deep, freeze what exists.
FREEZE_STEP = 16_384
#: Messages per shard of the index by sequence (a shard grows without a long stall).
SHARD_BITS = 14
GONE = 3  # state of a message no longer in the queue (its heap entries are stale)


class _Group:
    """A FIFO message group: its messages in order."""

    __slots__ = ("messages", "queued")

    def __init__(self) -> None:
        self.messages: deque[_Message] = deque()
        self.queued = False  # an entry for it is in the group heap


class States:
    """The messages of one queue, by send sequence, by state and in hand-out order. ``changed``
    is set whenever a message may have become visible."""

    def __init__(self, fifo: bool, changed: asyncio.Event) -> None:
        self.fifo = fifo
        self._changed = changed
        #: The send sequence: a message's ``seq``, its place in the queue.
        self.seq = itertools.count()
        self._shards: dict[int, dict[int, _Message]] = {}  # seq >> SHARD_BITS -> seq -> m
        self.count = 0
        self._taken_in = 0  # messages added since the last freeze
        self.counts = [0, 0, 0]  # DELAYED, VISIBLE, IN_FLIGHT
        self._timeline: list[tuple[float, int, int, _Message]] = []  # (when, seq, version, m)
        self._fresh: deque[_Message] = deque()  # standard: sent visible, in send order
        self._returned: list[tuple[int, _Message]] = []  # standard: visible again, by seq
        self._groups: dict[str, _Group] = {}
        self._group_heap: list[tuple[int, str]] = []  # FIFO: (head seq, group) available

    def add(self, message: _Message, now: float) -> None:
        """Take ``message`` in: delayed until its ``available_at``, else visible."""
        shard = self._shards.get(message.seq >> SHARD_BITS)
        if shard is None:
            shard = self._shards[message.seq >> SHARD_BITS] = {}
        shard[message.seq] = message
        self.count += 1
        self._taken_in += 1
        if self._taken_in >= FREEZE_STEP and self.count >= FREEZE_STEP:
            after_bulk_load(self.count)
            self._taken_in = 0
        if self.fifo:
            group = self._groups.get(message.group_id or "")
            if group is None:
                group = self._groups[message.group_id or ""] = _Group()
            group.messages.append(message)
        if message.available_at > now:
            message.state = DELAYED
            self.counts[DELAYED] += 1
            heapq.heappush(self._timeline, (message.available_at, message.seq, 0, message))
        else:
            message.state = VISIBLE
            self.counts[VISIBLE] += 1
            if self.fifo:
                self._offer_group(message.group_id or "")
            else:
                self._fresh.append(message)
            self._changed.set()

    def remove(self, message: _Message) -> None:
        """Take ``message`` out (its state becomes GONE)."""
        key = message.seq >> SHARD_BITS
        shard = self._shards[key]
        del shard[message.seq]
        if not shard:
            del self._shards[key]
        self.count -= 1
        self.counts[message.state] -= 1
        message.state = GONE
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
                self._offer_group(group_id)

    def set_state(self, message: _Message, state: int) -> None:
        self.counts[message.state] -= 1
        self.counts[state] += 1
        message.state = state

    def _make_visible(self, message: _Message) -> None:
        self.set_state(message, VISIBLE)
        if self.fifo:
            self._offer_group(message.group_id or "")
        else:
            heapq.heappush(self._returned, (message.seq, message))
        self._changed.set()

    def hide(self, message: _Message, until: float) -> None:
        """In flight until ``until`` (a visibility timeout starts or changes)."""
        message.version += 1
        message.available_at = until
        heapq.heappush(self._timeline, (until, message.seq, message.version, message))
        if message.state != IN_FLIGHT:
            self.set_state(message, IN_FLIGHT)

    def _offer_group(self, group_id: str) -> None:
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
            order = head.seq if head.receive_count == 0 else next(self.seq)
            heapq.heappush(self._group_heap, (order, group_id))
            self._changed.set()

    def apply_due(self, now: float) -> None:
        """Delays that ended and visibility timeouts that expired, up to ``now``."""
        timeline = self._timeline
        while timeline and timeline[0][0] <= now:
            _, _, version, message = heapq.heappop(timeline)
            if message.version != version or message.state not in (DELAYED, IN_FLIGHT):
                continue  # deleted or rescheduled since
            self._make_visible(message)

    def next_change(self) -> float | None:
        """When a message next becomes visible, if none is now (for pollers' sleeps)."""
        while self._timeline:
            when, _, version, message = self._timeline[0]
            if message.version == version and message.state in (DELAYED, IN_FLIGHT):
                return when
            heapq.heappop(self._timeline)
        return None

    def visible(self) -> Iterator[_Message]:
        """Visible messages in the order SQS hands them out; each is delivered or removed
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
                if message.state != GONE:  # delivered; a removed one shifted the rest
                    index += 1
            self._offer_group(group_id)  # a group whose candidates were all dropped

    def has_visible(self) -> bool:
        return bool(self._fresh or self._returned) if not self.fifo else bool(self._group_heap)

    def __iter__(self) -> Iterator[_Message]:
        """Every message, oldest first."""
        for key in sorted(self._shards):
            yield from self._shards[key].values()

    def oldest(self, limit: int) -> list[_Message]:
        """The ``limit`` oldest messages, oldest first, reading no others.

        Shards and the messages in a shard are dicts in insertion order, and that is send
        order: a message's ``seq`` is above every earlier one's, so a shard is made after every
        lower one and (emptied and deleted) is only made again as the newest. A dict skips
        the deleted entries before its first live one: at most a shard's size, whatever the
        depth."""
        found: list[_Message] = []
        for shard in self._shards.values():
            for message in shard.values():
                if len(found) == limit:
                    return found
                found.append(message)
        return found

    def clear(self) -> None:
        """Every message goes (each becomes GONE)."""
        for message in self:
            message.state = GONE
        self._shards.clear()
        self.count = 0
        self._timeline.clear()
        self._fresh.clear()
        self._returned.clear()
        self._groups.clear()
        self._group_heap.clear()
        self.counts = [0, 0, 0]
