"""SQLite persistence for queues with ``persist: true``.

Every change to a persisted queue's messages is written through, in WAL mode without a sync
per commit, so messages survive a restart and a killed process (short of a power loss).
One database holds every persisted queue: ``state_dir/queues.sqlite3``.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

_BYTES = "__bytes_b64__"


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {_BYTES: base64.b64encode(bytes(value)).decode()}
    raise TypeError(f"cannot persist {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    return base64.b64decode(obj[_BYTES]) if set(obj) == {_BYTES} else obj


class QueueStore:
    """Rows of (queue, message id) -> the message's fields as JSON."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS messages ("
            " queue TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,"
            " PRIMARY KEY (queue, id))"
        )

    def save(self, queue: str, message: Any) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO messages (queue, id, data) VALUES (?, ?, ?)",
            (queue, message.id, json.dumps(asdict(message), default=_encode)),
        )

    def delete(self, queue: str, message_id: str) -> None:
        self._db.execute("DELETE FROM messages WHERE queue = ? AND id = ?", (queue, message_id))

    def purge(self, queue: str) -> None:
        self._db.execute("DELETE FROM messages WHERE queue = ?", (queue,))

    def load(self, queue: str, kind: type[Any]) -> list[Any]:
        names = {f.name for f in fields(kind)}
        rows = self._db.execute("SELECT data FROM messages WHERE queue = ?", (queue,))
        loaded = [
            kind(**{k: v for k, v in json.loads(data, object_hook=_decode).items() if k in names})
            for (data,) in rows
        ]
        return sorted(loaded, key=lambda m: m.seq)

    def close(self) -> None:
        self._db.close()
