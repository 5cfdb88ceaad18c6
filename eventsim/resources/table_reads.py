"""The read path of a table: Query and Scan (``TableReads``, mixed into ``Table``), planned in
SQL over the store's ordered columns, a page at a time (``query_page``, ``scan_page``) or
every page (``query``, ``scan``).

A key condition becomes a partition and bounds on the sort key's order text, an
``ExclusiveStartKey`` a position in the read's order (``table_keys``); the store reads rows from
there lazily (``TableStore.rows``) and a page stops at ``Limit``, 1 MB or ``PAGE_ROWS`` rows,
its ``LastEvaluatedKey`` the last row read. Filters and projections apply to the rows read; an
index shows its projected attributes (a local one fetches the others when they are asked for).

Example::

    page = orders.query_page("pk = :p AND sk > :s", values={":p": {"S": "a"}, ":s": {"S": "1"}},
                             limit=10)
    page.items, page.last_key       # pass last_key as start_key for the next page
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from ..config import TableConfig
from ..errors import ExpressionError
from ..events.dynamodb_json import unmarshal_item
from ..expressions import (
    AV,
    KEY_SCHEMA_REFUSALS,
    Condition,
    Item,
    KeyCondition,
    parse_condition,
    parse_key_condition,
    project,
)
from .table_checks import (
    INVALID,
    Index,
    canon_values,
    canonical,
    invalid,
    key_columns,
    key_names,
    key_of,
    marshalled,
    projection_paths,
)
from .table_keys import KeyType, key_text, order_text, partition_hash, prefix_range, segment_range
from .table_pages import Page, Usage
from .table_sql import Bound
from .table_store import TableStore

PAGE_BYTES = 1024 * 1024  # a Query or Scan page holds at most 1 MB of items
#: Rows one page reads at most (DynamoDB may end a page early; its LastEvaluatedKey says so):
#: bounds the time a page of tiny items holds the event loop.
PAGE_ROWS = 10_000


class TableReads:
    """Query and Scan of a ``Table``, which this is mixed into (it sets these attributes)."""

    name: str
    config: TableConfig
    store: TableStore
    indexes: dict[str, Index]

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
        partition_key, sort_key = _read_keys(self.config, found)
        values = canon_values(values)
        try:
            keys = parse_key_condition(
                key_condition, partition_key[0], sort_key[0] if sort_key else None, names, values
            )
        except ExpressionError as exc:
            if str(exc).startswith(KEY_SCHEMA_REFUSALS):
                raise invalid(str(exc)) from None
            raise invalid(f"Invalid KeyConditionExpression: {exc}") from None
        kind = partition_key[1]
        if next(iter(keys.partition)) != kind or any(
            sort_key is None or next(iter(v)) != sort_key[1] for v in keys.sort_values
        ):
            raise invalid(f"{INVALID}: Condition parameter type does not match schema type")
        bounds = _bounds(keys.sort_op, keys.sort_values, sort_key[1] if sort_key else "S")
        after = self._position(start_key, found, scan=False) if start_key else None
        if start_key:
            _check_start(canonical(start_key), keys, partition_key[0], sort_key)
        test = _filter(filter, names, values)
        key_attributes = [partition_key[0], *([sort_key[0]] if sort_key else [])]
        for attribute in key_attributes:
            if test is not None and attribute in test.attributes:
                raise invalid(
                    "Filter Expression can only contain non-primary key attributes: Primary key "
                    f"attribute: {attribute}"
                )
        rows = self.store.rows(
            access, partition=key_text(kind, keys.partition[kind]), bounds=bounds, after=after,
            forward=forward, limit=limit or PAGE_ROWS,
        )  # fmt: skip
        return self._page(rows, found, test, names, projection, limit, select, usage)

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
        test = _filter(filter, names, canon_values(values))
        return self._page(rows, found, test, names, projection, limit, select, usage)

    def _position(self, start: Mapping[str, AV], index: Index | None, *, scan: bool) -> list[Any]:
        """An ExclusiveStartKey as the values of the read's order columns."""
        start = canonical(start)
        names = set(key_names(self.config))
        if index is not None:
            names |= {index.partition[0], *([index.sort[0]] if index.sort else [])}
        if set(start) != names:
            raise invalid(
                "The provided starting key is invalid: The provided key element does not match "
                "the schema"
            )
        pk, _ = key_columns(self.config, {n: start[n] for n in key_names(self.config)}, exact=True)
        c = self.config
        sko = order_text(c.sort_key_type, start[c.sort_key][c.sort_key_type]) if c.sort_key else ""
        partition, sort = _read_keys(self.config, index)
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
        test: Condition | None,
        names: Mapping[str, str] | None,
        projection: str | None,
        limit: int | None,
        select: str | None,
        usage: Usage | None,
    ) -> Page:
        paths = projection_paths(projection, names) if projection is not None else None
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
                shown = (
                    _projected(item, index, self.config) if shape and index is not None else item
                )
                items.append(project(shown, paths) if paths else shown)
            if scanned >= cap or size >= PAGE_BYTES:
                last = _last_key(item, index, self.config)
                break
        if usage is not None:
            usage.read_bytes(self.name, size, index.name if index else None,
                             local=bool(index and index.local))  # fmt: skip
        return Page(items, scanned, last)

    def query(
        self, key_condition: str, *, names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None, filter: str | None = None,
        forward: bool = True, index: str | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Every matching item of one partition, in sort-key order (of ``index``, if given)."""
        items: list[dict[str, Any]] = []
        start: Item | None = None
        while True:
            page = self.query_page(key_condition, names=names, values=marshalled(values),
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
            page = self.scan_page(filter=filter, names=names, values=marshalled(values),
                                  start_key=start, index=index)  # fmt: skip
            items += (unmarshal_item(item) for item in page.items)
            if page.last_key is None:
                return items
            start = page.last_key


def _filter(
    text: str | None, names: Mapping[str, str] | None, values: Mapping[str, AV]
) -> Condition | None:
    """A FilterExpression parsed (None: no filter)."""
    try:
        return parse_condition(text, names, values) if text is not None else None
    except ExpressionError as exc:
        raise invalid(f"Invalid FilterExpression: {exc}") from None


def _check_start(
    start: Item, keys: KeyCondition, partition: str, sort: tuple[str, KeyType] | None
) -> None:
    """An ExclusiveStartKey of a Query must lie where its key condition reads, as DynamoDB
    checks it: within the sort key's condition, in the partition."""
    if keys.sort_op is None:
        if start[partition] != keys.partition:
            raise invalid(
                "The provided starting key is outside query boundaries based on provided conditions"
            )
        return
    if sort is not None and not keys.matches_sort(start[sort[0]]):
        raise invalid("The provided starting key does not match the range key predicate")
    if start[partition] != keys.partition:
        raise invalid("The query can return at most one row and cannot be restarted")


def _read_keys(
    config: TableConfig, index: Index | None
) -> tuple[tuple[str, KeyType], tuple[str, KeyType] | None]:
    if index is not None:
        return index.partition, index.sort
    c = config
    sort = (c.sort_key, c.sort_key_type) if c.sort_key else None
    return (c.partition_key, c.partition_key_type), sort


def _projected(item: Item, index: Index, config: TableConfig) -> Item:
    keep = {*key_names(config), index.partition[0], *([index.sort[0]] if index.sort else [])}
    keep |= index.include
    return {name: value for name, value in item.items() if name in keep}


def _last_key(item: Item, index: Index | None, config: TableConfig) -> Item:
    key = key_of(config, item)
    if index is not None:
        for attribute, _ in (index.partition, *([index.sort] if index.sort else [])):
            key[attribute] = item[attribute]
    return key


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
