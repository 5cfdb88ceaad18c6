"""``eventsim up``: the simulator, the edge server and the HTTP trigger server, until a signal.

Start order: the state folder is locked first (a second ``up`` on it exits 2 naming the
holder), the edge binds (so its URL is known, and advertised in the lock file for one-off
commands), then the simulator starts with the ``AWS_ENDPOINT_URL_*`` variables pointing at it
(so handlers' own boto3 calls reach eventsim), then the HTTP trigger server; one ready block is
printed. On SIGINT or SIGTERM: stop intake (both servers and every source), let in-flight work
finish within the grace period, close (what did not finish stays in the state folder for the
next start), exit 0. A second signal stops waiting. A part that fails beyond restarting stops
everything the same way with one ``error:`` line and exit 1.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import structlog
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from .config import Config
from .simulator import SHUTDOWN_GRACE_S, Simulator
from .triggers import registry

log = structlog.get_logger("eventsim")


def ready_block(sim: Simulator) -> str:
    """What ``up`` prints once everything listens: functions, triggers, endpoints."""
    lines = ["eventsim ready", f"  config:    {sim.config.source}", f"  state:     {sim.state_dir}"]
    lines.append("  functions:")
    for name, function in sim.config.functions.items():
        triggers = ", ".join(registry.kind(t.kind).summary(t.spec) for t in function.triggers)
        lines.append(f"    {name} ({function.handler})" + (f" <- {triggers}" if triggers else ""))
    url = sim.endpoint_url
    lines.append(f"  edge:      {url}  (AWS APIs; {url}/_eventsim/health)")
    lines.append(f"  dashboard: {url}/_eventsim/")
    if sim.http is not None:
        lines.append(f"  http:      {sim.http.url}")
        routes = sim.http_routes
        for route in routes.routes if routes is not None else ():
            trigger = route.trigger
            lines.append(f"    {trigger.method} {sim.http.url}{trigger.path} -> {route.function}")
    lines.append("  point your app at eventsim (handlers already are):")
    lines.append(f"    export AWS_ENDPOINT_URL={url}")
    lines.append(
        "    export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "
        f"AWS_DEFAULT_REGION={sim.config.region}"
    )
    return "\n".join(lines)


async def run(config: Config, *, reload: bool = False, grace: float = SHUTDOWN_GRACE_S) -> int:
    """Run until a signal (exit 0) or a part failing beyond restarting (exit 1)."""
    loop = asyncio.get_running_loop()
    stop, force = asyncio.Event(), asyncio.Event()

    def on_signal() -> None:
        if stop.is_set():
            force.set()
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)

    sim = Simulator(config, command="eventsim up", edge=True, http=True)
    sim.lock_state()  # before binding a port: a second `up` on this folder stops here
    watcher: BaseObserver | None = None
    status = 0
    try:
        await sim.start()  # the edge first, so handlers' SDK calls reach it
        if reload:
            watcher = _watch_code(sim, loop)
        print(ready_block(sim), file=sys.stderr, flush=True)
        fatal = sim.fatal
        assert fatal is not None
        stopping = asyncio.create_task(stop.wait())
        either: list[asyncio.Future[Any]] = [stopping, fatal]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if fatal.done():
            failure = fatal.result()
            print(f"error: {failure}; eventsim stopped", file=sys.stderr, flush=True)
            status = 1
        log.info("eventsim stopping", grace_s=grace)
        forcing = asyncio.create_task(_force_after(force, sim))
        await sim.close(grace)
        forcing.cancel()
    finally:
        if watcher is not None:
            watcher.stop()
            watcher.join()
        await sim.close(0)
    log.info("eventsim stopped", status=status)
    return status


async def _force_after(force: asyncio.Event, sim: Simulator) -> None:
    await force.wait()
    log.warning("eventsim forced: not waiting for in-flight work")
    sim.stop_draining()


def _watch_code(sim: Simulator, loop: asyncio.AbstractEventLoop) -> BaseObserver:
    """``--reload``: a changed ``.py`` file under a function's code folder restarts that
    function's environments."""
    folders: dict[Path, list[str]] = {}
    for name, spec in sim.functions.items():
        folders.setdefault(spec.code_dir, []).append(name)

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.event_type not in ("modified", "created", "moved", "closed"):
                return
            # A safe write (most editors) renames a temporary file over the module: the
            # module is the move's destination.
            paths = [Path(os.fsdecode(p)) for p in (event.src_path, getattr(event, "dest_path", ""))
                     if p]  # fmt: skip
            names = sorted(
                {n for path in paths if path.suffix == ".py"
                 for folder, ns in folders.items() if path.is_relative_to(folder) for n in ns}
            )  # fmt: skip
            if names:
                changed = next(str(p) for p in reversed(paths) if p.suffix == ".py")
                loop.call_soon_threadsafe(_reload, sim, names, changed)

    observer = Observer()
    for folder in folders:
        observer.schedule(Handler(), str(folder), recursive=True)
    observer.start()
    return observer


def _reload(sim: Simulator, names: list[str], path: str) -> None:
    if sim.running:
        log.info("code.changed", file=path, restarting=names)
        sim.reload(names)
