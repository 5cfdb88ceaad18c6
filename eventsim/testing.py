"""Helpers for testing event-driven code with eventsim; the pytest plugin is a thin layer over
these.

Example (without pytest)::

    factory = SimulatorFactory(state_root=Path("/tmp/run"))
    sim = await factory("config/eventsim.yaml")          # started, virtual time
    await sim.invoke("hello", {"name": "Ada"})
    await factory.aclose()                               # closes every simulator it made
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from .config import Config, load_config
from .simulator import Simulator

ConfigSource = str | Path | dict[str, Any] | Config


class SimulatorFactory:
    """Builds started simulators and closes them all in ``aclose()``.

    Each simulator gets its own state folder under ``state_root`` so that tests never share
    tables, logs or checkpoints.
    """

    def __init__(self, state_root: Path, base_dir: Path | None = None) -> None:
        self.state_root = state_root
        self.base_dir = base_dir
        self.simulators: list[Simulator] = []
        self._numbers = itertools.count(1)

    async def __call__(
        self,
        config: ConfigSource,
        *,
        virtual_time: bool = True,
        base_dir: str | Path | None = None,
        **options: Any,
    ) -> Simulator:
        """Start a simulator from a config file path, a config dict or a ``Config``.

        Relative paths in a dict resolve against ``base_dir`` (default: the factory's, else the
        current directory). ``options`` go to ``Simulator`` (``start_time``, ``clock``...).
        """
        if isinstance(config, dict):
            config = Config.from_dict(config, base_dir or self.base_dir)
        elif not isinstance(config, Config):
            config = load_config(config)
        options.setdefault("state_dir", self.state_root / f"sim{next(self._numbers)}")
        simulator = Simulator(config, virtual_time=virtual_time, **options)
        await simulator.start()
        self.simulators.append(simulator)
        return simulator

    async def aclose(self) -> None:
        """Close every simulator made here, newest first (kills their child processes)."""
        while self.simulators:
            await self.simulators.pop().close()
