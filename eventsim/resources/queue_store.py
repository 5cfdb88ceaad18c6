"""SQLite persistence for queues with ``persist: true``: their messages, and the definitions of
the ones created at run time.

One database holds every persisted queue: ``state_dir/queues.sqlite3`` (WAL, no sync per
commit: it survives a killed process, short of a power loss), with eventsim's application id
and schema version (``eventsim.state``): a damaged or foreign file stops the simulator with the
way to discard it instead of starting empty over it.

When a change is written:

* a **send** (and a message moved in from another queue) is committed before ``send``
  returns, so SendMessage is acknowledged only once its row is durable: ``add`` then
  ``commit``, one transaction for a whole SendMessageBatch;
* the **bookkeeping** of receives, visibility changes and deletes is batched: ``update`` and
  ``remove`` note the change and one commit per event-loop turn writes every change noted in
  it (``loop.call_soon``), as does the next send's commit, which keeps them in order. A crash
  can lose at most the last turn's bookkeeping: a received message then reappears early, a
  deleted one is delivered again — the at-least-once delivery SQS itself allows — and never is
  a sent message lost.

Checkpoints (copying the write-ahead log into the database, with an fsync) are not run by
the commit that fills the log, which would stall the loop for tens of milliseconds now and
then: every ``CHECKPOINT_EVERY`` commits a thread runs a passive one on its own connection.

Rows are columns, not serialised objects (no copy of the message is made to write it).
Version 1 files (one JSON document per message) are migrated when opened.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog

from ..errors import StateError
from ..state import connect, open_db
from .messages import IN_FLIGHT, _Extra, _Message

log = structlog.get_logger("eventsim.queues")

PART = "queues"
VERSION = 2
_MESSAGES = """
CREATE TABLE IF NOT EXISTS messages (
    queue TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
    attributes TEXT, sent_at REAL NOT NULL, available_at REAL NOT NULL,
    in_flight INTEGER NOT NULL DEFAULT 0, receive_count INTEGER NOT NULL DEFAULT 0,
    first_receive_at REAL, group_id TEXT, deduplication_id TEXT, sequence_number TEXT,
    trace_header TEXT, dead_letter_source TEXT,
    PRIMARY KEY (queue, id)
);
"""
_SCHEMA = (
    _MESSAGES
    + """
