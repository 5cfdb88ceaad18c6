"""A SQLite file as a DynamoDB table, with its stream (reference §2).

``sim.table("orders")`` gives a ``Table``. Two faces with the same semantics:

* plain Python values (numbers come back as ``Decimal``, binary as ``bytes``, sets as
  ``set``): ``put_item``, ``get_item``, ``update_item``, ``delete_item``, ``query``, ``scan``,
  ``batch_write``;
* DynamoDB JSON, as the DynamoDB API carries it: ``put``, ``get``, ``update``, ``delete``,
  ``query_page``, ``scan_page``, ``write_batch``.

Every write is one SQLite transaction; the stream row is written by a trigger in the same
transaction (see ``table_store``), so writes from other processes are captured too. A write
that changes nothing writes no stream row. Refusals are ``TableError`` with DynamoDB's code.

Example::

    orders = sim.table("orders")
    orders.put_item({"pk": "a", "sk": "1", "total": 3},
                    condition="attribute_not_exists(pk)")
    orders.update_item({"pk": "a", "sk": "1"}, "SET total = total + :n", values={":n": 2})
    orders.get_item({"pk": "a", "sk": "1"})["total"]     # Decimal('5')
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ..clock import Clock
from ..config import TableConfig
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
    sort_key,
)
from ..updates import parse_update
from .table_store import CHUNK, Change, TableStore, encode

#: §2.3: stream records live 24 hours.
STREAM_RETENTION_S = 24 * 3600
ITEM_LIMIT_BYTES = 400 * 1024
PARTITION_KEY_LIMIT = 2048
SORT_KEY_LIMIT = 1024
BATCH_WRITE_LIMIT = 25
BATCH_GET_LIMIT = 100
PAGE_BYTES = 1024 * 1024  # a Query or Scan page holds at most 1 MB of items
SCAN_ROWS = 10_000  # rows a Scan page reads from SQLite at most

ReturnValues = Literal["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]


class TableError(EventsimError, ValueError):
    """A request DynamoDB would refuse; ``code`` is DynamoDB's error code
    (``ValidationException``, ``ConditionalCheckFailedException``...)."""

    def __init__(self, code: str, message: str, item: Item | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.item = item  # the current item, for a failed condition


def _invalid(message: str) -> TableError:
    return TableError("ValidationException", message)


@dataclass(frozen=True)
class Page:
    """One page of a Query or Scan."""

    items: list[Item]
    scanned_count: int
    last_key: Item | None  # LastEvaluatedKey: pass as ``start_key`` for the next page


def item_size(item: Mapping[str, AV]) -> int:
    """An item's size as DynamoDB counts it: names plus values (numbers ~1 byte per 2 digits)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: AV) -> int:
    ((tag, data),) = value.items()
    if tag == "S":
        return len(data.encode())
    if tag == "N":
        return (len(data.lstrip("-").replace(".", "")) + 1) // 2 + 1
    if tag == "B":
        return len(base64.b64decode(data))
    if tag in ("BOOL", "NULL"):
        return 1
    if tag == "L":
        return 3 + sum(_value_size(member) + 1 for member in data)
    if tag == "M":
        return 3 + sum(len(k.encode()) + _value_size(v) + 1 for k, v in data.items())
    member = tag[0]
    return sum(_value_size({member: m}) for m in data)


def canonical(item: Mapping[str, Any]) -> Item:
    """A DynamoDB JSON item validated and normalised (numbers in canonical form)."""
    if not isinstance(item, Mapping):
        raise _invalid(f"an item is a map of attribute names to values, got {item!r}")
    try:
        return marshal_item(unmarshal_item(item))
    except ValueRejected as exc:
        raise _invalid(str(exc)) from None


