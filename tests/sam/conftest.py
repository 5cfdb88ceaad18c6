"""The corpus of templates (``templates/``), each copied to the test's own folder."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from eventsim import Simulator
from eventsim.testing import SimulatorFactory

TEMPLATES = Path(__file__).parent / "templates"

Project = Callable[[str], Path]
StartTemplate = Callable[..., Awaitable[Simulator]]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A copy of the corpus project ``name`` in the test's folder (its data and state land
    there); returns the copy's folder."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(TEMPLATES / name, target, ignore=shutil.ignore_patterns("__pycache__"))
        return target

    return copy


@pytest_asyncio.fixture
async def start(project: Project, eventsim_factory: SimulatorFactory) -> StartTemplate:
    """Start a simulator on a corpus project's template (or config, ``file=``)."""

    async def make(name: str, file: str = "template.yaml", **options: Any) -> Simulator:
        return await eventsim_factory(project(name) / file, **options)

    return make


def named(sim: Simulator, section: str, logical_id: str) -> str:
    """The name eventsim gives a template's resource (its alias)."""
    return sim.config.aliases[section][logical_id]  # type: ignore[index]
