"""Every kind of trigger eventsim knows: the only place kinds are named.

Built-in kinds are listed below by import path; plug-ins add theirs through the entry point
group ``eventsim.triggers`` (``name = "package.module:KindClass"``), read once, on first use,
as pytest reads ``pytest11``. A plug-in that fails to load, or names a kind that exists, is a
``PluginError`` naming it — never skipped in silence. Loading on first use (not at import)
keeps ``eventsim.config`` free of trigger code: kinds import the config's building blocks,
and the config finds kinds here when it validates.

Example (a plug-in's ``pyproject.toml``)::

    [project.entry-points."eventsim.triggers"]
    channel = "eventsim_channels:ChannelKind"
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points

from ..errors import PluginError
from .base import TriggerKind

#: Entry point group of trigger plug-ins.
GROUP = "eventsim.triggers"

BUILTIN = {
    "s3": "eventsim.triggers.s3:S3Kind",
    "sqs": "eventsim.triggers.sqs:SqsKind",
    "dynamodb": "eventsim.triggers.dynamodb:DynamoDbKind",
    "schedule": "eventsim.triggers.schedule:ScheduleKind",
    "http": "eventsim.triggers.http:HttpKind",
    "sns": "eventsim.triggers.sns:SnsKind",
    "eventbridge": "eventsim.triggers.eventbridge:EventBridgeKind",
}


@cache
def kinds() -> dict[str, TriggerKind]:
    """Every kind by name: the built-ins in their order, then plug-ins."""
    found: dict[str, TriggerKind] = {}
    for name, target in BUILTIN.items():
        found[name] = _instance(name, _load(target), "eventsim")
    for point in entry_points(group=GROUP):
        where = point.dist.name if point.dist is not None else point.value
        if point.name in found:
            raise PluginError(point.name, where, "a trigger kind of that name exists already")
        try:
            loaded = point.load()
        except Exception as exc:  # noqa: BLE001 - any failure of a plug-in is reported by name
            raise PluginError(point.name, where, f"{type(exc).__name__}: {exc}") from exc
        found[point.name] = _instance(point.name, loaded, where)
    return found


def kind(name: str) -> TriggerKind:
    """The kind ``name`` (``KeyError`` if there is none)."""
    return kinds()[name]


def _load(target: str) -> object:
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _instance(name: str, loaded: object, where: str) -> TriggerKind:
    instance = loaded() if isinstance(loaded, type) else loaded
    if not isinstance(instance, TriggerKind):
        raise PluginError(name, where, f"{loaded!r} is not a TriggerKind")
    if instance.name != name:
        raise PluginError(name, where, f"its kind is named {instance.name!r}, not {name!r}")
    return instance
