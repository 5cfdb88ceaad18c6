"""Where accepted asynchronous events live until their outcome is final: ``events.sqlite3``.

An event is inserted (and committed) before ``submit`` returns its request id, updated after
each attempt that leaves it pending (attempt and retry counts, when it is next due, the last
result for the destination record), and deleted only when it is done: succeeded, sent to its
on-failure destination, or dropped with a reason. So a stop of any kind — SIGTERM after the
grace period, SIGKILL, a crash — leaves every unfinished event in the file, and the next start
resumes it with its original request id, age and counts.

Each statement commits on its own (WAL, no fsync per commit: it survives the process being
killed). Layout::

    events(id, request_id, function, source, body, enqueued_at, runs, retries, throttles,
           due, last)
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..state import open_db

PART = "events"
VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL,
    function TEXT NOT NULL,
    source TEXT NOT NULL,
    body BLOB NOT NULL,
    enqueued_at REAL NOT NULL,
    runs INTEGER NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0,
    throttles INTEGER NOT NULL DEFAULT 0,
    due REAL NOT NULL,
    last TEXT
);
"""


@dataclass(slots=True)
class StoredEvent:
    """One pending event as the file holds it."""

    id: int
    request_id: str
    function: str
    source: str
    body: bytes
    enqueued_at: float
    runs: int
    retries: int
    throttles: int
    due: float
    last: dict[str, Any] | None


class EventStore:
    """The pending asynchronous events of one state folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db, _ = open_db(path, PART, _SCHEMA, version=VERSION, tables={"events"})

    def add(
        self, request_id: str, function: str, source: str, body: bytes, enqueued_at: float
    ) -> int:
        cursor = self._db.execute(
            "INSERT INTO events (request_id, function, source, body, enqueued_at, due) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (request_id, function, source, body, enqueued_at, enqueued_at),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def update(
        self, id: int, *, runs: int, retries: int, throttles: int, due: float,
        last: dict[str, Any] | None,
    ) -> None:  # fmt: skip
        self._db.execute(
            "UPDATE events SET runs = ?, retries = ?, throttles = ?, due = ?, last = ? "
            "WHERE id = ?",
            (runs, retries, throttles, due, json.dumps(last) if last is not None else None, id),
        )

    def remove(self, id: int) -> None:
        self._db.execute("DELETE FROM events WHERE id = ?", (id,))

    def last_id(self) -> int:
        return int(self._db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])

    def pending(
        self, after: int = 0, up_to: int | None = None, limit: int = -1
    ) -> list[StoredEvent]:
        """Stored events with ``after < id <= up_to``, in arrival order (at most ``limit``)."""
        rows = self._db.execute(
            "SELECT id, request_id, function, source, body, enqueued_at, runs, retries, "
            "throttles, due, last FROM events WHERE id > ? AND id <= ? ORDER BY id LIMIT ?",
            (after, up_to if up_to is not None else 2**63 - 1, limit),
        ).fetchall()
        return [self._row(*row) for row in rows]

    @staticmethod
    def _row(*row: Any) -> StoredEvent:
        id, request_id, function, source, body, enqueued_at, runs, retries, throttles, due, last = (
            row
        )
        return StoredEvent(
            id, request_id, function, source, bytes(body), enqueued_at, runs, retries,
            throttles, due, json.loads(last) if last else None,
        )  # fmt: skip

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM events").fetchone()[0])

    def close(self) -> None:
        try:
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            pass
        self._db.close()


class MemoryEventStore:
    """The same interface, in memory: for one-off commands that must not resume the pending
    events of an ``eventsim up`` (``eventsim invoke``), and for ``durable=False``."""

    path = None

    def __init__(self) -> None:
        self._next = 0

    def add(
        self, request_id: str, function: str, source: str, body: bytes, enqueued_at: float
    ) -> int:
        self._next += 1
        return self._next

    def update(
        self, id: int, *, runs: int, retries: int, throttles: int, due: float,
        last: dict[str, Any] | None,
    ) -> None:  # fmt: skip
        pass

    def remove(self, id: int) -> None:
        pass

    def last_id(self) -> int:
        return 0

    def pending(
        self, after: int = 0, up_to: int | None = None, limit: int = -1
    ) -> list[StoredEvent]:
        return []

    def close(self) -> None:
        pass
