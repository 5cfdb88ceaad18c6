"""The SQLite file behind one DynamoDB table: items, its stream, and mapping checkpoints.

Layout (``<state_dir>/tables/<table>.sqlite3``, WAL mode, schema version 2; documented for
users so that other programs can read and write rows with plain SQL)::

    items(item TEXT)                 one row per item, the item in DynamoDB JSON; generated
                                     from it (``table_keys``): pk, sk (the key attributes'
                                     text, unique together), sko (the sort key's order text),
                                     h (the partition key's hash); per secondary index NAME
                                     "NAME.pk", "NAME.sk", "NAME.sko", "NAME.h" (NULL when the
                                     item is not in the index); ttl (the TTL attribute, seconds)
    stream(seq, old, new, created,   one row per change, written by triggers on ``items`` in the
           expired)                  same transaction as the change: old/new item JSON (NULL for
                                     an insert/delete), seq increasing, created = clock seconds
                                     (NULL until eventsim stamps it), expired = 1 for a deletion
                                     by TTL
    checkpoints(mapping, seq)        per stream mapping: the last sequence number it finished
    meta(key, value)                 the key schema, the stream label, the definition of a table
                                     made through the API, tags, what the indexes were built for

Because the key columns are generated and the triggers live in the file, a write from any
connection is keyed, indexed and captured like eventsim's own. Query and Scan are SQL over
these columns (``rows``): a key condition is a range of an index, ``Limit`` a ``LIMIT``,
``ExclusiveStartKey`` a seek past the key whether or not that item exists. The SQL that
makes the file is in ``table_sql``.

Capture is race-free with any number of outside writers: eventsim's own write stamps only the
stream rows its own statement made; a reader never hands on a row that is not stamped yet — it
stops before the first one, stamps the oldest unstamped rows (a bounded chunk, in sequence
order, in one transaction) and reads again. Stamping and the 24-hour trim work in chunks of
``CHUNK`` rows, so neither stalls the event loop for longer as the stream grows.

The file carries eventsim's application id and schema version (``eventsim.state``). A version 1
file (before sort-order columns) is upgraded in place when opened; a file that lost its tables
or is not a database stops the simulator with the way to discard it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from ..config import TableConfig
from ..errors import StartupError
from ..state import open_db
from .table_sql import (
    DROP_TRIGGERS,
    TABLES,
    TRIGGERS,
    Access,
    Bound,
    define_ttl,
    drop_index,
    generated,
    index_specs,
    key_columns,
    quoted,
    write_meta,
)

__all__ = ["CHUNK", "Access", "Bound", "Change", "TableStore"]

log = structlog.get_logger("eventsim.tables")

Item = dict[str, Any]
VERSION = 2
#: Rows stamped, trimmed or expired per statement.
CHUNK = 1000
#: How long stamping, trimming and a delivering mapping's checkpoint wait for another
#: writer's lock (on the event loop); past it they give way and are tried again.
STAMP_WAIT_MS = 20
#: How long every other statement waits for another writer's lock.
BUSY_TIMEOUT_MS = 5000
#: How much of a table file reads may map into memory (address space, not memory: the pages
#: are the operating system's file cache).
MMAP_BYTES = 1 << 30


@dataclass(frozen=True, slots=True)
class Change:
    """One row of the stream: an item before and after a write (None: absent)."""

    seq: int
    old: Item | None
    new: Item | None
    created: float
    expired: bool = False  # deleted by TTL


class _GaveWay(Exception):
    """Another connection held the file's write lock past ``STAMP_WAIT_MS``."""


def encode(item: Item) -> str:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False)


