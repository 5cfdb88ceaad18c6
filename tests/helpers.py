"""Shared test helpers: handlers live in tests/functions."""

from __future__ import annotations

import shutil
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


def demo(folder: Path) -> Path:
    """A copy of the demo (config/ and sample_functions/, same layout) in ``folder``; returns
    its config file. Its state and bucket folders land in ``folder``: tests never touch the
    checkout's own ``.eventsim/`` and ``data/``."""
    for part in ("config", "sample_functions"):
        shutil.copytree(REPO / part, folder / part, ignore=shutil.ignore_patterns("__pycache__"))
    return folder / "config" / "eventsim.yaml"
