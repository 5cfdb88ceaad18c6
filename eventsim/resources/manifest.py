"""What a bucket has announced: ``state_dir/buckets/<bucket>.sqlite3``.

One row per object (key, size, modification time, ETag) and the last sequencer; beside them
each object's metadata written through the S3 API (headers, ``x-amz-meta-*``, tags) and the
multipart uploads in progress. A change is written here only after its notification was
handed on — and asynchronous invocations are durable when handed on — so a stop between the
two announces the change again at the next start (at least once, as S3 delivers), never not
at all. Each change is one small transaction, and every read is an indexed lookup or a range
of keys in S3's order (UTF-8 bytes, which is SQLite's ``BINARY`` order): no cost grows with
the number of objects.

An ETag may be unknown (stored as ``''``): a first start records the files present without
reading them, and an ETag is computed when the object is first announced or read.

Schema versions: 1 had ``objects`` and ``meta``; 2 adds ``metadata``, ``uploads`` and
``parts`` (a version 1 file is upgraded in place). Manifests of eventsim 0.1
(``<bucket>.json``) are imported once and then removed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import StateError
from ..state import open_db
from .objects import Metadata

VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    key TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    etag TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    initiated TEXT NOT NULL,
    metadata TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (key, initiated);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    checksums TEXT NOT NULL,
    modified TEXT NOT NULL,
    PRIMARY KEY (upload_id, number)
) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class Entry:
    """An announced object as the manifest remembers it (``etag`` None: not read yet)."""

    size: int
    mtime_ns: int
    etag: str | None


@dataclass(frozen=True, slots=True)
class Upload:
    """A multipart upload in progress."""

    upload_id: str
    key: str
    initiated: str  # ISO 8601, as S3 lists it
    metadata: Metadata


@dataclass(frozen=True, slots=True)
class Part:
    """An uploaded part: its size, the hex MD5 of its bytes (its ETag), its checksums."""

    number: int
    size: int
    etag: str
    checksums: dict[str, str]
    modified: str


def after_prefix(prefix: str) -> str | None:
    """The least string greater than every string starting with ``prefix`` (None: none)."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            following = last + 1 if not 0xD7FF <= last < 0xE000 else 0xE000  # no surrogates
            return prefix[:-1] + chr(following)
        prefix = prefix[:-1]
    return None


