"""Small types shared across layers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol


class Tasks(Protocol):
    """How a part starts tasks: always under the simulator's supervision
    (``eventsim.supervisor.Supervisor`` is the implementation)."""

    def spawn(self, coroutine: Coroutine[Any, Any, None], *, part: str = ...) -> asyncio.Task[None]:
        """Run one piece of work; its failure is logged and marks ``part`` degraded."""

    def keep(self, part: str, run: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Run the loop ``run()``, starting it again (with back-off) whenever it raises."""

    def report(self, part: str, error: BaseException) -> None:
        """A failure ``part`` caught and recovered from itself (logged, shown in health)."""
