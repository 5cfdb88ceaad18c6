"""Every invocation attempt, and everything that happened to an event instead, recorded.

The ledger is where tests, logs, ``explain`` and the dashboard learn what happened: each attempt
to run a handler, and each event that was throttled, dropped, expired or moved instead, is one
``Attempt``, with a human ``reason`` and a machine-readable ``code`` (``Code``).

It is one bounded store, so that a long-running ``eventsim up`` stays flat in memory: at most
``max_attempts`` entries and about ``max_bytes`` of events and payloads. The events and payloads
of the ``keep_full`` most recent large entries are kept whole; older large ones are replaced by
a ``truncated`` marker (their size and the start of their JSON). Past either cap the oldest
entries go. Every query is indexed (by function, by function and outcome, by request id), and
``wait_for`` is woken only by records of its function.

Each entry is numbered when it is recorded: ``Attempt.seq``, 0 for the first entry ever
recorded, one more for each next. The number stays the entry's while the ledger holds it (an
amendment keeps it), so it names the entry for pages, links and live views (``get(seq)``).
Observers (``subscribe``) hear of each new entry, and separately of each amended one.
Recording costs O(1) whatever the ledger holds, and so does the garbage collector: every
``FREEZE_STEP`` entries, a ledger holding ``BULK`` or more moves what exists out of its way
(``memory.after_bulk_load``; entries hold no reference cycles, so an evicted one is still
freed at once), where a full collection over 100,000 entries stopped the loop for ~0.2 s.

Example::

    result = await sim.invoke("hello", {"x": 1})
    [attempt] = sim.ledger.for_function("hello")
    assert attempt.outcome is Outcome.SUCCESS and attempt.event == {"x": 1}
    await sim.ledger.wait_for("worker", count=3, outcome=Outcome.ERROR)
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .errors import ValueRejected
from .memory import after_bulk_load


class Outcome(StrEnum):
    SUCCESS = "success"
    ERROR = "error"  # the handler raised, or INIT failed, or the result could not be marshalled
    TIMEOUT = "timeout"
    CRASH = "crash"  # the runtime process exited mid-invocation
    THROTTLED = "throttled"  # no handler ran: concurrency exhausted
    DROPPED = "dropped"  # no handler ran: discarded, see ``reason``
    MOVED = "moved"  # not a run: the event went elsewhere (a dead-letter queue, a destination)

    @property
    def is_failure(self) -> bool:
        return self not in (Outcome.SUCCESS, Outcome.MOVED)


class Code(StrEnum):
    """Why an entry is what it is, for tests and tools (``Attempt.code``)."""

    RETRY_SCHEDULED = "retry_scheduled"  # a failed asynchronous attempt; another follows
    RETRIES_EXHAUSTED = "retries_exhausted"  # the last attempt failed
    EVENT_AGE_EXCEEDED = "event_age_exceeded"  # older than max_event_age / maximum_record_age
    ZERO_CONCURRENCY = "zero_concurrency"  # reserved concurrency 0: never runs
    THROTTLED = "throttled"  # concurrency exhausted; tried again after a back-off
    FILTERED = "filtered"  # no filter pattern matched
    NO_MATCH = "no_match"  # no trigger matched (an S3 change no configuration names)
    FUNCTION_REMOVED = "function_removed"  # a stored event of a function the config dropped
    VISIBILITY_TIMEOUT = "visibility_timeout"  # SQS: the messages reappear and are retried
    PARTIAL_FAILURE = "partial_failure"  # a partial batch response named some records
    MALFORMED_RESPONSE = "malformed_response"  # a batch response AWS would reject
    BATCH_RETRIED = "batch_retried"  # a stream batch failed; it is retried, blocking its shard
    BISECTED = "bisected"  # a stream batch failed and was split in two
    DISCARDED = "discarded"  # records given up on (retries or age exhausted)
    DEAD_LETTERED = "dead_lettered"  # moved to a dead-letter queue
    DESTINATION = "destination"  # the outcome record was sent to a destination
    REDRIVEN = "redriven"  # moved from a dead-letter queue back to its source
    EXPIRED = "expired"  # deleted by its queue: older than the retention period
    INJECTED_FAULT = "injected_fault"  # sim.faults made it fail


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """What became of one record (an SQS message, a stream record) of a batch attempt."""

    id: str  # messageId / the stream record's sequence number
    outcome: str  # "succeeded" | "failed" | "retried" | "discarded" | "filtered"
    attempt: int  # the message's receive count; a stream record's retry number + 1


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt to deliver an event to a function, or what happened to it instead."""

    function: str
    request_id: str
    invocation_type: str  # "RequestResponse" | "Event"
    source: str  # which trigger: "invoke", "s3:uploads", "sqs:jobs", ...
    event: Any  # the exact payload the handler got (decoded JSON)
    attempt: int  # 1-based
    started_at: datetime  # clock time
    outcome: Outcome
    error_type: str | None = None
    payload: Any = None  # decoded result, or the error object
    duration_ms: float = 0.0
    billed_duration_ms: int = 0
    init_duration_ms: float | None = None
    max_memory_used_mb: int | None = None
    log_tail: str = ""
    reason: str | None = None  # why it was retried, dropped or expired, in words
    code: Code | None = None  # the same, for machines
    records: tuple[RecordOutcome, ...] = ()  # per record, for batches
    size: int = field(default=0, compare=False, repr=False)  # bytes of event + payload, if known
    #: The entry's number in its ledger (``Ledger.record`` sets it); -1 until recorded.
    seq: int = field(default=-1, compare=False)

    @classmethod
    def dropped(
        cls, *, function: str, request_id: str, source: str, event: Any, at: datetime,
        reason: str, invocation_type: str = "RequestResponse", code: Code | None = None,
        outcome: Outcome = Outcome.DROPPED,
    ) -> Attempt:  # fmt: skip
        """An event no handler ran for (filtered out, expired, discarded, unmatched, moved)."""
        return cls(
            function=function, request_id=request_id, invocation_type=invocation_type,
            source=source, event=event, attempt=0, started_at=at, outcome=outcome,
            reason=reason, code=code,
        )  # fmt: skip

    @property
    def cold_start(self) -> bool:
        return self.init_duration_ms is not None

    @property
    def ran(self) -> bool:
        """Whether a handler ran (succeeded or failed), rather than the event being
        throttled, dropped or moved."""
        return self.outcome in _RAN


