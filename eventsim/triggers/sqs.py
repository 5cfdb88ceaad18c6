"""The ``sqs`` trigger: an SQS event source mapping (docs/aws-behaviour.md §7.1).

Woken by every send (no polling delay when idle), it takes up to ``batch_size`` visible
messages (waiting up to ``batching_window`` on the clock for a fuller batch), drops the ones no
filter matches (deleting them, and saying so in the ledger), and runs the function with the
rest, at most ``maximum_concurrency`` batches at a time. Then:

* success: every message of the batch is deleted;
* function error or timeout: nothing is deleted; the messages reappear after the queue's
  visibility timeout with a higher receive count, and the queue's redrive policy moves them
  to its dead-letter queue after ``max_receive_count`` receives;
* ``report_batch_item_failures``: the response is read as §7.1's table says (an empty or null
  list is success; valid message ids are partial failures, the rest are deleted; an empty,
  null or unknown id, a wrong key or anything else malformed fails the whole batch);
* a throttle: retried with back-off while the messages are still invisible.

A message is in one batch at a time: received messages are invisible until deleted or their
visibility timeout expires.

Config::

    triggers:
      - sqs: {queue: jobs, batch_size: 10, batching_window: 0, maximum_concurrency: 5,
              report_batch_item_failures: true, filters: [{body: {kind: [resize]}}]}
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import structlog
from pydantic import Field, model_validator

from ..activity import Waiter
from ..config import Filters, Model
from ..events import sqs
from ..filters import FilterSet, sqs_view
from ..invocation.batches import BatchResponse, invoke_batch
from ..invocation.sync import Delivery, InvokeResult
from ..ledger import Attempt, Code, RecordOutcome
from ..resources.messages import Message
from ..resources.queue import Queue
from ..runtime.spec import FunctionSpec
from .base import (
    Binding,
    Context,
    EventSourceMapping,
    References,
    TriggerKind,
    TriggerRef,
    mapping_uuid,
)

log = structlog.get_logger("eventsim.sqs")

#: AWS starts a standard-queue mapping with 5 concurrent batches and scales up; locally the
#: function's environments bound it anyway.
DEFAULT_CONCURRENCY = 5


class SqsTrigger(Model):
    """One SQS event source mapping's settings (AWS's names in snake_case)."""

    queue: str
    batch_size: int = Field(default=10, ge=1, le=10000)
    batching_window: int = Field(default=0, ge=0, le=300)
    report_batch_item_failures: bool = False
    maximum_concurrency: int | None = Field(default=None, ge=2, le=1000)
    filters: Filters = Field(default_factory=list, max_length=10)
    enabled: bool = True

    @model_validator(mode="after")
    def _window_for_large_batches(self) -> SqsTrigger:
        if self.batch_size > 10 and self.batching_window < 1:
            raise ValueError("batch_size over 10 needs batching_window of at least 1 second")
        return self


class SqsMapping(EventSourceMapping):
    """One ``sqs`` trigger: a queue feeding a function."""

    kind = "sqs"

    def __init__(
        self,
        spec: FunctionSpec,
        trigger: SqsTrigger,
        queue: Queue,
        *,
        delivery: Delivery,
        region: str,
        uuid: str = "",
    ) -> None:
        self.name = f"{queue.name}->{spec.name}"
        self.uuid = uuid
        self.enabled = trigger.enabled
        self._modified = delivery.clock.time()
        self.source = f"sqs:{queue.name}"
        self.functions = (spec.name,)
        self._spec = spec
        self._trigger = trigger
        self._queue = queue
        self._invoker = delivery.invoker
        self._ledger = delivery.ledger
        self._activity = delivery.activity
        self._clock = delivery.clock
        self._tasks = delivery.tasks
        self.part = f"sqs:{self.name}"
        self._region = region
        self._filters = FilterSet.compile(trigger.filters)
        self._slots = asyncio.Semaphore(trigger.maximum_concurrency or DEFAULT_CONCURRENCY)
        self._waiter = Waiter(delivery.activity, delivery.clock, "sqs")
        self._task: asyncio.Task[None] | None = None

    def describe(self) -> str:
        return f"sqs {self._queue.name} -> {self._spec.name} (batch {self._trigger.batch_size})"

    def configuration(self) -> dict[str, Any]:
        trigger = self._trigger
        found: dict[str, Any] = {
            "UUID": self.uuid,
            "BatchSize": trigger.batch_size,
            "MaximumBatchingWindowInSeconds": trigger.batching_window,
            "EventSourceArn": self._queue.arn,
            "FunctionArn": self._spec.arn,
            "LastModified": self._modified,
            "State": "Enabled" if self.enabled else "Disabled",
            "StateTransitionReason": "USER_INITIATED",
            "FunctionResponseTypes": (
                ["ReportBatchItemFailures"] if trigger.report_batch_item_failures else []
            ),
        }
        if trigger.maximum_concurrency is not None:
            found["ScalingConfig"] = {"MaximumConcurrency": trigger.maximum_concurrency}
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
        self._queue.listeners.append(self._on_send)
        self._task = self._tasks.keep(self.part, self._poll)
        if len(self._queue):
            self._on_send()

    async def stop(self) -> None:
        if self._on_send in self._queue.listeners:
            self._queue.listeners.remove(self._on_send)
        if self._task is not None:
            self._task.cancel()
        self._waiter.set_busy(False)

    def _on_send(self) -> None:
        """Called synchronously by the queue: a message is deliverable now or later."""
        self._waiter.wake()

    # --- polling --------------------------------------------------------------------------

    async def _poll(self) -> None:
        while True:
            await self._slots.acquire()
            try:
                batch = await self._gather()
            except BaseException:
                self._slots.release()
                raise
            if batch:
                self._activity.begin("batch")
                self._tasks.spawn(self._run(batch), part=self.part)
            else:
                self._slots.release()

    async def _gather(self) -> list[Message]:
        """A batch: what is visible now, filled up to the batching window."""
        size, window = self._trigger.batch_size, self._trigger.batching_window
        batch = self._take(size)
        while not batch:
            await self._waiter.wait(self._queue.next_change())
            batch = self._take(size)
        if window and len(batch) < size:
            deadline = self._clock.time() + window
            while len(batch) < size and self._clock.time() < deadline:
                await self._waiter.wait(deadline)
                batch += self._take(size - len(batch))
        return batch

    def _take(self, count: int) -> list[Message]:
        taken: list[Message] = []
        while len(taken) < count:
            found = self._queue.receive_now(min(10, count - len(taken)))
            if not found:
                break
            taken += found
        return taken

    # --- one batch ------------------------------------------------------------------------

    async def _run(self, batch: list[Message]) -> None:
        """Deliver one batch; a failure of eventsim's own is the supervisor's to report (the
        messages reappear after their visibility timeout)."""
        try:
            await self._deliver(batch)
        finally:
            self._slots.release()
            # Deletes may have made messages visible (the next of a FIFO group): look again.
            self._on_send()
            self._activity.end("batch")

    def _record(self, message: Message) -> dict[str, Any]:
        return sqs.record(
            message_id=message.message_id,
            receipt_handle=message.receipt_handle,
            body=message.body,
            attributes=message.attributes,
            message_attributes=message.message_attributes,
            queue_arn=self._queue.arn,
            region=self._region,
            digests=(message.md5_of_body, message.md5_of_message_attributes),
        )

    async def _deliver(self, batch: list[Message]) -> None:
        records, handles, receives = [], {}, {}
        for message in batch:
            record = self._record(message)
            if not self._filters.patterns or self._filters.passes(sqs_view(record)):
                records.append(record)
                handles[message.message_id] = message.receipt_handle
                receives[message.message_id] = int(
                    record["attributes"].get("ApproximateReceiveCount", "1")
                )
            else:
                self._queue.delete_message(message.receipt_handle)
                self._dropped(
                    record, "filtered out: the message matches no filter, so it was deleted"
                )
        if not records:
            return
        event = sqs.batch(records)
        result = await self._invoke(event)
        if result is None:  # throttled until the visibility timeout: not run
            return
        keep: set[str] = set(handles)  # the messages that stay, to reappear
        malformed = False
        if result.function_error is None:
            keep = set()
            if self._trigger.report_batch_item_failures:
                failed = BatchResponse.failed_ids(result.payload, set(handles))
                if failed is None:
                    log.warning(
                        "sqs.malformed_batch_response", mapping=self.name, payload=result.payload
                    )
                    keep, malformed = set(handles), True
                else:
                    keep = failed
        for message_id, handle in handles.items():
            if message_id not in keep:
                self._queue.delete_message(handle)
        self._amend(result, receives, keep, malformed)

    def _amend(
        self, result: InvokeResult, receives: dict[str, int], keep: set[str], malformed: bool
    ) -> None:
        """What became of each message of the batch, in the batch's ledger entry: its receive
        count is its attempt number."""
        retried = result.function_error is not None or malformed
        outcomes = tuple(
            RecordOutcome(
                message_id,
                "retried" if retried else "failed" if message_id in keep else "succeeded",
                count,
            )
            for message_id, count in receives.items()
        )
        changes: dict[str, Any] = {"records": outcomes, "attempt": max(receives.values())}
        if malformed:
            changes.update(
                code=Code.MALFORMED_RESPONSE,
                reason="the batch response is not what AWS accepts: every message reappears "
                "after the visibility timeout",
            )
        elif keep and not retried:
            changes.update(
                code=Code.PARTIAL_FAILURE,
                reason=f"{len(keep)} of {len(receives)} message(s) reported failed; they "
                "reappear after the visibility timeout, the rest were deleted",
            )
        self._ledger.amend(result.request_id, **changes)

    async def _invoke(self, event: dict[str, Any]) -> InvokeResult | None:
        deadline = self._clock.time() + self._queue.config.visibility_timeout
        return await invoke_batch(
            self._invoker, self._spec, event, source=self.source,
            reason_if_failed="messages reappear after the visibility timeout",
            code_if_failed=Code.VISIBILITY_TIMEOUT,
            sleep=self._sleep_uncounted,
            # The messages reappear then, and the next receive tries again.
            give_up=lambda delay: self._clock.time() + delay >= deadline,
        )  # fmt: skip

    async def _sleep_uncounted(self, seconds: float) -> None:
        """A back-off on the clock, which is not pending work."""
        self._activity.end("batch")
        try:
            await self._clock.sleep(seconds)
        finally:
            self._activity.begin("batch")

    def _dropped(self, record: dict[str, Any], reason: str) -> None:
        self._ledger.record(
            Attempt.dropped(
                function=self._spec.name, request_id=record["messageId"],
                source=self.source, event=record, at=self._clock.now(),
                reason=reason, code=Code.FILTERED,
            )
        )  # fmt: skip


class SqsKind(TriggerKind):
    name = "sqs"
    model = SqsTrigger

    def check(self, references: References, triggers: Sequence[TriggerRef]) -> None:
        for ref in triggers:
            spec: SqsTrigger = ref.spec
            at = (*ref.at, self.name)
            if (
                references.known("queue", spec.queue, "queues", (*at, "queue"))
                and spec.queue.endswith(".fifo")
                and spec.batch_size > 10
            ):
                references.problem((*at, "batch_size"), "a FIFO queue allows batch_size 1..10")

    def bind(self, context: Context, triggers: Sequence[TriggerRef]) -> list[Binding]:
        return [
            SqsMapping(
                context.functions[ref.function],
                ref.spec,
                context.resources.resource("queues", ref.spec.queue),
                delivery=context.delivery,
                region=context.config.region,
                uuid=mapping_uuid(ref),
            )
            for ref in triggers
        ]

    def summary(self, spec: Any) -> str:
        return f"sqs {spec.queue}"

    def identifies(self, record: dict[str, Any], query: Any) -> bool:
        wanted = query.get("message_id")
        return wanted is not None and (
            record.get("messageId") == wanted or wanted in str(record.get("body", ""))
        )
