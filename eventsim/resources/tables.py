"""Every table of one simulator: the config's and those made at run time (CreateTable).

A table made through the API keeps its definition (key, indexes, stream, TTL attribute),
tags and settings in its own file (``meta``), marked as made by the API; at the next start
every such file in ``state_dir/tables`` is a table again. A config table's definition is the
config's at every start (changes made to it through the API last until the simulator stops;
its tags are kept). DeleteTable removes the table's files.

The registry also runs TTL: a task deletes each item once the clock passes its TTL
attribute (epoch seconds; an item more than five years past is left, as DynamoDB leaves it),
waking at the earliest TTL and whenever a table with TTL changes. Its stream records are
REMOVEs marked as the TTL service's.

``on_created``, ``on_updated`` and ``on_deleted`` are called with the table after it was
made, redefined (UpdateTable, UpdateTimeToLive: its stream may have been enabled, with a new
ARN, or disabled) or removed at run time; stream triggers naming it use them to start and
stop.

Example::

    tables = TableRegistry(config, clock=clock, state_dir=state_dir)
    tables.open(activity, supervisor)
    audit = tables.create("audit", TableConfig(partition_key="id", stream="NEW_IMAGE"))
    tables.delete("audit")
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import structlog
from pydantic import ValidationError

from ..activity import Activity, Waiter
from ..clock import Clock
from ..config import Config, TableConfig
from ..errors import StartupError, TableError
from ..state import DISCARDED, part_files
from .table import Table
from .table_store import CHUNK
from .table_transactions import Tokens
from .table_watch import TableWatcher

log = structlog.get_logger("eventsim.tables")

FOLDER = "tables"
ORIGIN_API = "api"


class Keeper(Protocol):
    """What keeps a long-lived task running (the simulator's supervisor)."""

    def keep(self, part: str, run: Callable[[], Awaitable[None]]) -> asyncio.Task[None]: ...


class TableRegistry(Mapping[str, Table]):
    """The tables of one simulator, by name."""

    def __init__(self, config: Config, *, clock: Clock, state_dir: Path) -> None:
        self.region = config.region
        self.account = config.account
        self._config = config
        self._clock = clock
        self._state_dir = state_dir
        #: The live mapping of tables by name (tables made or deleted at run time included).
        self.tables: dict[str, Table] = {}
        self.on_created: list[Callable[[Table], None]] = []
        self.on_updated: list[Callable[[Table], None]] = []
        self.on_deleted: list[Callable[[Table], None]] = []
        #: TransactWriteItems' ClientRequestTokens of the last ten minutes.
        self.tokens = Tokens(clock)
        self._watcher: TableWatcher | None = None
        self._waiter: Waiter | None = None

    # --- Mapping --------------------------------------------------------------------------

    def __getitem__(self, name: str) -> Table:
        return self.tables[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)

    # --- lifecycle ------------------------------------------------------------------------

    def open(self, activity: Activity | None = None, tasks: Keeper | None = None) -> None:
        """Open the config's tables and those made through the API by earlier runs; watch
        their files; run TTL (when given a supervisor to keep the task)."""
        for name, table_config in self._config.tables.items():
            try:
                self.tables[name] = self._open(name, table_config)
            except sqlite3.Error as exc:
                raise StartupError(f"table {name!r}: {exc}") from exc
        for name, table_config in self._made_earlier().items():
            try:
                self.tables[name] = self._open(name, table_config)
            except sqlite3.Error as exc:
                raise StartupError(f"table {name!r} (made through the API): {exc}") from exc
        folder = self._state_dir / FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        self._watcher = TableWatcher(folder, self.tables)
        self._watcher.start()
        if activity is not None and tasks is not None:
            self._waiter = Waiter(activity, self._clock, "ttl")
            for table in self.tables.values():
                table.listeners.append(self._ttl_changed(table))
            tasks.keep("tables:ttl", self._expire)

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        for table in self.tables.values():
            table.close()

    def _open(self, name: str, config: TableConfig) -> Table:
        return Table(
            name, config, state_dir=self._state_dir, clock=self._clock, region=self.region,
            account=self.account,
        )  # fmt: skip

    def _made_earlier(self) -> dict[str, TableConfig]:
        """The definitions of the tables made through the API, from their files."""
        found: dict[str, TableConfig] = {}
        for path in sorted((self._state_dir / FOLDER).glob("*.sqlite3")):
            name = path.name.removesuffix(".sqlite3")
            if name in self._config.tables:
                continue
            try:
                with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
                    rows = dict(db.execute(
                        "SELECT key, value FROM meta WHERE key IN ('origin', 'definition')"
                    ).fetchall())  # fmt: skip
            except sqlite3.Error:
                continue  # not a table file (or no longer one): it stays as it is
            if rows.get("origin") != ORIGIN_API or "definition" not in rows:
                continue  # a config table's file whose table left the config
            try:
                found[name] = TableConfig.model_validate_json(rows["definition"])
            except ValidationError as exc:
                log.warning("table.definition_ignored", table=name, reason=str(exc))
        return found

    # --- run time -------------------------------------------------------------------------

    def create(
        self, name: str, config: TableConfig, *, tags: Mapping[str, str] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> Table:  # fmt: skip
        """A new table (CreateTable): its file made, its definition kept in it."""
        if name in self.tables:
            raise TableError("ResourceInUseException", f"Table already exists: {name}")
        self._set_aside(name)
        table = self._open(name, config)
        table.tags = dict(tags or {})
        table.settings = dict(settings or {})
        table.save(origin=ORIGIN_API)
        self.tables[name] = table
        if self._waiter is not None:
            table.listeners.append(self._ttl_changed(table))
        log.info("table.created", table=name)
        for listener in list(self.on_created):
            listener(table)
        return table

    def redefine(self, table: Table, config: TableConfig) -> None:
        """Change a table's indexes, stream or TTL (UpdateTable, UpdateTimeToLive)."""
        table.redefine(config)
        table.save()
        if self._waiter is not None:
            self._waiter.wake()
        for listener in list(self.on_updated):
            listener(table)

    def delete(self, name: str) -> Table:
        """Remove a table and its files (DeleteTable); returns it (closed)."""
        table = self.tables.pop(name, None)
        if table is None:
            raise TableError("ResourceNotFoundException",
                             f"Requested resource not found: Table: {name} not found")  # fmt: skip
        table.close()
        for path in part_files(self._state_dir, f"{FOLDER}/{name}"):
            path.unlink(missing_ok=True)
        log.info("table.deleted", table=name)
        for listener in list(self.on_deleted):
            listener(table)
        return table

    def _set_aside(self, name: str) -> None:
        """Move the files a table of this name left (one that left the config) to
        ``state_dir/discarded/``: a new table starts empty, and nothing is deleted."""
        files = part_files(self._state_dir, f"{FOLDER}/{name}")
        if not files:
            return
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        for path in files:
            target = self._state_dir / DISCARDED / stamp / FOLDER / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
        log.warning("table.files_set_aside", table=name, to=str(target.parent))

    # --- TTL ------------------------------------------------------------------------------

    def _ttl_changed(self, table: Table) -> Callable[[], None]:
        def changed() -> None:
            if table.config.ttl is not None and self._waiter is not None:
                self._waiter.wake()

        return changed

    async def _expire(self) -> None:
        """Delete expired items; sleep until the next TTL or a change."""
        assert self._waiter is not None
        self._waiter.set_busy(True)
        while True:
            now = self._clock.time()
            deadlines = []
            for table in list(self.tables.values()):
                if table.config.ttl is None or table.closed:
                    continue
                # A chunk at a time: the loop gets a turn between chunks.
                more = table.expire(now) >= CHUNK
                while more:
                    await asyncio.sleep(0)
                    more = table.expire(now) >= CHUNK
                if (deadline := table.next_expiry(now)) is not None:
                    deadlines.append(deadline)
            await self._waiter.wait(min(deadlines) if deadlines else None)
