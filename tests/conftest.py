from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from eventsim import Simulator
from eventsim.testing import SimulatorFactory

from .helpers import MakeSim
from .test_up_s3 import Up


@pytest_asyncio.fixture
async def make_sim(eventsim_factory: SimulatorFactory) -> MakeSim:
    """Start a simulator with the given functions (and other top-level config keys)."""

    async def make(
        functions: dict[str, Any], virtual_time: bool = True, **config: Any
    ) -> Simulator:
        return await eventsim_factory({"functions": functions, **config}, virtual_time=virtual_time)

    return make


@pytest.fixture
def up(project: Path) -> Iterator[Up]:
    """A running `eventsim up` on the module's ``project`` fixture; killed at teardown."""
    running = Up(project)
    yield running
    running.process.kill()
    running.process.wait()