_RAN = frozenset({Outcome.SUCCESS, Outcome.ERROR, Outcome.TIMEOUT, Outcome.CRASH})

Observer = Callable[[Attempt], None]

#: Defaults of the ``ledger:`` config section.
DEFAULT_MAX_ATTEMPTS = 100_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_KEEP_FULL = 1_000
#: Entries recorded between two freezes of what exists (once the ledger holds ``BULK``):
#: a full collection then scans at most this many entries' objects (a few milliseconds).
FREEZE_STEP = 2_000
#: An event or payload larger than this (bytes of JSON) is "large": kept whole only while
#: among the ``keep_full`` most recent large ones.
LARGE_BYTES = 4 * 1024
PREVIEW_CHARS = 256
#: What a truncated event or payload is replaced by: ``{TRUNCATED: {"bytes": n, "preview": s}}``.
TRUNCATED = "eventsim:truncated"
_OVERHEAD = 512  # bytes an entry costs beyond its event and payload, roughly


class _Slot:
    """One entry, shared by every index (truncation is seen through all of them)."""

    __slots__ = ("attempt", "bytes", "large")

    def __init__(self, attempt: Attempt, size: int) -> None:
        self.attempt = attempt
        self.bytes = size
        self.large = size > LARGE_BYTES


class Ledger:
    """The most recent attempts, bounded in count and bytes, with indexed queries and waits."""

    def __init__(
        self,
        limit: int | None = DEFAULT_MAX_ATTEMPTS,
        *,
        max_bytes: int | None = DEFAULT_MAX_BYTES,
        keep_full: int = DEFAULT_KEEP_FULL,
    ) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self.keep_full = keep_full
        self._entries: deque[_Slot] = deque()
        self._by_function: dict[str, deque[_Slot]] = {}
        self._by_outcome: dict[tuple[str, Outcome], deque[_Slot]] = {}
        self._by_request: dict[str, deque[_Slot]] = {}
        self._large: deque[_Slot] = deque()  # whole large entries, oldest first
        self._bytes = 0
        #: Attempts ever recorded per (function, outcome): what waiters count.
        self._tally: Counter[tuple[str, Outcome | None]] = Counter()
        self._observers: list[Observer] = []
        self._amend_observers: list[Observer] = []
        self._waiters: dict[tuple[str, Outcome | None], list[tuple[int, asyncio.Future[None]]]] = {}
        #: Entries evicted so far (the oldest held entry's ``seq``).
        self.evicted = 0
        #: Entries ever recorded: the next entry's ``seq``.
        self.recorded = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Attempt]:
        return iter(self.all())

    @property
    def bytes(self) -> int:
        """About how many bytes the held events and payloads take."""
        return self._bytes

    # --- recording --------------------------------------------------------------------------

    def record(self, attempt: Attempt) -> Attempt:
        """Keep ``attempt`` as the next entry, numbered (``seq``); returns the entry kept."""
        if attempt.seq < 0:
            # A new attempt is numbered in place: copying its two dozen fields would be a
            # twentieth of a warm invoke's cost. One recorded before is copied.
            object.__setattr__(attempt, "seq", self.recorded)
        else:
            attempt = dataclasses.replace(attempt, seq=self.recorded)
        self.recorded += 1
        if self.recorded % FREEZE_STEP == 0:
            after_bulk_load(len(self._entries))
        slot = _Slot(attempt, (attempt.size or _json_size(attempt)) + _OVERHEAD)
        self._entries.append(slot)
        self._bytes += slot.bytes
        for index, key in self._indexes(attempt):
            index.setdefault(key, deque()).append(slot)
        if slot.large:
            self._large.append(slot)
            while len(self._large) > self.keep_full:
                self._truncate(self._large.popleft())
        self._trim()
        self._tally[(attempt.function, None)] += 1
        self._tally[(attempt.function, attempt.outcome)] += 1
        for observer in list(self._observers):
            observer(attempt)
        self._wake(attempt)
        return attempt

    def _trim(self) -> None:
        while self.limit is not None and len(self._entries) > self.limit:
            self._evict()
        while self.max_bytes is not None and self._bytes > self.max_bytes and self._entries:
            if self._large:
                self._truncate(self._large.popleft())
            else:
                self._evict()

    def _truncate(self, slot: _Slot) -> None:
        if not slot.large:
            return
        attempt = slot.attempt
        slot.attempt = dataclasses.replace(
            attempt, event=_truncated(attempt.event), payload=_truncated(attempt.payload)
        )
        slot.large = False
        self._bytes -= slot.bytes
        slot.bytes = _OVERHEAD + 2 * PREVIEW_CHARS
        self._bytes += slot.bytes

    def _evict(self) -> None:
        slot = self._entries.popleft()
        self._bytes -= slot.bytes
        self.evicted += 1
        attempt = slot.attempt
        # The globally oldest entry is the oldest of every index that holds it.
        for index, key in self._indexes(attempt):
            held = index[key]
            held.popleft()
            if not held:
                del index[key]
        if self._large and self._large[0] is slot:
            self._large.popleft()

    def _indexes(self, attempt: Attempt) -> list[tuple[dict[Any, deque[_Slot]], Any]]:
        return [
            (self._by_function, attempt.function),
            (self._by_outcome, (attempt.function, attempt.outcome)),
            (self._by_request, attempt.request_id),
        ]

    def amend(self, request_id: str, **changes: Any) -> Attempt | None:
        """Change the latest entry of ``request_id`` (what became of a batch's records is known
        only once the handler returned); it keeps its ``seq``, and the ``on_amend`` observers
        get it. Returns it, or None if the ledger no longer holds one."""
        if "seq" in changes:
            raise ValueRejected(
                f"ledger.amend({request_id!r}): an amendment cannot renumber "
                "an entry (seq is the ledger's)"
            )
        held = self._by_request.get(request_id)
        if not held:
            return None
        slot = held[-1]
        slot.attempt = dataclasses.replace(slot.attempt, **changes)
        for observer in list(self._amend_observers):
            observer(slot.attempt)
        return slot.attempt

    def subscribe(
        self, observer: Observer, *, on_amend: Observer | None = None
    ) -> Callable[[], None]:
        """Call ``observer`` with every new entry, and ``on_amend`` (if given) with every entry
        amended; returns a function that unsubscribes both.

        Example::

            unsubscribe = sim.ledger.subscribe(added.append, on_amend=changed.append)
        """
        self._observers.append(observer)
        if on_amend is not None:
            self._amend_observers.append(on_amend)

        def unsubscribe() -> None:
            self._observers.remove(observer)
            if on_amend is not None:
                self._amend_observers.remove(on_amend)

        return unsubscribe

    # --- queries ----------------------------------------------------------------------------

    def all(self) -> list[Attempt]:
        return [slot.attempt for slot in self._entries]

    def get(self, seq: int) -> Attempt | None:
        """The entry numbered ``seq``; None once evicted (or not recorded yet)."""
        if not self.evicted <= seq < self.recorded:
            return None
        # Numbers are consecutive and the oldest go first: the entry's place is known.
        return self._entries[seq - self.evicted].attempt

    def newest_first(self, before: int | None = None) -> Iterator[Attempt]:
        """The entries from the newest back (from the one numbered below ``before``), without
        copying the ledger; do not record while iterating."""
        skip = 0 if before is None else max(0, self.recorded - max(before, self.evicted))
        return (slot.attempt for slot in itertools.islice(reversed(self._entries), skip, None))

    def recent(self, limit: int, function: str | None = None) -> list[Attempt]:
        """The last ``limit`` attempts (of ``function``), oldest first, without copying the
        rest."""
        pool = self._entries if function is None else self._by_function.get(function, ())
        newest = list(itertools.islice(reversed(pool), max(limit, 0)))
        return [slot.attempt for slot in reversed(newest)]

    def for_function(self, function: str, outcome: Outcome | None = None) -> list[Attempt]:
        pool = (
            self._by_function.get(function, ())
            if outcome is None
            else self._by_outcome.get((function, outcome), ())
        )
        return [slot.attempt for slot in pool]

    def query(
        self,
        function: str | None = None,
        *,
        source: str | None = None,
        outcome: Outcome | None = None,
        attempt: int | None = None,
        code: Code | None = None,
    ) -> list[Attempt]:
        """Attempts by any of: function, trigger (``source``, e.g. ``"sqs:jobs"``; a prefix
        such as ``"sqs:"`` matches every queue), outcome, attempt number, code."""
        if function is not None:
            pool = self.for_function(function, outcome)
        else:
            pool = self.all()
        return [
            a
            for a in pool
            if (
                source is None
                or a.source == source
                or (source.endswith(":") and a.source.startswith(source))
            )
            and (outcome is None or a.outcome is outcome)
            and (attempt is None or a.attempt == attempt)
            and (code is None or a.code is code)
        ]

    def for_request(self, request_id: str) -> list[Attempt]:
        return [slot.attempt for slot in self._by_request.get(request_id, ())]

    def count(self, function: str, outcome: Outcome | None = None) -> int:
        if outcome is None:
            return len(self._by_function.get(function, ()))
        return len(self._by_outcome.get((function, outcome), ()))

    # --- waiting ----------------------------------------------------------------------------

    def _wake(self, attempt: Attempt) -> None:
        keys: tuple[tuple[str, Outcome | None], ...] = (
            (attempt.function, None),
            (attempt.function, attempt.outcome),
        )
        for key in keys:
            waiters = self._waiters.get(key)
            if not waiters:
                continue
            reached = self._tally[key]
            for target, future in waiters:
                if reached >= target and not future.done():
                    future.set_result(None)

    async def wait_for(
        self,
        function: str,
        count: int = 1,
        outcome: Outcome | None = None,
        timeout: float | None = 30.0,  # noqa: ASYNC109 - a shortfall is explained on expiry
    ) -> list[Attempt]:
        """Wait until ``function`` has at least ``count`` attempts (of ``outcome``); return them.

        ``timeout`` is real seconds; on expiry ``TimeoutError`` lists what was recorded.
        """
        key = (function, outcome)
        if self.count(function, outcome) >= count:
            return self.for_function(function, outcome)
        # Counted from now on, as recorded: the waiter's target in the ever-recorded count.
        target = self._tally[key] + count - self.count(function, outcome)
        waiter = (target, asyncio.get_running_loop().create_future())
        self._waiters.setdefault(key, []).append(waiter)
        try:
            await asyncio.wait_for(waiter[1], timeout)
            return self.for_function(function, outcome)
        except TimeoutError:
            seen = [f"{a.request_id[:8]} {a.outcome}" for a in self.for_function(function)]
            raise TimeoutError(
                f"{function}: wanted {count} attempt(s)"
                f"{f' with outcome {outcome}' if outcome else ''}, saw {len(seen)}: {seen}"
            ) from None
        finally:
            self._waiters[key].remove(waiter)
            if not self._waiters[key]:
                del self._waiters[key]


def _json_size(attempt: Attempt) -> int:
    return _size(attempt.event) + _size(attempt.payload) + len(attempt.log_tail)


def _size(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str | bytes):
        return len(value)
    try:
        return len(json.dumps(value, default=str))
    except (TypeError, ValueError, RecursionError):
        return LARGE_BYTES + 1


def _truncated(value: Any) -> Any:
    if _size(value) <= LARGE_BYTES:
        return value
    try:
        text = value if isinstance(value, str) else json.dumps(value, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return {TRUNCATED: {"bytes": len(text), "preview": text[:PREVIEW_CHARS]}}
