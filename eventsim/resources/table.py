"""A SQLite file as a DynamoDB table, with its stream, secondary indexes and TTL
(docs/aws-behaviour.md §2).

``sim.table("orders")`` gives a ``Table``. Two faces with the same semantics:

* plain Python values (numbers come back as ``Decimal``, binary as ``bytes``, sets as
  ``set``): ``put_item``, ``get_item``, ``update_item``, ``delete_item``, ``query``, ``scan``,
  ``batch_write``;
* DynamoDB JSON, as the DynamoDB API carries it: ``put``, ``get``, ``update``, ``delete``,
  ``query_page``, ``scan_page``, ``write_batch``.

Every write is one SQLite transaction; the stream row is written by a trigger in the same
transaction (see ``table_store``), so writes from other processes are captured too. A write
that changes nothing writes no stream row. Query and Scan run in SQL over ordered key columns:
their cost depends on the page they return, not on the size of the table. Refusals are
``TableError`` with DynamoDB's code and message.

This module holds ``Table`` with its definition, its writes (planned, conditional, batched),
TTL expiry and the plain face's writes; the read path is ``table_reads``, the stream side
``table_stream`` (both mixed into ``Table``), and ``TableError`` with the checks of requests
``table_checks``.

Example::

    orders = sim.table("orders")
    orders.put_item({"pk": "a", "sk": "1", "total": 3},
                    condition="attribute_not_exists(pk)")
    orders.update_item({"pk": "a", "sk": "1"}, "SET #t = #t + :n", names={"#t": "total"},
                       values={":n": 2})
    orders.get_item({"pk": "a", "sk": "1"})["total"]     # Decimal('5')
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..clock import Clock
from ..config import TableConfig
from ..errors import ExpressionError, TableError
from ..events import dynamodb
from ..expressions import AV, Condition, Item, project
from ..expressions import Path as DocumentPath
from ..updates import Update, parse_update
from .table_checks import (
    INVALID,
    RETURN_VALUES,
    Index,
    ReturnValues,
    canon_values,
    canonical,
    check_item,
    check_return_values,
    condition_of,
    in_index,
    indexes_of,
    invalid,
    key_columns,
    key_names,
    key_of,
    marshalled,
    plain,
    projection_paths,
    typed,
)
from .table_pages import ITEM_LIMIT_BYTES, Page, Usage, item_size
from .table_reads import TableReads
from .table_store import CHUNK, TableStore
from .table_stream import STREAM_RETENTION_S, TableStream

__all__ = [
    "BATCH_GET_LIMIT", "BATCH_WRITE_LIMIT", "ITEM_LIMIT_BYTES", "STREAM_RETENTION_S", "Index",
    "Page", "Planned", "Table", "TableError", "Usage", "item_size",
]  # fmt: skip

#: DynamoDB does not delete items whose TTL is more than five years in the past.
TTL_HORIZON_S = 5 * 365 * 86400
BATCH_WRITE_LIMIT = 25
BATCH_GET_LIMIT = 100


@dataclass(frozen=True)
class Planned:
    """One write, ready to run in a transaction: the item's columns, the condition it needs,
    and the change (None: a condition check only)."""

    table: Table
    columns: tuple[str, str]
    key: Item
    test: Condition | None
    change: Callable[[Item | None], Item | None] | None
    updated: tuple[DocumentPath, ...] | None = None


class Table(TableReads, TableStream):
    """One table: items in a SQLite file, changes captured into its stream."""

    def __init__(
        self,
        name: str,
        config: TableConfig,
        *,
        state_dir: Path,
        clock: Clock,
        region: str,
        account: str,
    ) -> None:
        self.name = name
        self.path = state_dir / "tables" / f"{name}.sqlite3"
        self.clock = clock
        self.region = region
        self.account = account
        self.arn = f"arn:aws:dynamodb:{region}:{account}:table/{name}"
        self.store = TableStore(self.path, config, f"tables/{name}")
        self.created = float(self.store.meta("created", repr(clock.time())))
        label = self.store.meta("stream_label", dynamodb.stream_label(clock.now()))
        self.stream_arn = dynamodb.stream_arn(region, account, name, label)
        #: Called synchronously after every change committed here or noticed from elsewhere.
        self.listeners: list[Callable[[], None]] = []
        self._version = self.store.data_version()
        self._trimmed_at = float("-inf")
        self.closed = False
        self.config = config
        self.indexes: dict[str, Index] = {}
        self._define(config)
        #: Tags (TagResource), and how the table was made: BillingMode, ProvisionedThroughput,
        #: DeletionProtectionEnabled... as CreateTable/UpdateTable gave them (DescribeTable).
        self.tags: dict[str, str] = json.loads(self.store.meta("tags", "{}"))
        self.settings: dict[str, Any] = json.loads(self.store.meta("settings", "{}"))

    def close(self) -> None:
        self.closed = True
        self.store.close()

    # --- definition -----------------------------------------------------------------------

    def redefine(self, config: TableConfig) -> None:
        """Change the table's indexes, stream or TTL attribute at run time (not its key).
        A stream enabled anew gets a new label (and ARN), as in DynamoDB."""
        if config.stream is not None and self.config.stream is None:
            label = dynamodb.stream_label(self.clock.now())
            self.store.set_meta("stream_label", label)
            self.stream_arn = dynamodb.stream_arn(self.region, self.account, self.name, label)
        self.store.define(config)
        self._define(config)

    def save(self, *, origin: str | None = None) -> None:
        """Keep the definition, tags and settings in the file (``origin``: ``api`` for a table
        made through the API, which is made again from this at the next start)."""
        self.store.set_meta("definition", self.config.model_dump_json())
        self.store.set_meta("tags", json.dumps(self.tags))
        self.store.set_meta("settings", json.dumps(self.settings))
        if origin is not None:
            self.store.set_meta("origin", origin)

    def _define(self, config: TableConfig) -> None:
        self.config = config
        self.indexes = indexes_of(config, self.store.indexes)

    # --- keys -----------------------------------------------------------------------------

    @property
    def key_names(self) -> tuple[str, ...]:
        return key_names(self.config)

    def key_of(self, item: Mapping[str, AV]) -> Item:
        return key_of(self.config, item)

    # --- writes, planned (one at a time, or several in a transaction) ---------------------

    def plan_put(
        self, item: Mapping[str, Any], *, condition: str | None = None,
        names: Mapping[str, str] | None = None, values: Mapping[str, AV] | None = None,
    ) -> Planned:  # fmt: skip
        new = canonical(item)
        columns = key_columns(self.config, new)
        check_item(new, self.indexes)
        test = condition_of(condition, names, values)
        return Planned(self, columns, key_of(self.config, new), test, lambda old: new)

    def plan_delete(
        self, key: Mapping[str, Any], *, condition: str | None = None,
        names: Mapping[str, str] | None = None, values: Mapping[str, AV] | None = None,
    ) -> Planned:  # fmt: skip
        key = canonical(key)
        columns = key_columns(self.config, key, exact=True)
        test = condition_of(condition, names, values)
        return Planned(self, columns, key, test, lambda old: None)

    def plan_check(
        self, key: Mapping[str, Any], condition: str, *, names: Mapping[str, str] | None = None,
        values: Mapping[str, AV] | None = None,
    ) -> Planned:  # fmt: skip
        key = canonical(key)
        columns = key_columns(self.config, key, exact=True)
        return Planned(self, columns, key, condition_of(condition, names, values), None)

    def plan_update(
        self, key: Mapping[str, Any], expression: str | None = None, *,
        condition: str | None = None, names: Mapping[str, str] | None = None,
        values: Mapping[str, AV] | None = None,
    ) -> Planned:  # fmt: skip
        key = canonical(key)
        columns = key_columns(self.config, key, exact=True)
        values = canon_values(values)
        try:
            update = parse_update(expression, names, values) if expression is not None else None
        except ExpressionError as exc:
            raise invalid(f"Invalid UpdateExpression: {exc}") from None
        touched = [path[0] for path in update.paths] if update else []
        for name in touched:
            if name in key_names(self.config):
                raise invalid(
                    f"{INVALID}: Cannot update attribute {name}. This attribute is part of the key"
                )
        test = condition_of(condition, names, values)
        return Planned(self, columns, key, test, self._updater(key, update),
                       update.paths if update else ())  # fmt: skip

    def _updater(self, key: Item, update: Update | None) -> Callable[[Item | None], Item]:
        def change(old: Item | None) -> Item:
            base = old if old is not None else dict(key)
            try:
                new = update.apply(base) if update else dict(base)
            except ExpressionError as exc:
                raise invalid(str(exc)) from None
            check_item(new, self.indexes)
            return new

        return change

    def run(self, planned: Planned, return_values: str = "NONE",
            usage: Usage | None = None) -> Item | None:  # fmt: skip
        """Run one planned write in its own transaction; what ``return_values`` asks for."""
        with self.store.transaction() as db:
            old = self.store.get(db, *planned.columns)
            if planned.test is not None and not planned.test.evaluate(old):
                raise TableError(
                    "ConditionalCheckFailedException", "The conditional request failed", old
                )
            new = planned.change(old) if planned.change is not None else old
            if new != old:
                self.store.write(db, *planned.columns, old, new, self.clock.time())
        if usage is not None:
            self.count_write(usage, old, new)
        if new != old:
            self.changed()
        return _returned(return_values, old, new, planned.updated)

    def count_write(self, usage: Usage, old: Item | None, new: Item | None) -> None:
        """Add a write's capacity units: the larger image, for the table and every index the
        item is (or was) in."""
        size = max(item_size(old) if old else 0, item_size(new) if new else 0)
        usage.write_bytes(self.name, size)
        for index in self.indexes.values():
            if any(in_index(image, index) for image in (old, new) if image is not None):
                usage.write_bytes(self.name, size, index.name, local=index.local)

    # --- writes -------------------------------------------------------------------------

    def put(
        self,
        item: Mapping[str, Any],
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, AV] | None = None,
        return_values: str = "NONE",
        usage: Usage | None = None,
    ) -> Item | None:
        check_return_values(return_values, ("NONE", "ALL_OLD"))
        planned = self.plan_put(item, condition=condition, names=names, values=values)
        return self.run(planned, return_values, usage)

    def get(
        self, key: Mapping[str, Any], *, projection: str | None = None,
        names: Mapping[str, str] | None = None, usage: Usage | None = None,
    ) -> Item | None:  # fmt: skip
        key = canonical(key)
        columns = key_columns(self.config, key, exact=True)
        paths = projection_paths(projection, names) if projection is not None else None
        found = self.store.item(*columns)
        if usage is not None:
            usage.read_bytes(self.name, item_size(found) if found else 0)
        if found is not None and paths:
            found = project(found, paths)
        return found

    def delete(
        self,
        key: Mapping[str, Any],
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, AV] | None = None,
        return_values: str = "NONE",
        usage: Usage | None = None,
    ) -> Item | None:
        check_return_values(return_values, ("NONE", "ALL_OLD"))
        planned = self.plan_delete(key, condition=condition, names=names, values=values)
        return self.run(planned, return_values, usage)

    def update(
        self,
        key: Mapping[str, Any],
        expression: str | None = None,
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, AV] | None = None,
        return_values: str = "NONE",
        usage: Usage | None = None,
    ) -> Item | None:
        """UpdateItem; ``expression`` None changes nothing but creates a missing item."""
        check_return_values(return_values, RETURN_VALUES)
        planned = self.plan_update(key, expression, condition=condition, names=names,
                                   values=values)  # fmt: skip
        return self.run(planned, return_values, usage)

    def write_batch(
        self, puts: Iterable[Mapping[str, Any]], deletes: Iterable[Mapping[str, Any]],
        usage: Usage | None = None,
    ) -> None:  # fmt: skip
        """BatchWriteItem: up to 25 puts and deletes of distinct keys, in one transaction."""
        requests: list[tuple[tuple[str, str], Item | None]] = []
        for item in puts:
            new = canonical(item)
            requests.append((key_columns(self.config, new), new))
            check_item(new, self.indexes)
        for key in deletes:
            requests.append((key_columns(self.config, canonical(key), exact=True), None))
        if not requests or len(requests) > BATCH_WRITE_LIMIT:
            raise invalid(
                "1 validation error detected: Value at 'requestItems' failed to satisfy "
                f"constraint: Map value must satisfy constraint: [Member must have length less "
                f"than or equal to {BATCH_WRITE_LIMIT}, Member must have length greater than "
                "or equal to 1]"
            )
        if len({columns for columns, _ in requests}) != len(requests):
            raise invalid("Provided list of item keys contains duplicates")
        changed = False
        with self.store.transaction() as db:
            for columns, wanted in requests:
                old = self.store.get(db, *columns)
                if usage is not None:
                    self.count_write(usage, old, wanted)
                if wanted != old:
                    self.store.write(db, *columns, old, wanted, self.clock.time())
                    changed = True
        if changed:
            self.changed()

    # --- TTL ------------------------------------------------------------------------------

    def expire(self, now: float) -> int:
        """Delete up to ``CHUNK`` items whose TTL has passed (not those more than five years
        past), each with a stream record marked as a deletion by the TTL service; returns how
        many (``CHUNK``: call again)."""
        expired = self.store.expired(now, now - TTL_HORIZON_S, CHUNK)
        if not expired:
            return 0
        with self.store.transaction() as db:
            for pk, sk, _ in expired:
                current = self.store.get(db, pk, sk)  # the row may have changed since
                ttl = self._ttl_of(current)
                if current is not None and ttl is not None and now - TTL_HORIZON_S < ttl <= now:
                    self.store.write(db, pk, sk, current, None, now, expired=True)
        self.changed()
        return len(expired)

    def _ttl_of(self, item: Item | None) -> float | None:
        attribute = self.config.ttl
        value = item.get(attribute) if item is not None and attribute else None
        if value is None or "N" not in value:
            return None
        try:
            return float(value["N"])
        except ValueError:
            return None

    def next_expiry(self, now: float) -> float | None:
        """When the next item expires after ``now`` (clock seconds), None if none will."""
        return self.store.next_expiry(now)

    # --- plain Python face ----------------------------------------------------------------

    def put_item(
        self, item: Mapping[str, Any], *, condition: str | None = None,
        names: Mapping[str, str] | None = None, values: Mapping[str, Any] | None = None,
        return_values: ReturnValues = "NONE",
    ) -> dict[str, Any] | None:  # fmt: skip
        """Write ``item`` whole (replacing the item with its key)."""
        return plain(self.put(typed(item), condition=condition, names=names,
                              values=marshalled(values), return_values=return_values))  # fmt: skip

    def get_item(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """The item with ``key``, or None."""
        return plain(self.get(typed(key)))

    def update_item(
        self, key: Mapping[str, Any], expression: str | None = None, *,
        condition: str | None = None, names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None, return_values: ReturnValues = "NONE",
    ) -> dict[str, Any] | None:  # fmt: skip
        """Apply an UpdateExpression, creating the item if it does not exist."""
        return plain(self.update(typed(key), expression, condition=condition, names=names,
                                 values=marshalled(values),
                                 return_values=return_values))  # fmt: skip

    def delete_item(
        self, key: Mapping[str, Any], *, condition: str | None = None,
        names: Mapping[str, str] | None = None, values: Mapping[str, Any] | None = None,
        return_values: ReturnValues = "NONE",
    ) -> dict[str, Any] | None:  # fmt: skip
        return plain(self.delete(typed(key), condition=condition, names=names,
                                 values=marshalled(values),
                                 return_values=return_values))  # fmt: skip

    def batch_write(
        self, put: Iterable[Mapping[str, Any]] = (), delete: Iterable[Mapping[str, Any]] = ()
    ) -> None:
        self.write_batch([typed(i) for i in put], [typed(k) for k in delete])

    def __len__(self) -> int:
        return self.store.count()


def _returned(
    mode: str, old: Item | None, new: Item | None, updated: tuple[DocumentPath, ...] | None
) -> Item | None:
    if mode == "NONE":
        return None
    if mode == "ALL_OLD":
        return old
    if mode == "ALL_NEW":
        return new
    source = old if mode == "UPDATED_OLD" else new
    if source is None:
        return None
    return project(source, updated or ())
