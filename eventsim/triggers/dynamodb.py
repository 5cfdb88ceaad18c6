"""The ``dynamodb`` trigger: a DynamoDB stream event source mapping (docs/aws-behaviour.md §7.2).

A reader takes new stream rows of the table after the mapping's position (woken by every
commit, in-process or noticed from another process), drops the ones no filter matches (the
position moves past them; the ledger says so) and hands each record to a *lane*: one lane per
``parallelization_factor``, chosen by the item's key, so order is kept per item. Each lane
delivers its records in order, in batches of up to ``batch_size`` (waiting up to
``batching_window`` on the clock for a fuller batch), and a failing batch blocks its lane:

* function error or timeout: with ``bisect_on_error`` the batch is split in half and each half
  tried on its own (splitting is not a retry), down to single records; otherwise it is retried
  whole, after a back-off on the clock, until ``maximum_retry_attempts`` (``-1``: no limit);
* ``report_batch_item_failures``: the records before the lowest returned sequence number are
  done and only the rest is retried; a malformed response fails the whole batch;
* a record older than ``maximum_record_age`` (or the stream's 24-hour retention) is discarded
  with its batch before the next attempt;
* a discarded batch sends the on-failure record (DDBStreamBatchInfo) to ``on_failure``;
* throttles are retried with back-off and do not count as attempts.

The checkpoint (in the table's SQLite file) is the highest sequence number below which every
record is done; it is saved after every batch, so a restart resumes there (at-least-once).

Config::

    triggers:
      - dynamodb: {table: orders, starting_position: TRIM_HORIZON, batch_size: 100,
                   maximum_retry_attempts: 3, bisect_on_error: true, on_failure: queue:failed}
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import structlog
from pydantic import Field, field_validator

from ..activity import Waiter
from ..config import DestinationRef, Filters, Model
from ..errors import UnknownResourceError
from ..events import destinations, dynamodb
from ..filters import FilterSet
from ..invocation.batches import BatchResponse, invoke_batch
from ..invocation.outbox import Outbox, TargetRefused
from ..invocation.sync import Delivery, InvokeResult, new_request_id
from ..ledger import Attempt, Code, Outcome, RecordOutcome
from ..resources.table import STREAM_RETENTION_S, Table
from ..runtime.spec import FunctionSpec
from ..unconfirmed import STREAM_RETRY_BACKOFF_S, STREAM_SHARD_ID
from .base import (
    Binding,
    Context,
    EventSourceMapping,
    References,
    TriggerKind,
    TriggerRef,
    mapping_uuid,
)

log = structlog.get_logger("eventsim.streams")

#: Records read ahead of the lanes; the reader waits when this many are buffered.
READ_AHEAD = 10_000
#: How soon the reader looks again when another writer held the file's lock (real seconds).
BUSY_RETRY_S = 0.02


@dataclass(slots=True)
class _Entry:
    seq: int
    record: dict[str, Any]
    created: float


@dataclass(slots=True)
class _Lane:
    waiter: Waiter
    pending: deque[_Entry] = field(default_factory=deque)
    state: dict[str, Any] | None = None  # tumbling window state
    window: float | None = None  # start of the current tumbling window


class DynamoDbTrigger(Model):
    """One DynamoDB stream event source mapping's settings."""

    table: str
    starting_position: Literal["TRIM_HORIZON", "LATEST"]
    batch_size: int = Field(default=100, ge=1, le=10000)
    batching_window: int = Field(default=0, ge=0, le=300)
    maximum_retry_attempts: int = Field(default=-1, ge=-1, le=10000)
    maximum_record_age: int = Field(default=-1, ge=-1, le=604800)
    bisect_on_error: bool = False
    parallelization_factor: int = Field(default=1, ge=1, le=10)
    tumbling_window: int = Field(default=0, ge=0, le=900)
    on_failure: DestinationRef | None = None
    report_batch_item_failures: bool = False
    filters: Filters = Field(default_factory=list, max_length=10)
    #: The table is made at run time (CreateTable): the mapping waits for it. Without this,
    #: a table the config does not define is an error.
    wait_for_table: bool = False
    enabled: bool = True

    @field_validator("maximum_record_age")
    @classmethod
    def _record_age(cls, value: int) -> int:
        if value != -1 and value < 60:
            raise ValueError("expected -1 (no limit) or 60..604800 seconds")
        return value


