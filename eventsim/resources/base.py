"""The one base class of a resource that watches something (a bucket's folder)."""

from __future__ import annotations

import abc


class Source(abc.ABC):
    """Something that notices changes and hands them on through the ``emit`` it was given,
    knowing nothing of triggers or handlers. ``start`` returns once it is watching; ``stop``
    once it has stopped and saved what it must."""

    name: str

    @abc.abstractmethod
    async def start(self) -> None: ...

    @abc.abstractmethod
    async def stop(self) -> None: ...
