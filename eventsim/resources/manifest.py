"""What a bucket has announced: ``state_dir/buckets/<bucket>.sqlite3``.

One row per object (key, size, modification time, ETag) and the last sequencer. A change is
written here only after its notification was handed on — and asynchronous invocations are
durable when handed on — so a stop between the two announces the change again at the next
start (at least once, as S3 delivers), never not at all. Each change is one small transaction:
the cost does not grow with the number of objects.

Manifests of eventsim 0.1 (``<bucket>.json``) are imported once and then removed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..state import StateError, open_db

VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    key TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    etag TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Entry:
    """An announced object as the manifest remembers it."""

    size: int
    mtime_ns: int
    etag: str


class Manifest:
    """The manifest file of one bucket."""

    def __init__(self, folder: Path, bucket: str) -> None:
        self.part = f"buckets/{bucket}"
        self.path = folder / f"{bucket}.sqlite3"
        legacy = folder / f"{bucket}.json"
        imported = None
        if legacy.exists() and not self.path.exists():
            imported = _read_legacy(legacy, self.part)
        self._db, created = open_db(self.path, self.part, _SCHEMA, version=VERSION,
                                    tables={"objects", "meta"})  # fmt: skip
        #: True when no manifest existed: this is the bucket's first start.
        self.first_start = created and imported is None
        if created and imported is not None:
            sequencer, objects = imported
            self.record_all(objects.items())
            self.set_sequencer(sequencer)
            legacy.unlink()

    def load(self) -> tuple[int, dict[str, Entry]]:
        """The last sequencer and every announced object."""
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'sequencer'").fetchone()
            objects = {
                key: Entry(size, mtime_ns, etag)
                for key, size, mtime_ns, etag in self._db.execute(
                    "SELECT key, size, mtime_ns, etag FROM objects"
                )
            }
            return int(row[0]) if row else 0, objects
        except (sqlite3.DatabaseError, ValueError, TypeError) as exc:
            raise StateError(self.path, self.part, f"cannot be read ({exc})") from None

    def put(self, key: str, entry: Entry, sequencer: int) -> None:
        self._db.execute("BEGIN")
        self._db.execute(
            "INSERT INTO objects VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
            "size = excluded.size, mtime_ns = excluded.mtime_ns, etag = excluded.etag",
            (key, entry.size, entry.mtime_ns, entry.etag),
        )
        self._set_sequencer(sequencer)
        self._db.execute("COMMIT")

    def delete(self, key: str, sequencer: int) -> None:
        self._db.execute("BEGIN")
        self._db.execute("DELETE FROM objects WHERE key = ?", (key,))
        self._set_sequencer(sequencer)
        self._db.execute("COMMIT")

    def record_all(self, entries: Iterable[tuple[str, Entry]]) -> None:
        """Record objects without announcing them (a first start), in one transaction."""
        self._db.execute("BEGIN")
        self._db.executemany(
            "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?)",
            ((k, e.size, e.mtime_ns, e.etag) for k, e in entries),
        )
        self._db.execute("COMMIT")

    def set_sequencer(self, sequencer: int) -> None:
        self._set_sequencer(sequencer)

    def _set_sequencer(self, sequencer: int) -> None:
        self._db.execute(
            "INSERT INTO meta VALUES ('sequencer', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(sequencer),),
        )

    def close(self) -> None:
        self._db.close()


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
