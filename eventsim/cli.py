"""The ``eventsim`` command: thin over ``Simulator``, ``daemon`` (``up``, with its signal
handling) and ``remote`` (helpers talking to a running ``up``).

Every command that reads a config takes ``-c FILE`` (an eventsim config), ``-t FILE`` (a SAM
or CloudFormation template; ``--template`` for ``invoke``, whose ``-t`` is the invocation
type) and ``--parameter-overrides`` (the template's parameters, as ``sam`` takes them);
``import`` and ``export sam`` convert between the two.

Exit codes: 0 success, 1 the function returned an error (``invoke``), 2 bad input (config,
event, options).
"""

from __future__ import annotations

import asyncio
import functools
import json
import shlex
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

import click

from . import __version__, daemon, logfiles
from . import log as logconfig
from .config import Config, find_config, load_config
from .errors import ConfigError, EventsimError
from .generate import generate_event
from .remote import Remote
from .runtime.logs import LogSink
from .sam.export import export_template
from .sam.imported import import_template
from .simulator import Simulator
from .state import describe_holder, discard, holder_of
from .triggers.schedule import ScheduleTimes, schedule_triggers

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ConfigFile:
    """The config a command reads: an eventsim config or a template, and the values given for
    the template's parameters (``--parameter-overrides``)."""

    path: Path
    parameters: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return str(self.path)


def parameter_overrides(values: tuple[str, ...]) -> dict[str, str]:
    """``--parameter-overrides`` as ``sam`` takes them: ``Key=Value`` pairs, or AWS CLI's
    ``ParameterKey=Key,ParameterValue=Value``, separated by spaces (quotes allowed) or given
    with the option repeated."""
    found: dict[str, str] = {}
    for value in values:
        try:
            words = shlex.split(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--parameter-overrides") from None
        for word in words:
            if word.startswith("ParameterKey="):
                key, comma, rest = word.removeprefix("ParameterKey=").partition(",")
                if not comma or not rest.startswith("ParameterValue="):
                    raise click.BadParameter(
                        f"{word!r}: expected ParameterKey=KEY,ParameterValue=VALUE",
                        param_hint="--parameter-overrides",
                    )
                found[key] = rest.removeprefix("ParameterValue=")
                continue
            key, equals, text = word.partition("=")
            if not equals or not key:
                raise click.BadParameter(
                    f"{word!r}: expected KEY=VALUE", param_hint="--parameter-overrides"
                )
            found[key] = text
    return found


def _config_options(command: F, template_flags: tuple[str, ...]) -> F:
    """``-c``, the template option and ``--parameter-overrides``, given to ``command`` as one
    ``config_path: ConfigFile`` (found with ``find_config`` when neither file is named)."""

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        config_path: Path | None,
        template_path: Path | None,
        overrides: tuple[str, ...],
        **kwargs: Any,
    ) -> Any:
        if config_path is not None and template_path is not None:
            raise click.UsageError("give a config (-c) or a template (-t), not both")
        path = config_path or template_path
        if path is None:
            try:
                path = find_config()
            except ConfigError as exc:
                raise click.UsageError(exc.issues[0].message) from None
        chosen = ConfigFile(path, parameter_overrides(overrides))
        return command(*args, config_path=chosen, **kwargs)

    wrapper = click.option(
        "--parameter-overrides",
        "overrides",
        multiple=True,
        metavar="'KEY=VALUE ...'",
        help="Values of the template's parameters, as sam takes them (also AWS::StackName, "
        "AWS::Region, AWS::AccountId).",
    )(wrapper)
    wrapper = click.option(
        *template_flags,
        "template_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="A SAM or CloudFormation template as the config.",
    )(wrapper)
    wrapper = click.option(
        "-c",
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="The config file. Default: ./eventsim.yaml, else ./config/eventsim.yaml, else "
        "./template.yaml (or .yml).",
    )(wrapper)
    return wrapper  # type: ignore[return-value]


def _config_option(command: F) -> F:
    return _config_options(command, ("-t", "--template"))