class StreamMapping(EventSourceMapping):
    """One ``dynamodb`` trigger: a table's stream feeding a function."""

    kind = "dynamodb"

    def __init__(
        self,
        spec: FunctionSpec,
        trigger: DynamoDbTrigger,
        table: Table,
        *,
        key: str,
        delivery: Delivery,
        outbox: Outbox,
        uuid: str = "",
    ) -> None:
        self.name = f"{table.name}->{spec.name}"
        self.uuid = uuid
        self.enabled = trigger.enabled
        self._modified = delivery.clock.time()
        self.source = f"dynamodb:{table.name}"
        self.functions = (spec.name,)
        self.key = key
        self._spec = spec
        self._trigger = trigger
        self._table = table
        #: The table and stream this mapping reads (a table may get another stream later).
        self.table = table
        self.stream_arn = table.stream_arn
        self._invoker = delivery.invoker
        self._ledger = delivery.ledger
        self._activity = delivery.activity
        self._clock = delivery.clock
        self._tasks = delivery.tasks
        self.part = f"dynamodb:{self.name}"
        self._outbox = outbox
        self._filters = FilterSet.compile(trigger.filters)
        self._reader = Waiter(delivery.activity, delivery.clock, "stream")
        self._lanes = [
            _Lane(Waiter(delivery.activity, delivery.clock, "stream"))
            for _ in range(trigger.parallelization_factor)
        ]
        self._position = 0  # the last sequence number read
        self._saved = 0
        self._running: list[asyncio.Task[None]] = []

    def describe(self) -> str:
        position = self._trigger.starting_position
        return f"dynamodb {self._table.name} -> {self._spec.name} ({position})"

    @property
    def checkpoint(self) -> int:
        """Every record up to this sequence number is done."""
        heads = [lane.pending[0].seq - 1 for lane in self._lanes if lane.pending]
        return min(heads) if heads else self._position

    def configuration(self) -> dict[str, Any]:
        trigger = self._trigger
        found: dict[str, Any] = {
            "UUID": self.uuid,
            "StartingPosition": trigger.starting_position,
            "BatchSize": trigger.batch_size,
            "MaximumBatchingWindowInSeconds": trigger.batching_window,
            "ParallelizationFactor": trigger.parallelization_factor,
            "EventSourceArn": self._table.stream_arn,
            "FunctionArn": self._spec.arn,
            "LastModified": self._modified,
            "State": "Enabled" if self.enabled else "Disabled",
            "StateTransitionReason": "USER_INITIATED",
            "DestinationConfig": (
                {"OnFailure": {"Destination": trigger.on_failure.name}}
                if trigger.on_failure is not None
                else {"OnFailure": {}}
            ),
            "MaximumRecordAgeInSeconds": trigger.maximum_record_age,
            "BisectBatchOnFunctionError": trigger.bisect_on_error,
            "MaximumRetryAttempts": trigger.maximum_retry_attempts,
            "TumblingWindowInSeconds": trigger.tumbling_window,
            "FunctionResponseTypes": (
                ["ReportBatchItemFailures"] if trigger.report_batch_item_failures else []
            ),
        }
        if trigger.filters:
            found["FilterCriteria"] = {
                "Filters": [{"Pattern": json.dumps(p)} for p in trigger.filters]
            }
        return found

    async def set_enabled(self, enabled: bool) -> None:
        self._modified = self._clock.time()
        await super().set_enabled(enabled)

    async def start(self) -> None:
        if not self.enabled:
            return
        store = self._table.store
        saved = store.checkpoint(self.key)
        if saved is None:
            saved = 0 if self._trigger.starting_position == "TRIM_HORIZON" else store.last_seq()
            store.save_checkpoint(self.key, saved)
        self._position = self._saved = saved
        self._table.listeners.append(self._reader.wake)
        self._running = [self._tasks.keep(self.part, self._read)]
        self._running += [
            self._tasks.keep(f"{self.part}#{n}", functools.partial(self._deliver, lane))
            for n, lane in enumerate(self._lanes)
        ]
        self._reader.wake()

    async def stop(self) -> None:
        """Stop reading and delivering; the checkpoint is saved, and records read but not
        done are read again from it at the next start (a paused mapping resumes there)."""
        if self._reader.wake in self._table.listeners:
            self._table.listeners.remove(self._reader.wake)
        for task in self._running:
            task.cancel()
        self._running = []
        if self.enabled and not self._table.closed:
            self._save()
        self._reader.set_busy(False)
        for lane in self._lanes:
            lane.waiter.set_busy(False)
            lane.pending.clear()
            lane.state, lane.window = None, None

    # --- reading --------------------------------------------------------------------------

    async def _read(self) -> None:
        while True:
            buffered = sum(len(lane.pending) for lane in self._lanes)
            changes = (
                self._table.changes(self._position, READ_AHEAD - buffered)
                if buffered < READ_AHEAD
                else []
            )
            if not changes:
                if self._table.store.busy:  # another writer holds the file: look again soon
                    with self._activity.track("stream"):
                        await asyncio.sleep(BUSY_RETRY_S)  # real time: the writer is real
                    continue
                await self._reader.wait()
                continue
            for change in changes:
                record = self._table.record(change)
                self._position = change.seq
                if self._filters.patterns and not self._filters.passes(record):
                    self._dropped(record, "filtered out: the record matches no filter (skipped)")
                    continue
                lane = self._lanes[self._lane_of(record)]
                lane.pending.append(_Entry(change.seq, record, change.created))
                lane.waiter.wake()
            self._save()

    def _lane_of(self, record: dict[str, Any]) -> int:
        if len(self._lanes) == 1:
            return 0
        keys = json.dumps(record["dynamodb"]["Keys"], sort_keys=True).encode()
        return int.from_bytes(hashlib.md5(keys).digest()[:4], "big") % len(self._lanes)

    def _save(self) -> None:
        checkpoint = self.checkpoint
        if checkpoint != self._saved:
            self._table.store.save_checkpoint(self.key, checkpoint)
            self._saved = checkpoint

    # --- delivering -----------------------------------------------------------------------

    async def _deliver(self, lane: _Lane) -> None:
        size, window = self._trigger.batch_size, self._trigger.batching_window
        tumbling = self._trigger.tumbling_window
        while True:
            if not lane.pending:
                ends = lane.window + tumbling if lane.window is not None else None
                if ends is not None and self._clock.time() >= ends:
                    await self._final_invoke(lane)
                    continue
                await lane.waiter.wait(ends)
                continue
            if window and len(lane.pending) < size:
                deadline = lane.pending[0].created + window
                if self._clock.time() < deadline:
                    await lane.waiter.wait(deadline)
                    if len(lane.pending) < size and self._clock.time() < deadline:
                        continue
            batch = self._next_batch(lane, size)
            if not batch:  # the lane's tumbling window ended first
                await self._final_invoke(lane)
                continue
            await self._process(lane, batch)
            self._save()
            if sum(len(lane.pending) for lane in self._lanes) < READ_AHEAD:
                self._reader.wake()

    def _next_batch(self, lane: _Lane, size: int) -> list[_Entry]:
        tumbling = self._trigger.tumbling_window
        batch: list[_Entry] = []
        for entry in lane.pending:
            if len(batch) == size:
                break
            if tumbling:
                start = entry.created - entry.created % tumbling
                if lane.window is None:
                    lane.window, lane.state = start, {}
                if start != lane.window:
                    break
            batch.append(entry)
        return batch

    async def _process(self, lane: _Lane, batch: list[_Entry]) -> None:
        """Deliver ``batch`` (the head of the lane) until it is done or discarded."""
        work: deque[tuple[list[_Entry], int]] = deque([(batch, 0)])
        while work:
            entries, retries = work.popleft()
            condition = self._expired(entries)
            if condition is not None:
                self._discard(lane, entries, condition, retries)
                continue
            result = await self._invoke(lane, entries)
            if result is None:  # throttled until the records expired: discarded next turn
                work.appendleft((entries, retries))
                continue
            done: list[_Entry] = []
            if result.function_error is not None:
                if self._trigger.bisect_on_error and len(entries) > 1:
                    half = len(entries) // 2  # splitting is not a retry
                    self._amend(result, retries, [], entries, "retried", Code.BISECTED,
                                f"the batch is split in two ({half} + {len(entries) - half} "
                                "records), each half tried on its own")  # fmt: skip
                    work.extendleft([(entries[half:], retries), (entries[:half], retries)])
                    continue
            else:
                failed = self._failed_from(lane, entries, result.payload)
                if failed is None:
                    self._amend(result, retries, entries, [], "", None, None)
                    self._done(lane, entries)
                    continue
                # A partial batch response: the records before the lowest failure are done.
                done = entries[:failed]
                self._done(lane, done)
                entries = entries[failed:]
            retries += 1
            limit = self._trigger.maximum_retry_attempts
            if limit != -1 and retries > limit:
                self._amend(result, retries - 1, done, entries, "discarded", Code.DISCARDED,
                            f"RetryAttemptsExhausted: {len(entries)} record(s) discarded after "
                            f"{retries} attempt(s)")  # fmt: skip
                self._discard(lane, entries, "RetryAttemptsExhausted", retries)
                continue
            self._amend(result, retries - 1, done, entries, "retried", Code.BATCH_RETRIED,
                        f"{len(entries)} record(s) retried (retry {retries}); they block "
                        "their shard until then")  # fmt: skip
            await self._back_off(lane, retries)
            work.appendleft((entries, retries))

    def _amend(
        self,
        result: InvokeResult,
        retries: int,
        succeeded: list[_Entry],
        rest: list[_Entry],
        outcome: str,
        code: Code | None,
        reason: str | None,
    ) -> None:
        """What became of each record of an attempt, in its ledger entry; the attempt number is
        the batch's retry number + 1."""
        records = tuple(
            RecordOutcome(e.record["dynamodb"]["SequenceNumber"], state, retries + 1)
            for group, state in ((succeeded, "succeeded"), (rest, outcome))
            for e in group
        )
        changes: dict[str, Any] = {"records": records, "attempt": retries + 1}
        if code is not None:
            changes.update(code=code, reason=reason)
        self._ledger.amend(result.request_id, **changes)

    def _failed_from(self, lane: _Lane, entries: list[_Entry], payload: Any) -> int | None:
        """None if the handler's response means success, else the first record to retry."""
        if self._trigger.tumbling_window:
            if not isinstance(payload, dict) or not isinstance(payload.get("state"), dict):
                log.warning("stream.window_state_missing", mapping=self.name)
                return 0
            lane.state = payload["state"]
            payload = {k: v for k, v in payload.items() if k != "state"}
        if not self._trigger.report_batch_item_failures:
            return None
        ids = [entry.record["dynamodb"]["SequenceNumber"] for entry in entries]
        failed = BatchResponse.failed_ids(payload, set(ids))
        if failed is None:
            log.warning("stream.malformed_batch_response", mapping=self.name, payload=payload)
            return 0
        if not failed:
            return None
        return min(ids.index(seq) for seq in failed)

    def _done(self, lane: _Lane, entries: list[_Entry]) -> None:
        for _ in entries:
            lane.pending.popleft()

    def _expired(self, entries: list[_Entry]) -> str | None:
        age = self._clock.time() - entries[0].created
        limit = self._trigger.maximum_record_age
        if age > STREAM_RETENTION_S or (limit != -1 and age > limit):
            return "RecordAgeExceeded"
        return None

    async def _back_off(self, lane: _Lane, retries: int) -> None:
        first, cap = STREAM_RETRY_BACKOFF_S
        await self._sleep(lane, min(first * 2.0 ** min(retries - 1, 32), cap))

    async def _sleep(self, lane: _Lane, seconds: float) -> None:
        deadline = self._clock.time() + seconds
        while self._clock.time() < deadline:
            await lane.waiter.wait(deadline)

    # --- one invocation -------------------------------------------------------------------

    def _event(self, lane: _Lane, entries: list[_Entry], final: bool) -> dict[str, Any]:
        event = dynamodb.batch([entry.record for entry in entries])
        if self._trigger.tumbling_window:
            assert lane.window is not None
            start = datetime.fromtimestamp(lane.window, UTC)
            end = datetime.fromtimestamp(lane.window + self._trigger.tumbling_window, UTC)
            event.update(
                window={"start": _iso(start), "end": _iso(end)},
                state=lane.state or {},
                shardId=STREAM_SHARD_ID,
                eventSourceARN=self._table.stream_arn,
                isFinalInvokeForWindow=final,
                isWindowTerminatedEarly=False,
            )
        return event

    async def _invoke(
        self, lane: _Lane, entries: list[_Entry], final: bool = False
    ) -> InvokeResult | None:
        """One attempt; throttles are retried (not counted) until the records expire."""
        return await invoke_batch(
            self._invoker, self._spec, self._event(lane, entries, final), source=self.source,
            reason_if_failed="the batch failed",
            code_if_failed=Code.BATCH_RETRIED,
            sleep=functools.partial(self._sleep, lane),
            give_up=lambda delay: bool(entries) and self._expired(entries) is not None,
        )  # fmt: skip

    async def _final_invoke(self, lane: _Lane) -> None:
        """The last invocation of a tumbling window: no records, the final state."""
        result = await self._invoke(lane, [], final=True)
        if result is None or result.function_error is not None:
            log.warning("stream.final_window_invoke_failed", mapping=self.name)
        lane.window, lane.state = None, None

    # --- giving up ------------------------------------------------------------------------

    def _discard(self, lane: _Lane, entries: list[_Entry], condition: str, retries: int) -> None:
        self._done(lane, entries)
        destination = self._trigger.on_failure
        reason = f"discarded ({condition}) after {retries} failed attempt(s)"
        if destination is not None:
            first, last = entries[0], entries[-1]
            record = destinations.stream_failure_record(
                request_id=new_request_id(),
                function_arn=self._spec.arn,
                condition=condition,  # type: ignore[arg-type]
                approximate_invoke_count=retries,
                timestamp=self._clock.now(),
                shard_id=STREAM_SHARD_ID,
                start_sequence_number=first.record["dynamodb"]["SequenceNumber"],
                end_sequence_number=last.record["dynamodb"]["SequenceNumber"],
                first_arrival=datetime.fromtimestamp(first.created, UTC),
                last_arrival=datetime.fromtimestamp(last.created, UTC),
                batch_size=len(entries),
                stream_arn=self._table.stream_arn,
            )
            try:
                self._outbox.send_record(destination, record, function_arn=self._spec.arn)
                reason += f"; on-failure record sent to {destination}"
            except TargetRefused as exc:  # a queue deleted at run time, say
                reason += f"; the on-failure record was not sent to {exc}"
                destination = None
        log.warning("stream.batch_discarded", mapping=self.name, reason=reason)
        code = Code.EVENT_AGE_EXCEEDED if condition == "RecordAgeExceeded" else Code.DISCARDED
        event = dynamodb.batch([entry.record for entry in entries])
        self._ledger.record(
            Attempt.dropped(
                function=self._spec.name, request_id=new_request_id(), source=self.source,
                event=event, at=self._clock.now(), reason=reason, code=code,
            )
        )  # fmt: skip
        if destination is not None:
            self._ledger.record(
                Attempt.dropped(
                    function=self._spec.name, request_id=new_request_id(), source=self.source,
                    event=event, at=self._clock.now(), outcome=Outcome.MOVED,
                    reason=f"the on-failure record (DDBStreamBatchInfo) was sent to {destination}",
                    code=Code.DESTINATION,
                )
            )  # fmt: skip

    def _dropped(self, record: dict[str, Any], reason: str) -> None:
        self._ledger.record(
            Attempt.dropped(
                function=self._spec.name, request_id=record["eventID"],
                source=self.source, event=record, at=self._clock.now(),
                reason=reason, code=Code.FILTERED,
            )
        )  # fmt: skip


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class StreamBinding(EventSourceMapping):
    """A ``dynamodb`` trigger following its table's life: the stream mapping runs while the
    table exists with a stream — from the start, or from when CreateTable or UpdateTable makes
    it so at run time — and stops when the table or its stream goes."""

    kind = "dynamodb"

    def __init__(self, context: Context, ref: TriggerRef, key: str) -> None:
        spec: DynamoDbTrigger = ref.spec
        self.key = key
        self.uuid = mapping_uuid(ref)
        self.enabled = spec.enabled
        self.part = f"dynamodb:{spec.table}->{ref.function}"
        self.source = f"dynamodb:{spec.table}"
        self.functions = (ref.function,)
        self._context = context
        self._ref = ref
        self._running = False
        self._inner: StreamMapping | None = None
        try:
            self._follow(context.resources.resource("tables", spec.table))
        except UnknownResourceError:
            pass  # made at run time, or never: see start()
        context.resources.listen("tables", spec.table, self._table_changed)

    def _follow(self, table: Table | None) -> StreamMapping | None:
        """The mapping of ``table``'s current stream (None: no table, or no stream); the
        previous mapping, if it was of another table or stream, is returned to be stopped."""
        old = self._inner
        if table is None or table.closed or table.config.stream is None:
            self._inner = None
        elif old is None or old.table is not table or old.stream_arn != table.stream_arn:
            self._inner = StreamMapping(
                self._context.functions[self._ref.function], self._ref.spec, table,
                key=self.key, delivery=self._context.delivery,
                outbox=self._context.outbox, uuid=self.uuid,
            )  # fmt: skip
            self._inner.enabled = self.enabled
        return old if old is not self._inner else None

    def _table_changed(self, change: tuple[str, Table]) -> None:
        what, table = change
        old = self._follow(None if what == "deleted" else table)
        if old is not None or self._inner is not None:
            self._context.delivery.tasks.spawn(self._switch(old), part=self.part)

    async def _switch(self, old: StreamMapping | None) -> None:
        if old is not None:
            await old.stop()
        if self._inner is not None and self._running:
            await self._inner.start()
            log.info("stream.following", mapping=self.part, stream=self._inner.stream_arn)

    async def start(self) -> None:
        self._running = True
        if self._inner is None:
            log.warning("stream.waiting", mapping=self.part, table=self._ref.spec.table,
                        reason="no such table (with a stream) yet: the mapping starts when "
                        "CreateTable or UpdateTable makes it")  # fmt: skip
            return
        await self._inner.start()

    async def stop(self) -> None:
        self._running = False
        if self._inner is not None:
            await self._inner.stop()

    async def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        if self._inner is not None:
            await self._inner.set_enabled(enabled)

    def describe(self) -> str:
        if self._inner is not None:
            return self._inner.describe()
        return f"dynamodb {self._ref.spec.table} -> {self._ref.function} (waiting for the table)"

    def configuration(self) -> dict[str, Any]:
        if self._inner is not None:
            return self._inner.configuration()
        return {
            "UUID": self.uuid,
            "StartingPosition": self._ref.spec.starting_position,
            "BatchSize": self._ref.spec.batch_size,
            "FunctionArn": self._context.functions[self._ref.function].arn,
            "State": "Enabled" if self.enabled else "Disabled",
            "StateTransitionReason": f"waiting for the table {self._ref.spec.table!r}",
        }


