"""SQLite persistence for queues with ``persist: true``.

Every change to a persisted queue's messages is written through, in WAL mode without a sync
per commit, so messages survive a restart and a killed process (short of a power loss).
One database holds every persisted queue: ``state_dir/queues.sqlite3``, with eventsim's
application id and schema version (``eventsim.state``): a damaged or foreign file stops the
simulator with the way to discard it instead of starting empty over it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from ..state import StateError, open_db

_BYTES = "__bytes_b64__"
PART = "queues"
VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    queue TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (queue, id)
);
"""


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {_BYTES: base64.b64encode(bytes(value)).decode()}
    raise TypeError(f"cannot persist {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    return base64.b64decode(obj[_BYTES]) if set(obj) == {_BYTES} else obj


class QueueStore:
    """Rows of (queue, message id) -> the message's fields as JSON."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db, _ = open_db(path, PART, _SCHEMA, version=VERSION, tables={"messages"},
                              adopt=True)  # fmt: skip

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
        rows = self._db.execute("SELECT id, data FROM messages WHERE queue = ?", (queue,))
        loaded = []
        for id, data in rows:
            try:
                fields_ = json.loads(data, object_hook=_decode)
                loaded.append(kind(**{k: v for k, v in fields_.items() if k in names}))
            except (ValueError, TypeError) as exc:
                raise StateError(
                    self.path, PART, f"holds a message {id!r} of queue {queue!r} that cannot be "
                    f"read ({exc})"
                ) from None  # fmt: skip
        return sorted(loaded, key=lambda m: m.seq)

    def close(self) -> None:
        self._db.close()