def _config_option_without_t(command: F) -> F:
    """For ``invoke``, whose ``-t`` is ``--invocation-type``: ``--template`` only."""
    return _config_options(command, ("--template",))


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


def _load(config_path: ConfigFile) -> Config:
    try:
        return load_config(config_path.path, config_path.parameters)
    except ConfigError as exc:
        for issue in exc.issues:
            click.echo(f"error: {issue}", err=True)
        raise SystemExit(2) from None


def _run(main: Coroutine[Any, Any, int]) -> NoReturn:
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
def validate(config_path: ConfigFile) -> None:
    """Check a config file (or a template) and summarise it; list every error with
    file:line:column, and what eventsim does not honour of a template."""
    try:
        config = load_config(config_path.path, config_path.parameters)
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
    if config.not_honoured:
        click.echo(f"not honoured by eventsim ({len(config.not_honoured)}):")
        for issue in config.not_honoured:
            click.echo(f"  {issue}")


def _count(items: dict[str, Any], noun: str) -> str:
    names = f" ({', '.join(items)})" if items else ""
    return f"{len(items)} {noun}{'s' if len(items) != 1 else ''}{names}"


@cli.command()
@_config_option
@click.option("--port", type=click.IntRange(0, 65535), help="Port of the edge (AWS APIs).")
@click.option(
    "--http-port", type=click.IntRange(0, 65535), help="Port of the HTTP triggers (0: any)."
)
@click.option("--reload", is_flag=True, help="Restart environments when handler code changes.")
@_log_options
def up(
    config_path: ConfigFile,
    port: int | None,
    http_port: int | None,
    reload: bool,
    log_format: str,
    log_level: str,
) -> None:
    """Run the simulator, the edge and the HTTP triggers until Ctrl-C or SIGTERM."""
    logconfig.configure(log_format, log_level)  # type: ignore[arg-type]  # click.Choice
    config = _load(config_path)
    server = config.server.model_copy(
        update={k: v for k, v in {"port": port, "http_port": http_port}.items() if v is not None}
    )
    _run(daemon.run(config.model_copy(update={"server": server}), reload=reload))


def _endpoint_option(command: F) -> F:
    return click.option(
        "--endpoint",
        envvar="EVENTSIM_ENDPOINT",
        help="The running eventsim's edge URL. Default: from the config's server section.",
    )(command)


def _remote(endpoint: str | None, config_path: ConfigFile) -> Remote:
    """The running ``eventsim up``: ``--endpoint``, else the one that holds the config's state
    folder (it advertises its edge there), else the config's server address."""
    if endpoint:
        return Remote(endpoint)
    config = _load(config_path)
    holder = holder_of(config.state_dir)
    if holder is not None and isinstance(holder.get("edge"), str):
        return Remote(str(holder["edge"]))
    return Remote(f"http://{config.server.host}:{config.server.port}")


@cli.command("send-message")
@click.argument("queue")
@click.argument("body")
@click.option("--group-id", help="MessageGroupId (FIFO queues).")
@click.option("--deduplication-id", help="MessageDeduplicationId (FIFO queues).")
@click.option("--delay", type=click.IntRange(0, 900), help="DelaySeconds.")
@_config_option
@_endpoint_option
def send_message(
    queue: str,
    body: str,
    group_id: str | None,
    deduplication_id: str | None,
    delay: int | None,
    config_path: ConfigFile,
    endpoint: str | None,
) -> None:
    """Send BODY to QUEUE of a running `eventsim up`; print the message id."""
    options = {
        "MessageGroupId": group_id,
        "MessageDeduplicationId": deduplication_id,
        "DelaySeconds": delay,
    }
    remote = _remote(endpoint, config_path)
    click.echo(remote.send_message(queue, body, **{k: v for k, v in options.items() if v}))


