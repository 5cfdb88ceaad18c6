"""The state folder: one owner at a time, and files eventsim can vouch for.

Layout of ``state_dir`` (README "Recovering a state folder" shows it to users)::

    .lock                    held with flock(2) by the process that owns the folder; holds
                             its pid, command and (for ``eventsim up``) its edge URL as JSON
    events.sqlite3           the asynchronous invocation queue        part: events
    queues.sqlite3           messages of queues with persist: true,   part: queues
                             and the definitions of those CreateQueue made
    buckets/<name>.sqlite3   what each bucket has announced            part: buckets/<name>
    s3/<name>/               the folders of buckets CreateBucket made (content, not state)
    tables/<name>.sqlite3    DynamoDB tables (the config's and         part: tables/<name>
                             CreateTable's, with their definitions) and their streams
    logs/  aws/              function logs; the handlers' empty AWS config files (not
                             state: never checked)

``StateLock`` makes a second ``eventsim up`` on the same folder fail at once instead of
delivering everything twice; the operating system releases it when the process dies, however
it dies.

Every SQLite file eventsim writes carries ``application_id`` and a schema version
(``user_version``). ``open_db`` creates a missing file under a temporary name and renames it
into place once its schema is written, so a file at the final path was always complete when it
got there; an existing file must be an SQLite database with eventsim's id, a version this
eventsim knows and the tables it expects. Anything else is a ``StateError`` naming the file and
the part to discard with ``eventsim reset-state`` — never an empty start over it.

Example::

    with StateLock(state_dir):
        db = open_db(state_dir / "events.sqlite3", "events", SCHEMA, version=1,
                     tables={"events"})
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from .errors import StateError, StateLocked

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; the folder is not locked
    fcntl = None  # type: ignore[assignment]  # checked where used

#: "EvSm": marks SQLite files written by eventsim (``PRAGMA application_id``).
APPLICATION_ID = 0x4576536D
LOCK_FILE = ".lock"
DISCARDED = "discarded"


class StateLock:
    """An exclusive, advisory lock on a state folder, held until ``release()``."""

    def __init__(self, folder: Path, command: str = "eventsim") -> None:
        self.folder = folder
        self.command = command
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock; ``StateLocked`` names the holder if another process has it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _read_holder(fd)
                os.close(fd)
                raise StateLocked(self.folder, describe_holder(holder)) from None
        self._fd = fd
        self.advertise()

    def advertise(self, **details: str) -> None:
        """Write who holds the folder (and ``details``, e.g. ``edge=URL``) into the lock file,
        for other commands to read with ``holder_of``."""
        if self._fd is None:
            return
        text = json.dumps({"pid": os.getpid(), "command": self.command, **details})
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, text.encode() + b"\n", 0)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> StateLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def holder_of(folder: Path) -> dict[str, object] | None:
    """What the process holding ``folder``'s lock wrote (``pid``, ``command``, ``edge``...),
    or None if no process holds it."""
    path = folder / LOCK_FILE
    if fcntl is None or not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return _read_holder(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_holder(fd: int) -> dict[str, object]:
    try:
        holder = json.loads(os.pread(fd, 4096, 0))
    except ValueError:
        return {}
    return holder if isinstance(holder, dict) else {}


def describe_holder(holder: dict[str, object]) -> str:
    """``pid 123 (eventsim up)``, from what ``holder_of`` returned."""
    pid, command = holder.get("pid"), holder.get("command")
    if not isinstance(pid, int):
        return "another process"
    return f"pid {pid} ({command})" if command else f"pid {pid}"


# --- versioned SQLite files ---------------------------------------------------------------


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode with eventsim's settings: WAL, and no fsync per commit
    (a commit survives the process being killed; only a power loss can take the last ones)."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=5000")
    return db


def open_db(
    path: Path,
    part: str,
    schema: str,
    *,
    version: int,
    tables: Iterable[str],
    adopt: bool = False,
) -> tuple[sqlite3.Connection, bool]:
    """Open (or create) an eventsim state file; return the connection and whether it is new.

    ``schema`` (idempotent SQL) is run on a new file before it is renamed into place, and on
    an existing one after the checks. ``adopt``: a file with no application id yet but with
    every table in ``tables`` was written by an eventsim before files carried versions (or,
    for a table file, by the user's own SQL tools) and is stamped and kept.
    """
    created = not path.exists()
    if created:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.new")
        for stale in _with_sidecars(temporary):
            stale.unlink(missing_ok=True)
        db = connect(temporary)
        try:
            db.executescript(schema)
            _stamp(db, version)
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.close()
        os.replace(temporary, path)
        for stale in _with_sidecars(temporary)[1:]:
            stale.unlink(missing_ok=True)
    else:
        _check(path, part, version, set(tables), adopt)
    try:
        db = connect(path)
        if not created:
            db.executescript(schema)
    except sqlite3.DatabaseError as exc:
        raise StateError(path, part, f"cannot be read as an SQLite database ({exc})") from None
    return db, created


def _stamp(db: sqlite3.Connection, version: int) -> None:
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute(f"PRAGMA user_version = {int(version)}")


def _check(path: Path, part: str, version: int, tables: set[str], adopt: bool) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise StateError(path, part, f"cannot be read ({exc.strerror})") from None
    if size == 0:
        raise StateError(path, part, "is empty (0 bytes): it was truncated")
    try:
        db = sqlite3.connect(f"file:{path}?mode=rw", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise StateError(path, part, f"cannot be opened ({exc})") from None
    try:
        app = int(db.execute("PRAGMA application_id").fetchone()[0])
        found = int(db.execute("PRAGMA user_version").fetchone()[0])
        present = {
            str(name)
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        missing = sorted(tables - present)
        if app == 0 and adopt and not missing:
            _stamp(db, version)
            return
        if app != APPLICATION_ID:
            raise StateError(path, part, "is not a state file written by eventsim")
        if found > version:
            raise StateError(
                path, part, f"has schema version {found}, newer than this eventsim's {version}"
            )
        if missing:
            raise StateError(path, part, f"lacks its table(s) {', '.join(missing)}")
        if found < version:
            _stamp(db, version)  # migrations go here when a schema changes
    except sqlite3.DatabaseError as exc:
        raise StateError(path, part, f"cannot be read as an SQLite database ({exc})") from None
    finally:
        db.close()


def _with_sidecars(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


# --- reset-state --------------------------------------------------------------------------


def part_files(state_dir: Path, part: str) -> list[Path]:
    """The files of one part (``events``, ``queues``, ``buckets/NAME``, ``tables/NAME``) or
    of every part (``all``) that exist now, sidecars included."""
    if part == "all":
        names = ["events", "queues"]
        for folder in ("buckets", "tables"):
            names += [
                f"{folder}/{p.name.removesuffix('.sqlite3')}"
                for p in sorted((state_dir / folder).glob("*.sqlite3"))
            ]
        return [f for name in names for f in part_files(state_dir, name)]
    kind, _, name = part.partition("/")
    if kind in ("events", "queues") and not name:
        base = state_dir / f"{kind}.sqlite3"
    elif kind in ("buckets", "tables") and name and "/" not in name and name not in ("..", "."):
        base = state_dir / kind / f"{name}.sqlite3"
    else:
        raise ValueError(
            f"unknown part {part!r}: expected events, queues, buckets/NAME, tables/NAME or all"
        )
    found = [p for p in _with_sidecars(base) if p.exists()]
    if kind == "buckets":
        legacy = state_dir / kind / f"{name}.json"  # the manifest format before 0.2
        found += [legacy] if legacy.exists() else []
    return found


def discard(state_dir: Path, parts: Iterable[str]) -> list[tuple[Path, Path]]:
    """Move the files of ``parts`` to ``state_dir/discarded/<UTC time>/``; return the moves.

    The folder must not be in use (``StateLocked`` otherwise).
    """
    with StateLock(state_dir, "eventsim reset-state"):
        files = [f for part in parts for f in part_files(state_dir, part)]
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        target = state_dir / DISCARDED / stamp
        moves = []
        for file in dict.fromkeys(files):
            destination = target / file.relative_to(state_dir)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(file, destination)
            moves.append((file, destination))
        with contextlib.suppress(OSError):
            target.rmdir()  # nothing was moved
        return moves
