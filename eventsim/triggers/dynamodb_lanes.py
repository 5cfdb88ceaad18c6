"""A lane of a DynamoDB stream mapping: its records delivered in order, a batch at a time.

The reader (``dynamodb_stream.py``) appends records to a lane's ``pending``; the lane delivers
them in batches of up to ``batch_size`` (waiting up to ``batching_window`` on the clock for a
fuller batch), and a failing batch blocks its lane:

* function error or timeout: with ``bisect_on_error`` the batch is split in half and each half
  tried on its own (splitting is not a retry), down to single records; otherwise it is retried
  whole, after a back-off on the clock, until ``maximum_retry_attempts`` (``-1``: no limit);
* ``report_batch_item_failures``: the records before the lowest returned sequence number are
  done and only the rest is retried; a malformed response fails the whole batch;
* a record older than ``maximum_record_age`` (or the stream's 24-hour retention) is discarded
  with its batch before the next attempt;
* a discarded batch sends the on-failure record (DDBStreamBatchInfo) to ``on_failure``;
* throttles are retried with back-off and do not count as attempts.

With ``tumbling_window`` a batch holds the records of one window only; the handler's ``state``
passes from one invocation to the next, and a window ends with an invocation without records.
A record leaves ``pending`` once done or discarded, so the lanes' heads make the checkpoint.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from ..activity import Waiter
from ..errors import TargetRefused
from ..events import destinations, dynamodb
from ..invocation.batches import BatchResponse, invoke_batch
from ..invocation.outbox import Outbox
from ..invocation.sync import Delivery, InvokeResult, new_request_id
from ..ledger import Attempt, Code, Outcome, RecordOutcome
from ..resources.table import STREAM_RETENTION_S, Table
from ..runtime.spec import FunctionSpec
from ..unconfirmed import STREAM_RETRY_BACKOFF_S, STREAM_SHARD_ID
from .dynamodb_settings import DynamoDbTrigger

log = structlog.get_logger("eventsim.streams")


@dataclass(slots=True)
class Entry:
    """One stream record waiting in a lane."""

    seq: int
    record: dict[str, Any]
    created: float


class Lane:
    """One lane of the mapping ``name``: ``deliver()`` runs until cancelled, and calls
    ``delivered()`` after every batch (the mapping saves its checkpoint, reads on)."""

    def __init__(
        self,
        name: str,
        source: str,
        spec: FunctionSpec,
        trigger: DynamoDbTrigger,
        table: Table,
        *,
        delivery: Delivery,
        outbox: Outbox,
        delivered: Callable[[], None],
    ) -> None:
        self.waiter = Waiter(delivery.activity, delivery.clock, "stream")
        self.pending: deque[Entry] = deque()
        self.state: dict[str, Any] | None = None  # tumbling window state
        self.window: float | None = None  # start of the current tumbling window
        self.name = name
        self.source = source
        self._spec = spec
        self._trigger = trigger
        self._table = table
        self._invoker = delivery.invoker
        self._ledger = delivery.ledger
        self._clock = delivery.clock
        self._outbox = outbox
        self._delivered = delivered

    def reset(self) -> None:
        """Forget what was read and the window (the mapping stopped)."""
        self.waiter.set_busy(False)
        self.pending.clear()
        self.state, self.window = None, None

    # --- delivering -----------------------------------------------------------------------

    async def deliver(self) -> None:
        size, window = self._trigger.batch_size, self._trigger.batching_window
        tumbling = self._trigger.tumbling_window
        while True:
            if not self.pending:
                ends = self.window + tumbling if self.window is not None else None
                if ends is not None and self._clock.time() >= ends:
                    await self._final_invoke()
                    continue
                await self.waiter.wait(ends)
                continue
            if window and len(self.pending) < size:
                deadline = self.pending[0].created + window
                if self._clock.time() < deadline:
                    await self.waiter.wait(deadline)
                    if len(self.pending) < size and self._clock.time() < deadline:
                        continue
            batch = self._next_batch(size)
            if not batch:  # the lane's tumbling window ended first
                await self._final_invoke()
                continue
            await self._process(batch)
            self._delivered()

    def _next_batch(self, size: int) -> list[Entry]:
        tumbling = self._trigger.tumbling_window
        batch: list[Entry] = []
        for entry in self.pending:
            if len(batch) == size:
                break
            if tumbling:
                start = entry.created - entry.created % tumbling
                if self.window is None:
                    self.window, self.state = start, {}
                if start != self.window:
                    break
            batch.append(entry)
        return batch

    async def _process(self, batch: list[Entry]) -> None:
        """Deliver ``batch`` (the head of the lane) until it is done or discarded."""
        work: deque[tuple[list[Entry], int]] = deque([(batch, 0)])
        while work:
            entries, retries = work.popleft()
            condition = self._expired(entries)
            if condition is not None:
                self._discard(entries, condition, retries)
                continue
            result = await self._invoke(entries)
            if result is None:  # throttled until the records expired: discarded next turn
                work.appendleft((entries, retries))
                continue
            done: list[Entry] = []
            if result.function_error is not None:
                if self._trigger.bisect_on_error and len(entries) > 1:
                    half = len(entries) // 2  # splitting is not a retry
                    self._amend(result, retries, [], entries, "retried", Code.BISECTED,
                                f"the batch is split in two ({half} + {len(entries) - half} "
                                "records), each half tried on its own")  # fmt: skip
                    work.extendleft([(entries[half:], retries), (entries[:half], retries)])
                    continue
            else:
                failed = self._failed_from(entries, result.payload)
                if failed is None:
                    self._amend(result, retries, entries, [], "", None, None)
                    self._done(entries)
                    continue
                # A partial batch response: the records before the lowest failure are done.
                done = entries[:failed]
                self._done(done)
                entries = entries[failed:]
            retries += 1
            limit = self._trigger.maximum_retry_attempts
            if limit != -1 and retries > limit:
                self._amend(result, retries - 1, done, entries, "discarded", Code.DISCARDED,
                            f"RetryAttemptsExhausted: {len(entries)} record(s) discarded after "
                            f"{retries} attempt(s)")  # fmt: skip
                self._discard(entries, "RetryAttemptsExhausted", retries)
                continue
            self._amend(result, retries - 1, done, entries, "retried", Code.BATCH_RETRIED,
                        f"{len(entries)} record(s) retried (retry {retries}); they block "
                        "their shard until then")  # fmt: skip
            await self._back_off(retries)
            work.appendleft((entries, retries))

    def _amend(
        self,
        result: InvokeResult,
        retries: int,
        succeeded: list[Entry],
        rest: list[Entry],
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

    def _failed_from(self, entries: list[Entry], payload: Any) -> int | None:
        """None if the handler's response means success, else the first record to retry."""
        if self._trigger.tumbling_window:
            if not isinstance(payload, dict) or not isinstance(payload.get("state"), dict):
                log.warning("stream.window_state_missing", mapping=self.name)
                return 0
            self.state = payload["state"]
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

    def _done(self, entries: list[Entry]) -> None:
        for _ in entries:
            self.pending.popleft()

    def _expired(self, entries: list[Entry]) -> str | None:
        age = self._clock.time() - entries[0].created
        limit = self._trigger.maximum_record_age
        if age > STREAM_RETENTION_S or (limit != -1 and age > limit):
            return "RecordAgeExceeded"
        return None

    async def _back_off(self, retries: int) -> None:
        first, cap = STREAM_RETRY_BACKOFF_S
        await self._sleep(min(first * 2.0 ** min(retries - 1, 32), cap))

    async def _sleep(self, seconds: float) -> None:
        deadline = self._clock.time() + seconds
        while self._clock.time() < deadline:
            await self.waiter.wait(deadline)

    # --- one invocation -------------------------------------------------------------------

    def _event(self, entries: list[Entry], final: bool) -> dict[str, Any]:
        event = dynamodb.batch([entry.record for entry in entries])
        if self._trigger.tumbling_window:
            assert self.window is not None
            start = datetime.fromtimestamp(self.window, UTC)
            end = datetime.fromtimestamp(self.window + self._trigger.tumbling_window, UTC)
            event.update(
                window={"start": _iso(start), "end": _iso(end)},
                state=self.state or {},
                shardId=STREAM_SHARD_ID,
                eventSourceARN=self._table.stream_arn,
                isFinalInvokeForWindow=final,
                isWindowTerminatedEarly=False,
            )
        return event

    async def _invoke(self, entries: list[Entry], final: bool = False) -> InvokeResult | None:
        """One attempt; throttles are retried (not counted) until the records expire."""
        return await invoke_batch(
            self._invoker, self._spec, self._event(entries, final), source=self.source,
            reason_if_failed="the batch failed",
            code_if_failed=Code.BATCH_RETRIED,
            sleep=self._sleep,
            give_up=lambda delay: bool(entries) and self._expired(entries) is not None,
        )  # fmt: skip

    async def _final_invoke(self) -> None:
        """The last invocation of a tumbling window: no records, the final state."""
        result = await self._invoke([], final=True)
        if result is None or result.function_error is not None:
            log.warning("stream.final_window_invoke_failed", mapping=self.name)
        self.window, self.state = None, None

    # --- giving up ------------------------------------------------------------------------

    def _discard(self, entries: list[Entry], condition: str, retries: int) -> None:
        self._done(entries)
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


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")
