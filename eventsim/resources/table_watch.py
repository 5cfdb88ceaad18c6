"""Noticing writes other processes commit to the table files.

One watchdog observer watches the tables folder; any change to a table's files (the database
or its WAL) pokes that table, which compares SQLite's ``data_version`` and tells its stream
mappings only if another connection committed. No polling: an idle simulator sleeps.

A commit in WAL mode becomes visible when SQLite updates its WAL index, a memory-mapped file
whose writes raise no file event — and that update follows the WAL write whose event pokes
us. A poke can therefore come a moment too early, and no later event would come: so each
event is followed by a few re-checks (``RECHECKS_S`` after it), which find such a commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from .table import Table

#: When to look again after a file event (seconds after it), for a commit not yet visible.
RECHECKS_S = (0.005, 0.025, 0.125, 0.5)


class _Handler(FileSystemEventHandler):
    """Runs on watchdog's thread: reaches the loop only through ``call_soon_threadsafe``."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, tables: Mapping[str, Table], watcher: TableWatcher
    ) -> None:
        self._loop = loop
        self._tables = tables
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        name = Path(str(event.src_path)).name
        table = self._tables.get(name.split(".sqlite3", 1)[0])
        if table is not None and name.startswith(table.path.name):
            self._loop.call_soon_threadsafe(self._watcher.poked, table)


class TableWatcher:
    """Pokes each table when its files change on disk."""

    def __init__(self, folder: Path, tables: Mapping[str, Table]) -> None:
        self._folder = folder
        self._tables = tables
        self._observer: BaseObserver | None = None
        self._rechecks: dict[str, asyncio.TimerHandle] = {}

    def poked(self, table: Table, step: int = 0) -> None:
        """Look at ``table`` now, and again ``RECHECKS_S`` later (a new event starts over)."""
        table.poke()
        pending = self._rechecks.pop(table.name, None)
        if step == 0 and pending is not None:
            pending.cancel()
        if step < len(RECHECKS_S) and not table.closed:
            delay = RECHECKS_S[step] - (RECHECKS_S[step - 1] if step else 0.0)
            self._rechecks[table.name] = asyncio.get_running_loop().call_later(
                delay, self.poked, table, step + 1
            )

    def start(self) -> None:
        handler = _Handler(asyncio.get_running_loop(), self._tables, self)
        self._observer = Observer()
        self._observer.schedule(handler, str(self._folder), recursive=False)
        self._observer.start()

    def stop(self) -> None:
        for pending in self._rechecks.values():
            pending.cancel()
        self._rechecks.clear()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join()
            self._observer = None
