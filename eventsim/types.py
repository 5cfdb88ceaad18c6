"""Small types shared across layers."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

#: Runs a coroutine as a task of the simulator's task group (which owns every task).
Spawn = Callable[[Coroutine[Any, Any, None]], object]