def _values(values: Mapping[str, Any] | None) -> dict[str, AV]:
    try:
        return {name: marshal(value) for name, value in (values or {}).items()}
    except ValueRejected as exc:
        raise _invalid(str(exc)) from None


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
        self.config = config
        self.path = state_dir / "tables" / f"{name}.sqlite3"
        self.clock = clock
        self.region = region
        self.arn = f"arn:aws:dynamodb:{region}:{account}:table/{name}"
        self.store = TableStore(self.path, config, f"tables/{name}")
        label = self.store.meta("stream_label", dynamodb.stream_label(clock.now()))
        self.stream_arn = dynamodb.stream_arn(region, account, name, label)
        #: Called synchronously after every change committed here or noticed from elsewhere.
        self.listeners: list[Callable[[], None]] = []
        self._version = self.store.data_version()
        self._trimmed_at = float("-inf")
        self.closed = False

    def close(self) -> None:
        self.closed = True
        self.store.close()

    # --- keys -----------------------------------------------------------------------------

    @property
    def key_names(self) -> tuple[str, ...]:
        c = self.config
        return (c.partition_key,) if c.sort_key is None else (c.partition_key, c.sort_key)

    def _key(self, item: Mapping[str, AV], *, exact: bool = False) -> tuple[str, str]:
        """The (pk, sk) columns of an item or key; ``exact``: nothing but the key attributes."""
        c = self.config
        if exact and set(item) != set(self.key_names):
            raise _invalid(
                f"The provided key element does not match the schema: expected "
                f"{list(self.key_names)}, got {sorted(item)}"
            )
        parts = []
        schema = [(c.partition_key, c.partition_key_type, PARTITION_KEY_LIMIT)]
        if c.sort_key is not None:
            schema.append((c.sort_key, c.sort_key_type, SORT_KEY_LIMIT))
        for name, kind, limit in schema:
            value = item.get(name)
            if value is None:
                raise _invalid(f"One of the required keys was not given a value: {name!r}")
            if set(value) != {kind}:
                raise _invalid(f"The key attribute {name!r} must be of type {kind}, got {value!r}")
            text = value[kind]
            if text == "":
                raise _invalid(f"The key attribute {name!r} may not be an empty string")
            if len(text.encode()) > limit:
                raise _invalid(f"The key attribute {name!r} exceeds {limit} bytes")
            parts.append(text)
        return parts[0], parts[1] if len(parts) > 1 else ""

    def key_of(self, item: Mapping[str, AV]) -> Item:
        return {name: item[name] for name in self.key_names}

    # --- DynamoDB JSON face ---------------------------------------------------------------

    def put(
        self,
        item: Mapping[str, Any],
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, AV] | None = None,
        return_values: ReturnValues = "NONE",
    ) -> Item | None:
        new = canonical(item)
        self._check_size(new)
        return self._write(self._key(new), lambda old: new, condition, names, values,
                           return_values, updated=None)  # fmt: skip

    def get(
        self, key: Mapping[str, Any], *, projection: str | None = None,
        names: Mapping[str, str] | None = None,
    ) -> Item | None:  # fmt: skip
        key = canonical(key)
        pk, sk = self._key(key, exact=True)
        found = self.store.item(pk, sk)
        if found is not None and projection:
            found = project(found, _projection(projection, names))
        return found

    def delete(
        self,
        key: Mapping[str, Any],
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, AV] | None = None,
        return_values: ReturnValues = "NONE",
    ) -> Item | None:
        key = canonical(key)
        return self._write(self._key(key, exact=True), lambda old: None, condition, names,
                           values, return_values, updated=None)  # fmt: skip

    def update(
        self,
        key: Mapping[str, Any],
        expression: str | None = None,
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, AV] | None = None,
        return_values: ReturnValues = "NONE",
    ) -> Item | None:
        key = canonical(key)
        columns = self._key(key, exact=True)
        values = _canon_values(values)
        try:
            update = parse_update(expression, names, values) if expression else None
        except ExpressionError as exc:
            raise _invalid(f"Invalid UpdateExpression: {exc}") from None
        touched = {str(path[0]) for path in update.paths} if update else set()
        hit = touched.intersection(self.key_names)
        if hit:
            raise _invalid(
                f"Cannot update attribute {sorted(hit)[0]}. This attribute is part of the key"
            )

        def change(old: Item | None) -> Item:
            base = old if old is not None else dict(key)
            try:
                new = update.apply(base) if update else dict(base)
            except ExpressionError as exc:
                raise _invalid(str(exc)) from None
            self._check_size(new)
            return new

        return self._write(columns, change, condition, names, values, return_values,
                           updated=touched)  # fmt: skip

    def _write(
        self,
        columns: tuple[str, str],
        change: Callable[[Item | None], Item | None],
        condition: str | None,
        names: Mapping[str, str] | None,
        values: Mapping[str, AV] | None,
        return_values: str,
        updated: set[str] | None,
    ) -> Item | None:
        test = self._condition(condition, names, values)
        with self.store.transaction() as db:
            old = self.store.get(db, *columns)
            if test is not None and not test.evaluate(old):
                raise TableError(
                    "ConditionalCheckFailedException", "The conditional request failed", old
                )
            new = change(old)
            if new != old:
                self.store.write(db, *columns, old, new, self.clock.time())
        if new != old:
            self._changed()
        return _returned(return_values, old, new, updated)

    def _condition(
        self, text: str | None, names: Mapping[str, str] | None, values: Mapping[str, AV] | None
    ) -> Condition | None:
        if not text:
            return None
        try:
            return parse_condition(text, names, _canon_values(values))
        except ExpressionError as exc:
            raise _invalid(f"Invalid ConditionExpression: {exc}") from None

    def _check_size(self, item: Item) -> None:
        size = item_size(item)
        if size > ITEM_LIMIT_BYTES:
            raise _invalid(
                f"Item size has exceeded the maximum allowed size ({size} > {ITEM_LIMIT_BYTES})"
            )

    def write_batch(
        self, puts: Iterable[Mapping[str, Any]], deletes: Iterable[Mapping[str, Any]]
    ) -> None:
        """BatchWriteItem: up to 25 puts and deletes of distinct keys, in one transaction."""
        requests: list[tuple[tuple[str, str], Item | None]] = []
        for item in puts:
            new = canonical(item)
            self._check_size(new)
            requests.append((self._key(new), new))
        for key in deletes:
            requests.append((self._key(canonical(key), exact=True), None))
        if not requests or len(requests) > BATCH_WRITE_LIMIT:
            raise _invalid(f"a batch write holds 1..{BATCH_WRITE_LIMIT} requests")
        if len({columns for columns, _ in requests}) != len(requests):
            raise _invalid("Provided list of item keys contains duplicates")
        changed = False
        with self.store.transaction() as db:
            for columns, wanted in requests:
                old = self.store.get(db, *columns)
                if wanted != old:
                    self.store.write(db, *columns, old, wanted, self.clock.time())
                    changed = True
        if changed:
            self._changed()

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
    ) -> Page:
        c = self.config
        values = _canon_values(values)
        try:
            keys = parse_key_condition(key_condition, c.partition_key, c.sort_key, names, values)
        except ExpressionError as exc:
            raise _invalid(f"Invalid KeyConditionExpression: {exc}") from None
        partition = keys.partition.get(c.partition_key_type)
        if partition is None:
            raise _invalid(f"the partition key is of type {c.partition_key_type}")
        candidates = [
            item
            for item in self.store.partition(partition)
            if c.sort_key is None or keys.matches_sort(item.get(c.sort_key))
        ]
        if (sort_name := c.sort_key) is not None:
            candidates.sort(key=lambda item: sort_key(item[sort_name]), reverse=not forward)
        return self._page(candidates, filter, names, values, projection, limit, start_key)

    def scan_page(
        self,
        *,
        filter: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, AV] | None = None,
        projection: str | None = None,
        limit: int | None = None,
        start_key: Mapping[str, AV] | None = None,
    ) -> Page:
        after = self._key(canonical(start_key), exact=True) if start_key else None
        values = _canon_values(values)
        cap = limit or SCAN_ROWS
        rows = [item for _, _, item in self.store.scan(after, cap + 1)]
        page = self._page(rows[:cap], filter, names, values, projection, limit, None)
        if page.last_key is None and len(rows) > cap:  # more rows than this page read
            page = Page(page.items, page.scanned_count, self.key_of(rows[cap - 1]))
        return page

    def _page(
        self,
        candidates: list[Item],
        filter: str | None,
        names: Mapping[str, str] | None,
        values: Mapping[str, AV] | None,
        projection: str | None,
        limit: int | None,
        start_key: Mapping[str, AV] | None,
    ) -> Page:
        if start_key:
            start = self._key(canonical(start_key), exact=True)
            position = next(
                (i for i, item in enumerate(candidates) if self._key(item) == start), None
            )
            candidates = candidates[position + 1 :] if position is not None else []
        try:
            test = parse_condition(filter, names, values) if filter else None
            paths = _projection(projection, names) if projection else None
        except ExpressionError as exc:
            raise _invalid(f"Invalid FilterExpression: {exc}") from None
        if limit is not None and limit < 1:
            raise _invalid("Limit must be at least 1")
        scanned, size, items = 0, 0, []
        last_key: Item | None = None
        for item in candidates:
            scanned += 1
            size += len(encode(item))
            if test is None or test.evaluate(item):
                items.append(project(item, paths) if paths else item)
            if (limit is not None and scanned >= limit) or size >= PAGE_BYTES:
                if scanned < len(candidates):
                    last_key = self.key_of(item)
                break
        return Page(items, scanned, last_key)

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
        forward: bool = True,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Every matching item of one partition, in sort-key order."""
        page = self.query_page(key_condition, names=names, values=_values(values),
                               filter=filter, forward=forward)  # fmt: skip
        return [unmarshal_item(item) for item in page.items]

    def scan(
        self, *, filter: str | None = None, names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Every item (matching ``filter``), in key order."""
        items: list[dict[str, Any]] = []
        start: Item | None = None
        while True:
            page = self.scan_page(filter=filter, names=names, values=_values(values),
                                  start_key=start)  # fmt: skip
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

    def _changed(self) -> None:
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
        )


