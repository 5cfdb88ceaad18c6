"""Checks of a whole config beyond its schema, and how its errors read.

``check_references`` finds names that refer to nothing and pairs AWS would refuse (each
trigger kind checks its own triggers: ``TriggerKind.check``);
``error_message`` turns a pydantic error into what the user should read; ``prune`` drops the
parts of a config that failed validation, so that the rest can still be checked for references
and every error is reported in one run; ``unsafe_folder`` refuses system folders as state or
bucket folders. They read the config by attribute and trigger kind, so this module needs
config's classes only for type checking.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from . import yamlpos
from .triggers import registry
from .triggers.base import TriggerRef

if TYPE_CHECKING:
    from .config import Config, Destination

#: What AWS accepts as a name, in words, for error messages.
NAME_RULES = {
    "functions": "a function name is 1-64 letters, digits, - or _",
    "buckets": "a bucket name is 3-63 lowercase letters, digits, . or -",
    "queues": "a queue name is up to 80 letters, digits, - or _, optionally ending in .fifo",
    "tables": "a table name is 3-255 letters, digits, _, . or -",
    "topics": "a topic name is up to 256 letters, digits, - or _, optionally ending in .fifo",
    "buses": "a bus name is up to 256 letters, digits, ., -, _ or /",
}


def error_message(error: Any, root: type[BaseModel]) -> str:
    """A pydantic error as the user should read it (``root`` is the config's model)."""
    kind, loc, msg = error["type"], error["loc"], str(error["msg"])
    if kind == "extra_forbidden":
        allowed = _fields_at(root, tuple(loc[:-1]))
        listed = ", ".join(allowed)
        guess = did_you_mean(str(loc[-1]), allowed)
        if guess:
            return f"unknown key {loc[-1]!r}{guess} (expected one of: {listed})"
        return f"unknown key {loc[-1]!r}" + (f"; expected one of: {listed}" if allowed else "")
    if kind == "missing":
        return f"missing required key {loc[-1]!r}" if loc else "missing"
    if kind == "model_type":
        return "expected a mapping of settings"
    if loc and loc[-1] == "[key]" and str(loc[0]) in NAME_RULES:
        return f"invalid name {error.get('input')!r}: {NAME_RULES[str(loc[0])]}"
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    value = error.get("input")
    if isinstance(value, str | int | float | bool) and kind not in ("value_error",):
        msg = f"{msg} (got {value!r}{_strict_hint(kind, value)})"
    return msg


def _strict_hint(kind: str, value: object) -> str:
    """What to write instead, for values that YAML typed otherwise than the key expects."""
    if kind in ("int_type", "float_type") and isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return ""
        return "; write numbers without quotes"
    if kind == "bool_type" and not isinstance(value, bool):
        return "; write true or false"
    if kind == "string_type" and isinstance(value, int | float | bool):
        return "; put it in quotes"
    return ""


def did_you_mean(word: str, choices: Collection[str]) -> str:
    """``"; did you mean 'timeout'?"`` when one of ``choices`` is close to ``word``, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _fields_at(root: type[BaseModel], loc: yamlpos.Path) -> list[str]:
    """The keys the model at ``loc`` accepts, for 'unknown key' messages."""
    annotation: Any = root
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
        elif get_origin(annotation) in (dict, list):
            annotation = get_args(annotation)[-1]
        elif getattr(annotation, "__name__", "") == "Trigger" and str(part) in registry.kinds():
            annotation = registry.kind(str(part)).model  # a trigger's settings: its kind's model
        elif getattr(annotation, "__name__", "") == "Extensions":
            model = registry.kinds()[str(part)].resource_model if part in registry.kinds() else None
            annotation = dict[str, model] if model is not None else None  # type: ignore[valid-type]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [name for name, f in annotation.model_fields.items() if not f.exclude]
    if getattr(annotation, "__name__", "") == "Extensions":  # plug-ins with resources
        return [n for n, kind in registry.kinds().items() if kind.resource_model is not None]
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin is Union or str(origin) == "<class 'types.UnionType'>":
            options = [a for a in get_args(annotation) if a is not type(None)]
            annotation = options[0]
        else:
            return annotation


def check_references(
    config: Config,
    declared: Mapping[str, Collection[str]] | None = None,
    kept: Mapping[str, Sequence[int]] | None = None,
) -> list[tuple[yamlpos.Path, str]]:
    """Problems that span sections: names that refer to nothing, incompatible pairs.

    For a config that validated only in part (see ``prune``), ``declared`` holds every name the
    file defines, valid or not, so that a reference to an invalid entry is not also "unknown";
    ``kept[function]`` maps the index of each trigger left to its index in the file.
    """
    problems: list[tuple[yamlpos.Path, str]] = []
    declared = declared or {}
    kept = kept or {}

    def known(kind: str, name: str, section: str, path: yamlpos.Path) -> bool:
        names: Collection[str] = getattr(config, section)
        if name in names or name in declared.get(section, ()):
            return True
        every = sorted({*names, *declared.get(section, ())})
        choices = ", ".join(every) or f"no {section} are defined"
        guess = did_you_mean(name, every)
        problems.append((path, f"unknown {kind} {name!r}{guess} (defined: {choices})"))
        return False

    def destination(dest: Destination | None, path: yamlpos.Path) -> None:
        if dest is None or (dest.kind == "bus" and dest.name == "default"):
            return
        if known(dest.kind, dest.name, f"{dest.kind}s" if dest.kind != "bus" else "buses", path):
            if dest.kind in ("queue", "topic") and dest.name.endswith(".fifo"):
                problems.append((path, f"a destination {dest.kind} must be a standard (non-FIFO) "
                                       f"{dest.kind}"))  # fmt: skip

    references = _References(config, known, destination, problems)
    by_kind: dict[str, list[TriggerRef]] = {}
    for fname, function in config.functions.items():
        base: yamlpos.Path = ("functions", fname)
        destination(function.on_success, (*base, "on_success"))
        destination(function.on_failure, (*base, "on_failure"))
        destination(function.dead_letter_queue, (*base, "dead_letter_queue"))
        indices = kept.get(fname, range(len(function.triggers)))
        for index, trigger in zip(indices, function.triggers, strict=True):
            by_kind.setdefault(trigger.kind, []).append(TriggerRef(fname, index, trigger.spec))
    # Every kind checks, with or without triggers of its own: a topic's queue subscription or a
    # bus rule's queue target must exist even when no function subscribes.
    for name, kind in registry.kinds().items():
        kind.check(references, by_kind.get(name, []))

    for qname, queue in config.queues.items():
        if queue.redrive is None:
            continue
        at = ("queues", qname, "redrive", "dead_letter_queue")
        dlq = queue.redrive.dead_letter_queue
        if known("queue", dlq, "queues", at):
            if dlq == qname:
                problems.append((at, "a queue cannot be its own dead-letter queue"))
            elif dlq.endswith(".fifo") != qname.endswith(".fifo"):
                problems.append(
                    (at, "the dead-letter queue must be FIFO exactly when the queue is")
                )
    return problems


@dataclass
class _References:
    """What a trigger kind's ``check`` reports through (see ``triggers.base.References``)."""

    config: Config
    _known: Callable[[str, str, str, yamlpos.Path], bool]
    _destination: Callable[[Destination | None, yamlpos.Path], None]
    _problems: list[tuple[yamlpos.Path, str]]

    def known(self, kind: str, name: str, section: str, path: yamlpos.Path) -> bool:
        return self._known(kind, name, section, path)

    def destination(self, dest: Destination | None, path: yamlpos.Path) -> None:
        self._destination(dest, path)

    def problem(self, path: yamlpos.Path, message: str) -> None:
        self._problems.append((path, message))


# --- what is left when validation failed --------------------------------------------------

#: The top-level keys whose entries are named resources.
SECTIONS = ("functions", "buckets", "queues", "tables", "topics", "buses")


@dataclass
class Pruned:
    """A config's data without the parts that failed validation (see ``prune``)."""

    data: dict[str, Any]
    #: Per function: the index in the file of each trigger left.
    kept: dict[str, list[int]] = field(default_factory=dict)


def declared_names(data: Mapping[str, Any]) -> dict[str, set[str]]:
    """Every name each section of the raw data defines, valid or not."""
    return {
        section: {str(name) for name in entries}
        for section in SECTIONS
        if isinstance(entries := data.get(section), dict)
    }


def prune(data: Mapping[str, Any], locs: Sequence[yamlpos.Path], coarse: bool = False) -> Pruned:
    """``data`` without what the pydantic error locations ``locs`` point into.

    The smallest part that leaves the rest meaningful goes: a function's key (it takes its
    default; nothing else refers to it), a trigger (its siblings keep their file index in
    ``kept``), a whole bucket, queue or table (its keys decide whether references to it are
    valid, so it is left unchecked), or a top-level key. ``coarse`` drops whole entries only,
    for what still fails once those parts are gone (a required key that is missing).
    """
    out: dict[Any, Any] = dict(data)
    for section in SECTIONS:
        if isinstance(entries := out.get(section), dict):
            out[section] = dict(entries)
    functions = out.get("functions")
    if not isinstance(functions, dict):
        functions = {}
    drop_triggers: dict[Any, set[int]] = {}
    for loc in locs:
        if not loc:
            continue
        head = loc[0]
        if head not in SECTIONS or len(loc) < 2 or not isinstance(out.get(head), dict):
            out.pop(head, None)
            continue
        name = loc[1]
        entry = out[head].get(name)
        if head != "functions" or coarse or len(loc) < 3 or not isinstance(entry, dict):
            out[head].pop(name, None)
        elif loc[2] == "triggers" and len(loc) >= 4 and isinstance(loc[3], int):
            drop_triggers.setdefault(name, set()).add(loc[3])
        elif loc[2] == "[key]":
            out[head].pop(name, None)
        else:
            functions[name] = {k: v for k, v in entry.items() if k != loc[2]}
    kept: dict[str, list[int]] = {}
    for name, dropped in drop_triggers.items():
        entry = functions.get(name)
        if isinstance(entry, dict) and isinstance(entry.get("triggers"), list):
            indices = [i for i in range(len(entry["triggers"])) if i not in dropped]
            functions[name] = {**entry, "triggers": [entry["triggers"][i] for i in indices]}
            kept[str(name)] = indices
    return Pruned(out, kept)


# --- folders eventsim must not write to or watch ------------------------------------------

_SYSTEM_FOLDERS = (
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/media", "/mnt",
    "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin",
    "/usr/lib", "/usr/local", "/usr/sbin", "/usr/share", "/var", "/var/lib", "/var/log",
    "/var/tmp", "/Applications", "/Library", "/System", "/Users", "/Volumes", "/private",
    "/private/etc", "/private/tmp", "/private/var",
)  # fmt: skip


def unsafe_folder(folder: Path) -> str | None:
    """Why the resolved ``folder`` cannot be a state or bucket folder, or ``None`` if it can.

    Refused: anything that exists and is not a folder, a file system's root, the user's home
    folder itself, and the system folders above (eventsim writes state into a state folder and
    watches, announces and writes every file of a bucket folder).
    """
    if folder.exists() and not folder.is_dir():
        return f"{str(folder)!r} exists and is not a folder"
    if folder.parent == folder:
        return f"{str(folder)!r} is the root of the file system; name a folder of the project"
    try:
        home = Path.home().resolve()
    except (RuntimeError, KeyError):  # no home folder known
        home = None
    if folder == home:
        return f"{str(folder)!r} is your home folder; name a folder of the project"
    if folder in {Path(name).resolve() for name in _SYSTEM_FOLDERS}:
        return f"{str(folder)!r} is a system folder; name a folder of the project"
    return None
