"""The ``eventsim`` command: thin over ``Simulator``; signal handling lives only here.

Exit codes: 0 success, 1 the function returned an error (``invoke``), 2 bad input (config,
event, options).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from random import Random
from typing import Any, TypeVar

import click
import structlog

from . import __version__
from . import log as logconfig
from .clock import RealClock
from .config import DEFAULT_CONFIG_PATH, Config, load_config
from .errors import ConfigError, EventsimError
from .generate import generate_event
from .router import schedule_triggers
from .simulator import Simulator
from .sources.schedule import ScheduleSource

F = TypeVar("F", bound=Callable[..., Any])

log = structlog.get_logger("eventsim")


def _config_option(command: F) -> F:
    return click.option(
        "-c",
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_CONFIG_PATH,
        show_default=True,
        help="The config file.",
    )(command)


def _log_options(command: F) -> F:
    command = click.option(
        "--log-format",
        type=click.Choice(["auto", "console", "json"]),
        default="auto",
        show_default=True,
        help="Console log format: readable text, or JSON lines.",
    )(command)
    return click.option(
        "--log-level",
        type=click.Choice(["debug", "info", "warning", "error"]),
        default="info",
        show_default=True,
    )(command)


def _load(config_path: Path) -> Config:
    try:
        return load_config(config_path)
    except ConfigError as exc:
        for issue in exc.issues:
            click.echo(f"error: {issue}", err=True)
        raise SystemExit(2) from None


def _run(main: Coroutine[Any, Any, int]) -> None:
    try:
        code = asyncio.run(main)
    except EventsimError as exc:
        click.echo(f"error: {exc}", err=True)
        code = 2
    except KeyboardInterrupt:  # Ctrl-C during `invoke`; `up` handles SIGINT itself
        click.echo("interrupted", err=True)
        code = 130
    raise SystemExit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="eventsim")
def cli() -> None:
    """Run real Python Lambda handlers locally on real triggers."""


@cli.command()
@_config_option
def validate(config_path: Path) -> None:
    """Check a config file and summarise it; list every error with file:line:column."""
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        for issue in exc.issues:
            click.echo(str(issue))
        click.echo(f"{len(exc.issues)} error(s) in {config_path}")
        raise SystemExit(2) from None
    triggers = sum(len(f.triggers) for f in config.functions.values())
    click.echo(
        f"{config_path}: ok: {_count(config.functions, 'function')}, "
        f"{triggers} trigger{'s' if triggers != 1 else ''}, "
        f"{_count(config.buckets, 'bucket')}, {_count(config.queues, 'queue')}, "
        f"{_count(config.tables, 'table')}"
    )
    for name, function in config.functions.items():
        kinds = ", ".join(t.kind for t in function.triggers) or "no triggers"
        click.echo(f"  {name}: {function.handler} ({function.isolation}; {kinds})")


def _count(items: dict[str, Any], noun: str) -> str:
    names = f" ({', '.join(items)})" if items else ""
    return f"{len(items)} {noun}{'s' if len(items) != 1 else ''}{names}"


@cli.command()
@_config_option
@click.option("--port", type=click.IntRange(0, 65535), help="Port of the HTTP edge server.")
@_log_options
def up(config_path: Path, port: int | None, log_format: str, log_level: str) -> None:
    """Run the simulator until Ctrl-C or SIGTERM."""
    logconfig.configure(log_format, log_level)  # type: ignore[arg-type]  # click.Choice
    config = _load(config_path)
    if port is not None:
        config = config.model_copy(
            update={"server": config.server.model_copy(update={"port": port})}
        )
    _run(_up(config))


async def _up(config: Config) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Simulator(config) as sim:
        log.info(
            "eventsim ready",
            config=str(config.source),
            functions=sorted(sim.functions),
            state_dir=str(sim.state_dir),
        )
        await stop.wait()
        log.info("eventsim stopping")
    return 0


@cli.command()
@click.argument("function")
@click.option(
    "-e",
    "--event",
    "event_file",
    type=click.File("rb"),
    help="JSON event file, or - for standard input. Default: {}.",
)
@click.option(
    "-t",
    "--invocation-type",
    type=click.Choice(["RequestResponse", "Event", "DryRun"]),
    default="RequestResponse",
    show_default=True,
)
@_config_option
@_log_options
def invoke(
    function: str,
    event_file: Any,
    invocation_type: str,
    config_path: Path,
    log_format: str,
    log_level: str,
) -> None:
    """Invoke FUNCTION once; print its result on stdout, logs on stderr."""
    logconfig.configure(log_format, log_level)  # type: ignore[arg-type]  # click.Choice
    config = _load(config_path)
    event = event_file.read() if event_file is not None else b""
    _run(_invoke(config, function, event, invocation_type))


async def _invoke(config: Config, function: str, event: bytes, invocation_type: str) -> int:
    async with Simulator(config) as sim:
        result = await sim.invoke(function, event, invocation_type=invocation_type)  # type: ignore[arg-type]
        await sim.settle(timeout=None)
    if invocation_type != "RequestResponse":
        click.echo(f'{{"StatusCode": {result.status_code}, "RequestId": "{result.request_id}"}}')
        return 0
    sys.stdout.buffer.write(result.raw_payload + b"\n")
    sys.stdout.flush()
    return 0 if result.function_error is None else 1


@cli.command()
@_config_option
@click.option("--next", "count", default=5, show_default=True, type=click.IntRange(1, 1000))
def schedules(config_path: Path, count: int) -> None:
    """Print the next fire times of every schedule (in UTC and in its time zone)."""
    config = _load(config_path)
    now = datetime.now(UTC)
    found = schedule_triggers(config)
    if not found:
        click.echo(f"{config_path}: no schedules")
    for function, name, trigger in found:
        source = ScheduleSource(
            function, name, trigger, clock=RealClock(), emit=_ignore, spawn=_ignore, rng=Random()
        )
        state = "" if trigger.enabled else " (disabled)"
        click.echo(f"{function} <- {name}: {trigger.expression} [{trigger.timezone}]{state}")
        times = source.fire_times(now, count)
        for when in times:
            local = when.astimezone(source.schedule.timezone)
            click.echo(f"  {when:%Y-%m-%d %H:%M:%S}Z  ({local:%a %Y-%m-%d %H:%M %Z})")
        if len(times) < count:
            click.echo("  (no later firings)")


def _ignore(*args: Any) -> None:
    pass


cli.add_command(generate_event)


def main() -> None:
    """Entry point: every error is one ``error: ...`` line on stderr, never a traceback."""
    try:
        cli.main(prog_name="eventsim", standalone_mode=False)
    except click.exceptions.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except click.UsageError as exc:
        where = f"{exc.ctx.command_path}: " if exc.ctx else ""
        click.echo(f"error: {where}{exc.format_message()}", err=True)
        raise SystemExit(2) from None
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        raise SystemExit(exc.exit_code) from None
    except click.Abort:
        click.echo("aborted", err=True)
        raise SystemExit(1) from None
    except EventsimError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    raise SystemExit(0)
