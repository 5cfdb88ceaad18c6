"""The SQL of a table's file: its tables and stream triggers, the generated key and index
columns, the orders reads take (``Access``), and the statements that change the index and TTL
columns when a table is redefined.

``TableStore`` (``table_store``, whose docstring draws the file's layout) runs these;
``table_keys`` gives each key column's SQL expression.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from ..config import TableConfig
from .table_keys import KeyType, sql_hash, sql_order, sql_value

#: The version of the SQL an index's columns are generated with: a file whose indexes were
#: built with another rebuilds them when opened.
INDEX_LAYOUT = 1

TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    item TEXT NOT NULL CHECK (json_valid(item)),
{columns}
);
CREATE TABLE IF NOT EXISTS stream (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    old TEXT,
    new TEXT,
    created REAL,
    expired INTEGER
);
CREATE INDEX IF NOT EXISTS stream_created ON stream (created);
CREATE INDEX IF NOT EXISTS stream_unstamped ON stream (seq) WHERE created IS NULL;
CREATE TABLE IF NOT EXISTS checkpoints (mapping TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""

TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS items_insert AFTER INSERT ON items BEGIN
    INSERT INTO stream (old, new) VALUES (NULL, NEW.item);
END""",
    """CREATE TRIGGER IF NOT EXISTS items_update AFTER UPDATE OF item ON items
WHEN OLD.item IS NOT NEW.item BEGIN
    INSERT INTO stream (old, new) VALUES (OLD.item, NEW.item);
END""",
    """CREATE TRIGGER IF NOT EXISTS items_delete AFTER DELETE ON items BEGIN
    INSERT INTO stream (old, new) VALUES (OLD.item, NULL);
END""",
]
DROP_TRIGGERS = [f"DROP TRIGGER IF EXISTS items_{name}" for name in ("insert", "update", "delete")]


@dataclass(frozen=True)
class Access:
    """One order the items can be read in: the table's key, or a secondary index's.

    Column names are SQL (quoted where needed). ``rest`` are the table key's columns that
    follow the index's own key (an index's key need not be unique); ``present`` is the SQL
    condition for a row to be in the index.
    """

    name: str | None
    hash: str
    part: str
    sort: str | None
    rest: tuple[str, ...] = ()
    present: str = ""

    @property
    def query_order(self) -> tuple[str, ...]:
        return (*([self.sort] if self.sort else []), *self.rest)

    @property
    def scan_order(self) -> tuple[str, ...]:
        return (self.hash, self.part, *self.query_order)


@dataclass(frozen=True)
class Bound:
    """``column op value`` on the sort key's order text; ``op`` is one of < <= > >= =."""

    op: str
    value: str


def quoted(name: str) -> str:
    """A column or index name as SQL (index columns are named ``NAME.pk``...)."""
    return '"' + name + '"'


def key_columns(config: TableConfig) -> list[tuple[str, str]]:
    """(column, SQL) of the table key's generated columns."""
    pk = sql_value(config.partition_key, config.partition_key_type)
    if config.sort_key is None:
        sk, sko = "''", "''"
    else:
        sk = sql_value(config.sort_key, config.sort_key_type)
        sko = sql_order(config.sort_key_type, "sk")
    return [("pk", pk), ("sk", sk), ("sko", sko), ("h", sql_hash("pk"))]


def generated(columns: list[tuple[str, str]], required: bool) -> str:
    kind = {"h": "INTEGER", "ttl": "REAL"}
    null = " NOT NULL" if required else ""
    return ",\n".join(
        f"    {quoted(name)} {kind.get(name, 'TEXT')} GENERATED ALWAYS AS ({sql}) VIRTUAL{null}"
        for name, sql in columns
    )


