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

#: What tools (not tests) may create at the top of the checkout.
TOOL_FOLDERS = {".pytest_cache", ".mypy_cache", ".ruff_cache", "__pycache__", ".hypothesis"}


@pytest.fixture(scope="session", autouse=True)
def _checkout_untouched() -> Iterator[None]:
    """Fails the run if a test created anything at the top of the checkout — the demo's state
    or data folder, a bucket folder resolved against the current folder — on a clean checkout,
    as in CI (a developer's running demo and own files are left alone)."""
    before = {entry.name for entry in REPO.iterdir()}
    yield
    created = sorted({entry.name for entry in REPO.iterdir()} - before - TOOL_FOLDERS)
    assert not created, (
        f"a test wrote into the checkout: {created}; tests work in tmp_path (helpers.demo() "
        "for the demo)"
    )


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
