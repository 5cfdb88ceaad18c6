"""The simulator's resources by name: functions, buckets, queues, tables, topics, buses and
event source mappings.

``Simulator`` takes these from ``SimulatorResources``: the lookups tests and the edge use
(``sim.queue("jobs")``), the run-time CreateBucket/CreateQueue, and the ``Resources`` seam of
trigger bindings (``resource``, ``listen``), the ledger entries of messages a queue moves or
expires on its own (``_queue_event``), and what the ledger says of them (``wait_for``,
``recorded``, ``explain``). A name may be any alias the config gives (``aliases:``, a
template's logical ids): ``sim.queue("JobsQueue")`` finds ``local-JobsQueue-…``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from . import explain
from .activity import Activity
from .clock import Clock
from .config import AliasSection, BucketConfig, Config
from .errors import FunctionNotFound, SimulatorStateError, UnknownResourceError
from .ledger import Attempt, Code, Ledger, Outcome
from .resources.bucket import BucketSource, ObjectChange
from .resources.buses import Bus, Buses
from .resources.created import bucket_config, remove_bucket
from .resources.queue import Queue
from .resources.queues import QueueRegistry
from .resources.table import Table
from .resources.tables import TableRegistry
from .resources.topics import Topic, Topics
from .runtime.spec import FunctionSpec
from .supervisor import Supervisor
from .triggers.base import Binding, EventSourceMapping
from .triggers.s3 import S3Binding


class SimulatorResources:
    """Every resource of a simulator by name (the attributes are set by ``Simulator``)."""

    config: Config
    clock: Clock
    activity: Activity
    ledger: Ledger
    state_dir: Path
    functions: dict[str, FunctionSpec]
    bindings: list[Binding]
    _accepting: bool
    _supervisor: Supervisor | None
    _buckets: dict[str, BucketSource]
    _queues: QueueRegistry
    _tables: TableRegistry
    _topics: Topics | None
    _buses: Buses | None
    _extensions: dict[str, dict[str, Any]]  # plug-in kinds' resources
    _sources: list[Any]
    _bucket_listeners: dict[str, list[Callable[[Any], None]]]

    def _named(self, section: str, name: str) -> str:
        """``name``, or the resource it is an alias of (the config's ``aliases``)."""
        return self.config.aliases.get(cast(AliasSection, section), {}).get(name, name)

    def bucket(self, name: str) -> BucketSource:
        """The bucket ``name``: ``put_object``, ``get_object``, ``delete_object``,
        ``list_objects``. Each write returns once its notification was dispatched."""
        self._check_running()
        bucket = self._buckets.get(self._named("buckets", name))
        if bucket is None:
            raise UnknownResourceError("bucket", name, list(self.config.buckets))
        return bucket

    @property
    def buckets(self) -> Mapping[str, BucketSource]:
        """Every bucket by name: the config's and those made with ``create_bucket``."""
        return self._buckets

    def _new_bucket(self, name: str, config: BucketConfig) -> BucketSource:
        assert self._supervisor is not None
        return BucketSource(
            name, config, state_dir=self.state_dir, clock=self.clock, activity=self.activity,
            emit=self._bucket_changed, tasks=self._supervisor,
        )  # fmt: skip

    async def create_bucket(self, name: str) -> BucketSource:
        """A bucket made at run time, as S3's CreateBucket does: a folder under
        ``state_dir/s3/`` that lasts across restarts. The existing bucket if ``name`` exists."""
        self._check_running()
        if name not in self._buckets:
            bucket = self._new_bucket(name, bucket_config(self.state_dir, name))
            await bucket.start()
            self._buckets[name] = bucket
            self._sources.append(bucket)
        return self._buckets[name]

    async def delete_bucket(self, name: str) -> None:
        """Remove a bucket made at run time, its folder and its state (the S3 API refuses
        unless it is empty)."""
        bucket = self._buckets.pop(name)
        self._sources.remove(bucket)
        await remove_bucket(bucket, self.state_dir)

    @property
    def queues(self) -> QueueRegistry:
        """Every queue: as a mapping, the config region's by name (the config's and those
        made at run time); ``get_queue(name, region)`` for others."""
        return self._queues

    @property
    def tables(self) -> TableRegistry:
        """Every table by name; ``create``, ``delete``, and ``on_created``/``on_deleted``."""
        return self._tables

    def create_queue(
        self,
        name: str,
        attributes: Mapping[str, str] | None = None,
        *,
        tags: Mapping[str, str] | None = None,
        persist: bool = False,
    ) -> Queue:
        """A queue made at run time, as SQS's CreateQueue does (``attributes`` by AWS's
        names; ``QueueError`` with SQS's code when refused); it lasts until the simulator
        closes unless ``persist``. The existing queue if ``name`` exists with those values."""
        self._check_running()
        return self._queues.create(name, attributes, tags, persist=persist)

    def queue(self, name: str) -> Queue:
        """The queue ``name``: ``send_message``, ``receive_messages``, ``delete_message``,
        ``change_message_visibility``, ``purge``, ``counts``, ``snapshot``."""
        self._check_running()
        queue = self._queues.get(self._named("queues", name))
        if queue is None:
            raise UnknownResourceError("queue", name, list(self.config.queues))
        return queue

    def table(self, name: str) -> Table:
        """The table ``name``: ``put_item``, ``get_item``, ``update_item``, ``delete_item``,
        ``query``, ``scan``, ``batch_write`` (and their DynamoDB JSON twins)."""
        self._check_running()
        table = self._tables.get(self._named("tables", name))
        if table is None:
            raise UnknownResourceError("table", name, list(self.config.tables))
        return table

    # SNS topics and EventBridge buses (#18) --------------------------------------------------

    @property
    def topics(self) -> Topics:
        """Every topic by name: the config's and those CreateTopic made (``create``)."""
        self._check_running()
        assert self._topics is not None
        return self._topics

    @property
    def buses(self) -> Buses:
        """Every event bus by name: ``default`` and the config's."""
        self._check_running()
        assert self._buses is not None
        return self._buses

    def topic(self, name: str) -> Topic:
        """The topic ``name``: ``publish(message, subject=..., attributes=...)``,
        ``subscribe``, ``subscriptions``."""
        topic = self.topics.get(self._named("topics", name))
        if topic is None:
            raise UnknownResourceError("topic", name, list(self.topics))
        return topic

    def bus(self, name: str = "default") -> Bus:
        """The event bus ``name``: ``put_events([...])``, ``put(event)``, ``rules``."""
        bus = self.buses.get(self._named("buses", name))
        if bus is None:
            raise UnknownResourceError("bus", name, list(self.buses))
        return bus

    def resource(self, section: str, name: str) -> Any:
        """The resource ``name`` of the config section ``section`` (``buckets``...)."""
        found: dict[str, Mapping[str, Any]] = {
            "buckets": self._buckets, "queues": self._queues, "tables": self._tables,
            "topics": self._topics or {}, "buses": self._buses or {}, **self._extensions,
        }  # fmt: skip
        entries = found.get(section, {})
        name = self._named(section, name)
        if name not in entries:
            raise UnknownResourceError(section.removesuffix("s"), name, list(entries))
        return entries[name]

    def listen(self, section: str, name: str, listener: Callable[[Any], None]) -> None:
        """Call ``listener`` with every change the resource announces (buckets); for topics,
        with the topic ``name`` (``*``: each one), now and when CreateTopic makes it; for
        tables, with ``(what, table)`` when CreateTable, UpdateTable or DeleteTable makes,
        changes (its stream) or removes the table ``name`` at run time."""
        if section == "topics" and self._topics is not None:
            self._topics.listen(name, listener)
            return
        if section == "tables":
            for what, hooks in (("created", self._tables.on_created),
                                ("updated", self._tables.on_updated),
                                ("deleted", self._tables.on_deleted)):  # fmt: skip
                hooks.append(_TableHook(name, what, listener))
            return
        if section != "buckets":
            raise ValueError(f"{section} announce nothing to listen to")
        self._bucket_listeners.setdefault(name, []).append(listener)

    def _bucket_changed(self, change: ObjectChange) -> None:
        for listener in self._bucket_listeners.get(change.bucket, ()):
            listener(change)

    def _queue_event(
        self, queue: Queue, what: str, message_id: str, body: str, target: Queue | None
    ) -> None:
        """A message moved to a dead-letter queue, expired, or redriven: an entry of its own,
        under the function the queue feeds (if any)."""
        source = f"sqs:{queue.name}"
        function = next(
            (b.functions[0] for b in self.bindings if b.source == source), explain.NO_FUNCTION
        )
        where = target.name if target is not None else ""
        outcome, code, reason = {
            "dead_lettered": (Outcome.MOVED, Code.DEAD_LETTERED,
                              f"moved to the dead-letter queue {where!r} (max receive count)"),
            "redriven": (Outcome.MOVED, Code.REDRIVEN,
                         f"redriven to {where!r} by a message move task"),
            "expired": (Outcome.DROPPED, Code.EXPIRED,
                        "deleted by the queue: older than its message retention period"),
        }[what]  # fmt: skip
        event = {"messageId": message_id, "body": body, "eventSource": "aws:sqs",
                 "eventSourceARN": queue.arn}  # fmt: skip
        self.ledger.record(
            Attempt.dropped(function=function, request_id=message_id, source=source, event=event,
                            at=self.clock.now(), reason=reason, code=code, outcome=outcome)
        )  # fmt: skip

    def function(self, name: str) -> FunctionSpec:
        """A function by name (or alias), ``name:qualifier``, full ARN or partial ARN."""
        spec = self.functions.get(self._named("functions", name))
        if spec is not None:
            return spec
        key = name
        if key.startswith("arn:"):
            parts = key.split(":")
            key = parts[6] if len(parts) >= 7 else key
        elif ":function:" in key:
            key = key.split(":function:", 1)[1]
        key = key.split(":", 1)[0]
        spec = self.functions.get(key)
        if spec is None:
            raise FunctionNotFound(name, list(self.functions))
        return spec

    def mappings(self) -> list[EventSourceMapping]:
        """The event source mappings (the ``sqs`` and ``dynamodb`` triggers...), as Lambda's
        ``ListEventSourceMappings`` shows them."""
        return [b for b in self.bindings if isinstance(b, EventSourceMapping)]

    def mapping(self, uuid: str) -> EventSourceMapping:
        """The event source mapping ``uuid``; ``UnknownResourceError`` if there is none.
        ``await sim.mapping(uuid).set_enabled(False)`` pauses it."""
        found = next((m for m in self.mappings() if m.uuid == uuid), None)
        if found is None:
            raise UnknownResourceError("event source mapping", uuid,
                                       [m.uuid for m in self.mappings()])  # fmt: skip
        return found

    async def wait_for(
        self, function: str, count: int = 1, outcome: Outcome | None = None,
        timeout: float | None = 30.0,  # noqa: ASYNC109 - real seconds, explained on expiry
    ) -> list[Attempt]:  # fmt: skip
        """Until ``function`` has ``count`` attempts (of ``outcome``); see ``Ledger.wait_for``."""
        return await self.ledger.wait_for(function, count, outcome, timeout)

    def recorded(self, function: str) -> list[Any]:
        """The events ``function`` handled successfully, in order (e.g. with the
        ``eventsim.testing.record`` handler)."""
        return [a.event for a in self.ledger.for_function(function, Outcome.SUCCESS)]

    def explain(
        self, *, key: str | None = None, message_id: str | None = None,
        item: dict[str, Any] | None = None,
    ) -> str:  # fmt: skip
        """What happened to an S3 key, a message (id or body text) or an item (its key)."""
        return explain.explain(self.ledger, key=key, message_id=message_id, item=item)

    def _s3_binding(self, bucket: str) -> S3Binding:
        found = next(
            (b for b in self.bindings if isinstance(b, S3Binding) and b.bucket == bucket), None
        )
        if found is None:
            raise UnknownResourceError("bucket", bucket, list(self._buckets))
        return found

    def _check_running(self) -> None:
        if not self._accepting:
            raise SimulatorStateError(
                "the simulator is not running: use `async with Simulator...` or await start()"
            )


@dataclass(frozen=True)
class _TableHook:
    """Hands ``(what, table)`` to ``listener`` for the table ``name`` only."""

    name: str
    what: str
    listener: Callable[[Any], None]

    def __call__(self, table: Table) -> None:
        if table.name == self.name:
            self.listener((self.what, table))
