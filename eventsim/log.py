"""Console logging for the CLI: readable on a terminal, JSON lines on request.

Library use (the Simulator in a test) leaves logging as the application configured it; only the
CLI calls ``configure``.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal, TextIO

import structlog

LogFormat = Literal["auto", "console", "json"]


def _compact_function_lines(
    logger: object, method: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """On the console a function's log line reads ``hello | START RequestId: ...``."""
    if event.get("kind") in ("function", "platform"):
        event.pop("kind")
        event.pop("request_id", None)
        event["event"] = f"{event.pop('function', '?')} | {event['event']}"
    return event


def configure(fmt: LogFormat = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    """Send structlog output to ``stream`` (stderr) as coloured text or JSON lines."""
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "console"
    renderer: structlog.typing.Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
        stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=stream.isatty(), pad_event_to=0)
        stamp = structlog.processors.TimeStamper(fmt="%H:%M:%S.%f", utc=False)
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        stamp,
        structlog.processors.format_exc_info,
    ]
    if fmt == "console":
        processors.append(_compact_function_lines)
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(stream),
        # Not cached: a later ``configure`` (a test's, a reload's) must reach every logger.
        cache_logger_on_first_use=False,
    )
