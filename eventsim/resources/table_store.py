"""The SQLite file behind one DynamoDB table: items, its stream, and mapping checkpoints.

Layout (``<state_dir>/tables/<table>.sqlite3``, WAL mode; documented in README so that other
programs can write rows with plain SQL)::

    items(item TEXT)                 one row per item, the item in DynamoDB JSON;
                                     pk, sk: generated from the key attributes (unique together)
    stream(seq, old, new, created)   one row per change, written by triggers on ``items`` in the
                                     same transaction as the change: old/new item JSON (NULL for
                                     an insert/delete), seq increasing, created = clock seconds
                                     (NULL until eventsim stamps it)
    checkpoints(mapping, seq)        per stream mapping: the last sequence number it finished
    meta(key, value)                 the key schema and the stream label

Because the triggers live in the file, a write from any connection is captured.

Capture is race-free with any number of outside writers: eventsim's own write stamps only the
stream rows its own statement made; a reader never hands on a row that is not stamped yet — it
stops before the first one, stamps the oldest unstamped rows (a bounded chunk, in sequence
order, in one transaction) and reads again. Stamping and the 24-hour trim work in chunks of
``CHUNK`` rows, so neither stalls the event loop for longer as the stream grows.

The file carries eventsim's application id and schema version (``eventsim.state``); a file
that lost its tables or is not a database stops the simulator with the way to discard it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import TableConfig
from ..errors import StartupError
from ..state import open_db

Item = dict[str, Any]
VERSION = 1
#: Rows stamped or trimmed per statement.
CHUNK = 1000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    item TEXT NOT NULL CHECK (json_valid(item)),
    pk TEXT GENERATED ALWAYS AS ({pk}) VIRTUAL NOT NULL,
    sk TEXT GENERATED ALWAYS AS ({sk}) VIRTUAL NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS items_key ON items (pk, sk);
CREATE TABLE IF NOT EXISTS stream (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    old TEXT,
    new TEXT,
    created REAL
);
CREATE INDEX IF NOT EXISTS stream_created ON stream (created);
CREATE INDEX IF NOT EXISTS stream_unstamped ON stream (seq) WHERE created IS NULL;
CREATE TABLE IF NOT EXISTS checkpoints (mapping TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""

_TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS items_insert AFTER INSERT ON items BEGIN
    INSERT INTO stream (old, new) VALUES (NULL, NEW.item);
END;
CREATE TRIGGER IF NOT EXISTS items_update AFTER UPDATE OF item ON items
WHEN OLD.item IS NOT NEW.item BEGIN
    INSERT INTO stream (old, new) VALUES (OLD.item, NEW.item);
END;
CREATE TRIGGER IF NOT EXISTS items_delete AFTER DELETE ON items BEGIN
    INSERT INTO stream (old, new) VALUES (OLD.item, NULL);
END;
"""

_DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS items_insert;
DROP TRIGGER IF EXISTS items_update;
DROP TRIGGER IF EXISTS items_delete;
"""


@dataclass(frozen=True, slots=True)
class Change:
    """One row of the stream: an item before and after a write (None: absent)."""

    seq: int
    old: Item | None
    new: Item | None
    created: float


def _key_column(name: str, kind: str) -> str:
    return f"json_extract(item, '$.\"{name}\".{kind}')"


def encode(item: Item) -> str:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False)


class TableStore:
    """Synchronous access to one table's file; every method is one short transaction."""

    def __init__(self, path: Path, config: TableConfig, part: str) -> None:
        self.path = path
        self.config = config
        pk = _key_column(config.partition_key, config.partition_key_type)
        sk = (
            _key_column(config.sort_key, config.sort_key_type)
            if config.sort_key is not None
            else "''"
        )
        schema = _SCHEMA.format(pk=pk, sk=sk)
        # Every statement is idempotent; the triggers follow the config's stream setting.
        self._db, _ = open_db(
            path, part, schema + (_TRIGGERS if config.stream else _DROP_TRIGGERS),
            version=VERSION, tables={"meta", "items", "stream", "checkpoints"}, adopt=True,
        )  # fmt: skip
        with self.transaction():
            self._check_key_schema()

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

    def meta(self, key: str, default: str) -> str:
        """A stored value, storing ``default`` first if there is none."""
        with self.transaction():
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES (?, ?)", (key, default))
                return default
            return str(row[0])

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

    def data_version(self) -> int:
        """Changes whenever another connection commits to the file."""
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    # --- items ----------------------------------------------------------------------------

    def get(self, db: sqlite3.Connection, pk: str, sk: str) -> Item | None:
        row = db.execute("SELECT item FROM items WHERE pk = ? AND sk = ?", (pk, sk)).fetchone()
        return json.loads(row[0]) if row else None

    def write(self, db: sqlite3.Connection, pk: str, sk: str, old: Item | None, new: Item | None,
              now: float) -> None:  # fmt: skip
        """Replace the item at (pk, sk): insert, update or delete; stamps its stream row.

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
            db.execute("UPDATE stream SET created = ? WHERE seq > ?", (now, before))

    def item(self, pk: str, sk: str) -> Item | None:
        return self.get(self._db, pk, sk)

    def partition(self, pk: str) -> list[Item]:
        rows = self._db.execute("SELECT item FROM items WHERE pk = ?", (pk,))
        return [json.loads(item) for (item,) in rows]

    def scan(self, after: tuple[str, str] | None, limit: int) -> list[tuple[str, str, Item]]:
        """Items in (pk, sk) order, after ``after`` (exclusive)."""
        if after is None:
            rows = self._db.execute(
                "SELECT pk, sk, item FROM items ORDER BY pk, sk LIMIT ?", (limit,)
            )
        else:
            rows = self._db.execute(
                "SELECT pk, sk, item FROM items WHERE (pk, sk) > (?, ?) ORDER BY pk, sk LIMIT ?",
                (*after, limit),
            )
        return [(pk, sk, json.loads(item)) for pk, sk, item in rows]

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM items").fetchone()[0])

    # --- stream ---------------------------------------------------------------------------

    def last_seq(self) -> int:
        row = self._db.execute("SELECT max(seq) FROM stream").fetchone()
        return int(row[0] or 0)

    def changes(self, after: int, limit: int, now: float) -> list[Change]:
        """Stamped stream rows after ``after``, oldest first, up to the first unstamped row;
        rows written by others are stamped ``now`` here, ``CHUNK`` at a time."""
        while True:
            rows = self._db.execute(
                "SELECT seq, old, new, created FROM stream WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()
            changes = []
            for seq, old, new, at in rows:
                if at is None:
                    break  # not stamped yet: nothing after it may be handed on before it
                changes.append(
                    Change(seq, json.loads(old) if old else None, json.loads(new) if new else None,
                           at)
                )  # fmt: skip
            else:
                return changes
            if changes:
                return changes  # the caller reads again at once and stamps then
            self.stamp(now)

    def stamp(self, now: float) -> int:
        """Stamp the oldest ``CHUNK`` rows that no one stamped; return how many."""
        with self.transaction():
            cursor = self._db.execute(
                "UPDATE stream SET created = ? WHERE seq IN (SELECT seq FROM stream "
                "WHERE created IS NULL ORDER BY seq LIMIT ?)",
                (now, CHUNK),
            )
        return cursor.rowcount

    def trim(self, before: float) -> int:
        """Drop up to ``CHUNK`` stream rows created before ``before`` (retention); returns how
        many (``CHUNK``: call again)."""
        cursor = self._db.execute(
            "DELETE FROM stream WHERE seq IN (SELECT seq FROM stream WHERE created < ? "
            "ORDER BY created LIMIT ?)",
            (before, CHUNK),
        )
        return cursor.rowcount

    def checkpoint(self, mapping: str) -> int | None:
        row = self._db.execute(
            "SELECT seq FROM checkpoints WHERE mapping = ?", (mapping,)
        ).fetchone()
        return int(row[0]) if row else None

    def save_checkpoint(self, mapping: str, seq: int) -> None:
        self._db.execute(
            "INSERT INTO checkpoints VALUES (?, ?) "
            "ON CONFLICT (mapping) DO UPDATE SET seq = excluded.seq",
            (mapping, seq),
        )
