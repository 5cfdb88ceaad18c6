"""eventsim: run real Python Lambda handlers locally on real triggers.

Public names are imported on first use, so that the execution-environment child process, which
imports ``eventsim.runtime.worker`` on every cold start, does not pay for pydantic and structlog.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Activity",
    "Attempt",
    "BusError",
    "Clock",
    "Concurrency",
    "Config",
    "ConfigError",
    "ConfigIssue",
    "EventsimError",
    "FunctionNotFound",
    "InvalidRequestContent",
    "InvokeError",
    "InvokeResult",
    "Ledger",
    "NoSuchKey",
    "Outcome",
    "QueueError",
    "RealClock",
    "RequestTooLarge",
    "ServiceError",
    "Simulator",
    "SimulatorStateError",
    "StartupError",
    "StateError",
    "StateLocked",
    "TableError",
    "TooManyRequests",
    "TopicError",
    "UnknownResourceError",
    "ValueRejected",
    "VirtualClock",
    "load_config",
]

_HOMES = {
    "Activity": "activity",
    "Attempt": "ledger",
    "BusError": "errors",
    "Clock": "clock",
    "Concurrency": "runtime.pool",
    "Config": "config",
    "ConfigError": "errors",
    "ConfigIssue": "errors",
    "EventsimError": "errors",
    "FunctionNotFound": "errors",
    "InvalidRequestContent": "errors",
    "InvokeError": "errors",
    "InvokeResult": "invocation.sync",
    "Ledger": "ledger",
    "NoSuchKey": "errors",
    "Outcome": "ledger",
    "QueueError": "errors",
    "RealClock": "clock",
    "RequestTooLarge": "errors",
    "ServiceError": "errors",
    "Simulator": "simulator",
    "SimulatorStateError": "errors",
    "StartupError": "errors",
    "StateError": "errors",
    "StateLocked": "errors",
    "TableError": "errors",
    "TooManyRequests": "errors",
    "TopicError": "errors",
    "UnknownResourceError": "errors",
    "ValueRejected": "errors",
    "VirtualClock": "clock",
    "load_config": "config",
}

if TYPE_CHECKING:
    from .activity import Activity
    from .clock import Clock, RealClock, VirtualClock
    from .config import Config, load_config
    from .errors import (
        BusError,
        ConfigError,
        ConfigIssue,
        EventsimError,
        FunctionNotFound,
        InvalidRequestContent,
        InvokeError,
        NoSuchKey,
        QueueError,
        RequestTooLarge,
        ServiceError,
        SimulatorStateError,
        StartupError,
        StateError,
        StateLocked,
        TableError,
        TooManyRequests,
        TopicError,
        UnknownResourceError,
        ValueRejected,
    )
    from .invocation.sync import InvokeResult
    from .ledger import Attempt, Ledger, Outcome
    from .runtime.pool import Concurrency
    from .simulator import Simulator


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'eventsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*__all__, "__version__"])
