"""The reliability suite's harness: real `eventsim up` processes on a real project folder, waited
on through what they log and what their handlers write, never through time.

Handlers (tests/functions/reliable.py) append the id of every event they finish to the file
``$OUT``; ids are ``<key>-<n>``, and for a given key the events are accepted in ``n`` order.
"""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig

from ..helpers import FUNCTIONS

#: The longest any one wait may take: a backlog here is seconds of work, so this is only ever
#: reached when something is stuck or lost (and then the test fails, listing what is missing).
PATIENCE_S = 40.0
#: How long a SIGTERM'd `up` may take to exit: its 5 s grace period, its close, and margin.
STOP_PATIENCE_S = 30.0
READY = "export AWS_ACCESS_KEY_ID"

BOTO = BotoConfig(
    region_name="us-east-1", retries={"max_attempts": 3, "mode": "standard"},
    connect_timeout=10, read_timeout=30,
)  # fmt: skip


def write_config(project: Path, body: str) -> Path:
    """``project/eventsim.yaml``: the state folder ``state`` and ``body`` (YAML, top level)."""
    path = project / "eventsim.yaml"
    path.write_text(f"state_dir: state\n{body}")
    return path


def sink(out: Path, delay: float, triggers: str = "[]") -> str:
    """The config of the function ``sink`` (reliable.record) writing ids to ``out``."""
    return f"""\
  sink:
    handler: reliable.record
    code: {FUNCTIONS}
    timeout: 3
    environment: {{OUT: "{out}", DELAY: "{delay}"}}
    triggers: {triggers}
"""


def delivered(out: Path) -> list[str]:
    """Every id the handlers wrote, in the order written (complete lines only)."""
    try:
        text = out.read_text()
    except FileNotFoundError:
        return []
    return text.split("\n")[:-1]


def wait_delivered(up: Up, out: Path, wanted: set[str], count: int | None = None) -> bool:
    """Wait until ``count`` (default: all) of the ``wanted`` ids were delivered."""
    target = len(wanted) if count is None else count
    seen: set[str] = set()
    offset = 0

    def reached() -> bool:  # reads only what was appended since the last check
        nonlocal offset
        try:
            with out.open("rb") as file:
                file.seek(offset)
                new = file.read()
        except FileNotFoundError:
            return target == 0
        complete = new[: new.rfind(b"\n") + 1]
        offset += len(complete)
        seen.update(i for i in complete.decode().split("\n") if i in wanted)
        return len(seen) >= target

    return up.wait_until(reached)


def ids_for(keys: list[str], count: int) -> list[str]:
    """``count`` ids spread over ``keys``, in acceptance order (``n`` rising per key)."""
    return [f"{keys[i % len(keys)]}-{i // len(keys)}" for i in range(count)]


def order_problems(seen: list[str]) -> list[str]:
    """Keys whose ids were first delivered out of ``n`` order (repeats are allowed)."""
    first: dict[str, list[int]] = {}
    for id_ in dict.fromkeys(seen):
        key, n = id_.rsplit("-", 1)
        first.setdefault(key, []).append(int(n))
    return [f"{key}: {ns}" for key, ns in sorted(first.items()) if ns != sorted(ns)]


def missing_message(
    what: str, accepted: Iterable[str], out: Path, notes: Iterable[str], up: Up | None = None
) -> str:
    """The failure text: how many accepted ids were delivered, which were not, how the test
    got there (seed, stops) and the end of `up`'s log."""
    wanted = set(accepted)
    got = set(delivered(out)) & wanted
    missing = sorted(wanted - got, key=_natural)
    shown = ", ".join(missing[:40]) + (
        f", ... ({len(missing) - 40} more)" if len(missing) > 40 else ""
    )
    history = "".join(f"\n  {n}" for n in notes)
    log = f"\nthe end of eventsim up's log:\n{up.tail(12)}" if up is not None else ""
    return (
        f"{what}: {len(got)} of {len(wanted)} accepted ids delivered; "
        f"missing {len(missing)}: {shown}{history}{log}"
    )


def _natural(id_: str) -> tuple[str, int]:
    key, _, n = id_.rpartition("-")
    return key, int(n) if n.isdigit() else -1


