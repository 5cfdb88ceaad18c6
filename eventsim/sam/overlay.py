"""A template plus an overlay: what ``eventsim.config`` validates when the config is a template.

The overlay is an eventsim config that names the template (``template: template.yaml``) and
adds or overrides what a template cannot say: bucket folders, ports, the state folder,
per-function isolation, ``inherit_env``; ``parameters`` (the template's, and pseudo parameters
``AWS::StackName``, ``AWS::Region``, ``AWS::AccountId``) and ``imports`` (values of
``Fn::ImportValue``). A template run alone is a template with an empty overlay.

Merging: mappings merge key by key, anything else (a scalar, a list such as a function's
``triggers``) replaces the template's. A section's entries may be named by the template's
logical id (``buckets: {Uploads: {path: data/uploads}}``).

``load`` returns the merged data and ``locate``, which places a problem found in the merged
config where its key came from: ``template.yaml:12:7: Resources.Fn.Properties.Timeout: ...``
for a template's key, ``eventsim.yaml:4:5: functions.Fn.isolation: ...`` for the overlay's.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import yamlpos
from ..errors import ConfigError, ConfigIssue
from . import names, template
from .build import SECTIONS, Mapped
from .mapping import map_template

KeyPath = yamlpos.Path
#: Overlay keys consumed here (kept in the config as given).
OWN_KEYS = ("template", "parameters", "imports")


@dataclass(frozen=True)
class Loaded:
    """The data to validate, where each key came from, and what eventsim does not honour."""

    data: dict[str, Any]
    locate: Callable[[KeyPath, str], ConfigIssue]
    notices: tuple[ConfigIssue, ...]
    template: Path
    #: What the template says that cannot be mapped (reported with the config's own).
    problems: tuple[ConfigIssue, ...] = ()


def load(
    parsed: template.Template,
    overlay: Mapping[str, Any],
    *,
    overlay_file: Path | None = None,
    overlay_positions: yamlpos.Positions | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> Loaded:
    """The template merged with ``overlay``; what of the template could not be mapped is in
    ``problems``. ``parameters`` (the command line's) win over the overlay's."""
    template_path = parsed.file
    given = {**_mapping(overlay.get("parameters")), **(parameters or {})}
    stack, problems = _stack(overlay, given, overlay_file, overlay_positions)
    mapped = map_template(parsed, stack, given, _mapping(overlay.get("imports")))
    if problems:
        raise ConfigError(problems)
    data, from_overlay = merge(mapped, overlay)
    if parameters:
        data["parameters"] = given
    data["template"] = str(template_path.resolve())

    def locate(path: KeyPath, message: str) -> ConfigIssue:
        for end in range(len(path), 0, -1):
            prefix = path[:end]
            if prefix in from_overlay:
                line, column = (overlay_positions or yamlpos.Positions()).find(
                    from_overlay[prefix]
                ) or (None, None)
                file = str(overlay_file) if overlay_file else None
                return ConfigIssue(file, line, column, yamlpos.dotted(path), message)
            if prefix in mapped.origins:
                return parsed.issue(mapped.origins[prefix], message)
        file = str(overlay_file or template_path)
        return ConfigIssue(file, None, None, yamlpos.dotted(path), message)

    return Loaded(data, locate, tuple(mapped.notices), template_path.resolve(),
                  tuple(mapped.problems))  # fmt: skip


def merge(
    mapped: Mapped, overlay: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[KeyPath, KeyPath]]:
    """The template's config with the overlay's over it; returns it and, for every key the
    overlay gave, its path in the overlay."""
    data = copy.deepcopy(mapped.data)
    from_overlay: dict[KeyPath, KeyPath] = {}
    aliases = {**mapped.aliases}
    for section, given in _mapping(overlay.get("aliases")).items():
        aliases[section] = {**aliases.get(section, {}), **_mapping(given)}
    if aliases:
        data["aliases"] = aliases
    for key, value in overlay.items():
        if key in SECTIONS:
            if not isinstance(value, dict):
                data[key] = value
                _record((key,), (key,), value, from_overlay)
                continue
            section = data.setdefault(key, {})
            if not isinstance(section, dict):
                continue
            for name, entry in value.items():
                target = str(aliases.get(key, {}).get(str(name), name))
                section[target] = _merged(section.get(target), entry)
                _record((key, target), (key, name), entry, from_overlay)
        elif key != "aliases":
            data[key] = _merged(data.get(key), value)
            _record((key,), (key,), value, from_overlay)
    return data, from_overlay


def _merged(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        result = dict(base)
        for key, value in over.items():
            result[key] = _merged(base.get(key), value)
        return result
    return copy.deepcopy(over)


def _record(config_path: KeyPath, overlay_path: KeyPath, value: Any,
            found: dict[KeyPath, KeyPath]) -> None:  # fmt: skip
    found[config_path] = overlay_path
    children = (
        value.items()
        if isinstance(value, dict)
        else (enumerate(value) if isinstance(value, list) else ())
    )
    for key, child in children:
        _record((*config_path, key), (*overlay_path, key), child, found)


def _stack(
    overlay: Mapping[str, Any],
    parameters: Mapping[str, Any],
    file: Path | None,
    positions: yamlpos.Positions | None,
) -> tuple[names.Stack, list[ConfigIssue]]:
    """The stack's pseudo parameters: the overlay's region and account, else the values given
    for ``AWS::Region`` and ``AWS::AccountId``; ``AWS::StackName``, else ``local``."""
    problems: list[ConfigIssue] = []
    values: dict[str, str] = {}
    for key, pseudo, default in (("region", "AWS::Region", "us-east-1"),
                                 ("account", "AWS::AccountId", "123456789012")):  # fmt: skip
        given, parameter = overlay.get(key), parameters.get(pseudo)
        if given is not None and parameter is not None and str(given) != str(parameter):
            line, column = (positions or yamlpos.Positions()).find((key,)) or (None, None)
            problems.append(ConfigIssue(
                str(file) if file else None, line, column, key,
                f"{key} {given!r} and the parameter {pseudo}={parameter!r} disagree",
            ))  # fmt: skip
        values[key] = str(given if given is not None else parameter or default)
    name = str(parameters.get("AWS::StackName") or names.DEFAULT_STACK)
    return names.Stack(name=name, region=values["region"], account=values["account"]), problems


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
