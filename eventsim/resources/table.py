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

Example::

    orders = sim.table("orders")
    orders.put_item({"pk": "a", "sk": "1", "total": 3},
                    condition="attribute_not_exists(pk)")
    orders.update_item({"pk": "a", "sk": "1"}, "SET #t = #t + :n", names={"#t": "total"},
                       values={":n": 2})
    orders.get_item({"pk": "a", "sk": "1"})["total"]     # Decimal('5')
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ..clock import Clock
from ..config import GlobalIndexConfig, LocalIndexConfig, TableConfig
from ..errors import EventsimError, ValueRejected
from ..events import dynamodb
from ..events.dynamodb_json import marshal, marshal_item, unmarshal_item
from ..expressions import (
    AV,
    Condition,
    ExpressionError,
    Item,
    parse_condition,
    parse_key_condition,
    parse_projection,
    project,
)
from ..expressions import (
    Path as DocumentPath,
)
from ..updates import Update, parse_update
from .table_keys import (
    KeyType,
    key_text,
    order_text,
    partition_hash,
    prefix_range,
    segment_range,
)
from .table_pages import ITEM_LIMIT_BYTES, Page, Usage, item_size
from .table_store import CHUNK, Access, Bound, Change, TableStore

__all__ = ["ITEM_LIMIT_BYTES", "Page", "Table", "TableError", "Usage", "item_size"]

#: §2.3: stream records live 24 hours.
STREAM_RETENTION_S = 24 * 3600
#: DynamoDB does not delete items whose TTL is more than five years in the past.
TTL_HORIZON_S = 5 * 365 * 86400
PARTITION_KEY_LIMIT = 2048
SORT_KEY_LIMIT = 1024
BATCH_WRITE_LIMIT = 25
BATCH_GET_LIMIT = 100
PAGE_BYTES = 1024 * 1024  # a Query or Scan page holds at most 1 MB of items
#: Rows one page reads at most (DynamoDB may end a page early; its LastEvaluatedKey says so):
#: bounds the time a page of tiny items holds the event loop.
PAGE_ROWS = 10_000