class TableStore:
    """Synchronous access to one table's file; every method is one short transaction."""

    def __init__(self, path: Path, config: TableConfig, part: str) -> None:
        self.path = path
        self.config = config
        #: The last stamping gave way to another writer's lock: look again soon.
        self.busy = False
        columns = generated(key_columns(config), required=True)
        # The tables only: a version 1 file gets its indexes after its items are moved over.
        self._db, _ = open_db(
            path, part, TABLES.format(columns=columns), version=VERSION,
            tables={"meta", "items", "stream", "checkpoints"}, adopt=True,
        )  # fmt: skip
        with self.transaction():
            self._check_key_schema()
        self._migrate(columns)
        # Reads through a memory map of the file: a random row (a scan in hash order, a
        # GetItem) costs a memory read, not a system call, however large the file grows.
        self._db.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        sort_order = config.sort_key is not None and config.sort_key_type != "S"
        self.base = Access(None, "h", "pk", ("sko" if sort_order else "sk") if config.sort_key
                           else None)  # fmt: skip
        self.indexes: dict[str, Access] = {}
        self._db.executescript(
            "CREATE UNIQUE INDEX IF NOT EXISTS items_key ON items (pk, sk);\n"
            "CREATE INDEX IF NOT EXISTS items_scan ON items (h, pk, sko);\n"
            + ("CREATE INDEX IF NOT EXISTS items_order ON items (pk, sko);\n" if sort_order else "")
        )
        self.define(config)

    def _migrate(self, columns: str) -> None:
        """Version 1 -> 2: the items table gains sort-order and hash columns (and strings keep
        U+0000 in their keys), the stream an ``expired`` column. Runs once; idempotent."""
        db = self._db
        have = {str(row[1]) for row in db.execute("PRAGMA table_xinfo(items)")}
        stream = {str(row[1]) for row in db.execute("PRAGMA table_xinfo(stream)")}
        if "h" in have and "expired" in stream:
            return
        with self.transaction():
            if "h" not in have:
                for statement in DROP_TRIGGERS:
                    db.execute(statement)
                db.execute("DROP INDEX IF EXISTS items_key")
                db.execute("ALTER TABLE items RENAME TO items_v1")
                db.execute(f"CREATE TABLE items (\n    item TEXT NOT NULL CHECK "
                           f"(json_valid(item)),\n{columns}\n)")  # fmt: skip
                db.execute("INSERT INTO items (item) SELECT item FROM items_v1 ORDER BY rowid")
                db.execute("DROP TABLE items_v1")
            if "expired" not in stream:
                db.execute("ALTER TABLE stream ADD COLUMN expired INTEGER")
        log.info("table.upgraded", path=str(self.path), version=VERSION)

    def _check_key_schema(self) -> None:
        c = self.config
        schema = json.dumps(
            [
                c.partition_key,
                c.partition_key_type,
                c.sort_key,
                c.sort_key_type if c.sort_key else None,
            ]
        )
        row = self._db.execute("SELECT value FROM meta WHERE key = 'key_schema'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('key_schema', ?)", (schema,))
        elif row[0] != schema:
            raise StartupError(
                f"{self.path} holds a table with key schema {row[0]}, but the config says "
                f"{schema}: DynamoDB cannot change a table's key; delete the file to start over"
            )

    def define(self, config: TableConfig) -> None:
        """Make the file's indexes, TTL column and stream triggers those of ``config`` (same
        key schema): new indexes are built from the items there are, dropped ones removed."""
        self.config = config
        wanted = index_specs(config)
        built = json.loads(self.meta("indexes", "{}"))
        present = {str(row[1]) for row in self._db.execute("PRAGMA table_xinfo(items)")}
        with self.transaction() as db:
            for name, spec in built.items():
                if name not in wanted or wanted[name].as_json() != spec:
                    drop_index(db, name, present)
            for name, index in wanted.items():
                if name not in built or built[name] != index.as_json():
                    for column, sql in index.columns():
                        if column not in present:
                            db.execute(f"ALTER TABLE items ADD COLUMN {quoted(column)} TEXT "
                                       f"GENERATED ALWAYS AS ({sql}) VIRTUAL")  # fmt: skip
                for statement in index.sql_indexes():
                    db.execute(statement)
            define_ttl(db, config.ttl, present)
            for statement in TRIGGERS if config.stream else DROP_TRIGGERS:
                db.execute(statement)
            specs = {name: index.as_json() for name, index in wanted.items()}
            write_meta(db, "indexes", json.dumps(specs))
        self.indexes = {name: index.access() for name, index in wanted.items()}

    def meta(self, key: str, default: str) -> str:
        """A stored value, storing ``default`` first if there is none."""
        with self.transaction():
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES (?, ?)", (key, default))
                return default
            return str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            write_meta(db, key, value)

    def close(self) -> None:
        self._db.close()

    # --- transactions ---------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``: a read-modify-write no other writer interleaves."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def begin(self, *, read: bool = False) -> sqlite3.Connection:
        """``BEGIN IMMEDIATE`` (``read``: ``BEGIN``, a snapshot to read from) for a transaction
        over several tables; end it with ``end``."""
        self._db.execute("BEGIN" if read else "BEGIN IMMEDIATE")
        return self._db

    @property
    def connection(self) -> sqlite3.Connection:
        return self._db

    def end(self, commit: bool) -> None:
        self._db.execute("COMMIT" if commit else "ROLLBACK")

    def data_version(self) -> int:
        """Changes whenever another connection commits to the file."""
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    # --- items ----------------------------------------------------------------------------

    def get(self, db: sqlite3.Connection, pk: str, sk: str) -> Item | None:
        row = db.execute("SELECT item FROM items WHERE pk = ? AND sk = ?", (pk, sk)).fetchone()
        return json.loads(row[0]) if row else None

    def write(self, db: sqlite3.Connection, pk: str, sk: str, old: Item | None, new: Item | None,
              now: float, *, expired: bool = False) -> None:  # fmt: skip
        """Replace the item at (pk, sk): insert, update or delete; stamps its stream row
        (``expired``: marks it as a deletion by TTL).

        Runs inside ``transaction()``, so no other writer's rows come between ``before`` and
        the row the trigger writes: only that row is stamped here.
        """
        before = db.execute("SELECT max(seq) FROM stream").fetchone()[0] or 0
        if new is None:
            db.execute("DELETE FROM items WHERE pk = ? AND sk = ?", (pk, sk))
        elif old is None:
            db.execute("INSERT INTO items (item) VALUES (?)", (encode(new),))
        else:
            db.execute("UPDATE items SET item = ? WHERE pk = ? AND sk = ?", (encode(new), pk, sk))
        if self.config.stream:
            db.execute(
                "UPDATE stream SET created = ?, expired = ? WHERE seq > ?",
                (now, 1 if expired else None, before),
            )

    def item(self, pk: str, sk: str) -> Item | None:
        return self.get(self._db, pk, sk)

    def rows(
        self,
        access: Access,
        *,
        partition: str | None = None,
        bounds: Sequence[Bound] = (),
        after: Sequence[Any] | None = None,
        forward: bool = True,
        hashes: tuple[int, int] | None = None,
        limit: int,
    ) -> Iterator[str]:
        """Items (their JSON) in ``access``'s order: a Query's when ``partition`` is given
        (its sort key within ``bounds``), else a Scan's (its hashes within ``hashes``); after
        the position ``after`` (values of the order's columns), at most ``limit``. Read lazily:
        stop early at no cost."""
        order = access.query_order if partition is not None else access.scan_order
        if after is not None and not order:
            return  # a partition of one item (no sort key), and the read is past it
        where: list[str] = [access.present] if access.present else []
        params: list[Any] = []
        if partition is not None:
            where.append(f"{access.part} = ?")
            params.append(partition)
        for bound in bounds:
            assert access.sort is not None and bound.op in ("<", "<=", ">", ">=", "=")
            where.append(f"{access.sort} {bound.op} ?")
            params.append(bound.value)
        if hashes is not None:
            where.append(f"{access.hash} >= ? AND {access.hash} < ?")
            params += hashes
        if after is not None and order:
            columns = ", ".join(order)
            marks = ", ".join("?" * len(order))
            where.append(f"({columns}) {'>' if forward else '<'} ({marks})")
            params += after
        direction = "" if forward else " DESC"
        sql = (
            "SELECT item FROM items"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + (f" ORDER BY {', '.join(c + direction for c in order)}" if order else "")
            + " LIMIT ?"
        )
        cursor = self._db.execute(sql, (*params, limit))
        try:
            for (text,) in cursor:
                yield text
        finally:
            cursor.close()

    def expired(self, now: float, oldest: float, limit: int) -> list[tuple[str, str, Item]]:
        """Items whose TTL (seconds) is at or before ``now`` and after ``oldest``, oldest first."""
        if self.config.ttl is None:
            return []
        rows = self._db.execute(
            "SELECT pk, sk, item FROM items WHERE ttl IS NOT NULL AND ttl <= ? AND ttl > ? "
            "ORDER BY ttl LIMIT ?",
            (now, oldest, limit),
        )
        return [(pk, sk, json.loads(item)) for pk, sk, item in rows]

    def next_expiry(self, after: float) -> float | None:
        """The earliest TTL after ``after``, None if there is none."""
        if self.config.ttl is None:
            return None
        row = self._db.execute(
            "SELECT min(ttl) FROM items WHERE ttl IS NOT NULL AND ttl > ?", (after,)
        ).fetchone()
        return float(row[0]) if row[0] is not None else None

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM items").fetchone()[0])

    def count_index(self, access: Access) -> int:
        where = f" WHERE {access.present}" if access.present else ""
        return int(self._db.execute(f"SELECT count(*) FROM items{where}").fetchone()[0])

    def size(self) -> int:
        return int(
            self._db.execute("SELECT coalesce(sum(length(item)), 0) FROM items").fetchone()[0]
        )

    # --- stream ---------------------------------------------------------------------------

    def last_seq(self) -> int:
        row = self._db.execute("SELECT max(seq) FROM stream").fetchone()
        return int(row[0] or 0)

    def first_seq(self) -> int | None:
        row = self._db.execute("SELECT min(seq) FROM stream").fetchone()
        return int(row[0]) if row[0] is not None else None

    def changes(self, after: int, limit: int, now: float) -> list[Change]:
        """Stamped stream rows after ``after``, oldest first, up to the first unstamped row;
        rows written by others are stamped ``now`` here, ``CHUNK`` at a time."""
        while True:
            rows = self._db.execute(
                "SELECT seq, old, new, created, expired FROM stream WHERE seq > ? "
                "ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()
            changes = []
            for seq, old, new, at, expired in rows:
                if at is None:
                    break  # not stamped yet: nothing after it may be handed on before it
                changes.append(
                    Change(seq, json.loads(old) if old else None, json.loads(new) if new else None,
                           at, bool(expired))
                )  # fmt: skip
            else:
                return changes
            if changes:
                return changes  # the caller reads again at once and stamps then
            if self.stamp(now) < 0:
                return []  # another writer holds the file: ``busy`` says to look again soon

    def stamp(self, now: float) -> int:
        """Stamp the oldest ``CHUNK`` rows that no one stamped; return how many, or -1 when
        another connection holds the write lock (``busy`` is then set: the caller looks again
        soon, rather than the event loop waiting up to the busy timeout)."""
        self.busy = False
        try:
            with self._giving_way(), self.transaction():
                cursor = self._db.execute(
                    "UPDATE stream SET created = ? WHERE seq IN (SELECT seq FROM stream "
                    "WHERE created IS NULL ORDER BY seq LIMIT ?)",
                    (now, CHUNK),
                )
        except _GaveWay:
            self.busy = True
            return -1
        return cursor.rowcount

    def trim(self, before: float) -> int:
        """Drop up to ``CHUNK`` stream rows created before ``before`` (retention); returns how
        many (``CHUNK``: call again). A file another writer holds is trimmed next time."""
        try:
            with self._giving_way():
                cursor = self._db.execute(
                    "DELETE FROM stream WHERE seq IN (SELECT seq FROM stream WHERE created < ? "
                    "ORDER BY created LIMIT ?)",
                    (before, CHUNK),
                )
        except _GaveWay:
            return CHUNK  # look again on the next read
        return cursor.rowcount

    def checkpoint(self, mapping: str) -> int | None:
        row = self._db.execute(
            "SELECT seq FROM checkpoints WHERE mapping = ?", (mapping,)
        ).fetchone()
        return int(row[0]) if row else None

    def save_checkpoint(self, mapping: str, seq: int, *, give_way: bool = False) -> bool:
        """Save a mapping's checkpoint. With ``give_way`` (while delivering) it returns False
        when another writer holds the file: the caller tries again soon (a checkpoint saved
        late only means records read again after a crash, which at-least-once allows)."""
        sql = (
            "INSERT INTO checkpoints VALUES (?, ?) "
            "ON CONFLICT (mapping) DO UPDATE SET seq = excluded.seq"
        )
        if not give_way:
            self._db.execute(sql, (mapping, seq))
            return True
        try:
            with self._giving_way():
                self._db.execute(sql, (mapping, seq))
        except _GaveWay:
            return False
        return True

    @contextmanager
    def _giving_way(self) -> Iterator[None]:
        """Statements in the block wait for another writer's lock only ``STAMP_WAIT_MS`` (on
        the event loop), then raise ``_GaveWay`` instead of waiting up to the busy timeout."""
        self._db.execute(f"PRAGMA busy_timeout = {STAMP_WAIT_MS}")
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            raise _GaveWay from None
        finally:
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
