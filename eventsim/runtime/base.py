"""What every kind of execution environment offers the pool."""

from __future__ import annotations

import abc
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .. import unconfirmed


class Status(StrEnum):
    OK = "ok"
    ERROR = "error"  # handler raised, INIT failed, or marshalling failed
    TIMEOUT = "timeout"
    CRASH = "crash"


@dataclass(frozen=True, slots=True)
class InvokeRequest:
    request_id: str
    body: bytes  # the event, JSON
    invoked_arn: str
    timeout_s: float
    trace_id: str
    client_context: dict[str, Any] | None = None
    identity: dict[str, Any] | None = None


@dataclass(slots=True)
class Execution:
    """What running one request in one environment produced."""

    status: Status
    payload: bytes  # the marshalled result, or the error object as JSON
    error_type: str | None = None
    duration_ms: float = 0.0
    init_duration_ms: float | None = None
    max_memory_kb: int | None = None
    after_report: list[str] = field(default_factory=list)  # e.g. the timeout line


LogLine = Callable[[str], None]


class Environment(abc.ABC):
    """One execution environment: INIT once, then one invocation at a time.

    ``usable`` turns False after a timeout or crash; the pool then discards it.
    """

    id: str
    log_stream: str
    usable: bool = True
    idle_since: float = 0.0

    @abc.abstractmethod
    async def start(self, on_log: LogLine) -> None:
        """Create the environment and run INIT; INIT errors surface on the first invoke."""

    @abc.abstractmethod
    async def invoke(self, request: InvokeRequest, on_log: LogLine) -> Execution:
        """Run one request; output lines go to ``on_log`` as they are produced."""

    @abc.abstractmethod
    async def close(self) -> None:
        """SHUTDOWN: release the environment (kill it if it does not stop)."""


def timed_out(request: InvokeRequest, elapsed_s: float, init_ms: float | None) -> Execution:
    """The result of a handler stopped at its deadline (§8.4)."""
    error = {
        "errorType": unconfirmed.TIMEOUT_ERROR_TYPE,
        "errorMessage": unconfirmed.timeout_message(request.request_id, elapsed_s),
    }
    now = time.time()
    stamp = f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(now))}.{int(now * 1000) % 1000:03d}Z"
    return Execution(
        Status.TIMEOUT,
        json.dumps(error).encode(),
        error_type=unconfirmed.TIMEOUT_ERROR_TYPE,
        duration_ms=elapsed_s * 1000,
        init_duration_ms=init_ms,
        after_report=[f"{stamp} {request.request_id} Task timed out after {elapsed_s:.2f} seconds"],
    )


def exited(
    request: InvokeRequest, returncode: int | None, duration_ms: float, init_ms: float | None
) -> Execution:
    """The result of a runtime that exited mid-invocation (§8.4)."""
    error = {
        "errorType": unconfirmed.EXIT_ERROR_TYPE,
        "errorMessage": unconfirmed.exit_message(request.request_id, returncode),
    }
    return Execution(
        Status.CRASH,
        json.dumps(error).encode(),
        error_type=unconfirmed.EXIT_ERROR_TYPE,
        duration_ms=duration_ms,
        init_duration_ms=init_ms,
    )


def init_failed(request: InvokeRequest, error: dict[str, Any], init_ms: float | None) -> Execution:
    """The result of an invoke whose environment failed INIT (§8.1)."""
    error = dict(error, requestId=request.request_id)
    return Execution(
        Status.ERROR,
        json.dumps(error).encode(),
        error_type=error.get("errorType"),
        init_duration_ms=init_ms,
    )