class Up:
    """A running `eventsim up` on ``project/eventsim.yaml``, with ``--port 0 --http-port 0``.

    A thread reads its stderr into ``lines`` and wakes ``wait_until`` for each line. Why log
    lines rather than inotify on the output file: every delivery is followed by log lines
    (the handler's ``delivered <id>``, then ``END`` and ``REPORT``), and every other change a
    test waits for (ready, an error, the exit) is a log line or the end of the log; so
    re-checking the state (re-reading the output file, asking the process) each time a line
    arrives sees every change, with no polling interval and no second watcher to set up.
    Each wait has an overall deadline (``PATIENCE_S``) and returns False when it is reached, so
    a lost event fails the test with what is missing instead of hanging it.
    """

    def __init__(self, project: Path, *, ready: bool = True) -> None:
        self.project = project
        self.config = project / "eventsim.yaml"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "eventsim", "up", "-c", str(self.config),
             "--port", "0", "--http-port", "0"],
            cwd=project, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
        )  # fmt: skip
        self.lines: list[str] = []
        self._wakeups: queue.SimpleQueue[bool] = queue.SimpleQueue()
        self._eof = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._clients: dict[str, Any] = {}
        if ready:
            self.wait_ready()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            self._wakeups.put(True)
        self._eof.set()
        self._wakeups.put(False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return "".join(self.lines)

    def tail(self, count: int = 30) -> str:
        return "".join(self.lines[-count:])

    def poke(self) -> None:
        """Wake ``wait_until`` (for a thread watching some other state, e.g. a process)."""
        self._wakeups.put(True)

    def wait_until(self, done: Callable[[], bool], patience: float = PATIENCE_S) -> bool:
        """Re-check ``done()`` at each log line until it holds (True), the log ends or the
        deadline passes (then one last check)."""
        deadline = time.monotonic() + patience
        while not done():
            remaining = deadline - time.monotonic()
            if self._eof.is_set() or remaining <= 0:
                return done()
            try:
                self._wakeups.get(timeout=remaining)
            except queue.Empty:
                return done()
        return True

    @property
    def is_ready(self) -> bool:
        return any(READY in line for line in self.lines)

    def wait_ready(self) -> None:
        if not self.wait_until(lambda: self.is_ready):
            code = self.process.poll()
            state = f"exited {code}" if code is not None else f"not ready after {PATIENCE_S} s"
            pytest.fail(f"eventsim up {state}:\n{self.tail()}")

    def wait_ready_or_exit(self) -> int | None:
        """The exit code if `up` exits before it is ready, None once it is ready."""
        self.wait_until(lambda: self.is_ready or self.process.poll() is not None)
        if self.is_ready:
            return None
        code = self.process.wait(timeout=STOP_PATIENCE_S)
        self._reader.join(timeout=STOP_PATIENCE_S)  # the whole log, up to the exit
        return code

    @property
    def edge(self) -> str:
        found = re.search(r"^\s*edge:\s+(http://\S+)", self.log(), re.MULTILINE)
        assert found, f"no edge URL in the ready block:\n{self.log()}"
        return found.group(1)

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` pointed at this `up`'s edge."""
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service, endpoint_url=self.edge, config=BOTO,
                aws_access_key_id="test", aws_secret_access_key="test",
            )  # fmt: skip
        return self._clients[service]

    def health(self) -> tuple[int, dict[str, Any]]:
        """``GET /_eventsim/health``: the status code and the JSON body."""
        try:
            with urllib.request.urlopen(f"{self.edge}/_eventsim/health", timeout=10) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")
        except (TimeoutError, urllib.error.URLError) as exc:  # URLError wraps a refused connect
            return 0, {"status": f"no answer within 10 s ({exc})"}

    def kill(self) -> None:
        """SIGKILL, as a crash or `kill -9` would."""
        self.process.kill()
        self.process.wait()

    def terminate(self) -> None:
        """SIGTERM, then the exit: 0 is expected, within the grace period and some margin."""
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=STOP_PATIENCE_S)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"SIGTERM: eventsim up still ran {STOP_PATIENCE_S} s later:\n{self.tail()}")
        self._reader.join(timeout=STOP_PATIENCE_S)
        assert code == 0, f"SIGTERM: eventsim up exited {code}, expected 0:\n{self.tail()}"

    def close(self) -> None:
        """Teardown: kill it if it still runs."""
        if self.process.poll() is None:
            self.kill()
        for client in self._clients.values():
            client.close()


StartUp = Callable[..., Up]


def eventsim(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a one-off `eventsim` command in ``project`` with its config; wait for it to end."""
    return subprocess.run(
        [sys.executable, "-m", "eventsim", *args, "-c", str(project / "eventsim.yaml")],
        cwd=project, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
