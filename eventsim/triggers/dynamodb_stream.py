"""A DynamoDB stream event source mapping: reads a table's stream and hands it to its lanes.

A reader takes new stream rows of the table after the mapping's position (woken by every
commit, in-process or noticed from another process), drops the ones no filter matches (the
position moves past them; the ledger says so) and hands each record to a *lane*
(``dynamodb_lanes.py``, which delivers them): one lane per ``parallelization_factor``, chosen by
the item's key, so order is kept per item.

The checkpoint is the highest sequence number up to which every record is done. ``checkpoint``
is the live one (the lanes' heads while the mapping runs); it is saved in the table's SQLite
file after every batch, so a restart resumes there (at-least-once).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import structlog

from ..activity import Waiter
from ..filters import FilterSet
from ..invocation.outbox import Outbox
from ..invocation.sync import Delivery
from ..ledger import Attempt, Code
from ..resources.table import Table
from ..runtime.spec import FunctionSpec
from .base import EventSourceMapping
from .dynamodb_lanes import Entry, Lane
from .dynamodb_settings import DynamoDbTrigger

log = structlog.get_logger("eventsim.streams")

#: Records read ahead of the lanes; the reader waits when this many are buffered.
READ_AHEAD = 10_000
#: Records read and turned into stream records in one turn of the loop: a backlog (rows
#: written while eventsim was down) is read a slice at a time, never stalling the loop.
READ_SLICE = 250
#: How soon the reader looks again when another writer held the file's lock (real seconds).
BUSY_RETRY_S = 0.02


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
        self._ledger = delivery.ledger
        self._activity = delivery.activity
        self._clock = delivery.clock
        self._tasks = delivery.tasks
        self.part = f"dynamodb:{self.name}"
        self._filters = FilterSet.compile(trigger.filters)
        self._reader = Waiter(delivery.activity, delivery.clock, "stream")
        self._lanes = [
            Lane(
                self.name,
                self.source,
                spec,
                trigger,
                table,
                delivery=delivery,
                outbox=outbox,
                delivered=self._delivered,
            )
            for _ in range(trigger.parallelization_factor)
        ]
        self._position = 0  # the last sequence number read
        self._saved = 0
        self._running: list[asyncio.Task[None]] = []

    def describe(self) -> str:
        position = self._trigger.starting_position
        return f"dynamodb {self._table.name} -> {self._spec.name} ({position})"

    @property
    def checkpoint(self) -> int | None:
        """Every record up to this sequence number is done: the live position while the
        mapping runs, else the one saved in the table's file (None: it never started)."""
        if self._running:
            return self._live()
        return None if self._table.closed else self._table.store.checkpoint(self.key)

    def _live(self) -> int:
        """The sequence number before the oldest record a lane still holds (or the last read)."""
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
            self._tasks.keep(f"{self.part}#{n}", lane.deliver) for n, lane in enumerate(self._lanes)
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
            self._save(give_way=False)
        self._reader.set_busy(False)
        for lane in self._lanes:
            lane.reset()

    # --- reading --------------------------------------------------------------------------

    async def _read(self) -> None:
        while True:
            buffered = sum(len(lane.pending) for lane in self._lanes)
            changes = (
                self._table.changes(self._position, min(READ_SLICE, READ_AHEAD - buffered))
                if buffered < READ_AHEAD
                else []
            )
            if not changes:
                if self._table.store.busy or not self._save():
                    # another writer holds the file: look again soon
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
                lane.pending.append(Entry(change.seq, record, change.created))
                lane.waiter.wake()
            self._save()
            await asyncio.sleep(0)  # the lanes, requests and other parts run between slices

    def _lane_of(self, record: dict[str, Any]) -> int:
        if len(self._lanes) == 1:
            return 0
        keys = json.dumps(record["dynamodb"]["Keys"], sort_keys=True).encode()
        return int.from_bytes(hashlib.md5(keys).digest()[:4], "big") % len(self._lanes)

    def _save(self, *, give_way: bool = True) -> bool:
        """Save the checkpoint if it moved. False when another writer held the table file
        (``give_way``): the reader is woken, and saves it again until it is saved."""
        checkpoint = self._live()
        if checkpoint != self._saved:
            if not self._table.store.save_checkpoint(self.key, checkpoint, give_way=give_way):
                self._reader.wake()
                return False
            self._saved = checkpoint
        return True

    def _delivered(self) -> None:
        """A lane finished a batch: save the checkpoint, and read on if there is room."""
        self._save()
        if sum(len(lane.pending) for lane in self._lanes) < READ_AHEAD:
            self._reader.wake()

    def _dropped(self, record: dict[str, Any], reason: str) -> None:
        self._ledger.record(
            Attempt.dropped(
                function=self._spec.name, request_id=record["eventID"],
                source=self.source, event=record, at=self._clock.now(),
                reason=reason, code=Code.FILTERED,
            )
        )  # fmt: skip
