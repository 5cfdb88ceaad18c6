"""A folder as an S3 bucket (docs/aws-behaviour.md §1).

Keys are paths relative to the folder, joined with ``/``. Filesystem events are only *hints*
that a path may have changed: for each hinted key the source compares the file with what it
last announced (size and modification time) and announces the difference, ``Put`` for a new or
changed file and ``Delete`` for a vanished one. That makes every path to a change (a watchdog
event, an overflowed event queue, a restart) go through one function.

Hints are taken only from events that mean a file is complete: closed after writing, moved
into or within the folder, deleted. A file still being written, an ignored name (editor and
download temp files), a directory or a symbolic link is never announced (a link is logged
once: it may point anywhere, and S3 has no links).

Writes through the bucket API (``put_object``, the S3 API's PutObject, CopyObject,
CompleteMultipartUpload) go to a temporary file in the folder, renamed into place while the
key's lock is held; the change is announced with the API's event kind before the lock is
released, so the watcher's hint for the rename finds nothing new: each write is announced
exactly once, with the name S3 gives it.

What was announced is kept in a manifest under ``state_dir`` (``manifest``), written after the
notification was handed on, so that a restart announces what changed while eventsim was down,
and a stop between the two announces the change again (at least once). On a first start
without a manifest the files present are recorded silently (without reading them: an ETag is
computed when an object is first announced or read), unless ``announce_existing`` is set.

Watchdog's thread reaches the event loop only through ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fnmatch
import hashlib
import os
import re
import stat
import sys
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

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
from .objects import Digests, Metadata

log = structlog.get_logger("eventsim.bucket")

TEMP_PREFIX = ".eventsim-tmp-"
_CHUNK = 1 << 20
#: A file written into a just-created folder may close before watchdog watches that folder.
#: That long after the folder appears, its files are reconciled; files modified in the last
#: NEW_FOLDER_MARGIN_S are left to their own close events, which the watch then sees.
NEW_FOLDER_DELAY_S = 0.1
NEW_FOLDER_MARGIN_S = 0.05
#: S3's limit on a key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024
#: A key segment is a file or folder name: 255 bytes on Linux, macOS and Windows filesystems.
MAX_SEGMENT_BYTES = 255
#: Bodies up to this size are read or written in one step off the loop; larger ones stream.
WHOLE_BODY_BYTES = 1 << 20
#: Bodies up to this size are read or written on the loop itself: a few system calls into the
#: page cache (tens of microseconds) cost less than a hop to a worker thread and back (0.1 to
#: 1 ms on a busy machine), and small objects are most of an app's traffic.
INLINE_BYTES = 64 * 1024
#: Keys reconciled between two yields to the loop (a start over 100k files never stalls it),
#: and manifest rows read at once while reconciling.
_RECONCILE_SLICE = 256
_RECONCILE_READ = 5000

Kind = Literal["Put", "Post", "Copy", "CompleteMultipartUpload", "Delete"]


class InvalidKey(EventsimError, ValueError):
    """A key that would resolve outside the bucket folder, or is otherwise unusable."""

    code = "InvalidKey"


class KeyTooLong(InvalidKey):
    """A key over S3's 1,024 bytes, or with a segment over the filesystem's 255."""

    code = "KeyTooLongError"


@dataclass(frozen=True)
class ObjectChange:
    """One thing S3 would notify about: ``kind`` is the event's last part
    (``ObjectCreated:Copy``'s ``Copy``)."""

    bucket: str
    key: str
    kind: Kind
    sequencer: int
    time: datetime
    size: int | None = None
    etag: str | None = None

    @property
    def event_name(self) -> str:
        group = "ObjectRemoved" if self.kind == "Delete" else "ObjectCreated"
        return f"{group}:{self.kind}"


@dataclass(frozen=True)
class StoredObject:
    """An object as GET, HEAD and listings show it."""

    key: str
    size: int
    mtime_ns: int
    etag: str
    metadata: Metadata

    @property
    def last_modified(self) -> datetime:
        return datetime.fromtimestamp(self.mtime_ns // 1_000_000_000, UTC)


@dataclass
class OpenObject:
    """An object opened for reading: its file (the caller closes it) and, for a small one,
    its whole body already read."""

    info: StoredObject
    file: BinaryIO
    body: bytes | None


Emit = Callable[[ObjectChange], None]
Body = bytes | AsyncIterable[bytes]
Check = Callable[[Digests], None]


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
        self._real_root = os.path.realpath(self.root)
        patterns = [fnmatch.translate(glob) for glob in config.ignore] or ["(?!)"]
        self._ignore = re.compile("|".join(patterns))
        self._announce_existing = config.announce_existing
        self.state_folder = state_dir / "buckets"
        self._manifest: Manifest | None = None
        self._clock = clock
        self._activity = activity
        self._emit = emit
        self._tasks = tasks
        self.part = f"bucket:{name}"
        self._sequencer = 0
        self._locks: dict[str, asyncio.Lock] = {}
        self._observer: BaseObserver | None = None
        self._links_logged: set[str] = set()

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._manifest = Manifest(self.state_folder, self.name)
        self._sequencer = self._manifest.sequencer()
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
        log.info("bucket.watching", bucket=self.name, path=str(self.root))

    async def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            await asyncio.to_thread(self._observer.join)
            self._observer = None
        if self._manifest is not None:
            self._manifest.close()
            self._manifest = None

    @property
    def manifest(self) -> Manifest:
        if self._manifest is None:
            raise EventsimError(f"bucket {self.name!r} is not running")
        return self._manifest

    # --- keys -----------------------------------------------------------------------------

    def path_of(self, key: str) -> Path:
        """The file of ``key``; ``InvalidKey`` if it would not be inside the folder or the
        filesystem cannot hold it (``KeyTooLong``: over S3's or the filesystem's limit)."""
        if not key or "\x00" in key or key.startswith("/") or "\\" in key:
            raise InvalidKey(f"bucket {self.name!r}: invalid key {key!r}")
        try:
            size = len(key.encode())
        except UnicodeEncodeError:
            raise InvalidKey(f"bucket {self.name!r}: key {key!r} is not valid UTF-8") from None
        if size > MAX_KEY_BYTES:
            raise KeyTooLong(
                f"bucket {self.name!r}: the key is {size} bytes long; S3 allows at most "
                f"{MAX_KEY_BYTES} bytes (UTF-8)"
            )
        parts = key.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise InvalidKey(
                f"bucket {self.name!r}: key {key!r} has an empty, '.' or '..' segment; "
                "eventsim stores keys as files, so each segment must be a file name"
            )
        for part in parts:
            if len(part.encode()) > MAX_SEGMENT_BYTES:
                raise KeyTooLong(
                    f"bucket {self.name!r}: the key segment {part[:40]!r}... is "
                    f"{len(part.encode())} bytes long; eventsim stores each segment between "
                    f"'/' as a file name, and the filesystem allows at most "
                    f"{MAX_SEGMENT_BYTES} bytes"
                )
        # Folders on the way must be real folders of the bucket: a link could lead anywhere.
        folder = self._real_root
        for part in parts[:-1]:
            folder = os.path.join(folder, part)
            try:
                mode = os.lstat(folder).st_mode
            except (FileNotFoundError, NotADirectoryError):
                break
            if stat.S_ISLNK(mode):
                raise InvalidKey(
                    f"bucket {self.name!r}: key {key!r} passes through a symbolic link "
                    f"({folder}); links in a bucket folder are not followed"
                )
        return Path(self._real_root).joinpath(*parts)

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
        return name.startswith(TEMP_PREFIX) or self._ignore.match(name) is not None

    async def holds_files(self) -> bool:
        """Whether the folder holds any file that is or will be an object (announced or not:
        one just dropped may not be yet)."""
        return await asyncio.to_thread(lambda: next(self._scan(""), None) is not None)

    def list_objects(self, prefix: str = "") -> list[str]:
        """The keys announced so far, in S3's order, that start with ``prefix``."""
        return list(self.manifest.keys(prefix))

    def etag_of(self, key: str) -> str | None:
        """The ETag announced for ``key`` (None: no such object, or not read yet)."""
        entry = self.manifest.get(key)
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
        or start announces it. Hints after ``stop()`` are dropped (the next start reconciles)."""
        if self._manifest is None:
            work.close()
            return
        self._activity.begin("bucket")
        self._tasks.spawn(self._tracked(work), part=self.part)

    async def _tracked(self, work: Coroutine[Any, Any, object]) -> None:
        try:
            await work
        finally:
            self._activity.end("bucket")

    async def reconcile(self, prefix: str, written_before: float | None = None) -> None:
        """Announce every difference between the folder and the manifest below ``prefix``
        (only for files last written before ``written_before``, if given). The folder is
        scanned off the loop and compared with the manifest a page at a time; only the keys
        that differ are looked at one by one."""
        on_disk = await asyncio.to_thread(self._stats, prefix)
        differ: list[str] = []
        after = None
        # Read on the loop, a page at a time: the connection is never used from two threads,
        # so stop() can close it at any await.
        while self._manifest is not None and (
            rows := self._manifest.page(prefix, after, _RECONCILE_READ)
        ):
            for key, entry in rows:
                if on_disk.pop(key, None) != (entry.size, entry.mtime_ns):
                    differ.append(key)  # changed or vanished
            after = rows[-1][0]
            await asyncio.sleep(0)
        differ += on_disk  # new
        for index, key in enumerate(sorted(differ)):
            if self._manifest is None:
                return  # stopped meanwhile: the next start reconciles
            await self.sync(key, written_before)
            if index % _RECONCILE_SLICE == _RECONCILE_SLICE - 1:
                await asyncio.sleep(0)  # let requests and deliveries in between

    def _stats(self, prefix: str) -> dict[str, tuple[int, int]]:
        return {key: (size, mtime) for key, size, mtime in self._scan(prefix, with_stat=True)}

    async def sync(self, key: str, written_before: float | None = None) -> ObjectChange | None:
        """Compare ``key``'s file with what was announced; announce and return the change."""
        async with self._locked(key):
            if self._manifest is None:
                return None  # stopped meanwhile: the next start reconciles
            return await self._sync(key, written_before)

    @contextlib.asynccontextmanager
    async def _locked(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and not lock._waiters:  # noqa: SLF001 - drop idle locks
                self._locks.pop(key, None)

    async def _sync(self, key: str, written_before: float | None) -> ObjectChange | None:
        path = self.root / key
        while True:
            found = self._file_stat(path, key)
            if found is not None and written_before is not None:
                if found[1] > written_before * 1e9:
                    return None  # still being written: its close event will come
            known = self.manifest.get(key)
            if found is None:
                if known is None:
                    return None
                return self._announce(key, "Delete")
            if known is not None and (known.size, known.mtime_ns) == found:
                return None
            try:
                etag, size = await asyncio.to_thread(_md5, path)
            except (FileNotFoundError, IsADirectoryError):
                continue  # vanished while being read: look again
            if self._file_stat(path, key) != found:
                continue  # changed while being read: look again
            if self._manifest is None:
                return None  # stopped while reading: the next start reconciles
            return self._announce(key, "Put", Entry(size, found[1], etag))

    def _announce(
        self, key: str, kind: Kind, entry: Entry | None = None, metadata: Metadata | None = None
    ) -> ObjectChange:
        """Hand the change on, then remember it (the order that never loses one)."""
        sequencer = self._sequencer + 1
        now = self._clock.now()
        if entry is None:
            change = ObjectChange(self.name, key, kind, sequencer, now)
        else:
            change = ObjectChange(self.name, key, kind, sequencer, now, entry.size, entry.etag)
        self._emit(change)
        self._sequencer = sequencer
        if entry is not None:
            self.manifest.put(key, entry, sequencer, metadata)
        else:
            self.manifest.delete(key, sequencer)
        return change

    async def _record_silently(self) -> None:
        """A first start: remember what is there without reading it (hashing every file of a
        large folder would take minutes); ETags come when objects are announced or read."""
        manifest = self.manifest

        def record() -> None:
            found = self._scan("", with_stat=True)
            manifest.record_all((key, Entry(size, mtime, None)) for key, size, mtime in found)

        await asyncio.to_thread(record)

    def _scan(self, prefix: str, with_stat: bool = False) -> Iterator[Any]:
        """Keys of the files below ``prefix`` (with size and mtime if ``with_stat``); runs in
        a worker thread. Keys are built folder by folder, names checked with one regex."""
        start = os.path.join(self.root, *prefix.split("/")) if prefix else str(self.root)
        if prefix and any(self._ignored(part) for part in prefix.split("/")):
            return
        folders = [(start, f"{prefix}/" if prefix else "")]
        while folders:
            folder, above = folders.pop()
            try:
                entries = os.scandir(folder)
            except (FileNotFoundError, NotADirectoryError, PermissionError):
                continue
            with entries:
                for entry in entries:
                    if self._ignored(entry.name):
                        continue
                    if entry.is_symlink():
                        self._link_found(entry.path)
                    elif entry.is_dir(follow_symlinks=False):
                        folders.append((entry.path, f"{above}{entry.name}/"))
                    elif entry.is_file(follow_symlinks=False):
                        if not with_stat:
                            yield above + entry.name
                            continue
                        with contextlib.suppress(FileNotFoundError):
                            info = entry.stat(follow_symlinks=False)
                            yield above + entry.name, info.st_size, info.st_mtime_ns

    def _file_stat(self, path: Path, key: str) -> tuple[int, int] | None:
        """(size, mtime_ns) of a regular file; None for anything else (a link is logged)."""
        try:
            info = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if stat.S_ISLNK(info.st_mode):
            self._link_found(str(path))
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        return info.st_size, info.st_mtime_ns

    def _link_found(self, path: str) -> None:
        if path not in self._links_logged:
            self._links_logged.add(path)
            log.warning(
                "bucket.symlink_ignored", bucket=self.name, path=path,
                reason="a symbolic link is not an object: it is neither announced nor listed",
            )  # fmt: skip

    # --- writing --------------------------------------------------------------------------

    async def put_object(self, key: str, body: bytes | str) -> ObjectChange:
        """Write ``body`` atomically as ``key``; return once its notification was dispatched."""
        if isinstance(body, str):
            body = body.encode()
        change = await self.write(key, body)
        # A small body is written without leaving the loop: let deliveries and requests run
        # between the puts of a caller's tight loop.
        await asyncio.sleep(0)
        return change

    async def write(
        self,
        key: str,
        body: Body,
        *,
        kind: Kind = "Put",
        metadata: Metadata | None = None,
        algorithms: tuple[str, ...] = (),
        check: Check | None = None,
    ) -> ObjectChange:
        """Write ``body`` (bytes, or chunks streamed to disk) as ``key``: into a temporary
        file, checked by ``check`` (given the body's digests: it raises to refuse the body),
        then renamed into place and announced as ``kind``. Returns the change announced."""
        path = self.path_of(key)
        if isinstance(body, bytes) and len(body) <= WHOLE_BODY_BYTES:
            digests = Digests(algorithms)
            digests.update(body)
            if check is not None:
                check(digests)
            async with self._locked(key):
                # Write, rename and stat in one step: on the loop for a small body, else in
                # one hop to a worker thread.
                if len(body) <= INLINE_BYTES:
                    info = self._write_whole(key, path, body)
                else:
                    info = await asyncio.to_thread(self._write_whole, key, path, body)
                entry = Entry(info.st_size, info.st_mtime_ns, digests.etag)
                return self._announce(key, kind, entry, self._stored(metadata, digests))
        temporary, digests = await self.receive(body, algorithms)
        try:
            if check is not None:
                check(digests)
        except BaseException:
            os.unlink(temporary)
            raise
        return await self.commit(
            key, temporary, digests.etag, kind=kind, metadata=self._stored(metadata, digests)
        )

    @staticmethod
    def _stored(metadata: Metadata | None, digests: Digests) -> Metadata | None:
        checksums = digests.checksums()
        if metadata is None or not checksums:
            return metadata
        return metadata.replace(checksums=checksums)

    def temporary(self, folder: Path | None = None) -> Path:
        """A fresh name for a temporary file in the bucket folder (never announced, never
        listed) or in ``folder``."""
        return (folder or Path(self._real_root)) / f"{TEMP_PREFIX}{uuid.uuid4().hex}"

    async def receive(
        self, body: Body, algorithms: tuple[str, ...] = (), folder: Path | None = None
    ) -> tuple[Path, Digests]:
        """Stream ``body`` into a new temporary file (in the bucket folder, or ``folder``);
        its path and the body's digests."""
        temporary = self.temporary(folder)
        digests = Digests(algorithms)
        file = await asyncio.to_thread(open, temporary, "xb")
        try:
            if isinstance(body, bytes):
                await asyncio.to_thread(_write_chunk, file, digests, body)
            else:
                pending = bytearray()
                async for chunk in body:
                    pending += chunk
                    if len(pending) >= _CHUNK:  # a thread hop per MB, not per socket read
                        await asyncio.to_thread(_write_chunk, file, digests, bytes(pending))
                        pending.clear()
                if pending:
                    await asyncio.to_thread(_write_chunk, file, digests, bytes(pending))
        except BaseException:
            await asyncio.to_thread(_discard, file, temporary)
            raise
        await asyncio.to_thread(file.close)
        return temporary, digests

    async def commit(
        self,
        key: str,
        temporary: Path,
        etag: str,
        *,
        kind: Kind,
        metadata: Metadata | None = None,
    ) -> ObjectChange:
        """Rename a finished temporary file into place as ``key`` and announce it as ``kind``
        (the temporary file is removed if that fails)."""
        path = self.path_of(key)
        async with self._locked(key):
            try:
                info = self._install(key, path, temporary)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)
                raise
            entry = Entry(info.st_size, info.st_mtime_ns, etag)
            return self._announce(key, kind, entry, metadata)

    def _write_whole(self, key: str, path: Path, body: bytes) -> os.stat_result:
        temporary = self.temporary()
        with open(temporary, "xb") as file:
            file.write(body)
        try:
            return self._install(key, path, temporary)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def _install(self, key: str, path: Path, temporary: Path) -> os.stat_result:
        """Rename ``temporary`` to ``path``, making the folders on the way (and removing
        those it made if it fails); the file's stat."""
        made: list[str] = []
        try:
            try:
                os.replace(temporary, path)
            except FileNotFoundError:
                made = _make_folders(path.parent, self._real_root)
                os.replace(temporary, path)
            return os.lstat(path)
        except OSError as exc:
            for folder in reversed(made):
                with contextlib.suppress(OSError):
                    os.rmdir(folder)
            raise self._unusable(key, exc) from None

    def _unusable(self, key: str, exc: OSError) -> InvalidKey:
        if exc.errno in (errno.ENOTDIR, errno.EEXIST):
            return InvalidKey(
                f"bucket {self.name!r}: key {key!r} needs a folder where an object is; "
                "eventsim stores keys as files, so a key cannot also be a prefix of another"
            )
        if exc.errno in (errno.EISDIR, errno.ENOTEMPTY):
            return InvalidKey(
                f"bucket {self.name!r}: key {key!r} is a folder holding other objects; "
                "eventsim stores keys as files, so a key cannot also be a prefix of another"
            )
        if exc.errno == errno.ENAMETOOLONG:
            return KeyTooLong(
                f"bucket {self.name!r}: the filesystem cannot hold key {key!r} under "
                f"{self.root} ({exc.strerror})"
            )
        return InvalidKey(f"bucket {self.name!r}: cannot write key {key!r}: {exc.strerror}")

    async def set_metadata(self, key: str, metadata: Metadata) -> bool:
        """Replace ``key``'s stored metadata (tags...) without a notification; False if there
        is no such object."""
        async with self._locked(key):
            if self.manifest.get(key) is None:
                return False
            self.manifest.set_metadata(key, metadata)
            return True

    async def delete_object(self, key: str) -> ObjectChange | None:
        """Delete ``key``'s file; return once its notification was dispatched (None: there
        was no such object). Folders left empty are removed, as S3 has none."""
        path = self.path_of(key)
        async with self._locked(key):
            info = _lstat(path)
            if info is not None and stat.S_ISREG(info.st_mode):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            change = await self._sync(key, None)
            _remove_empty_folders(path.parent, self._real_root)
            return change

    # --- reading --------------------------------------------------------------------------

    def head(self, key: str) -> tuple[Entry, Metadata] | None:
        """What the manifest holds for ``key`` (no filesystem access)."""
        entry = self.manifest.get(key)
        if entry is None:
            return None
        return entry, self.manifest.metadata(key) or Metadata.guessed(key)

    async def open_object(self, key: str, whole: int = WHOLE_BODY_BYTES) -> OpenObject | None:
        """``key``'s file opened for reading (None: no such object), with its ETag and
        metadata; the body of an object of at most ``whole`` bytes is read at once. A file
        dropped but not announced yet is served too, with a computed ETag and a guessed type."""
        path = self.path_of(key)
        opened = _open_regular(path, min(whole, INLINE_BYTES))  # on the loop: see INLINE_BYTES
        if opened is None:
            return None
        file, info, body = opened
        if body is None and info.st_size <= whole:
            body = await asyncio.to_thread(_read_all, file, info.st_size)
        try:
            entry = self.manifest.get(key)
            current = entry is not None and (entry.size, entry.mtime_ns) == (
                info.st_size, info.st_mtime_ns,
            )  # fmt: skip
            etag = entry.etag if entry is not None and current else None
            if etag is None:
                if body is not None:
                    etag = hashlib.md5(body).hexdigest()
                else:
                    etag = await asyncio.to_thread(_md5_of_open, file)
                if current:
                    self.manifest.set_etag(key, Entry(info.st_size, info.st_mtime_ns, etag))
            stored = self.manifest.metadata(key) if current else None
            metadata = stored or Metadata.guessed(key)
        except BaseException:
            file.close()
            raise
        obj = StoredObject(key, info.st_size, info.st_mtime_ns, etag, metadata)
        return OpenObject(obj, file, body)

    async def get_object(self, key: str) -> bytes:
        """The content of ``key``; ``KeyError`` if there is none."""
        opened = await self.open_object(key)
        if opened is None:
            raise KeyError(f"bucket {self.name!r} has no object {key!r}")
        try:
            if opened.body is not None:
                return opened.body
            return await asyncio.to_thread(opened.file.read)
        finally:
            opened.file.close()

    async def with_etags(self, entries: list[tuple[str, Entry]]) -> list[tuple[str, Entry]]:
        """``entries`` (from the manifest) with every unknown ETag computed and remembered."""
        missing = [(key, entry) for key, entry in entries if entry.etag is None]
        if not missing:
            return entries
        manifest = self.manifest

        def compute() -> dict[str, Entry]:
            done = {}
            for key, entry in missing:
                path = self.root / key
                with contextlib.suppress(OSError):
                    etag, _ = _md5(path)
                    if self._file_stat(path, key) == (entry.size, entry.mtime_ns):
                        done[key] = Entry(entry.size, entry.mtime_ns, etag)
            return done

        done = await asyncio.to_thread(compute)
        if self._manifest is manifest:  # not stopped meanwhile
            for key, entry in done.items():
                manifest.set_etag(key, entry)
        # A file changed since it was announced gets its new ETag from the coming hint; until
        # then it is listed with the MD5 of the name (never shown for a real file: S3's ETags
        # are MD5s of content, and this one at least stays stable).
        placeholder = {k: hashlib.md5(k.encode()).hexdigest() for k, _ in missing if k not in done}
        return [
            (key, done.get(key) or Entry(e.size, e.mtime_ns, e.etag or placeholder[key]))
            for key, e in entries
        ]


def _write_chunk(file: BinaryIO, digests: Digests, chunk: bytes) -> None:
    digests.update(chunk)
    file.write(chunk)


def _discard(file: BinaryIO, path: Path) -> None:
    file.close()
    path.unlink(missing_ok=True)


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _make_folders(folder: Path, root: str) -> list[str]:
    """Create ``folder`` and its missing parents below ``root``; the folders made, top first."""
    missing = []
    current = str(folder)
    while current != root and not os.path.isdir(current):
        missing.append(current)
        current = os.path.dirname(current)
    made: list[str] = []
    for path in reversed(missing):
        try:
            os.mkdir(path)
        except FileExistsError:
            if not os.path.isdir(path):
                raise
            continue
        except OSError:
            for done in reversed(made):
                with contextlib.suppress(OSError):
                    os.rmdir(done)
            raise
        made.append(path)
    return made


def _remove_empty_folders(folder: Path, root: str) -> None:
    current = str(folder)
    while current != root and current.startswith(root):
        try:
            os.rmdir(current)
        except OSError:
            return  # not empty (or gone): stop
        current = os.path.dirname(current)


def _open_regular(path: Path, whole: int) -> tuple[BinaryIO, os.stat_result, bytes | None] | None:
    """Open a regular file (never through a link); its stat, and its body if ``whole`` bytes
    or fewer. None if there is no such file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symbolic link
            return None
        raise
    file = os.fdopen(fd, "rb")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            file.close()
            return None
        body = file.read() if info.st_size <= whole else None
        if body is not None and len(body) != info.st_size:
            body = None  # it changed while being read: stream it instead
            file.seek(0)
    except BaseException:
        file.close()
        raise
    return file, info, body


def _read_all(file: BinaryIO, size: int) -> bytes | None:
    """The rest of ``file`` if it is ``size`` bytes (None: it changed; stream it instead)."""
    body = file.read()
    if len(body) != size:
        file.seek(0)
        return None
    return body


def _md5(path: Path) -> tuple[str, int]:
    with open(path, "rb") as file:
        digest = hashlib.file_digest(file, "md5")
        return digest.hexdigest(), file.tell()


def _md5_of_open(file: BinaryIO) -> str:
    position = file.tell()
    file.seek(0)
    digest = hashlib.file_digest(file, "md5")  # type: ignore[arg-type]  # has readinto
    file.seek(position)
    return digest.hexdigest()


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