class DynamoDbKind(TriggerKind):
    name = "dynamodb"
    model = DynamoDbTrigger

    def check(self, references: References, triggers: Sequence[TriggerRef]) -> None:
        config = references.config
        for ref in triggers:
            spec: DynamoDbTrigger = ref.spec
            at = (*ref.at, self.name)
            # A table the config does not define is an error (a typo would never fire), unless
            # the trigger says it waits for one CreateTable makes at run time.
            table = config.tables.get(spec.table)
            if table is None and not spec.wait_for_table:
                references.known("table", spec.table, "tables", (*at, "table"))
            elif table is not None and table.stream is None:
                references.problem(
                    (*at, "table"), f"table {spec.table!r} has no stream: set its stream"
                )
            references.destination(spec.on_failure, (*at, "on_failure"))
            if spec.on_failure is not None and spec.on_failure.kind not in ("queue", "topic"):
                references.problem(
                    (*at, "on_failure"),
                    "a stream mapping sends failed batches to a queue or topic (queue:NAME, "
                    f"topic:NAME); AWS does not allow a {spec.on_failure.kind} here",
                )

    def bind(self, context: Context, triggers: Sequence[TriggerRef]) -> list[Binding]:
        """One mapping per trigger; its checkpoint key is ``function:table`` (with ``#n`` for
        a second trigger of the same function on the same table)."""
        bindings: list[StreamBinding] = []
        for ref in triggers:
            key = f"{ref.function}:{ref.spec.table}"
            same = sum(b.key.startswith(key) for b in bindings)
            bindings.append(StreamBinding(context, ref, f"{key}#{same}" if same else key))
        return list(bindings)

    def summary(self, spec: Any) -> str:
        return f"dynamodb {spec.table}"

    def identifies(self, record: dict[str, Any], query: Any) -> bool:
        item = query.get("item")
        keys = record.get("dynamodb", {}).get("Keys", {}) if item is not None else {}
        plain = {name: next(iter(value.values())) for name, value in keys.items()}
        return bool(plain) and all(str(item.get(name)) == str(v) for name, v in plain.items())
