"""The errors eventsim raises.

Every error eventsim raises on purpose derives from ``EventsimError``::

    EventsimError
     ├── ConfigError                 the config file or dict is invalid (one or more ConfigIssue)
     ├── ValueRejected               a value the AWS service would reject (a DynamoDB number
     │                               beyond 38 digits, an empty set, ...); also a ValueError
     ├── UnknownResourceError        a function, bucket, queue or table name that the config lacks
     │    └── FunctionNotFound       Lambda's ResourceNotFoundException
     ├── InvokeError                 Lambda refused an invocation before running the handler
     │    ├── RequestTooLarge        payload over the sync (6 MB) or async (1 MB) limit
     │    ├── InvalidRequestContent  the event is not valid JSON
     │    └── TooManyRequests        throttled: reserved or account concurrency exhausted (429)
     ├── PluginError                 a trigger plug-in failed to load (named, never skipped)
     ├── StartupError                a part could not start (a bucket folder it cannot create...)
     └── SimulatorStateError         the simulator is not running (not started yet, or closed)

A *function error* (the handler raised, timed out or crashed) is not an exception here: as in AWS
it is a result, ``InvokeResult.function_error == "Unhandled"`` with the error object as payload.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass


class EventsimError(Exception):
    """Base class of every error eventsim raises on purpose."""


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a config: where it is and what was expected."""

    file: str | None
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file or "<config>"
        if self.line is not None:
            where = f"{where}:{self.line}:{self.column or 1}"
        key = f" {self.path}:" if self.path else ""
        return f"{where}:{key} {self.message}"


class ConfigError(EventsimError):
    """The config is invalid; ``issues`` lists every problem found, each with its location."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        count = len(issues)
        lines = [f"{count} error{'s' if count != 1 else ''} in config"]
        lines += [f"  {issue}" for issue in issues]
        super().__init__("\n".join(lines))


class ValueRejected(EventsimError, ValueError):
    """A value the AWS service would reject; the message says which and why."""


class UnknownResourceError(EventsimError, KeyError):
    """A name that the config does not define."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind = kind
        self.name = name
        choices = ", ".join(sorted(known)) or "none"
        super().__init__(f"no {kind} named {name!r} in the config (defined: {choices})")

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class FunctionNotFound(UnknownResourceError):
    """Lambda's ``ResourceNotFoundException`` (HTTP 404)."""

    error_code = "ResourceNotFoundException"
    status = 404

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__("function", name, known)


class InvokeError(EventsimError):
    """Lambda refused the invocation before any handler ran; ``error_code`` is AWS's name."""

    error_code = "ServiceException"
    status = 500


class RequestTooLarge(InvokeError):
    error_code = "RequestTooLargeException"
    status = 413


class InvalidRequestContent(InvokeError):
    error_code = "InvalidRequestContentException"
    status = 400


class TooManyRequests(InvokeError):
    """Throttled (HTTP 429). ``reason`` is AWS's ``Reason`` field."""

    error_code = "TooManyRequestsException"
    status = 429

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class StartupError(EventsimError):
    """A part of the simulator could not start; the simulator was closed again."""

    @classmethod
    def cannot_listen(
        cls, what: str, host: str, port: int, key: str, flag: str, exc: OSError
    ) -> StartupError:
        """A server could not listen: a port in use names the config key and the flag that
        choose another."""
        if exc.errno == errno.EADDRINUSE:
            return cls(
                f"the {what} port {port} on {host} is in use: choose another with {key} in the "
                f"config or {flag} (0: any free port)"
            )
        return cls(f"the {what} server cannot listen on {host}:{port}: {exc.strerror or exc}")


class SimulatorStateError(EventsimError):
    """The simulator is not running: use it inside ``async with`` or after ``start()``."""


class PluginError(EventsimError):
    """A trigger plug-in (entry point group ``eventsim.triggers``) could not be loaded."""

    def __init__(self, name: str, where: str, problem: str) -> None:
        self.name = name
        self.where = where
        super().__init__(
            f"the trigger plug-in {name!r} (from {where}) cannot be used: {problem}; "
            "fix or uninstall that package"
        )
