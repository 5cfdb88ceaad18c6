"""The one base class of every source."""

from __future__ import annotations

import abc


class Source(abc.ABC):
    """Something that notices triggers. ``start`` returns once it is watching; ``stop`` once
    it has stopped and saved what it must."""

    name: str

    @abc.abstractmethod
    async def start(self) -> None: ...

    @abc.abstractmethod
    async def stop(self) -> None: ...
