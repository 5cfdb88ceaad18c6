"""The stream side of a table (``TableStream``, mixed into ``Table``): listeners told of every
change, whether committed here or noticed from another connection (``poke``); stream rows read
in order, past the 24-hour retention and without no-ops (``changes``); and each row as the
record DynamoDB Streams gives (``record``, §2.1).

The rows themselves are written by triggers in the table's file (``table_store``).

Example::

    orders.listeners.append(wake_pollers)
    records = [orders.record(change) for change in orders.changes(after=0, limit=100)]
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..clock import Clock
from ..config import TableConfig
from ..events import dynamodb
from .table_checks import key_of
from .table_store import CHUNK, Change, TableStore

#: §2.3: stream records live 24 hours.
STREAM_RETENTION_S = 24 * 3600


class TableStream:
    """The stream of a ``Table``, which this is mixed into (it sets these attributes)."""

    store: TableStore
    config: TableConfig
    clock: Clock
    region: str
    stream_arn: str
    listeners: list[Callable[[], None]]
    closed: bool
    _version: int  # the file's data_version when the listeners were last told
    _trimmed_at: float  # clock time of the last trim that left nothing past retention

    def changed(self) -> None:
        """Tell the listeners that the table changed (after a commit made here)."""
        self._version = self.store.data_version()
        for listener in list(self.listeners):
            listener()

    def poke(self) -> None:
        """Look for commits by other connections (called when the file changes)."""
        if self.closed:
            return  # a watcher's last word, arriving after close
        version = self.store.data_version()
        if version != self._version:
            self._version = version
            for listener in list(self.listeners):
                listener()

    def changes(self, after: int, limit: int) -> list[Change]:
        """Stream rows after sequence ``after``, dropping rows past retention and no-ops."""
        now = self.clock.time()
        if now - self._trimmed_at >= 60:
            # A full chunk means there may be more: trim again on the next read.
            if self.store.trim(now - STREAM_RETENTION_S) < CHUNK:
                self._trimmed_at = now
        return [c for c in self.store.changes(after, limit, now) if c.old != c.new]

    def record(self, change: Change) -> dict[str, Any]:
        """The stream record of a change (§2.1), with the images the view type asks for."""
        image = change.new if change.new is not None else change.old
        assert image is not None and self.config.stream is not None
        name: dynamodb.EventName = (
            "INSERT" if change.old is None else "REMOVE" if change.new is None else "MODIFY"
        )
        return dynamodb.stream_record(
            name,
            keys=key_of(self.config, image),
            new_image=change.new,
            old_image=change.old,
            view_type=self.config.stream,
            sequence_number=change.seq,
            event_id=hashlib.md5(f"{self.stream_arn}/{change.seq}".encode()).hexdigest(),
            created=datetime.fromtimestamp(change.created, UTC),
            region=self.region,
            stream_arn=self.stream_arn,
            ttl_delete=change.expired and change.new is None,
        )