CREATE TABLE IF NOT EXISTS definitions (
    region TEXT NOT NULL, name TEXT NOT NULL, config TEXT NOT NULL,
    created_at REAL NOT NULL, modified_at REAL NOT NULL, PRIMARY KEY (region, name)
);
"""
)
#: Restores read in send order without sorting the table first.
_ORDER = "CREATE INDEX IF NOT EXISTS messages_in_order ON messages (queue, seq)"
_COLUMNS = (
    "id, seq, body, attributes, sent_at, available_at, in_flight, receive_count, "
    "first_receive_at, group_id, deduplication_id, sequence_number, trace_header, "
    "dead_letter_source"
)
_INSERT = f"INSERT OR REPLACE INTO messages (queue, {_COLUMNS}) VALUES ({', '.join('?' * 15)})"
_UPDATE = (
    "UPDATE messages SET available_at = ?, in_flight = ?, receive_count = ?, "
    "first_receive_at = ? WHERE queue = ? AND id = ?"
)
_DELETE = "DELETE FROM messages WHERE queue = ? AND id = ?"
#: Commits between two checkpoints of the write-ahead log, run off the loop.
CHECKPOINT_EVERY = 256
#: Rows read at a time by a restore (off the loop), and made into messages per loop turn.
CHUNK = 10_000
STEP = 1_000
_BYTES = "__bytes_b64__"


def _reported(done: asyncio.Future[None]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.warning("queue_store.checkpoint_failed", error=str(done.exception()))


def _attributes_text(attributes: dict[str, dict[str, Any]] | None) -> str | None:
    if not attributes:
        return None
    encoded = {
        name: {k: {_BYTES: base64.b64encode(v).decode()} if isinstance(v, bytes) else v
               for k, v in value.items()}
        for name, value in attributes.items()
    }  # fmt: skip
    return json.dumps(encoded, separators=(",", ":"))


def _decode(obj: dict[str, Any]) -> Any:
    return base64.b64decode(obj[_BYTES]) if set(obj) == {_BYTES} else obj


class QueueStore:
    """Rows of (queue, message id): the message's fields as columns; and the definitions of
    queues created at run time. Queues are named ``region/name``."""

    def __init__(self, path: Path, region: str) -> None:
        self.path = path
        self._db, _ = open_db(path, PART, _SCHEMA, version=VERSION, tables={"messages"},
                              adopt=True)  # fmt: skip
        self._pending: dict[tuple[str, str], tuple[Any, ...] | None] = {}  # None: delete
        self._inserts: list[tuple[Any, ...]] = []
        self._scheduled = False
        self._closed = False
        self._migrate(region)
        self._db.execute(_ORDER)
        self._db.execute("PRAGMA wal_autocheckpoint = 0")  # see CHECKPOINT_EVERY
        self._commits = 0
        self._checkpoints = threading.Lock()  # held while a checkpoint runs

    # --- writing --------------------------------------------------------------------------

    def add(self, queue: str, message: _Message) -> None:
        """A new row, written by the next ``commit`` (which a send makes at once)."""
        extra = message.extra or _Extra()
        self._pending.pop((queue, message.id), None)
        self._inserts.append((
            queue, message.id, message.seq, message.body, _attributes_text(message.attributes),
            message.sent_at, message.available_at, int(message.state == IN_FLIGHT),
            message.receive_count, message.first_receive_at, extra.group_id,
            extra.deduplication_id, extra.sequence_number, extra.trace_header,
            extra.dead_letter_source,
        ))  # fmt: skip

    def update(self, queue: str, message: _Message) -> None:
        """A receive or visibility change, written at the end of this loop turn."""
        self._pending[(queue, message.id)] = (
            message.available_at, int(message.state == IN_FLIGHT), message.receive_count,
            message.first_receive_at, queue, message.id,
        )  # fmt: skip
        self._schedule()

    def remove(self, queue: str, message: _Message) -> None:
        """A delete, written at the end of this loop turn."""
        self._pending[(queue, message.id)] = None
        self._schedule()

    def _schedule(self) -> None:
        if self._scheduled:
            return
        try:
            asyncio.get_running_loop().call_soon(self.commit)
        except RuntimeError:  # no loop (a script): write at once
            self.commit()
            return
        self._scheduled = True

    def commit(self) -> None:
        """Write every change noted so far in one transaction."""
        self._scheduled = False
        if self._closed or not self._inserts and not self._pending:
            return
        updates = [row for row in self._pending.values() if row is not None]
        deletes = [key for key, row in self._pending.items() if row is None]
        inserts, self._inserts, self._pending = self._inserts, [], {}
        with self._transaction():
            if inserts:
                self._db.executemany(_INSERT, inserts)
            if updates:
                self._db.executemany(_UPDATE, updates)
            if deletes:
                self._db.executemany(_DELETE, deletes)
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY and not self._checkpoints.locked():
            self._commits = 0
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self._checkpoint()
                return
            loop.run_in_executor(None, self._checkpoint).add_done_callback(_reported)

    def _checkpoint(self) -> None:
        """A passive checkpoint on a connection of its own (writers are not blocked)."""
        with self._checkpoints:
            if self._closed:
                return
            db = connect(self.path)
            try:
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                db.close()

    def purge(self, queue: str) -> None:
        self.commit()
        self._db.execute("DELETE FROM messages WHERE queue = ?", (queue,))

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- reading --------------------------------------------------------------------------

    async def load(self, queue: str) -> AsyncIterator[list[_Message]]:
        """``queue``'s messages in send order, ``STEP`` at a time: rows are read by a thread
        on a connection of its own, and the loop gets a turn between steps."""
        self.commit()
        reader = connect(self.path)
        try:
            rows = reader.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE queue = ? ORDER BY seq", (queue,)
            )
            while chunk := await asyncio.to_thread(rows.fetchmany, CHUNK):
                for start in range(0, len(chunk), STEP):
                    yield [self._message(queue, row) for row in chunk[start : start + STEP]]
                    await asyncio.sleep(0)
        finally:
            reader.close()

    def _message(self, queue: str, row: tuple[Any, ...]) -> _Message:
        (id, seq, body, attributes, sent_at, available_at, in_flight, receive_count,
         first_receive_at, group_id, dedup_id, sequence_number, trace, source) = row  # fmt: skip
        try:
            decoded = json.loads(attributes, object_hook=_decode) if attributes else None
            extra = None
            if any(v is not None for v in (group_id, dedup_id, sequence_number, trace, source)):
                extra = _Extra(group_id, dedup_id, sequence_number, trace, source)
            message = _Message(id, body, decoded, float(sent_at), int(seq),
                               float(available_at), extra)  # fmt: skip
        except (ValueError, TypeError) as exc:
            raise StateError(self.path, PART, f"holds a message {id!r} of queue {queue!r} that "
                             f"cannot be read ({exc})") from None  # fmt: skip
        message.state = IN_FLIGHT if in_flight else 0
        message.receive_count = int(receive_count)
        message.first_receive_at = first_receive_at
        return message

    # --- definitions of queues created at run time ------------------------------------------

    def save_definition(
        self, region: str, name: str, config: dict[str, Any], created: float, modified: float
    ) -> None:
        self.commit()
        self._db.execute(
            "INSERT OR REPLACE INTO definitions VALUES (?, ?, ?, ?, ?)",
            (region, name, json.dumps(config), created, modified),
        )

    def drop(self, region: str, name: str) -> None:
        """A deleted queue: its definition and messages."""
        self.commit()
        with self._transaction():
            self._db.execute("DELETE FROM definitions WHERE region = ? AND name = ?",
                             (region, name))  # fmt: skip
            self._db.execute("DELETE FROM messages WHERE queue = ?", (f"{region}/{name}",))

    def definitions(self) -> list[tuple[str, str, dict[str, Any], float, float]]:
        found = []
        for region, name, config, created, modified in self._db.execute(
            "SELECT region, name, config, created_at, modified_at FROM definitions "
            "ORDER BY created_at"
        ):
            try:
                found.append((region, name, json.loads(config), created, modified))
            except ValueError as exc:
                raise StateError(self.path, PART, f"holds a definition of queue {name!r} that "
                                 f"cannot be read ({exc})") from None  # fmt: skip
        return found

    # --- schema 1 -----------------------------------------------------------------------------

    def _migrate(self, region: str) -> None:
        """Version 1 kept ``messages(queue, id, data)``, data a JSON document, queue a name in
        the config's region: rewrite it in columns, in one transaction."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(messages)")}
        if "data" not in columns:
            return
        with self._transaction():
            self._db.execute("ALTER TABLE messages RENAME TO messages_v1")
            self._db.execute(_MESSAGES)
            for queue, id, data in self._db.execute(
                "SELECT queue, id, data FROM messages_v1"
            ).fetchall():
                try:
                    old = json.loads(data, object_hook=_decode)
                    attributes = _attributes_text(old.get("message_attributes") or None)
                    row = (
                        f"{region}/{queue}", id, int(old["seq"]), old["body"], attributes,
                        float(old["sent_at"]), float(old["available_at"]),
                        int(bool(old.get("in_flight"))), int(old.get("receive_count", 0)),
                        old.get("first_receive_at"), old.get("group_id"),
                        old.get("deduplication_id"), old.get("sequence_number"), None,
                        old.get("dead_letter_source"),
                    )  # fmt: skip
                except (ValueError, TypeError, KeyError) as exc:
                    problem = f"holds a message {id!r} of queue {queue!r} that cannot be read"
                    raise StateError(self.path, PART, f"{problem} ({exc})") from None
                self._db.execute(_INSERT, row)
            self._db.execute("DROP TABLE messages_v1")

    def close(self) -> None:
        self.commit()
        with self._checkpoints:  # a checkpoint under way finishes first
            self._closed = True
        self._db.close()
