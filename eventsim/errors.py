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
     ├── ServiceError                a request an AWS service would refuse: its ``code`` (the
     │    │                          service's error code), message and HTTP ``status``
     │    ├── QueueError             SQS's (QueueDoesNotExist, InvalidParameterValue...)
     │    ├── TopicError             SNS's
     │    ├── BusError               EventBridge's
     │    ├── TableError             DynamoDB's (ValidationException, ConditionalCheckFailed...)
     │    ├── MultipartError         S3's, about a multipart upload
     │    ├── NoSuchKey              S3's: no object under that key (also a KeyError)
     │    └── ApiError               any service's, as the edge answers it
     ├── ExpressionError             a DynamoDB expression that does not parse (ValidationException)
     ├── PatternError                a filter pattern, filter policy or event pattern AWS refuses
     ├── ScheduleExpressionError     a cron/rate/at expression AWS refuses
     ├── InvalidKey                  an S3 key eventsim cannot map to a file in the folder
     │    └── KeyTooLong             over S3's 1,024 bytes, or a segment over 255
     ├── TargetGone                  an EventBridge target that no longer exists (not retried)
     ├── TargetRefused               a destination or dead-letter target gone or refusing
     ├── StateError                  a state file that is not what eventsim wrote
     ├── StateLocked                 another process owns the state folder
     ├── RemoteError                 the running ``eventsim up`` refused or could not be reached
     ├── PluginError                 a trigger plug-in failed to load (named, never skipped)
     ├── StartupError                a part could not start (a bucket folder it cannot create...)
     └── SimulatorStateError         the simulator is not running (not started yet, or closed)

``ValueRejected`` is also raised for arguments out of range (``advance(-1)``). The errors of
values (``ValueRejected``, ``QueueError``, ``TopicError``, ``BusError``,
``TableError``, ``ExpressionError``, ``PatternError``, ``ScheduleExpressionError``,
``InvalidKey``) are also ``ValueError``s, and ``UnknownResourceError`` a ``KeyError``.

A *function error* (the handler raised, timed out or crashed) is not an exception here: as in AWS
it is a result, ``InvokeResult.function_error == "Unhandled"`` with the error object as payload.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class EventsimError(Exception):
    """Base class of every error eventsim raises on purpose."""


#: The longest message of one config issue printed whole (it may quote the value back).
MAX_ISSUE_CHARS = 300


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
        message = self.message
        if len(message) > MAX_ISSUE_CHARS:  # a huge value quoted back: its start is enough
            cut = len(message) - MAX_ISSUE_CHARS
            message = f"{message[:MAX_ISSUE_CHARS]}... ({cut:,} more characters)"
        return f"{where}:{key} {message}"


class ConfigError(EventsimError):
    """The config is invalid; ``issues`` lists every problem found, each with its location."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        count = len(issues)
        lines = [f"{count} error{'s' if count != 1 else ''} in config"]
        lines += [f"  {issue}" for issue in issues]
        super().__init__("\n".join(lines))


class ValueRejected(EventsimError, ValueError):
    """A value the AWS service (or eventsim's API) would reject; the message says which and
    why."""


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


# --- refusals of an AWS service ---------------------------------------------------------------


class ServiceError(EventsimError):
    """A request an AWS service would refuse: ``code`` is the service's error code, the message
    its words, ``status`` the HTTP status it answers with; ``extra`` holds more fields of its
    error body."""

    def __init__(self, code: str, message: str, status: int = 400, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.extra = extra


class QueueError(ServiceError, ValueError):
    """A request SQS would refuse (``InvalidParameterValue``, ``QueueDoesNotExist``,
    ``QueueAlreadyExists``...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


class TopicError(ServiceError, ValueError):
    """A request SNS would refuse (``NotFound``, ``InvalidParameter``,
    ``InvalidParameterValue``...)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(code, message, status)


class BusError(ServiceError, ValueError):
    """A request EventBridge would refuse."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(code, message, status)


class TableError(ServiceError, ValueError):
    """A request DynamoDB would refuse (``ValidationException``,
    ``ConditionalCheckFailedException``...); ``item`` is the current item of a failed
    condition, ``extra`` more fields of the error body (``CancellationReasons``...)."""

    def __init__(
        self, code: str, message: str, item: dict[str, Any] | None = None, **extra: Any
    ) -> None:
        super().__init__(code, message, **extra)
        self.item = item


class MultipartError(ServiceError):
    """An S3 refusal about a multipart upload."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(code, message, status)


class NoSuchKey(ServiceError, KeyError):
    """S3's ``NoSuchKey``: the bucket holds no object under ``key``."""

    def __init__(self, bucket: str, key: str) -> None:
        super().__init__("NoSuchKey", f"bucket {bucket!r} has no object {key!r}", 404)
        self.bucket = bucket
        self.key = key

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class ApiError(ServiceError):
    """A request the edge refuses, in any service's terms: HTTP ``status``, the service's
    ``code`` and message."""


# --- values AWS refuses -----------------------------------------------------------------------


class ExpressionError(EventsimError, ValueError):
    """An expression DynamoDB would refuse (its ValidationException)."""


class PatternError(EventsimError, ValueError):
    """A pattern (or filter policy) the service would refuse; the message names the path and
    the rule."""


class ScheduleExpressionError(EventsimError, ValueError):
    """An expression AWS would refuse; the message says which part and why."""


class InvalidKey(EventsimError, ValueError):
    """A key that would resolve outside the bucket folder, or is otherwise unusable."""

    code = "InvalidKey"


class KeyTooLong(InvalidKey):
    """A key over S3's 1,024 bytes, or with a segment over the filesystem's 255."""

    code = "KeyTooLongError"


# --- delivery targets -------------------------------------------------------------------------


class TargetGone(EventsimError):
    """A target that does not exist (any more): EventBridge does not retry."""


class TargetRefused(EventsimError):
    """A destination or dead-letter target is gone or refused the message (``reason`` says
    which and why). ``target`` is the ``config.Destination``."""

    def __init__(self, target: Any, reason: str) -> None:
        super().__init__(f"{target}: {reason}")
        self.target = target
        self.reason = reason


# --- state and the running simulator ----------------------------------------------------------


class StateError(EventsimError):
    """A state file that is not what eventsim wrote (truncated, foreign, newer, damaged)."""

    def __init__(self, path: Path, part: str, problem: str) -> None:
        self.path = path
        self.part = part
        super().__init__(
            f"{path}: {problem}. eventsim will not start over it and lose what it holds; to "
            f"discard it run `eventsim reset-state {part}` (it is moved aside, not deleted), "
            "or move the file away yourself"
        )


class StateLocked(EventsimError):
    """Another process owns the state folder."""

    def __init__(self, folder: Path, holder: str) -> None:
        self.folder = folder
        self.holder = holder
        super().__init__(
            f"the state folder {folder} is in use by {holder}; stop it first, or give this "
            "one another state_dir"
        )


class RemoteError(EventsimError):
    """The running eventsim refused a request, or could not be reached."""
