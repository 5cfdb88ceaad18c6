"""Console logging for the CLI: readable on a terminal, JSON lines on request.

Library use (the Simulator in a test) leaves logging as the application configured it; only the
CLI calls ``configure``.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Literal, TextIO

import structlog

LogFormat = Literal["auto", "console", "json"]

_STAMP, _LINE = "\x00stamp\x00", "\x00line\x00"


class _LocalTime:
    """``12:34:56.789012`` in local time: the console's timestamp, formatted once a second
    (``strftime`` on every line is a large part of a function line's cost)."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def __call__(
        self, logger: object, method: str, event: structlog.typing.EventDict
    ) -> structlog.typing.EventDict:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second, self._text = second, time.strftime("%H:%M:%S", time.localtime(second))
        event["timestamp"] = f"{self._text}.{int((now - second) * 1e6):06d}"
        return event


class _ConsoleLines:
    """structlog's console renderer, with a function's log lines (``kind`` function or
    platform: START, the handler's output, END, REPORT — several per invocation) written as
    ``hello | START RequestId: ...`` straight into the renderer's own layout for an info line,
    which is worked out once."""

    def __init__(self, renderer: structlog.dev.ConsoleRenderer) -> None:
        self._renderer = renderer
        layout = str(renderer(None, "info", {"timestamp": _STAMP, "level": "info",
                                             "event": _LINE}))  # fmt: skip
        self._before, rest = layout.split(_STAMP, 1)
        self._middle, self._after = rest.split(_LINE, 1)

    def __call__(self, logger: object, method: str, event: structlog.typing.EventDict) -> str:
        if event.get("kind") in ("function", "platform") and event.get("level") == "info":
            line = f"{event.get('function', '?')} | {event['event']}"
            return f"{self._before}{event['timestamp']}{self._middle}{line}{self._after}"
        return str(self._renderer(logger, method, event))


def configure(fmt: LogFormat = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    """Send structlog output to ``stream`` (stderr) as coloured text or JSON lines."""
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "console"
    renderer: structlog.typing.Processor
    stamp: structlog.typing.Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
        stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)
    else:
        console = structlog.dev.ConsoleRenderer(colors=stream.isatty(), pad_event_to=0)
        renderer, stamp = _ConsoleLines(console), _LocalTime()
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        stamp,
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(stream),
        # Not cached: a later ``configure`` (a test's, a reload's) must reach every logger.
        cache_logger_on_first_use=False,
    )