class Manifest:
    """The manifest file of one bucket."""

    def __init__(self, folder: Path, bucket: str) -> None:
        self.part = f"buckets/{bucket}"
        self.path = folder / f"{bucket}.sqlite3"
        legacy = folder / f"{bucket}.json"
        imported = None
        if legacy.exists() and not self.path.exists():
            imported = _read_legacy(legacy, self.part)
        self._db, created = open_db(
            self.path, self.part, _SCHEMA, version=VERSION, tables={"objects", "meta"}
        )
        #: True when no manifest existed: this is the bucket's first start.
        self.first_start = created and imported is None
        if created and imported is not None:
            sequencer, objects = imported
            self.record_all(objects.items())
            self.set_sequencer(sequencer)
            legacy.unlink()

    def _read(self, sql: str, parameters: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        try:
            return self._db.execute(sql, parameters).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StateError(self.path, self.part, f"cannot be read ({exc})") from None

    # --- objects --------------------------------------------------------------------------

    def sequencer(self) -> int:
        """The last sequencer handed out."""
        rows = self._read("SELECT value FROM meta WHERE key = 'sequencer'")
        try:
            return int(str(rows[0][0])) if rows else 0
        except ValueError:
            raise StateError(self.path, self.part, "holds a sequencer that is no number") from None

    def created(self, now: str) -> str:
        """When the bucket was made (ISO 8601): recorded as ``now`` the first time asked."""
        rows = self._read("SELECT value FROM meta WHERE key = 'created'")
        if rows:
            return str(rows[0][0])
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('created', ?)", (now,))
        return now

    def get(self, key: str) -> Entry | None:
        rows = self._read("SELECT size, mtime_ns, etag FROM objects WHERE key = ?", (key,))
        return _entry(rows[0]) if rows else None

    def page(
        self, prefix: str = "", after: str | None = None, limit: int = 1000, *, start: bool = False
    ) -> list[tuple[str, Entry]]:
        """Up to ``limit`` objects whose keys start with ``prefix`` and sort after ``after``
        (or at it, with ``start``), in S3's order."""
        where, parameters = _range(prefix, after, start)
        rows: Any = self._read(
            f"SELECT key, size, mtime_ns, etag FROM objects {where} ORDER BY key LIMIT ?",
            (*parameters, limit),
        )
        # The columns are typed by the schema: no conversions on this path (1,000 rows a page).
        return [(key, Entry(size, mtime_ns, etag or None)) for key, size, mtime_ns, etag in rows]

    def stats(self, prefix: str, after: str | None, limit: int) -> Iterator[tuple[str, int, int]]:
        """(key, size, mtime_ns) of up to ``limit`` objects, as ``page`` chooses them, one row
        at a time: a row is garbage as soon as the next is read, so comparing a folder with
        the manifest never holds more than one of them (consume it before the next await)."""
        where, parameters = _range(prefix, after)
        try:
            yield from self._db.execute(
                f"SELECT key, size, mtime_ns FROM objects {where} ORDER BY key LIMIT ?",
                (*parameters, limit),
            )
        except sqlite3.DatabaseError as exc:
            raise StateError(self.path, self.part, f"cannot be read ({exc})") from None

    def keys(self, prefix: str = "", chunk: int = 10_000) -> Iterator[str]:
        """Every key starting with ``prefix``, in order, read ``chunk`` at a time."""
        after = None
        while rows := self.page(prefix, after, chunk):
            yield from (key for key, _ in rows)
            after = rows[-1][0]

    def empty(self) -> bool:
        return not self._read("SELECT 1 FROM objects LIMIT 1")

    def count(self) -> int:
        return int(str(self._read("SELECT count(*) FROM objects")[0][0]))

    def put(self, key: str, entry: Entry, sequencer: int, metadata: Metadata | None = None) -> None:
        """Record an announced object (and its metadata: None for a file written by hand)."""
        with self._transaction():
            self._put_entry(key, entry)
            if metadata is None:
                self._db.execute("DELETE FROM metadata WHERE key = ?", (key,))
            else:
                self._put_metadata(key, metadata)
            self._set_sequencer(sequencer)

    def delete(self, key: str, sequencer: int) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM objects WHERE key = ?", (key,))
            self._db.execute("DELETE FROM metadata WHERE key = ?", (key,))
            self._set_sequencer(sequencer)

    def set_etag(self, key: str, entry: Entry) -> None:
        """Remember an ETag computed later, if the object is still the one it was read from."""
        assert entry.etag is not None
        self._db.execute(
            "UPDATE objects SET etag = ? WHERE key = ? AND size = ? AND mtime_ns = ?",
            (entry.etag, key, entry.size, entry.mtime_ns),
        )

    def metadata(self, key: str) -> Metadata | None:
        rows = self._read("SELECT value FROM metadata WHERE key = ?", (key,))
        if not rows:
            return None
        try:
            return Metadata.from_json(str(rows[0][0]))
        except (ValueError, TypeError, AttributeError) as exc:
            raise StateError(
                self.path, self.part, f"holds bad metadata for {key!r} ({exc})"
            ) from None

    def set_metadata(self, key: str, metadata: Metadata) -> None:
        self._put_metadata(key, metadata)

    def record_all(self, entries: Iterable[tuple[str, Entry]]) -> None:
        """Record objects without announcing them (a first start), in one transaction."""
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?)",
                ((k, e.size, e.mtime_ns, e.etag or "") for k, e in entries),
            )

    def set_sequencer(self, sequencer: int) -> None:
        self._set_sequencer(sequencer)

    # --- multipart uploads ----------------------------------------------------------------

    def add_upload(self, upload: Upload) -> None:
        self._db.execute(
            "INSERT INTO uploads VALUES (?, ?, ?, ?)",
            (upload.upload_id, upload.key, upload.initiated, upload.metadata.to_json()),
        )

    def upload(self, upload_id: str) -> Upload | None:
        rows = self._read("SELECT * FROM uploads WHERE upload_id = ?", (upload_id,))
        return _upload(rows[0]) if rows else None

    def uploads(self, prefix: str = "", limit: int = 1000) -> list[Upload]:
        """Uploads of keys starting with ``prefix``, by key then time of initiation."""
        where, parameters = _range(prefix, None)
        rows = self._read(
            f"SELECT * FROM uploads {where} ORDER BY key, initiated LIMIT ?", (*parameters, limit)
        )
        return [_upload(row) for row in rows]

    def put_part(self, upload_id: str, part: Part) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, ?, ?)",
            (upload_id, part.number, part.size, part.etag, json.dumps(part.checksums),
             part.modified),
        )  # fmt: skip

    def parts(self, upload_id: str, after: int = 0, limit: int = 10_000) -> list[Part]:
        rows = self._read(
            "SELECT number, size, etag, checksums, modified FROM parts "
            "WHERE upload_id = ? AND number > ? ORDER BY number LIMIT ?",
            (upload_id, after, limit),
        )
        return [
            Part(int(str(n)), int(str(s)), str(e), json.loads(str(c)), str(m))
            for n, s, e, c, m in rows
        ]

    def drop_upload(self, upload_id: str) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
            self._db.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))

    # --- internals ------------------------------------------------------------------------

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def _put_entry(self, key: str, entry: Entry) -> None:
        self._db.execute(
            "INSERT INTO objects VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
            "size = excluded.size, mtime_ns = excluded.mtime_ns, etag = excluded.etag",
            (key, entry.size, entry.mtime_ns, entry.etag or ""),
        )

    def _put_metadata(self, key: str, metadata: Metadata) -> None:
        self._db.execute(
            "INSERT INTO metadata VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
            "value = excluded.value",
            (key, metadata.to_json()),
        )

    def _set_sequencer(self, sequencer: int) -> None:
        self._db.execute(
            "INSERT INTO meta VALUES ('sequencer', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(sequencer),),
        )

    def close(self) -> None:
        self._db.close()


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN")

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc is None else "ROLLBACK")


