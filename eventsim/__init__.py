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
    "Clock",
    "Config",
    "ConfigError",
    "ConfigIssue",
    "EventsimError",
    "FunctionNotFound",
    "InvalidRequestContent",
    "InvokeError",
    "InvokeResult",
    "Ledger",
    "Outcome",
    "RealClock",
    "RequestTooLarge",
    "Simulator",
    "SimulatorStateError",
    "StartupError",
    "TooManyRequests",
    "UnknownResourceError",
    "VirtualClock",
    "load_config",
]

_HOMES = {
    "Activity": "activity",
    "Attempt": "ledger",
    "Clock": "clock",
    "Config": "config",
    "ConfigError": "errors",
    "ConfigIssue": "errors",
    "EventsimError": "errors",
    "FunctionNotFound": "errors",
    "InvalidRequestContent": "errors",
    "InvokeError": "errors",
    "InvokeResult": "invocation.sync",
    "Ledger": "ledger",
    "Outcome": "ledger",
    "RealClock": "clock",
    "RequestTooLarge": "errors",
    "Simulator": "simulator",
    "SimulatorStateError": "errors",
    "StartupError": "errors",
    "TooManyRequests": "errors",
    "UnknownResourceError": "errors",
    "VirtualClock": "clock",
    "load_config": "config",
}

if TYPE_CHECKING:
    from .activity import Activity
    from .clock import Clock, RealClock, VirtualClock
    from .config import Config, load_config
    from .errors import (
        ConfigError,
        ConfigIssue,
        EventsimError,
        FunctionNotFound,
        InvalidRequestContent,
        InvokeError,
        RequestTooLarge,
        SimulatorStateError,
        StartupError,
        TooManyRequests,
        UnknownResourceError,
    )
    from .invocation.sync import InvokeResult
    from .ledger import Attempt, Ledger, Outcome
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
