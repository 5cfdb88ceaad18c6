"""pytest fixtures for eventsim, registered under the ``pytest11`` entry point.

* ``eventsim_factory``: start simulators from a path, a dict or a ``Config``; all are closed
  (and their child processes killed) at teardown.
* ``eventsim``: one simulator built from ``eventsim_config``, virtual time.
* ``eventsim_config``: what ``eventsim`` is built from; defaults to ``config/eventsim.yaml``
  under the rootdir. Override it in a conftest or a test module to use another file or a dict.

The fixtures are async and work with pytest-asyncio in strict mode::

    @pytest.mark.asyncio
    async def test_hello(eventsim):
        result = await eventsim.invoke("hello", {"name": "Ada"})
        assert result.payload["message"] == "Hello, Ada!"
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from .config import DEFAULT_CONFIG_PATH
from .simulator import Simulator
from .testing import ConfigSource, SimulatorFactory

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - eventsim's fixtures need pytest-asyncio
    pytest_asyncio = None  # type: ignore[assignment]  # checked below


@pytest.fixture
def eventsim_config(request: pytest.FixtureRequest) -> ConfigSource:
    """The config the ``eventsim`` fixture uses: override to choose another."""
    return Path(request.config.rootpath) / DEFAULT_CONFIG_PATH


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def eventsim_factory(tmp_path: Path) -> AsyncIterator[SimulatorFactory]:
        """Start simulators on demand; every one is closed at teardown."""
        factory = SimulatorFactory(state_root=tmp_path / "eventsim")
        try:
            yield factory
        finally:
            await factory.aclose()

    @pytest_asyncio.fixture
    async def eventsim(
        eventsim_factory: SimulatorFactory, eventsim_config: ConfigSource
    ) -> Simulator:
        """A started simulator on virtual time, built from ``eventsim_config``."""
        return await eventsim_factory(eventsim_config)

else:  # pragma: no cover

    @pytest.fixture
    def eventsim_factory() -> Any:
        pytest.fail("eventsim's fixtures need pytest-asyncio: pip install 'eventsim[pytest]'")

    @pytest.fixture
    def eventsim() -> Any:
        pytest.fail("eventsim's fixtures need pytest-asyncio: pip install 'eventsim[pytest]'")
