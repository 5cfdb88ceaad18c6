"""A folder as an S3 bucket (reference §1).

Keys are paths relative to the folder, joined with ``/``. Filesystem events are only *hints*
that a path may have changed: for each hinted key the source compares the file with what it
last announced (size and modification time) and announces the difference, ``Put`` for a new or
changed file and ``Delete`` for a vanished one. That makes every path to a change (a watchdog
event, an overflowed event queue, a restart, the bucket API) go through one function.

Hints are taken only from events that mean a file is complete: closed after writing, moved
into or within the folder, deleted. A file still being written, an ignored name (editor and
download temp files) or a directory is never announced.

What was announced is kept in a manifest under ``state_dir`` (``manifest``), written after the
notification was handed on, so that a restart announces what changed while eventsim was down,
and a stop between the two announces the change again (at least once). On a first start
without a manifest the files present are recorded silently, unless ``announce_existing`` is set.

Watchdog's thread reaches the event loop only through ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import os
import sys
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import aiofiles
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

from ..activity import Activity
from ..clock import Clock
from ..config import BucketConfig
from ..errors import EventsimError
from ..sources.base import Source
from ..types import Tasks
from .manifest import Entry, Manifest

log = structlog.get_logger("eventsim.bucket")

TEMP_PREFIX = ".eventsim-tmp-"
_CHUNK = 1 << 20
#: A file written into a just-created folder may close before watchdog watches that folder.
#: That long after the folder appears, its files are reconciled; files modified in the last
#: NEW_FOLDER_MARGIN_S are left to their own close events, which the watch then sees.
NEW_FOLDER_DELAY_S = 0.1
NEW_FOLDER_MARGIN_S = 0.05


class InvalidKey(EventsimError, ValueError):
    """A key that would resolve outside the bucket folder, or is otherwise unusable."""


@dataclass(frozen=True)
class ObjectChange:
    """One thing S3 would notify about."""

    bucket: str
    key: str
    kind: Literal["Put", "Delete"]
    sequencer: int
    time: datetime
    size: int | None = None
    etag: str | None = None

    @property
    def event_name(self) -> str:
        return f"ObjectCreated:{self.kind}" if self.kind == "Put" else f"ObjectRemoved:{self.kind}"


Emit = Callable[[ObjectChange], None]


class BucketSource(Source):
    """Watches one folder and emits an ``ObjectChange`` for every completed change."""

    def __init__(
        self,
        name: str,
        config: BucketConfig,
        *,
        state_dir: Path,
        clock: Clock,
        activity: Activity,
        emit: Emit,
        tasks: Tasks,
    ) -> None:
        self.name = name
        self.root = config.path
        self._ignore = list(config.ignore)
        self._announce_existing = config.announce_existing
        self._manifest_folder = state_dir / "buckets"
        self._manifest: Manifest | None = None
        self._clock = clock
        self._activity = activity
        self._emit = emit
        self._tasks = tasks
        self.part = f"bucket:{name}"
        self._objects: dict[str, Entry] = {}
        self._sequencer = 0
        self._locks: dict[str, asyncio.Lock] = {}
        self._observer: BaseObserver | None = None

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._manifest = Manifest(self._manifest_folder, self.name)
        self._sequencer, self._objects = self._manifest.load()
        had_manifest = not self._manifest.first_start
        loop = asyncio.get_running_loop()
        # Watch first, then reconcile: a change made in between is seen by one or the other,
        # and reconciling the same key twice announces it once.
        self._observer = _observer(self.root, _Hints(self, loop))
        self._observer.start()
        if had_manifest or self._announce_existing:
            await self.reconcile("")
        else:
            await self._record_silently()
        log.info(
            "bucket.watching", bucket=self.name, path=str(self.root), objects=len(self._objects)
        )

    async def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            await asyncio.to_thread(self._observer.join)
            self._observer = None
        if self._manifest is not None:
            self._manifest.close()
            self._manifest = None

    # --- keys -----------------------------------------------------------------------------

    def path_of(self, key: str) -> Path:
        """The file of ``key``; ``InvalidKey`` if it would not be inside the folder."""
        if not key or "\x00" in key or key.startswith("/") or "\\" in key:
            raise InvalidKey(f"bucket {self.name!r}: invalid key {key!r}")
        parts = key.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise InvalidKey(
                f"bucket {self.name!r}: key {key!r} has an empty, '.' or '..' segment; "
                "eventsim stores keys as files, so each segment must be a file name"
            )
        path = self.root.joinpath(*parts)
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise InvalidKey(f"bucket {self.name!r}: key {key!r} resolves outside the bucket")
        return path

    def key_of(self, path: str | Path) -> str | None:
        """The key of a file in the folder, or None for anything eventsim does not announce."""
        try:
            relative = Path(path).relative_to(self.root)
        except ValueError:
            return None
        if not relative.parts or any(self._ignored(part) for part in relative.parts):
            return None
        return "/".join(relative.parts)

    def _ignored(self, name: str) -> bool:
        return name.startswith(TEMP_PREFIX) or any(fnmatch.fnmatch(name, g) for g in self._ignore)

    def list_objects(self, prefix: str = "") -> list[str]:
        """The keys announced so far, sorted, that start with ``prefix``."""
        return sorted(k for k in self._objects if k.startswith(prefix))

    def etag_of(self, key: str) -> str | None:
        entry = self._objects.get(key)
        return entry.etag if entry else None

    # --- reconciliation -------------------------------------------------------------------

    def hint(self, key: str) -> None:
        """Look at ``key`` soon (called on the loop for each filesystem event)."""
        self._run(self.sync(key), key=key)

    def hint_tree(self, prefix: str) -> None:
        """Look at everything below ``prefix`` soon."""
        self._run(self.reconcile(prefix), prefix=prefix)

    def hint_new_folder(self, prefix: str) -> None:
        """A folder appeared: reconcile it once watchdog surely watches it."""
        self._run(self._reconcile_new_folder(prefix), prefix=prefix)

    async def _reconcile_new_folder(self, prefix: str) -> None:
        await asyncio.sleep(NEW_FOLDER_DELAY_S)  # real time: the writers are real
        await self.reconcile(prefix, written_before=time.time() - NEW_FOLDER_MARGIN_S)

    def _run(self, work: Coroutine[Any, Any, object], **context: str) -> None:
        """Run ``work`` as a supervised task, counted as pending work until it is done. A
        failure is logged and shown in health; the change is not remembered, so the next hint
        or start announces it."""
        self._activity.begin("bucket")
        self._tasks.spawn(self._tracked(work), part=self.part)

    async def _tracked(self, work: Coroutine[Any, Any, object]) -> None:
        try:
            await work
        finally:
            self._activity.end("bucket")

    async def reconcile(self, prefix: str, written_before: float | None = None) -> None:
        """Announce every difference between the folder and the manifest below ``prefix``
        (only for files last written before ``written_before``, if given)."""
        on_disk = await asyncio.to_thread(self._scan, prefix)
        for key in sorted(set(on_disk) | {k for k in self._objects if k.startswith(prefix)}):
            await self.sync(key, written_before)

    async def sync(self, key: str, written_before: float | None = None) -> ObjectChange | None:
        """Compare ``key``'s file with what was announced; announce and return the change."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                return await self._sync(key, written_before)
        finally:
            if not lock.locked() and not lock._waiters:  # noqa: SLF001 - drop idle locks
                self._locks.pop(key, None)

    async def _sync(self, key: str, written_before: float | None) -> ObjectChange | None:
        path = self.root / key
        while True:
            stat = _file_stat(path)
            if stat is not None and written_before is not None and stat[1] > written_before * 1e9:
                return None  # still being written: its close event will come
            known = self._objects.get(key)
            if stat is None:
                if known is None:
                    return None
                return self._announce(key, "Delete")
            if known is not None and (known.size, known.mtime_ns) == stat:
                return None
            try:
                etag, size = await _md5(path)
            except FileNotFoundError:
                continue  # vanished while being read: look again
            if _file_stat(path) != stat:
                continue  # changed while being read: look again
            return self._announce(key, "Put", Entry(size, stat[1], etag), size=size, etag=etag)

    def _announce(
        self, key: str, kind: Literal["Put", "Delete"], entry: Entry | None = None, **what: Any
    ) -> ObjectChange:
        """Hand the change on, then remember it (the order that never loses one)."""
        sequencer = self._sequencer + 1
        change = ObjectChange(self.name, key, kind, sequencer, self._clock.now(), **what)
        self._emit(change)
        self._sequencer = sequencer
        if entry is not None:
            self._objects[key] = entry
        else:
            self._objects.pop(key, None)
        if self._manifest is not None:
            if entry is not None:
                self._manifest.put(key, entry, sequencer)
            else:
                self._manifest.delete(key, sequencer)
        return change

    async def _record_silently(self) -> None:
        for key in await asyncio.to_thread(self._scan, ""):
            path = self.root / key
            stat = _file_stat(path)
            if stat is not None:
                etag, size = await _md5(path)
                self._objects[key] = Entry(size, stat[1], etag)
        assert self._manifest is not None
        self._manifest.record_all(self._objects.items())

    def _scan(self, prefix: str) -> list[str]:
        start = self.root.joinpath(*prefix.split("/")) if prefix else self.root
        keys = []
        for folder, dirs, files in os.walk(start):
            dirs[:] = [d for d in dirs if not self._ignored(d)]
            for name in files:
                key = self.key_of(Path(folder) / name)
                if key is not None:
                    keys.append(key)
        return keys

    # --- the bucket API -------------------------------------------------------------------

    async def put_object(self, key: str, body: bytes | str) -> ObjectChange | None:
        """Write ``body`` atomically as ``key``; return once its notification was dispatched
        (None if the file already held exactly that)."""
        if isinstance(body, str):
            body = body.encode()
        path = self.path_of(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.root / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        async with aiofiles.open(temporary, "wb") as file:
            await file.write(body)
        os.replace(temporary, path)
        return await self.sync(key)

    async def delete_object(self, key: str) -> ObjectChange | None:
        """Delete ``key``'s file; return once its notification was dispatched."""
        path = self.path_of(key)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return await self.sync(key)

    async def get_object(self, key: str) -> bytes:
        """The content of ``key``; ``KeyError`` if there is none."""
        path = self.path_of(key)
        try:
            async with aiofiles.open(path, "rb") as file:
                return await file.read()
        except (FileNotFoundError, IsADirectoryError):
            raise KeyError(f"bucket {self.name!r} has no object {key!r}") from None


def _file_stat(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not path.is_file():
        return None
    return stat.st_size, stat.st_mtime_ns


async def _md5(path: Path) -> tuple[str, int]:
    digest, size = hashlib.md5(), 0
    async with aiofiles.open(path, "rb") as file:
        while chunk := await file.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class _Hints(FileSystemEventHandler):
    """Runs on watchdog's thread: turns events into hints, through one seam into the loop."""

    def __init__(self, source: BucketSource, loop: asyncio.AbstractEventLoop) -> None:
        self._source = source
        self._loop = loop

    def on_any_event(self, event: FileSystemEvent) -> None:
        source = self._source
        if isinstance(event, _Overflow):
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


class _Overflow(DirDeletedEvent):
    """Synthetic: the kernel dropped events; the whole folder must be reconciled."""


def _observer(root: Path, handler: FileSystemEventHandler) -> BaseObserver:
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
                    self.queue_event(_Overflow(os.fsdecode(root)))

                group.on_queue_overflow = on_queue_overflow

        observer = BaseObserver(Emitter)
    else:  # pragma: no cover - exercised on other platforms
        from watchdog.observers import Observer

        observer = Observer()
    observer.schedule(handler, str(root), recursive=True)
    return observer