def _canon_values(values: Mapping[str, Any] | None) -> dict[str, AV]:
    """ExpressionAttributeValues validated and normalised."""
    return canonical(values or {})


def _typed(item: Mapping[str, Any]) -> Item:
    if not isinstance(item, Mapping):
        raise _invalid(f"an item or key is a mapping, got {item!r}")
    try:
        return marshal_item(item)
    except ValueRejected as exc:
        raise _invalid(str(exc)) from None


def _plain(item: Item | None) -> dict[str, Any] | None:
    return unmarshal_item(item) if item is not None else None


def _projection(text: str, names: Mapping[str, str] | None) -> list[tuple[str | int, ...]]:
    try:
        return parse_projection(text, names)
    except ExpressionError as exc:
        raise _invalid(f"Invalid ProjectionExpression: {exc}") from None


def _returned(
    mode: str, old: Item | None, new: Item | None, updated: set[str] | None
) -> Item | None:
    if mode == "NONE":
        return None
    if mode == "ALL_OLD":
        return old
    if mode == "ALL_NEW":
        return new
    source = old if mode == "UPDATED_OLD" else new
    if mode not in ("UPDATED_OLD", "UPDATED_NEW") or updated is None:
        raise _invalid(f"ReturnValues {mode!r} is not valid here")
    if source is None:
        return None
    return {name: value for name, value in source.items() if name in updated}
