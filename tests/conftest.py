from __future__ import annotations

from typing import Any

import pytest_asyncio

from eventsim import Simulator
from eventsim.testing import SimulatorFactory

from .helpers import MakeSim


@pytest_asyncio.fixture
async def make_sim(eventsim_factory: SimulatorFactory) -> MakeSim:
    """Start a simulator with the given functions (and other top-level config keys)."""

    async def make(
        functions: dict[str, Any], virtual_time: bool = True, **config: Any
    ) -> Simulator:
        return await eventsim_factory({"functions": functions, **config}, virtual_time=virtual_time)

    return make
