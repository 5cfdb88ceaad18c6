"""Message move tasks: SQS's "redrive" of a dead-letter queue (StartMessageMoveTask,
ListMessageMoveTasks, CancelMessageMoveTask).

A task takes the dead-letter queue's messages oldest first (not those in flight) and sends each
to the task's destination, or, without one, back to the queue it came from (its
``DeadLetterQueueSourceArn``), as a message received afresh. With
``MaxNumberOfMessagesPerSecond`` it moves at most that many per second of the simulator's
clock (``sim.advance(seconds=1)`` moves the next second's worth); without, all of them, a chunk
per loop turn. One task runs per source queue at a time. Tasks live in memory (a restart
forgets them; the messages not moved yet stay in the dead-letter queue).

A task's handle is what SQS's is: base64 of ``{"taskId": ..., "sourceArn": ...}``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import random
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..activity import Activity
from ..clock import Clock
from ..errors import QueueError
from ..events import ids
from .messages import check_range

if TYPE_CHECKING:
    from .queue import Queue
    from .queues import QueueRegistry

#: Messages moved per loop turn when the task has no rate.
CHUNK = 500
MAX_RATE = 500
KEPT = 10  # finished tasks remembered per source, as ListMessageMoveTasks shows


class Spawner(Protocol):
    """What runs a task's work (the simulator's supervisor)."""

    def spawn(
        self, coroutine: Coroutine[Any, Any, None], *, part: str = ...
    ) -> asyncio.Task[None]: ...


def not_found(parameter: str) -> QueueError:
    return QueueError("ResourceNotFoundException",
                      f"The resource that you specified for the {parameter} parameter doesn't "
                      "exist.")  # fmt: skip


@dataclass
class MoveTask:
    """One task, as ListMessageMoveTasks reports it."""

    id: str
    source: Queue
    destination: Queue | None
    rate: int | None
    started_ms: int
    to_move: int
    moved: int = 0
    status: str = "RUNNING"
    failure: str | None = None
    handle: str = field(default="")

    def describe(self) -> dict[str, Any]:
        entry: dict[str, Any] = {}
        if self.status == "RUNNING":
            entry["TaskHandle"] = self.handle
        entry["Status"] = self.status
        entry["SourceArn"] = self.source.arn
        if self.destination is not None:
            entry["DestinationArn"] = self.destination.arn
        if self.rate is not None:
            entry["MaxNumberOfMessagesPerSecond"] = self.rate
        entry["ApproximateNumberOfMessagesMoved"] = self.moved
        entry["ApproximateNumberOfMessagesToMove"] = self.to_move
        if self.failure is not None:
            entry["FailureReason"] = self.failure
        entry["StartedTimestamp"] = self.started_ms
        return entry


class MoveTasks:
    """The message move tasks of one registry."""

    def __init__(self, queues: QueueRegistry, clock: Clock, rng: random.Random) -> None:
        self._queues = queues
        self._clock = clock
        self._rng = rng
        self._tasks: dict[str, list[MoveTask]] = {}  # by source ARN, newest first
        self._running: dict[str, asyncio.Task[None]] = {}
        self._activity: Activity | None = None
        self._spawner: Spawner | None = None

    def bind(self, activity: Activity | None, tasks: Spawner | None) -> None:
        self._activity = activity
        self._spawner = tasks

    def start(
        self, source_arn: str, destination_arn: str | None = None, rate: int | None = None
    ) -> str:
        """StartMessageMoveTask; the task's handle."""
        source = self._queues.by_arn(source_arn)
        if source is None:
            raise not_found("SourceArn")
        if not self._queues.dead_letter_sources(source):
            raise QueueError("InvalidParameterValue",
                             "Source queue must be configured as a Dead Letter Queue.")  # fmt: skip
        destination = None
        if destination_arn is not None:
            destination = self._queues.by_arn(destination_arn)
            if destination is None:
                raise not_found("DestinationArn")
        if rate is not None:
            check_range("MaxNumberOfMessagesPerSecond", rate, 1, MAX_RATE,
                        f"You must enter a number that's between 1 and {MAX_RATE}.")  # fmt: skip
        history = self._tasks.setdefault(source.arn, [])
        if any(task.status == "RUNNING" for task in history):
            raise QueueError("InvalidParameterValue", "There is already a task running. Only "
                             "one active task is allowed for a source queue arn at a given "
                             "time.")  # fmt: skip
        task_id = ids.uuid4(self._rng)
        task = MoveTask(task_id, source, destination, rate, int(self._clock.time() * 1000),
                        len(source))  # fmt: skip
        doc = json.dumps({"taskId": task_id, "sourceArn": source.arn}, separators=(",", ":"))
        task.handle = base64.b64encode(doc.encode()).decode()
        history.insert(0, task)
        del history[KEPT:]
        if self._activity is not None:
            self._activity.begin("move")  # counted before anything awaits: settle() waits
        work = self._run(task)
        if self._spawner is not None:
            self._running[task_id] = self._spawner.spawn(work, part=f"sqs-move:{source.name}")
        else:
            self._running[task_id] = asyncio.get_running_loop().create_task(work)
        return task.handle

    def list(self, source_arn: str, max_results: int | None = None) -> list[dict[str, Any]]:
        """ListMessageMoveTasks: the newest tasks of a source, first."""
        source = self._queues.by_arn(source_arn)
        if source is None:
            raise not_found("SourceArn")
        limit = 1 if max_results is None else check_range(
            "MaxResults", max_results, 1, KEPT, "You must enter a number that's between 1 and 10."
        )  # fmt: skip
        return [task.describe() for task in self._tasks.get(source.arn, [])[:limit]]

    def cancel(self, handle: str) -> int:
        """CancelMessageMoveTask: how many messages were moved."""
        try:
            doc = json.loads(base64.b64decode(handle, validate=True))
            task_id, source_arn = doc["taskId"], doc["sourceArn"]
        except (binascii.Error, ValueError, TypeError, KeyError):
            raise QueueError(
                "InvalidParameterValue", "Value for parameter TaskHandle is invalid."
            ) from None
        if not isinstance(source_arn, str) or self._queues.by_arn(source_arn) is None:
            raise not_found("SourceArn")
        for task in self._tasks.get(source_arn, []):
            if task.id == task_id and task.status == "RUNNING":
                task.status = "CANCELLED"  # its work stops before it moves another message
                return task.moved
        raise QueueError("ResourceNotFoundException", "Task does not exist.")

    def cancel_all(self) -> None:
        for running in self._running.values():
            running.cancel()
        self._running.clear()

    async def _run(self, task: MoveTask) -> None:
        """Move ``task``'s messages; counted as pending work except while it waits for the
        clock's next second."""
        activity = self._activity
        try:
            while task.status == "RUNNING":
                budget = task.rate or CHUNK
                while budget and task.status == "RUNNING":
                    if not self._move_one(task):
                        break
                    budget -= 1
                if task.status != "RUNNING" or budget:
                    break  # done, failed, or the source has nothing more
                if task.rate is None:
                    await asyncio.sleep(0)
                    continue
                if activity is not None:
                    activity.end("move")
                try:
                    await self._clock.sleep(1)
                finally:
                    if activity is not None:
                        activity.begin("move")
            if task.status == "RUNNING":
                task.status = "COMPLETED"
        finally:
            self._running.pop(task.id, None)
            if task.status == "RUNNING":  # cancelled from outside (the simulator closes)
                task.status = "CANCELLED"
            if activity is not None:
                activity.end("move")

    def _move_one(self, task: MoveTask) -> bool:
        """Move the source's oldest message; False when there is none (or the task failed)."""
        source = task.source
        if source.deleted:
            task.status, task.failure = "FAILED", "AWS.SimpleQueueService.NonExistentQueue"
            return False
        message = source.peek_oldest()
        if message is None:
            return False
        destination = task.destination
        if destination is None:
            origin = message.extra.dead_letter_source if message.extra else None
            destination = self._queues.by_arn(origin) if origin else None
        if destination is None or destination.deleted:
            task.status, task.failure = "FAILED", "AWS.SimpleQueueService.NonExistentQueue"
            return False
        source.take_oldest()
        destination.take(message, source=None)
        source.notify("redriven", message.id, message.body, destination)
        task.moved += 1
        return True
