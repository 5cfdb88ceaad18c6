"""What a bucket announced, and finding what changed in its folder since.

Filesystem events are only *hints* that a path may have changed (``bucket_watch.py``): for each
hinted key ``FolderSync`` compares the file with what it last announced (size and modification
time) and announces the difference, ``Put`` for a new or changed file and ``Delete`` for a
vanished one. That makes every path to a change (a watchdog event, an overflowed event queue, a
restart) go through one function. A file still being written, an ignored name (editor and
download temp files), a directory or a symbolic link is never announced (a link is logged
once: it may point anywhere, and S3 has no links).

What was announced is kept in a manifest under ``state_dir`` (``manifest``), written after the
notification was handed on, so that a restart announces what changed while eventsim was down,
and a stop between the two announces the change again (at least once). On a first start
without a manifest the files present are recorded silently (without reading them: an ETag is
computed when an object is first announced or read).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import os
import re
import stat
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

import structlog

from ..activity import Activity
from ..clock import Clock
from ..config import BucketConfig
from ..errors import EventsimError
from ..types import Tasks
from .bucket_files import TEMP_PREFIX, md5_of, md5_of_open
from .manifest import Entry, Manifest
from .objects import Metadata

log = structlog.get_logger("eventsim.bucket")

#: A file written into a just-created folder may close before watchdog watches that folder.
#: That long after the folder appears, its files are reconciled; files modified in the last
#: NEW_FOLDER_MARGIN_S are left to their own close events, which the watch then sees.
NEW_FOLDER_DELAY_S = 0.1
NEW_FOLDER_MARGIN_S = 0.05
#: Keys reconciled between two yields to the loop (a start over 100k files never stalls it),
#: and manifest rows read at once while reconciling.
_RECONCILE_SLICE = 256
_RECONCILE_READ = 1000

Kind = Literal["Put", "Post", "Copy", "CompleteMultipartUpload", "Delete"]


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


Emit = Callable[[ObjectChange], None]


class FolderSync:
    """The announced state of one bucket folder (manifest, sequencer, a lock per key being
    changed) and the comparisons that keep it in step with the files."""

    def __init__(
        self,
        name: str,
        config: BucketConfig,
        *,
        clock: Clock,
        activity: Activity,
        emit: Emit,
        tasks: Tasks,
    ) -> None:
        self.name = name
        self.root = config.path
        patterns = [fnmatch.translate(glob) for glob in config.ignore] or ["(?!)"]
        self._ignore = re.compile("|".join(patterns))
        self._manifest: Manifest | None = None
        self._clock = clock
        self._activity = activity
        self._emit = emit
        self._tasks = tasks
        self.part = f"bucket:{name}"
        self._sequencer = 0
        self._locks: dict[str, asyncio.Lock] = {}
        self._links_logged: set[str] = set()

    def open(self, state_folder: Path) -> bool:
        """Open the manifest kept in ``state_folder``; whether it existed before."""
        self._manifest = Manifest(state_folder, self.name)
        self._sequencer = self._manifest.sequencer()
        return not self._manifest.first_start

    def close(self) -> None:
        if self._manifest is not None:
            self._manifest.close()
            self._manifest = None

    @property
    def manifest(self) -> Manifest:
        if self._manifest is None:
            raise EventsimError(f"bucket {self.name!r} is not running")
        return self._manifest

    # --- what is an object ----------------------------------------------------------------

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
        """Whether the folder holds any file that is or will be an object."""
        return await asyncio.to_thread(lambda: next(self._scan(""), None) is not None)

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

    # --- hints ----------------------------------------------------------------------------

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
        or start announces it. Hints after ``close()`` are dropped (the next start reconciles)."""
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

    # --- comparing and announcing ---------------------------------------------------------

    async def reconcile(self, prefix: str, written_before: float | None = None) -> None:
        """Announce every difference between the folder and the manifest below ``prefix``
        (only for files last written before ``written_before``, if given). The folder is
        scanned off the loop and compared with the manifest a page at a time; only the keys
        that differ are looked at one by one."""
        on_disk = await asyncio.to_thread(self._stats, prefix)
        differ: list[str] = []
        after = None
        # Read on the loop, a page at a time: the connection is never used from two threads,
        # so close() can close it at any await.
        while self._manifest is not None:
            last = None
            for last, size, mtime_ns in self._manifest.stats(prefix, after, _RECONCILE_READ):
                if on_disk.pop(last, None) != _fingerprint(size, mtime_ns):
                    differ.append(last)  # changed or vanished
            if last is None:
                break
            after = last
            await asyncio.sleep(0)
        differ += on_disk  # new
        for index, key in enumerate(sorted(differ)):
            if self._manifest is None:
                return  # stopped meanwhile: the next start reconciles
            await self.sync(key, written_before)
            if index % _RECONCILE_SLICE == _RECONCILE_SLICE - 1:
                await asyncio.sleep(0)  # let requests and deliveries in between

    def _stats(self, prefix: str) -> dict[str, int]:
        return {key: _fingerprint(size, mtime) for key, size, mtime in self._scan(prefix, True)}

    async def sync(self, key: str, written_before: float | None = None) -> ObjectChange | None:
        """Compare ``key``'s file with what was announced; announce and return the change."""
        async with self.locked(key):
            if self._manifest is None:
                return None  # stopped meanwhile: the next start reconciles
            return await self.sync_held(key, written_before)

    @contextlib.asynccontextmanager
    async def locked(self, key: str) -> AsyncIterator[None]:
        """Hold ``key``'s lock: one change of a key at a time, announced before the next."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and not lock._waiters:  # noqa: SLF001 - drop idle locks
                self._locks.pop(key, None)

    async def sync_held(self, key: str, written_before: float | None) -> ObjectChange | None:
        """``sync`` for a caller that holds ``key``'s lock."""
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
                return self.announce(key, "Delete")
            if known is not None and (known.size, known.mtime_ns) == found:
                return None
            try:
                etag, size = await asyncio.to_thread(md5_of, path)
            except (FileNotFoundError, IsADirectoryError):
                continue  # vanished while being read: look again
            if self._file_stat(path, key) != found:
                continue  # changed while being read: look again
            if self._manifest is None:
                return None  # stopped while reading: the next start reconciles
            return self.announce(key, "Put", Entry(size, found[1], etag))

    def announce(
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

    async def record_silently(self) -> None:
        """A first start: remember what is there without reading it (hashing every file of a
        large folder would take minutes); ETags come when objects are announced or read."""
        manifest = self.manifest

        def record() -> None:
            found = self._scan("", with_stat=True)
            manifest.record_all((key, Entry(size, mtime, None)) for key, size, mtime in found)

        await asyncio.to_thread(record)

    async def describe(
        self, key: str, info: os.stat_result, file: BinaryIO, body: bytes | None
    ) -> tuple[str, Metadata]:
        """The ETag and metadata of ``key``'s open ``file`` (``info``: its stat; ``body``: its
        content, if read): as announced if it is the file announced, else its MD5 and a type
        guessed from the key. An ETag computed for the file announced is remembered."""
        entry = self.manifest.get(key)
        current = entry is not None and (entry.size, entry.mtime_ns) == (
            info.st_size, info.st_mtime_ns,
        )  # fmt: skip
        etag = entry.etag if entry is not None and current else None
        if etag is None:
            if body is not None:
                etag = hashlib.md5(body).hexdigest()
            else:
                etag = await asyncio.to_thread(md5_of_open, file)
            if current:
                self.manifest.set_etag(key, Entry(info.st_size, info.st_mtime_ns, etag))
        stored = self.manifest.metadata(key) if current else None
        return etag, stored or Metadata.guessed(key)

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
                    etag, _ = md5_of(path)
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


def _fingerprint(size: int, mtime_ns: int) -> int:
    """A file's size and mtime as one int. A folder's worth of them is held while reconciling:
    ints are not tracked by the garbage collector, where 100,000 tuples made it run full
    passes that stalled the loop for tens of milliseconds."""
    return (size << 64) + mtime_ns
