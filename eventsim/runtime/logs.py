"""Function logs: what CloudWatch Logs would hold for each invocation.

Each invocation's lines (handler output framed by START/END/REPORT in the exact format of
docs/aws-behaviour.md §8.4) go to three places: the invocation's own buffer (for ``log_tail`` and
``X-Amz-Log-Result``), one file per function and log stream under ``state_dir/logs/``, and the
console through structlog.

The buffer is filled at once; the file and console lines are written in the loop turn after,
in order: a caller awaiting an invoke resumes (and sends its next request to a child, which
runs it on another core) before eventsim formats and writes the lines of the last one.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any, TextIO

import structlog

from ..unconfirmed import BILLED_DURATION_INCLUDES_INIT
from .base import Execution
from .spec import VERSION

#: Lambda's ``LogType: Tail`` returns the last 4 KB of the log.
TAIL_BYTES = 4096
#: How soon finished invocations' lines reach the stream files.
FLUSH_DELAY_S = 0.05
#: A stream's log file is rotated (to ``<file>.1``) past this size.
MAX_LOG_BYTES = 16 * 1024 * 1024


def billed_duration_ms(execution: Execution) -> int:
    duration = execution.duration_ms
    if BILLED_DURATION_INCLUDES_INIT and execution.init_duration_ms:
        duration += execution.init_duration_ms
    return max(1, math.ceil(duration))


def max_memory_used_mb(execution: Execution) -> int | None:
    if execution.max_memory_kb is None:
        return None
    return math.ceil(execution.max_memory_kb / 1024)


def report_line(request_id: str, execution: Execution, memory_mb: int) -> str:
    used = max_memory_used_mb(execution)
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {execution.duration_ms:.2f} ms\t"
        f"Billed Duration: {billed_duration_ms(execution)} ms\tMemory Size: {memory_mb} MB\t"
        f"Max Memory Used: {used if used is not None else 0} MB\t"
    )
    if execution.init_duration_ms is not None:
        line += f"Init Duration: {execution.init_duration_ms:.2f} ms\t"
    return line


class InvocationLog:
    """The log lines of one invocation, as they are produced."""

    def __init__(self, sink: LogSink, function: str, stream: str, request_id: str) -> None:
        self._sink = sink
        self.function = function
        self.stream = stream
        self.request_id = request_id
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        """Handler output: one or more lines (a trailing partial line counts as a line)."""
        for line in text.splitlines():
            self._emit(line, "function")

    def start(self) -> None:
        self._emit(f"START RequestId: {self.request_id} Version: {VERSION}", "platform")

    def finish(self, execution: Execution, memory_mb: int) -> None:
        self._emit(f"END RequestId: {self.request_id}", "platform")
        self._emit(report_line(self.request_id, execution, memory_mb), "platform")
        for line in execution.after_report:
            self._emit(line, "platform")
        self._sink.flush_soon()

    def tail(self, limit: int = TAIL_BYTES) -> str:
        text = "\n".join(self.lines) + "\n"
        if len(text) * 4 <= limit:  # at most 4 UTF-8 bytes a character: it all fits
            return text
        return text.encode()[-limit:].decode("utf-8", "ignore")

    def _emit(self, line: str, kind: str) -> None:
        self.lines.append(line)
        self._sink.emit(self.function, self.stream, self.request_id, line, kind)


class LogSink:
    """Writes function log lines to per-stream files and to the console."""

    def __init__(self, state_dir: Path, logger: Any = None) -> None:
        self.directory = state_dir / "logs"
        self._files: dict[tuple[str, str], TextIO] = {}
        self._sizes: dict[tuple[str, str], int] = {}
        self._flush_pending = False
        self._pending: list[tuple[str, str, str, str, str]] = []  # lines not written yet
        self._loop: asyncio.AbstractEventLoop | None = None
        # Bound once: the lazy proxy get_logger() returns would re-bind on every line.
        self._log = logger or structlog.get_logger("eventsim.function").bind()

    def invocation(self, function: str, stream: str, request_id: str) -> InvocationLog:
        return InvocationLog(self, function, stream, request_id)

    def path(self, function: str, stream: str) -> Path:
        return self.directory / function / (stream.replace("/", "-") + ".log")

    def emit(self, function: str, stream: str, request_id: str, line: str, kind: str) -> None:
        """Write ``line`` to its stream's file and the console in the next loop turn."""
        if not self._pending:
            if self._loop is None:
                self._loop = asyncio.get_running_loop()
            self._loop.call_soon(self._write_pending)
        self._pending.append((function, stream, request_id, line, kind))

    def _write_pending(self) -> None:
        pending, self._pending = self._pending, []
        for function, stream, request_id, line, kind in pending:
            key = (function, stream)
            file = self._files.get(key)
            if file is None or self._sizes[key] > MAX_LOG_BYTES:
                file = self._open(key, rotate=file is not None)
            self._sizes[key] += file.write(line + "\n")
            self._log.info(line, function=function, request_id=request_id, kind=kind)

    def _open(self, key: tuple[str, str], rotate: bool) -> TextIO:
        """The stream's file; with ``rotate``, the full one becomes ``<file>.1`` (replacing
        the previous ``.1``) first, so a log never grows past about twice ``MAX_LOG_BYTES``."""
        path = self.path(*key)
        if rotate:
            self._files.pop(key).close()
            path.replace(path.with_name(path.name + ".1"))
        path.parent.mkdir(parents=True, exist_ok=True)
        file = self._files[key] = path.open("a", encoding="utf-8")
        self._sizes[key] = file.tell()
        return file

    def flush_soon(self) -> None:
        """Flush every stream file within ``FLUSH_DELAY_S``, so ``tail -f`` follows along.

        One flush covers all invocations that finish in that window: a system call per
        invocation would be a large part of a warm invoke's cost.
        """
        if not self._flush_pending:
            self._flush_pending = True
            asyncio.get_running_loop().call_later(FLUSH_DELAY_S, self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        for file in self._files.values():
            file.flush()

    def close_stream(self, function: str, stream: str) -> None:
        self._write_pending()
        self._sizes.pop((function, stream), None)
        file = self._files.pop((function, stream), None)
        if file is not None:
            file.close()

    def close(self) -> None:
        self._write_pending()
        for file in self._files.values():
            file.close()
        self._files.clear()