@dataclass(frozen=True)
class IndexSpec:
    """What a secondary index's columns are built from (stored in meta to notice a change)."""

    name: str
    local: bool
    partition: tuple[str, KeyType] | None  # None: the table's (a local index)
    sort: tuple[str, KeyType] | None

    def columns(self) -> list[tuple[str, str]]:
        n = self.name
        out = []
        if self.partition is not None:
            attribute, kind = self.partition
            out += [(f"{n}.pk", sql_value(attribute, kind))]
            out += [(f"{n}.h", sql_hash(quoted(f"{n}.pk")))]
        if self.sort is not None:
            attribute, kind = self.sort
            out += [(f"{n}.sk", sql_value(attribute, kind))]
            out += [(f"{n}.sko", sql_order(kind, quoted(f"{n}.sk")))]
        return out

    def access(self) -> Access:
        n = self.name
        sort = quoted(f"{n}.sko") if self.sort is not None else None
        conditions = [f"{c} IS NOT NULL" for c in ([sort] if sort else [])]
        if self.partition is None:
            return Access(n, "h", "pk", sort, ("sko",), " AND ".join(conditions))
        part = quoted(f"{n}.pk")
        conditions.insert(0, f"{part} IS NOT NULL")
        return Access(n, quoted(f"{n}.h"), part, sort, ("pk", "sko"), " AND ".join(conditions))

    def sql_indexes(self) -> list[str]:
        access = self.access()
        n = self.name
        return [
            f"CREATE INDEX IF NOT EXISTS {quoted(f'index:{n}:query')} ON items "
            f"({access.part}, {', '.join(access.query_order)}) WHERE {access.present}",
            f"CREATE INDEX IF NOT EXISTS {quoted(f'index:{n}:scan')} ON items "
            f"({', '.join(access.scan_order)}) WHERE {access.present}",
        ]

    def as_json(self) -> Any:
        return [INDEX_LAYOUT, self.local, self.partition, self.sort]


def index_specs(config: TableConfig) -> dict[str, IndexSpec]:
    specs = {}
    for name, g in config.global_indexes.items():
        sort = (g.sort_key, g.sort_key_type) if g.sort_key else None
        specs[name] = IndexSpec(name, False, (g.partition_key, g.partition_key_type), sort)
    for name, lsi in config.local_indexes.items():
        specs[name] = IndexSpec(name, True, None, (lsi.sort_key, lsi.sort_key_type))
    return specs


def drop_index(db: sqlite3.Connection, name: str, present: set[str]) -> None:
    """Drop a secondary index's SQL indexes and columns (``present``: the items table's
    columns, kept up to date)."""
    for suffix in ("query", "scan"):
        db.execute(f"DROP INDEX IF EXISTS {quoted(f'index:{name}:{suffix}')}")
    # Dependent columns before the ones they are generated from.
    for suffix in ("h", "sko", "pk", "sk"):
        column = f"{name}.{suffix}"
        if column in present:
            db.execute(f"ALTER TABLE items DROP COLUMN {quoted(column)}")
            present.discard(column)


def define_ttl(db: sqlite3.Connection, attribute: str | None, present: set[str]) -> None:
    """Make the ``ttl`` column and its index those of ``attribute`` (None: none)."""
    built = db.execute("SELECT value FROM meta WHERE key = 'ttl'").fetchone()
    if (built[0] if built else None) == (attribute or ""):
        return
    db.execute("DROP INDEX IF EXISTS items_ttl")
    if "ttl" in present:
        db.execute("ALTER TABLE items DROP COLUMN ttl")
        present.discard("ttl")
    if attribute:
        path = f'$."{attribute}".N'
        db.execute(
            "ALTER TABLE items ADD COLUMN ttl REAL GENERATED ALWAYS AS "
            f"(CAST(json_extract(item, '{path}') AS REAL)) VIRTUAL"
        )
        db.execute("CREATE INDEX items_ttl ON items (ttl) WHERE ttl IS NOT NULL")
    write_meta(db, "ttl", attribute or "")


def write_meta(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
