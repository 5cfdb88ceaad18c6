"""Fixtures of the reliability suite: `eventsim up` processes that never outlive their test,
and the seed of each test's random choices."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from .harness import StartUp, Up


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: starts and stops many real `eventsim up` processes (CI runs them)"
    )


@pytest.fixture
def start_up() -> Iterator[StartUp]:
    """Start an `eventsim up` on a project folder (waiting until it is ready, unless
    ``ready=False``); every one started is killed at teardown if it still runs."""
    started: list[Up] = []

    def start(project: Path, *, ready: bool = True) -> Up:
        up = Up(project, ready=False)
        started.append(up)
        if ready:
            up.wait_ready()
        return up

    yield start
    for up in started:
        up.close()


@pytest.fixture
def seed() -> int:
    """The seed of the test's random choices: $RELIABILITY_SEED, or a fresh one, printed so
    that a failure can be replayed."""
    value = int(os.environ.get("RELIABILITY_SEED") or random.randrange(2**32))
    print(f"RELIABILITY_SEED={value}")
    return value
