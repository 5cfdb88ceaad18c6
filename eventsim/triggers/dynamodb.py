"""The ``dynamodb`` trigger: a DynamoDB stream event source mapping (docs/aws-behaviour.md §7.2).

``DynamoDbKind`` checks the triggers against the config and binds each to a ``StreamBinding``,
which follows its table's life: the mapping runs while the table exists with a stream. The
pieces of the mapping are beside this module:

* ``dynamodb_settings.py``: ``DynamoDbTrigger``, one trigger's settings;
* ``dynamodb_stream.py``: ``StreamMapping``, which reads the table's stream from its checkpoint
  and hands the records to lanes, one per ``parallelization_factor``;
* ``dynamodb_lanes.py``: a lane, which delivers its records in order, in batches, with AWS's
  retries, bisection, partial batch responses, tumbling windows and discards.

Config::

    triggers:
      - dynamodb: {table: orders, starting_position: TRIM_HORIZON, batch_size: 100,
                   maximum_retry_attempts: 3, bisect_on_error: true, on_failure: queue:failed}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog

from ..errors import UnknownResourceError
from ..resources.table import Table
from .base import (
    Binding,
    Context,
    EventSourceMapping,
    References,
    TriggerKind,
    TriggerRef,
    mapping_uuid,
)
from .dynamodb_settings import DynamoDbTrigger
from .dynamodb_stream import StreamMapping

log = structlog.get_logger("eventsim.streams")


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

    @property
    def checkpoint(self) -> int | None:
        """The mapping's position in its table's current stream: every record up to this
        sequence number is done. Live while it runs (ahead of the saved one while a batch is
        split or partly retried), else the saved one; None without a table with a stream, or
        before the mapping first started.

        Example::

            [mapping] = [m for m in sim.mappings() if m.source == "dynamodb:orders"]
            lag = sim.table("orders").store.last_seq() - (mapping.checkpoint or 0)
        """
        return self._inner.checkpoint if self._inner is not None else None

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
