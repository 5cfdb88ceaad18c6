from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import structlog

from eventsim import Simulator
from eventsim.testing import SimulatorFactory

from .helpers import REPO, MakeSim
from .test_up_s3 import Up

#: The demo's own folders in the checkout: the suite must never create or use them.
DEMO_STATE = (REPO / ".eventsim", REPO / "data")


@pytest.fixture(scope="session", autouse=True)
def _demo_folders_untouched() -> Iterator[None]:
    """Fails the run if a test created the demo's state or data folder in the checkout (on a
    clean checkout, as in CI; a developer's running demo is left alone)."""
    absent = [folder for folder in DEMO_STATE if not folder.exists()]
    yield
    created = [str(folder) for folder in absent if folder.exists()]
    assert not created, f"a test wrote into the demo's folders: {created}; use helpers.demo()"


@pytest.fixture(autouse=True)
def _logging_as_found() -> Iterator[None]:
    """The CLI configures structlog for the whole process; a command run in-process by
    CliRunner must not change what later tests' ``capture_logs`` sees."""
    before = structlog.get_config()
    yield
    if structlog.get_config() != before:
        structlog.configure(**before)


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