def _entry(row: tuple[object, ...]) -> Entry:
    size, mtime_ns, etag = row
    return Entry(int(str(size)), int(str(mtime_ns)), str(etag) or None)


def _upload(row: tuple[object, ...]) -> Upload:
    upload_id, key, initiated, metadata = (str(value) for value in row)
    return Upload(upload_id, key, initiated, Metadata.from_json(metadata))


def _range(prefix: str, after: str | None, start: bool = False) -> tuple[str, tuple[str, ...]]:
    """A WHERE clause for keys starting with ``prefix`` and greater than ``after`` (or equal,
    with ``start``)."""
    clauses, parameters = [], []
    low = max(prefix, after) if after is not None else prefix
    if low:
        exclusive = after is not None and after >= prefix and not start
        clauses.append("key > ?" if exclusive else "key >= ?")
        parameters.append(low)
    high = after_prefix(prefix)
    if high is not None:
        clauses.append("key < ?")
        parameters.append(high)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), tuple(parameters)


def _read_legacy(path: Path, part: str) -> tuple[int, dict[str, Entry]]:
    """An eventsim 0.1 JSON manifest, strictly: anything else is a ``StateError``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("objects", {}), dict):
            raise ValueError("expected an object with an 'objects' map")
        objects = {}
        for key, value in data.get("objects", {}).items():
            size, mtime_ns, etag = value
            if not (isinstance(size, int) and isinstance(mtime_ns, int) and isinstance(etag, str)):
                raise ValueError(f"object {key!r} is not [size, mtime_ns, etag]")
            objects[key] = Entry(size, mtime_ns, etag)
        sequencer = data.get("sequencer", 0)
        if not isinstance(sequencer, int):
            raise ValueError("'sequencer' is not an integer")
    except (OSError, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise StateError(path, part, f"is not a manifest eventsim can read ({exc})") from None
    return sequencer, objects