@cli.command("put-item")
@click.argument("table")
@click.argument("item")
@click.option("--typed", is_flag=True, help='ITEM is DynamoDB JSON ({"pk": {"S": ...}}).')
@_config_option
@_endpoint_option
def put_item(
    table: str, item: str, typed: bool, config_path: ConfigFile, endpoint: str | None
) -> None:
    """Write ITEM (a JSON object; numbers stay exact) to TABLE of a running `eventsim up`."""
    try:
        value = json.loads(item, parse_float=Decimal)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="ITEM") from None
    if not isinstance(value, dict):
        raise click.BadParameter("an item is a JSON object", param_hint="ITEM")
    _remote(endpoint, config_path).put_item(table, value, typed=typed)
    click.echo(f"{table}: item written")


@cli.command()
@click.option("--key", help="An S3 object key.")
@click.option("--message", help="An SQS message id (or text of its body).")
@click.option("--item", help='An item\'s key as JSON, e.g. \'{"pk": "a"}\'.')
@_config_option
@_endpoint_option
def explain(
    key: str | None, message: str | None, item: str | None, config_path: ConfigFile,
    endpoint: str | None,
) -> None:  # fmt: skip
    """Why did (or didn't) it fire? What a running `eventsim up` knows about a key, message
    or item: every attempt, and every drop with its reason."""
    query = {k: v for k, v in {"key": key, "message": message, "item": item}.items() if v}
    if len(query) != 1:
        raise click.UsageError("give exactly one of --key, --message, --item")
    click.echo(_remote(endpoint, config_path).explain(**query), nl=False)


@cli.command()
@click.argument("function")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines as they come.")
@click.option("-n", "--lines", default=50, show_default=True, help="How many lines to show.")
@_config_option
def logs(function: str, follow: bool, lines: int, config_path: ConfigFile) -> None:
    """Print FUNCTION's log (every environment's stream, as CloudWatch Logs would hold it)."""
    config = _load(config_path)
    if function not in config.functions:
        raise click.BadParameter(f"no function {function!r} in {config_path}")
    folder = LogSink(config.state_dir).directory / function
    logfiles.show(folder, lines, follow)


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
@click.option("--remote", is_flag=True, help="Invoke through a running `eventsim up`.")
@_config_option_without_t
@_endpoint_option
@_log_options
def invoke(
    function: str,
    event_file: Any,
    invocation_type: str,
    remote: bool,
    config_path: ConfigFile,
    endpoint: str | None,
    log_format: str,
    log_level: str,
) -> None:
    """Invoke FUNCTION once; print its result on stdout, logs on stderr."""
    logconfig.configure(log_format, log_level)  # type: ignore[arg-type]  # click.Choice
    event = event_file.read() if event_file is not None else b""
    if not remote and endpoint is None:
        config = _load(config_path)
        # A template's function may be named by its logical id when FunctionName renames it.
        function = config.aliases.get("functions", {}).get(function, function)
        holder = holder_of(config.state_dir)
        if holder is None:
            _run(_invoke(config, function, event, invocation_type))
        if not isinstance(holder.get("edge"), str):
            raise click.ClickException(
                f"the state folder {config.state_dir} is in use by {describe_holder(holder)}; "
                "stop it first"
            )
        click.echo(
            f"{describe_holder(holder)} holds {config.state_dir}: invoking through it at "
            f"{holder['edge']}",
            err=True,
        )
    raise SystemExit(_invoke_remote(_remote(endpoint, config_path), function, event,
                                    invocation_type))  # fmt: skip


def _invoke_remote(remote: Remote, function: str, event: bytes, invocation_type: str) -> int:
    result = remote.invoke(function, event, invocation_type)
    click.echo(Remote.log_tail(result), err=True, nl=False)
    if invocation_type != "RequestResponse":
        click.echo(f'{{"StatusCode": {result.status}}}')
        return 0
    sys.stdout.buffer.write(result.body + b"\n")
    sys.stdout.flush()
    return 1 if result.headers.get("X-Amz-Function-Error") else 0


