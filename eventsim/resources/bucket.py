"""A folder as an S3 bucket (docs/aws-behaviour.md §1): ``BucketSource``, its keys, and the
objects written and read through its API.

Keys are paths relative to the folder, joined with ``/``; a key that cannot be a file inside
the folder is refused (``InvalidKey``). What was announced, and finding the changes made in
the folder itself, is ``bucket_sync.py`` (hinted by watchdog's events through
``bucket_watch.py``); the file operations are ``bucket_files.py``.

Writes through the bucket API (``put_object``, the S3 API's PutObject, CopyObject,
CompleteMultipartUpload) go to a temporary file in the folder, renamed into place while the
key's lock is held; the change is announced with the API's event kind before the lock is
released, so the watcher's hint for the rename finds nothing new: each write is announced
exactly once, with the name S3 gives it.

Watchdog's thread reaches the event loop only through ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import stat
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import structlog
from watchdog.observers.api import BaseObserver

from ..activity import Activity
from ..clock import Clock
from ..config import BucketConfig
from ..errors import InvalidKey, KeyTooLong, NoSuchKey
from ..types import Tasks
from .base import Source
from .bucket_files import (
    TEMP_PREFIX,
    install,
    lstat_or_none,
    open_regular,
    read_all,
    remove_empty_folders,
    write_new,
)
from .bucket_files import Body as Body
from .bucket_sync import Emit, FolderSync, Kind
from .bucket_sync import ObjectChange as ObjectChange
from .bucket_watch import Hints, Overflow, observer
from .manifest import Entry, Manifest
from .objects import Digests, Metadata

log = structlog.get_logger("eventsim.bucket")

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

#: The watchdog bridge under the names it had when it lived here (tests/test_bucket.py).
_Hints, _Overflow = Hints, Overflow


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
        self._announce_existing = config.announce_existing
        self.state_folder = state_dir / "buckets"
        self._sync = FolderSync(
            name, config, clock=clock, activity=activity, emit=emit, tasks=tasks
        )
        self.part = self._sync.part
        self._observer: BaseObserver | None = None

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        had_manifest = self._sync.open(self.state_folder)
        loop = asyncio.get_running_loop()
        # Watch first, then reconcile: a change made in between is seen by one or the other,
        # and reconciling the same key twice announces it once.
        self._observer = observer(self.root, Hints(self, loop))
        # Off the loop: starting the watch walks the whole folder (a watch per directory).
        await asyncio.to_thread(self._observer.start)
        if had_manifest or self._announce_existing:
            await self.reconcile("")
        else:
            await self._sync.record_silently()
        log.info("bucket.watching", bucket=self.name, path=str(self.root))

    async def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            await asyncio.to_thread(self._observer.join)
            self._observer = None
        self._sync.close()

    @property
    def manifest(self) -> Manifest:
        return self._sync.manifest

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
        return self._sync.key_of(path)

    async def holds_files(self) -> bool:
        """Whether the folder holds any file that is or will be an object (announced or not:
        one just dropped may not be yet)."""
        return await self._sync.holds_files()

    def list_objects(self, prefix: str = "") -> list[str]:
        """The keys announced so far, in S3's order, that start with ``prefix``."""
        return list(self.manifest.keys(prefix))

    def etag_of(self, key: str) -> str | None:
        """The ETag announced for ``key`` (None: no such object, or not read yet)."""
        entry = self.manifest.get(key)
        return entry.etag if entry else None

    # --- changes made in the folder (bucket_sync.py) --------------------------------------

    def hint(self, key: str) -> None:
        """Look at ``key`` soon (called on the loop for each filesystem event)."""
        self._sync.hint(key)

    def hint_tree(self, prefix: str) -> None:
        """Look at everything below ``prefix`` soon."""
        self._sync.hint_tree(prefix)

    def hint_new_folder(self, prefix: str) -> None:
        """A folder appeared: reconcile it once watchdog surely watches it."""
        self._sync.hint_new_folder(prefix)

    async def reconcile(self, prefix: str, written_before: float | None = None) -> None:
        """Announce every difference between the folder and the manifest below ``prefix``
        (only for files last written before ``written_before``, if given)."""
        await self._sync.reconcile(prefix, written_before)

    async def sync(self, key: str, written_before: float | None = None) -> ObjectChange | None:
        """Compare ``key``'s file with what was announced; announce and return the change."""
        return await self._sync.sync(key, written_before)

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
            async with self._sync.locked(key):
                # Write, rename and stat in one step: on the loop for a small body, else in
                # one hop to a worker thread.
                if len(body) <= INLINE_BYTES:
                    info = self._write_whole(key, path, body)
                else:
                    info = await asyncio.to_thread(self._write_whole, key, path, body)
                entry = Entry(info.st_size, info.st_mtime_ns, digests.etag)
                return self._sync.announce(key, kind, entry, self._stored(metadata, digests))
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
        await write_new(temporary, body, digests)
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
        async with self._sync.locked(key):
            try:
                info = self._install(key, path, temporary)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)
                raise
            entry = Entry(info.st_size, info.st_mtime_ns, etag)
            return self._sync.announce(key, kind, entry, metadata)

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
        try:
            return install(temporary, path, self._real_root)
        except OSError as exc:
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
        async with self._sync.locked(key):
            if self.manifest.get(key) is None:
                return False
            self.manifest.set_metadata(key, metadata)
            return True

    async def delete_object(self, key: str) -> ObjectChange | None:
        """Delete ``key``'s file; return once its notification was dispatched (None: there
        was no such object). Folders left empty are removed, as S3 has none."""
        path = self.path_of(key)
        async with self._sync.locked(key):
            info = lstat_or_none(path)
            if info is not None and stat.S_ISREG(info.st_mode):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            change = await self._sync.sync_held(key, None)
            remove_empty_folders(path.parent, self._real_root)
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
        opened = open_regular(path, min(whole, INLINE_BYTES))  # on the loop: see INLINE_BYTES
        if opened is None:
            return None
        file, info, body = opened
        if body is None and info.st_size <= whole:
            body = await asyncio.to_thread(read_all, file, info.st_size)
        try:
            etag, metadata = await self._sync.describe(key, info, file, body)
        except BaseException:
            file.close()
            raise
        obj = StoredObject(key, info.st_size, info.st_mtime_ns, etag, metadata)
        return OpenObject(obj, file, body)

    async def get_object(self, key: str) -> bytes:
        """The content of ``key``; ``NoSuchKey`` (a ``KeyError``) if there is none."""
        opened = await self.open_object(key)
        if opened is None:
            raise NoSuchKey(self.name, key)
        try:
            if opened.body is not None:
                return opened.body
            return await asyncio.to_thread(opened.file.read)
        finally:
            opened.file.close()

    async def with_etags(self, entries: list[tuple[str, Entry]]) -> list[tuple[str, Entry]]:
        """``entries`` (from the manifest) with every unknown ETag computed and remembered."""
        return await self._sync.with_etags(entries)