ReturnValues = Literal["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]
_RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")
_INVALID = "One or more parameter values were invalid"
_NOT_VALID = "One or more parameter values are not valid"


class TableError(EventsimError, ValueError):
    """A request DynamoDB would refuse; ``code`` is DynamoDB's error code
    (``ValidationException``, ``ConditionalCheckFailedException``...)."""

    def __init__(self, code: str, message: str, item: Item | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.item = item  # the current item, for a failed condition
        self.extra = extra  # more fields of the error body (CancellationReasons...)


def invalid(message: str) -> TableError:
    return TableError("ValidationException", message)


def canonical(item: Mapping[str, Any]) -> Item:
    """A DynamoDB JSON item validated and normalised (numbers in canonical form)."""
    if not isinstance(item, Mapping):
        raise invalid(f"an item is a map of attribute names to values, got {item!r}")
    try:
        return marshal_item(unmarshal_item(item))
    except ValueRejected as exc:
        raise invalid(str(exc)) from None


def _values(values: Mapping[str, Any] | None) -> dict[str, AV]:
    try:
        return {name: marshal(value) for name, value in (values or {}).items()}
    except ValueRejected as exc:
        raise invalid(str(exc)) from None


@dataclass(frozen=True)
class Index:
    """A secondary index of a table, as reads see it."""

    name: str
    local: bool
    partition: tuple[str, KeyType]
    sort: tuple[str, KeyType] | None
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    include: frozenset[str]
    access: Access


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


class Table:
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
        indexes: dict[str, Index] = {}
        definitions: list[tuple[str, GlobalIndexConfig | LocalIndexConfig]] = [
            *config.global_indexes.items(), *config.local_indexes.items(),
        ]  # fmt: skip
        for name, index in definitions:
            if isinstance(index, GlobalIndexConfig):
                local = False
                partition = (index.partition_key, index.partition_key_type)
                sort = (index.sort_key, index.sort_key_type) if index.sort_key else None
            else:
                local = True
                partition = (config.partition_key, config.partition_key_type)
                sort = (index.sort_key, index.sort_key_type)
            indexes[name] = Index(
                name, local, partition, sort, index.projection,
                frozenset(index.non_key_attributes), self.store.indexes[name],
            )  # fmt: skip
        self.indexes = indexes

    # --- keys -----------------------------------------------------------------------------

    @property
    def key_names(self) -> tuple[str, ...]:
        c = self.config
        return (c.partition_key,) if c.sort_key is None else (c.partition_key, c.sort_key)

    def _schema(self) -> list[tuple[str, KeyType, int]]:
        c = self.config
        schema = [(c.partition_key, c.partition_key_type, PARTITION_KEY_LIMIT)]
        if c.sort_key is not None:
            schema.append((c.sort_key, c.sort_key_type, SORT_KEY_LIMIT))
        return schema

    def _key(self, item: Mapping[str, AV], *, exact: bool = False) -> tuple[str, str]:
        """The (pk, sk) columns of an item, or (``exact``) of a key: nothing but the key
        attributes, each of its type."""
        if exact and set(item) != set(self.key_names):
            raise invalid("The provided key element does not match the schema")
        parts = []
        for position, (name, kind, limit) in enumerate(self._schema()):
            value = item.get(name)
            if value is None:
                raise invalid(f"{_INVALID}: Missing the key {name} in the item")
            tag = next(iter(value))
            if tag != kind:
                if exact:
                    raise invalid("The provided key element does not match the schema")
                raise invalid(
                    f"{_INVALID}: Type mismatch for key {name} expected: {kind} actual: {tag}"
                )
            text = value[kind]
            if text == "":
                what = "string" if kind == "S" else "binary"
                raise invalid(
                    f"{_NOT_VALID}. The AttributeValue for a key attribute cannot contain an "
                    f"empty {what} value. Key: {name}"
                )
            size = len(base64.b64decode(text)) if kind == "B" else len(text.encode())
            if size > limit:
                raise invalid(
                    f"{_INVALID}: Size of hashkey has exceeded the maximum size limit of"
                    f"{PARTITION_KEY_LIMIT} bytes"
                    if position == 0
                    else f"{_INVALID}: Aggregated size of all range keys has exceeded the size "
                    f"limit of {SORT_KEY_LIMIT} bytes"
                )
            parts.append(key_text(kind, text))
        return parts[0], parts[1] if len(parts) > 1 else ""

    def key_of(self, item: Mapping[str, AV]) -> Item:
        return {name: item[name] for name in self.key_names}

    def _check_index_keys(self, item: Item) -> None:
        """An item's index key attributes must be of the index's type and not empty."""
        for index in self.indexes.values():
            for attribute, kind in (index.partition, *([index.sort] if index.sort else [])):
                value = item.get(attribute)
                if value is None:
                    continue
                tag = next(iter(value))
                if tag != kind:
                    raise invalid(
                        f"{_INVALID}: Type mismatch for Index Key {attribute} Expected: {kind} "
                        f"Actual: {tag} IndexName: {index.name}"
                    )
                if value[tag] == "":
                    raise invalid(
                        f"{_NOT_VALID}. A value specified for a secondary index key is not "
                        f"supported. The AttributeValue for a key attribute cannot contain an "
                        f"empty {'string' if kind == 'S' else 'binary'} value. IndexName: "
                        f"{index.name}, IndexKey: {attribute}"
                    )

    def _check_item(self, item: Item) -> None:
        size = item_size(item)
        if size > ITEM_LIMIT_BYTES:
            raise invalid("Item size has exceeded the maximum allowed size")
        self._check_index_keys(item)

    # --- writes, planned (one at a time, or several in a transaction) ---------------------

    def plan_put(
        self, item: Mapping[str, Any], *, condition: str | None = None,
        names: Mapping[str, str] | None = None, values: Mapping[str, AV] | None = None,
    ) -> Planned:  # fmt: skip
        new = canonical(item)
        columns = self._key(new)
        self._check_item(new)
        test = self._condition(condition, names, values)
        return Planned(self, columns, self.key_of(new), test, lambda old: new)

    def plan_delete(
        self, key: Mapping[str, Any], *, condition: str | None = None,
        names: Mapping[str, str] | None = None, values: Mapping[str, AV] | None = None,
    ) -> Planned:  # fmt: skip
        key = canonical(key)
        columns = self._key(key, exact=True)
        test = self._condition(condition, names, values)
        return Planned(self, columns, key, test, lambda old: None)

    def plan_check(
        self, key: Mapping[str, Any], condition: str, *, names: Mapping[str, str] | None = None,
        values: Mapping[str, AV] | None = None,
    ) -> Planned:  # fmt: skip
        key = canonical(key)
        columns = self._key(key, exact=True)
        return Planned(self, columns, key, self._condition(condition, names, values), None)

    def plan_update(
        self, key: Mapping[str, Any], expression: str | None = None, *,
        condition: str | None = None, names: Mapping[str, str] | None = None,
        values: Mapping[str, AV] | None = None,
    ) -> Planned:  # fmt: skip
        key = canonical(key)
        columns = self._key(key, exact=True)
        values = _canon_values(values)
        try:
            update = parse_update(expression, names, values) if expression is not None else None
        except ExpressionError as exc:
            raise invalid(f"Invalid UpdateExpression: {exc}") from None
        touched = [path[0] for path in update.paths] if update else []
        for name in touched:
            if name in self.key_names:
                raise invalid(
                    f"{_INVALID}: Cannot update attribute {name}. This attribute is part of the key"
                )
        test = self._condition(condition, names, values)
        return Planned(self, columns, key, test, self._updater(key, update),
                       update.paths if update else ())  # fmt: skip

    def _updater(self, key: Item, update: Update | None) -> Callable[[Item | None], Item]:
        def change(old: Item | None) -> Item:
            base = old if old is not None else dict(key)
            try:
                new = update.apply(base) if update else dict(base)
            except ExpressionError as exc:
                raise invalid(str(exc)) from None
            self._check_item(new)
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
            if any(_in_index(image, index) for image in (old, new) if image is not None):
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
        _check_return_values(return_values, ("NONE", "ALL_OLD"))
        planned = self.plan_put(item, condition=condition, names=names, values=values)
        return self.run(planned, return_values, usage)

    def get(
        self, key: Mapping[str, Any], *, projection: str | None = None,
        names: Mapping[str, str] | None = None, usage: Usage | None = None,
    ) -> Item | None:  # fmt: skip
        key = canonical(key)
        columns = self._key(key, exact=True)
        paths = _projection(projection, names) if projection else None
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
        _check_return_values(return_values, ("NONE", "ALL_OLD"))
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
        _check_return_values(return_values, _RETURN_VALUES)
        planned = self.plan_update(key, expression, condition=condition, names=names,
                                   values=values)  # fmt: skip
        return self.run(planned, return_values, usage)

    def _condition(
        self, text: str | None, names: Mapping[str, str] | None, values: Mapping[str, AV] | None
    ) -> Condition | None:
        if text is None:
            return None
        try:
            return parse_condition(text, names, _canon_values(values))
        except ExpressionError as exc:
            raise invalid(f"Invalid ConditionExpression: {exc}") from None

    def write_batch(
        self, puts: Iterable[Mapping[str, Any]], deletes: Iterable[Mapping[str, Any]],
        usage: Usage | None = None,
    ) -> None:  # fmt: skip
        """BatchWriteItem: up to 25 puts and deletes of distinct keys, in one transaction."""
        requests: list[tuple[tuple[str, str], Item | None]] = []
        for item in puts:
            new = canonical(item)
            requests.append((self._key(new), new))
            self._check_item(new)
        for key in deletes:
            requests.append((self._key(canonical(key), exact=True), None))
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

    # --- reads --------------------------------------------------------------------------

    def index(self, name: str | None) -> Index | None:
        """The secondary index ``name`` (None: the table itself)."""
        if name is None:
            return None
        found = self.indexes.get(name)
        if found is None:
            raise invalid(f"The table does not have the specified index: {name}")
        return found

    def query_page(
        self,
        key_condition: str,
        *,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, AV] | None = None,
        filter: str | None = None,
        projection: str | None = None,
        forward: bool = True,
        limit: int | None = None,
        start_key: Mapping[str, AV] | None = None,
        index: str | None = None,
        select: str | None = None,
        usage: Usage | None = None,
    ) -> Page:
        """One page of a Query: the partition's items in sort-key order (of the table or of
        the secondary index ``index``), read in SQL from ``start_key`` on."""
        found = self.index(index)
        access = found.access if found else self.store.base
        partition_key, sort_key = self._read_keys(found)
        values = _canon_values(values)
        try:
            keys = parse_key_condition(
                key_condition, partition_key[0], sort_key[0] if sort_key else None, names, values
            )
        except ExpressionError as exc:
            raise invalid(f"Invalid KeyConditionExpression: {exc}") from None
        kind = partition_key[1]
        if next(iter(keys.partition)) != kind or any(
            sort_key is None or next(iter(v)) != sort_key[1] for v in keys.sort_values
        ):
            raise invalid(f"{_INVALID}: Condition parameter type does not match schema type")
        bounds = _bounds(keys.sort_op, keys.sort_values, sort_key[1] if sort_key else "S")
        after = self._position(start_key, found, scan=False) if start_key else None
        rows = self.store.rows(
            access, partition=key_text(kind, keys.partition[kind]), bounds=bounds, after=after,
            forward=forward, limit=limit or PAGE_ROWS,
        )  # fmt: skip
        return self._page(rows, found, filter, names, values, projection, limit, select, usage)

    def scan_page(
        self,
        *,
        filter: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, AV] | None = None,
        projection: str | None = None,
        limit: int | None = None,
        start_key: Mapping[str, AV] | None = None,
        segment: tuple[int, int] | None = None,
        index: str | None = None,
        select: str | None = None,
        usage: Usage | None = None,
    ) -> Page:
        """One page of a Scan, in hash order (see ``table_keys``); ``segment`` is
        ``(Segment, TotalSegments)`` of a parallel scan."""
        found = self.index(index)
        access = found.access if found else self.store.base
        after = self._position(start_key, found, scan=True) if start_key else None
        hashes = segment_range(*segment) if segment is not None else None
        rows = self.store.rows(access, after=after, hashes=hashes, limit=limit or PAGE_ROWS)
        values = _canon_values(values)
        return self._page(rows, found, filter, names, values, projection, limit, select, usage)

    def _read_keys(
        self, index: Index | None
    ) -> tuple[tuple[str, KeyType], tuple[str, KeyType] | None]:
        if index is not None:
            return index.partition, index.sort
        c = self.config
        sort = (c.sort_key, c.sort_key_type) if c.sort_key else None
        return (c.partition_key, c.partition_key_type), sort

    def _position(self, start: Mapping[str, AV], index: Index | None, *, scan: bool) -> list[Any]:
        """An ExclusiveStartKey as the values of the read's order columns."""
        start = canonical(start)
        names = set(self.key_names)
        if index is not None:
            names |= {index.partition[0], *([index.sort[0]] if index.sort else [])}
        if set(start) != names:
            raise invalid(
                "The provided starting key is invalid: The provided key element does not match "
                "the schema"
            )
        pk, _ = self._key({n: start[n] for n in self.key_names}, exact=True)
        c = self.config
        sko = order_text(c.sort_key_type, start[c.sort_key][c.sort_key_type]) if c.sort_key else ""
        partition, sort = self._read_keys(index)
        values: list[Any] = []
        for attribute, kind in (partition, *([sort] if sort else [])):
            if next(iter(start[attribute])) != kind:
                raise invalid(
                    "The provided starting key is invalid: The provided key element does not "
                    "match the schema"
                )
        part_text = key_text(partition[1], start[partition[0]][partition[1]])
        if scan:
            values += [partition_hash(part_text), part_text]
        if sort is not None:
            values.append(order_text(sort[1], start[sort[0]][sort[1]]))
        if index is not None:
            values += [sko] if index.local else [pk, sko]
        return values

    def _page(
        self,
        rows: Iterator[str],
        index: Index | None,
        filter: str | None,
        names: Mapping[str, str] | None,
        values: Mapping[str, AV],
        projection: str | None,
        limit: int | None,
        select: str | None,
        usage: Usage | None,
    ) -> Page:
        try:
            test = parse_condition(filter, names, values) if filter is not None else None
        except ExpressionError as exc:
            raise invalid(f"Invalid FilterExpression: {exc}") from None
        paths = _projection(projection, names) if projection else None
        if limit is not None and limit < 1:
            raise invalid("Limit must be at least 1")
        # An index shows its projected attributes; a local index fetches the others from the
        # table when asked for them (a global one cannot).
        shape = index is not None and index.projection != "ALL" and not (
            index.local and (paths or select == "ALL_ATTRIBUTES")
        )  # fmt: skip
        cap = limit or PAGE_ROWS
        scanned, size = 0, 0
        items: list[Item] = []
        last: Item | None = None
        for text in rows:
            item = json.loads(text)
            scanned += 1
            size += len(text)
            if test is None or test.evaluate(item):
                shown = self._projected(item, index) if shape and index is not None else item
                items.append(project(shown, paths) if paths else shown)
            if scanned >= cap or size >= PAGE_BYTES:
                last = self._last_key(item, index)
                break
        if usage is not None:
            usage.read_bytes(self.name, size, index.name if index else None,
                             local=bool(index and index.local))  # fmt: skip
        return Page(items, scanned, last)

    def _projected(self, item: Item, index: Index) -> Item:
        keep = {*self.key_names, index.partition[0], *([index.sort[0]] if index.sort else [])}
        keep |= index.include
        return {name: value for name, value in item.items() if name in keep}

    def _last_key(self, item: Item, index: Index | None) -> Item:
        key = self.key_of(item)
        if index is not None:
            for attribute, _ in (index.partition, *([index.sort] if index.sort else [])):
                key[attribute] = item[attribute]
        return key

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
        return _plain(self.put(_typed(item), condition=condition, names=names,
                               values=_values(values), return_values=return_values))  # fmt: skip

    def get_item(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """The item with ``key``, or None."""
        return _plain(self.get(_typed(key)))

    def update_item(
        self, key: Mapping[str, Any], expression: str | None = None, *,
        condition: str | None = None, names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None, return_values: ReturnValues = "NONE",
    ) -> dict[str, Any] | None:  # fmt: skip
        """Apply an UpdateExpression, creating the item if it does not exist."""
        return _plain(self.update(_typed(key), expression, condition=condition, names=names,
                                  values=_values(values), return_values=return_values))  # fmt: skip

    def delete_item(
        self, key: Mapping[str, Any], *, condition: str | None = None,
        names: Mapping[str, str] | None = None, values: Mapping[str, Any] | None = None,
        return_values: ReturnValues = "NONE",
    ) -> dict[str, Any] | None:  # fmt: skip
        return _plain(self.delete(_typed(key), condition=condition, names=names,
                                  values=_values(values), return_values=return_values))  # fmt: skip

    def query(
        self, key_condition: str, *, names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None, filter: str | None = None,
        forward: bool = True, index: str | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Every matching item of one partition, in sort-key order (of ``index``, if given)."""
        items: list[dict[str, Any]] = []
        start: Item | None = None
        while True:
            page = self.query_page(key_condition, names=names, values=_values(values),
                                   filter=filter, forward=forward, start_key=start,
                                   index=index)  # fmt: skip
            items += (unmarshal_item(item) for item in page.items)
            if page.last_key is None:
                return items
            start = page.last_key

    def scan(
        self, *, filter: str | None = None, names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None, index: str | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Every item (matching ``filter``), in scan order (the partition keys' hash order)."""
        items: list[dict[str, Any]] = []
        start: Item | None = None
        while True:
            page = self.scan_page(filter=filter, names=names, values=_values(values),
                                  start_key=start, index=index)  # fmt: skip
            items += (unmarshal_item(item) for item in page.items)
            if page.last_key is None:
                return items
            start = page.last_key

    def batch_write(
        self, put: Iterable[Mapping[str, Any]] = (), delete: Iterable[Mapping[str, Any]] = ()
    ) -> None:
        self.write_batch([_typed(i) for i in put], [_typed(k) for k in delete])

    def __len__(self) -> int:
        return self.store.count()

    # --- stream ---------------------------------------------------------------------------

    def changed(self) -> None:
        """Tell the listeners that the table changed (after a commit made here)."""
        self._version = self.store.data_version()
        for listener in list(self.listeners):
            listener()

    def poke(self) -> None:
        """Look for commits by other connections (called when the file changes)."""
        if self.closed:
            return  # a watcher's last word, arriving after close
        version = self.store.data_version()
        if version != self._version:
            self._version = version
            for listener in list(self.listeners):
                listener()

    def changes(self, after: int, limit: int) -> list[Change]:
        """Stream rows after sequence ``after``, dropping rows past retention and no-ops."""
        now = self.clock.time()
        if now - self._trimmed_at >= 60:
            # A full chunk means there may be more: trim again on the next read.
            if self.store.trim(now - STREAM_RETENTION_S) < CHUNK:
                self._trimmed_at = now
        return [c for c in self.store.changes(after, limit, now) if c.old != c.new]

    def record(self, change: Change) -> dict[str, Any]:
        """The stream record of a change (§2.1), with the images the view type asks for."""
        image = change.new if change.new is not None else change.old
        assert image is not None and self.config.stream is not None
        name: dynamodb.EventName = (
            "INSERT" if change.old is None else "REMOVE" if change.new is None else "MODIFY"
        )
        return dynamodb.stream_record(
            name,
            keys=self.key_of(image),
            new_image=change.new,
            old_image=change.old,
            view_type=self.config.stream,
            sequence_number=change.seq,
            event_id=hashlib.md5(f"{self.stream_arn}/{change.seq}".encode()).hexdigest(),
            created=datetime.fromtimestamp(change.created, UTC),
            region=self.region,
            stream_arn=self.stream_arn,
            ttl_delete=change.expired and change.new is None,
        )


def _in_index(item: Item, index: Index) -> bool:
    keys = (index.partition, *([index.sort] if index.sort else []))
    return all(attribute in item for attribute, _ in keys)


def _bounds(op: str | None, operands: tuple[AV, ...], kind: KeyType) -> list[Bound]:
    """A sort-key test as bounds on the sort key's order text."""
    if op is None:
        return []
    texts = [next(iter(v.values())) for v in operands]
    if op == "begins_with":
        if kind == "N":
            raise invalid(
                "Invalid KeyConditionExpression: Incorrect operand type for operator or "
                "function; operator or function: begins_with, operand type: N"
            )
        low, high = prefix_range(kind, texts[0])
        return [Bound(">=", low)] + ([Bound("<", high)] if high is not None else [])
    ordered = [order_text(kind, text) for text in texts]
    if op == "BETWEEN":
        if ordered[0].encode() > ordered[1].encode():
            raise invalid(
                "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to "
                "be greater than or equal to lower bound; lower bound operand: AttributeValue: "
                f"{{{kind}:{texts[0]}}}, upper bound operand: AttributeValue: {{{kind}:{texts[1]}}}"
            )
        return [Bound(">=", ordered[0]), Bound("<=", ordered[1])]
    return [Bound(op, ordered[0])]


def _check_return_values(mode: str, allowed: tuple[str, ...]) -> None:
    if mode in allowed:
        return
    if mode in _RETURN_VALUES:
        raise invalid("ReturnValues can only be ALL_OLD or NONE")
    raise invalid(
        f"1 validation error detected: Value '{mode}' at 'returnValues' failed to satisfy "
        "constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, "
        "UPDATED_NEW]"
    )


def _canon_values(values: Mapping[str, Any] | None) -> dict[str, AV]:
    """ExpressionAttributeValues validated and normalised."""
    return canonical(values or {})


def _typed(item: Mapping[str, Any]) -> Item:
    if not isinstance(item, Mapping):
        raise invalid(f"an item or key is a mapping, got {item!r}")
    try:
        return marshal_item(item)
    except ValueRejected as exc:
        raise invalid(str(exc)) from None


def _plain(item: Item | None) -> dict[str, Any] | None:
    return unmarshal_item(item) if item is not None else None


def _projection(text: str, names: Mapping[str, str] | None) -> list[DocumentPath]:
    try:
        return parse_projection(text, names)
    except ExpressionError as exc:
        raise invalid(f"Invalid ProjectionExpression: {exc}") from None


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