async def _invoke(config: Config, function: str, event: bytes, invocation_type: str) -> int:
    # The function only: no trigger starts, and events an `eventsim up` left pending stay so.
    async with Simulator(config, triggers=False, command="eventsim invoke") as sim:
        result = await sim.invoke(function, event, invocation_type=invocation_type)  # type: ignore[arg-type]
        await sim.settle(timeout=None)
    if invocation_type != "RequestResponse":
        click.echo(f'{{"StatusCode": {result.status_code}, "RequestId": "{result.request_id}"}}')
        return 0
    sys.stdout.buffer.write(result.raw_payload + b"\n")
    sys.stdout.flush()
    return 0 if result.function_error is None else 1


@cli.command("reset-state")
@click.argument("parts", nargs=-1, required=True)
@_config_option
def reset_state(parts: tuple[str, ...], config_path: ConfigFile) -> None:
    """Discard state eventsim cannot use, or no longer wants: each PART is events, queues,
    buckets/NAME, tables/NAME, or all. The files are moved to STATE_DIR/discarded/TIME/, not
    deleted. `eventsim up` must not be running on the folder."""
    state_dir = _load(config_path).state_dir
    try:
        moves = discard(state_dir, parts)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="PART") from None
    if not moves:
        click.echo(f"{state_dir}: nothing to discard for {', '.join(parts)}")
    for source, target in moves:
        click.echo(f"moved {source} -> {target}")


@cli.command()
@_config_option
@click.option("--next", "count", default=5, show_default=True, type=click.IntRange(1, 1000))
def schedules(config_path: ConfigFile, count: int) -> None:
    """Print the next fire times of every schedule (in UTC and in its time zone): those of the
    running `eventsim up` if there is one (rate() counts from its start), else from now."""
    config = _load(config_path)
    holder = holder_of(config.state_dir)
    if holder is not None and isinstance(holder.get("edge"), str):
        found = Remote(str(holder["edge"])).schedules(count)
        click.echo(f"as scheduled by the running {describe_holder(holder)}:")
    else:
        now = datetime.now(UTC)
        found = [
            {"function": function, "name": name, "expression": trigger.expression,
             "timezone": trigger.timezone, "enabled": trigger.enabled,
             "next": [t.isoformat() for t in ScheduleTimes(trigger).fire_times(now, count)]}
            for function, name, trigger in schedule_triggers(config)
        ]  # fmt: skip
    if not found:
        click.echo(f"{config_path}: no schedules")
    for schedule in found:
        click.echo(f"{schedule['function']} <- {schedule['name']}: {schedule['expression']} "
                   f"[{schedule['timezone']}]")  # fmt: skip
        if not schedule["enabled"]:
            click.echo("  (disabled: it does not fire)")
            continue
        zone = ZoneInfo(schedule["timezone"])
        for text in schedule["next"]:
            when = datetime.fromisoformat(text).astimezone(UTC)
            local = when.astimezone(zone)
            click.echo(f"  {when:%Y-%m-%d %H:%M:%S}Z  ({local:%a %Y-%m-%d %H:%M %Z})")
        if len(schedule["next"]) < count:
            click.echo("  (no later firings)")


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


# --- templates --------------------------------------------------------------------------------


@cli.command("import")
@click.argument("template", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--parameter-overrides",
    "overrides",
    multiple=True,
    metavar="'KEY=VALUE ...'",
    help="Values of the template's parameters, as sam takes them.",
)
def import_(template: Path, overrides: tuple[str, ...]) -> None:
    """Print the eventsim.yaml equivalent to a SAM or CloudFormation TEMPLATE (paths relative
    to its folder): eventsim import template.yaml > eventsim.yaml"""
    try:
        text = import_template(template, parameter_overrides(overrides))
    except ConfigError as exc:
        for issue in exc.issues:
            click.echo(f"error: {issue}", err=True)
        raise SystemExit(2) from None
    click.echo(text, nl=False)


@cli.group()
def export() -> None:
    """Write the config in another tool's format."""


@export.command("sam")
@_config_option
def export_sam(config_path: ConfigFile) -> None:
    """Print a SAM template with the config's functions, triggers and resources, for `sam
    deploy` (paths relative to the current folder): eventsim export sam > template.yaml"""
    click.echo(export_template(_load(config_path), Path.cwd()), nl=False)
