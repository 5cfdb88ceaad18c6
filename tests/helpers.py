"""Shared test helpers: handlers live in tests/functions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from eventsim import Simulator

FUNCTIONS = Path(__file__).parent / "functions"
REPO = Path(__file__).parent.parent

MakeSim = Callable[..., Awaitable[Simulator]]


def function(handler: str, **options: Any) -> dict[str, Any]:
    """A function config running ``handler`` from tests/functions."""
    if "." not in handler:
        handler = f"behaviours.{handler}"
    return {"handler": handler, "code": str(FUNCTIONS), **options}
