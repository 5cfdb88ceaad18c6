"""Noticing writes other processes commit to the table files.

One watchdog observer watches the tables folder; any change to a table's files (the database
or its WAL) pokes that table, which compares SQLite's ``data_version`` and tells its stream
mappings only if another connection committed. No polling: an idle simulator sleeps.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from .table import Table


class _Handler(FileSystemEventHandler):
    """Runs on watchdog's thread: reaches the loop only through ``call_soon_threadsafe``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, tables: dict[str, Table]) -> None:
        self._loop = loop
        self._tables = tables

    def on_any_event(self, event: FileSystemEvent) -> None:
        name = Path(str(event.src_path)).name
        table = self._tables.get(name.split(".sqlite3", 1)[0])
        if table is not None and name.startswith(table.path.name):
            self._loop.call_soon_threadsafe(table.poke)


class TableWatcher:
    """Pokes each table when its files change on disk."""

    def __init__(self, folder: Path, tables: dict[str, Table]) -> None:
        self._folder = folder
        self._tables = tables
        self._observer: BaseObserver | None = None

    def start(self) -> None:
        handler = _Handler(asyncio.get_running_loop(), self._tables)
        self._observer = Observer()
        self._observer.schedule(handler, str(self._folder), recursive=False)
        self._observer.start()

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join()
            self._observer = None
