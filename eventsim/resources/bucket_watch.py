"""Watchdog's thread bridged into the loop: a bucket folder's filesystem events turned into
hints, handed over through ``loop.call_soon_threadsafe`` and nothing else.

Only events that mean a file is complete are hints: closed after writing, moved into, out of or
within the folder, deleted. A folder that moves or vanishes hints its whole tree, one that
appears its tree once watched; an overflow of the kernel's event queue (Linux), turned into a
synthetic event here, hints the whole folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import structlog
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver

log = structlog.get_logger("eventsim.bucket")


class _StopRace(logging.Filter):
    """watchdog's inotify reader logs an error when it wakes after ``stop()`` (a race in its
    own shutdown that loses nothing: the watch is being closed). Not shown to users."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "called when the thread is inactive" not in record.getMessage()


logging.getLogger("watchdog.observers.inotify").addFilter(_StopRace())


class Hinted(Protocol):
    """What the hints go to (a ``BucketSource``). ``key_of`` runs on watchdog's thread; the
    ``hint`` methods run on the loop."""

    def key_of(self, path: str | Path) -> str | None: ...

    def hint(self, key: str) -> None: ...

    def hint_tree(self, prefix: str) -> None: ...

    def hint_new_folder(self, prefix: str) -> None: ...


class Hints(FileSystemEventHandler):
    """Runs on watchdog's thread: turns events into hints, through one seam into the loop."""

    def __init__(self, source: Hinted, loop: asyncio.AbstractEventLoop) -> None:
        self._source = source
        self._loop = loop

    def on_any_event(self, event: FileSystemEvent) -> None:
        source = self._source
        if isinstance(event, Overflow):
            self._call(source.hint_tree, "")
        elif isinstance(event, DirCreatedEvent):
            key = source.key_of(os.fsdecode(event.src_path))
            if key is not None:
                self._call(source.hint_new_folder, key)
        elif isinstance(event, DirMovedEvent | DirDeletedEvent):
            for path in (event.src_path, getattr(event, "dest_path", "")):
                if path:
                    key = source.key_of(os.fsdecode(path))
                    self._call(source.hint_tree, key or "") if key is not None else None
        elif isinstance(event, FileClosedEvent | FileMovedEvent | FileDeletedEvent):
            for path in (event.src_path, getattr(event, "dest_path", "")):
                key = source.key_of(os.fsdecode(path)) if path else None
                if key is not None:
                    self._call(source.hint, key)

    def _call(self, method: Callable[[str], None], argument: str) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed under us: nothing to hint
            self._loop.call_soon_threadsafe(method, argument)


class Overflow(DirDeletedEvent):
    """Synthetic: the kernel dropped events; the whole folder must be reconciled."""


def observer(root: Path, handler: FileSystemEventHandler) -> BaseObserver:
    """On Linux, inotify with full move events (a file moved in or out is told apart from one
    being written) and overflow turned into a rescan; elsewhere watchdog's default."""
    observer: BaseObserver
    if sys.platform.startswith("linux"):
        # Imported here: watchdog's inotify module exists only on Linux.
        from watchdog.observers.inotify import InotifyFullEmitter

        class Emitter(InotifyFullEmitter):
            def on_thread_start(self) -> None:
                super().on_thread_start()
                # watchdog rebuilds its watches on overflow but reports no event; add one.
                group = getattr(self, "_inotify", None)
                original = getattr(group, "on_queue_overflow", None)
                if group is None or original is None:
                    log.warning("bucket.overflow_undetectable", path=str(root))
                    return

                def on_queue_overflow() -> None:
                    original()
                    self.queue_event(Overflow(os.fsdecode(root)))

                group.on_queue_overflow = on_queue_overflow

        observer = BaseObserver(Emitter)
    else:  # pragma: no cover - exercised on other platforms
        from watchdog.observers import Observer

        observer = Observer()
    observer.schedule(handler, str(root), recursive=True)
    return observer
