"""A template as an eventsim.yaml, for those who leave templates behind (``eventsim import``).

``import_template(path, parameters)`` loads the template as ``eventsim up -t`` would (every
intrinsic function resolved, names as CloudFormation gives them) and writes the config it
amounts to: only what differs from eventsim's defaults, paths relative to the template's
folder (write the file there), ``aliases`` keeping the template's logical ids usable, and
what eventsim does not honour as comments at the top.

Example::

    eventsim import template.yaml > eventsim.yaml
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ..config import Config, load_config

HEADER = """\
# eventsim config imported from {template} (`eventsim import`): paths are relative to its folder.
"""


def import_template(path: Path, parameters: Mapping[str, Any] | None = None) -> str:
    """The eventsim.yaml text equivalent to the template at ``path``."""
    config = load_config(path, parameters)
    lines = [HEADER.format(template=path.name)]
    if config.not_honoured:
        lines.append("# Not honoured by eventsim (as `eventsim validate` lists them):\n")
        lines += [f"#   {issue}\n" for issue in config.not_honoured]
    data = config_data(config, path.resolve().parent)
    lines.append(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))
    return "".join(lines)


def config_data(config: Config, folder: Path) -> dict[str, Any]:
    """``config`` as the data of a config file in ``folder``: what differs from the
    defaults, paths relative to ``folder``."""
    data = config.model_dump(
        mode="json",
        exclude_defaults=True,
        exclude={"template", "parameters", "imports", "functions", "buckets"},
    )
    data.pop("state_dir", None)
    if config.state_dir != (folder / ".eventsim").resolve():
        data["state_dir"] = _relative(config.state_dir, folder)
    for key in ("region", "account"):
        data.pop(key, None)
        if getattr(config, key) != Config.model_fields[key].default:
            data[key] = getattr(config, key)
    functions: dict[str, Any] = {}
    for name, function in config.functions.items():
        entry = function.model_dump(mode="json", exclude_defaults=True, exclude={"triggers"})
        entry["handler"] = function.handler
        entry["code"] = _relative(function.code, folder)
        for option in ("on_success", "on_failure"):
            if getattr(function, option) is not None:
                entry[option] = str(getattr(function, option))
        triggers = []
        for trigger in function.triggers:
            spec = trigger.spec.model_dump(mode="json", exclude_defaults=True)
            if getattr(trigger.spec, "on_failure", None) is not None:
                spec["on_failure"] = str(trigger.spec.on_failure)  # type: ignore[attr-defined]
            triggers.append({trigger.kind: spec})
        if triggers:
            entry["triggers"] = triggers
        functions[name] = _ordered(entry, ("handler", "code"))
    buckets = {}
    for name, bucket in config.buckets.items():
        entry = bucket.model_dump(mode="json", exclude_defaults=True)
        entry["path"] = _relative(bucket.path, folder)
        buckets[name] = entry
    ordered: dict[str, Any] = {}
    for key in ("region", "account", "state_dir"):
        if key in data:
            ordered[key] = data.pop(key)
    if functions:
        ordered["functions"] = functions
    if buckets:
        ordered["buckets"] = buckets
    ordered.update(data)
    return ordered


def _ordered(entry: dict[str, Any], first: tuple[str, ...]) -> dict[str, Any]:
    return {**{k: entry[k] for k in first if k in entry}, **entry}


def _relative(path: Path, folder: Path) -> str:
    text = os.path.relpath(path, folder)
    return text.replace(os.sep, "/")
