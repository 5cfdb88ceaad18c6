"""What the mapping of a template writes into: the eventsim config being built, where each of
its keys came from in the template, the problems found and what eventsim does not honour.

``Builder`` is shared by ``mapping`` (functions), ``events`` (their ``Events``) and
``resources`` (everything else). Reading a property goes through ``get``: the intrinsic
functions in it are resolved, and a value that cannot be resolved is a problem at its place
in the template and comes back as ``MISSING``, so that one run reports every problem. Values
are taken as CloudFormation takes them: ``"30"`` for a number, ``"true"`` for a boolean.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .. import yamlpos
from ..errors import ConfigIssue
from . import names
from .intrinsics import NO_VALUE, Resolver, Unresolved
from .template import Template

KeyPath = yamlpos.Path


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


#: A property that is absent, or could not be resolved (the problem is recorded).
MISSING: Any = _Missing()
#: The sections of the config whose entries a template names (aliases are per section).
SECTIONS = ("functions", "buckets", "queues", "tables", "topics", "buses")


@dataclass
class Mapped:
    """A template as an eventsim config: ``data`` (validated by ``config``), the template key
    each config key came from (``origins``: config path -> template path), the problems (any
    means the template cannot run) and the notices (what eventsim does not honour)."""

    template: Template
    data: dict[str, Any]
    origins: dict[KeyPath, KeyPath]
    problems: list[ConfigIssue]
    notices: list[ConfigIssue]
    #: Per section, logical id -> the name eventsim uses, where they differ.
    aliases: dict[str, dict[str, str]]


@dataclass
class Builder:
    """The config under construction (see the module's docstring)."""

    template: Template
    resolver: Resolver
    data: dict[str, Any] = field(default_factory=dict)
    origins: dict[KeyPath, KeyPath] = field(default_factory=dict)
    problems: list[ConfigIssue] = field(default_factory=list)
    notices: list[ConfigIssue] = field(default_factory=list)
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)
    #: The simulated resources' entries: logical id -> (section, name).
    named: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def stack(self) -> names.Stack:
        return self.resolver.stack

    def result(self) -> Mapped:
        def order(issue: ConfigIssue) -> tuple[int, int]:
            return issue.line or 0, issue.column or 0

        return Mapped(self.template, self.data, self.origins, sorted(self.problems, key=order),
                      sorted(self.notices, key=order),
                      {k: v for k, v in self.aliases.items() if v})  # fmt: skip

    # --- problems and notices -------------------------------------------------------------

    def problem(self, path: KeyPath, message: str) -> None:
        issue = self.template.issue(path, message)
        if issue not in self.problems:  # a parameter's problem shows at each use
            self.problems.append(issue)

    def notice(self, path: KeyPath, message: str) -> None:
        """Something the template says that eventsim does not honour (listed once)."""
        issue = self.template.issue(path, message)
        if issue not in self.notices:
            self.notices.append(issue)

    # --- reading properties ---------------------------------------------------------------

    def get(self, properties: dict[str, Any], key: str, at: KeyPath) -> Any:
        """``properties[key]`` resolved, ``MISSING`` if absent or unresolvable (recorded)."""
        if not isinstance(properties, dict) or key not in properties:
            return MISSING
        return self.resolve(properties[key], (*at, key))

    def resolve(self, value: Any, path: KeyPath) -> Any:
        try:
            resolved = self.resolver.resolve(value, path)
        except Unresolved as exc:
            self.problem(exc.path, exc.message)
            return MISSING
        return MISSING if resolved is NO_VALUE else resolved

    def mapping(self, value: Any, path: KeyPath) -> dict[str, Any]:
        """A resolved value that should be a mapping (``{}``, with a problem, if not)."""
        if value is MISSING or value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(path, f"expected a mapping, got {_shown(value)}")
            return {}
        return value

    def integer(self, value: Any, path: KeyPath) -> Any:
        """An integer as CloudFormation takes it (``30`` or ``"30"``), else a problem."""
        if value is MISSING or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        self.problem(path, f"expected an integer, got {_shown(value)}")
        return MISSING

    def boolean(self, value: Any, path: KeyPath) -> Any:
        if value is MISSING or isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.problem(path, f"expected true or false, got {_shown(value)}")
        return MISSING

    def string(self, value: Any, path: KeyPath) -> Any:
        if value is MISSING or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        self.problem(path, f"expected a string, got {_shown(value)}")
        return MISSING

    def json_value(self, value: Any, path: KeyPath) -> Any:
        """A value CloudFormation takes as JSON text or as YAML (an event pattern, an input)."""
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError as exc:
            self.problem(path, f"not valid JSON: {exc}")
            return MISSING

    # --- writing the config ---------------------------------------------------------------

    def entry(
        self, section: str, name: str, at: KeyPath, logical_id: str | None = None
    ) -> dict[str, Any]:
        """The entry ``name`` of ``section`` (made if new), from template path ``at``."""
        entries = self.data.setdefault(section, {})
        if name not in entries:
            entries[name] = {}
            self.origins[(section, name)] = at
        if logical_id is not None and logical_id != name:
            self.aliases.setdefault(section, {})[logical_id] = name
        entry: dict[str, Any] = entries[name]
        return entry

    def put(
        self, target: dict[str, Any], config_path: KeyPath, key: str, value: Any, at: KeyPath
    ) -> None:
        """``target[key] = value`` unless MISSING, remembering it came from ``at``."""
        if value is MISSING:
            return
        target[key] = value
        self.origins[(*config_path, key)] = at

    def add_trigger(self, function: str, kind: str, spec: dict[str, Any], at: KeyPath,
                    origins: dict[str, KeyPath] | None = None) -> None:  # fmt: skip
        """Append a ``{kind: spec}`` trigger to ``function``; ``origins``: per key of spec."""
        triggers = self.data["functions"][function].setdefault("triggers", [])
        base: KeyPath = ("functions", function, "triggers", len(triggers))
        triggers.append({kind: spec})
        self.origins[base] = at
        self.origins[(*base, kind)] = at
        for key, where in (origins or {}).items():
            self.origins[(*base, kind, key)] = where

    # --- names ----------------------------------------------------------------------------

    def physical(self, logical_id: str) -> str | None:
        """A resource's name, or None if it cannot be resolved (the problem is recorded)."""
        try:
            return self.resolver.physical(logical_id)
        except Unresolved as exc:
            self.problem(exc.path, exc.message)
            return None

    def function_named(self, value: Any, path: KeyPath) -> str | None:
        """The function a name, ARN or partial ARN (``Ref``/``GetAtt`` of one) names."""
        if value is MISSING:
            return None
        if not isinstance(value, str):
            self.problem(path, f"expected a function's name or ARN, got {_shown(value)}")
            return None
        name = value
        if value.startswith("arn:"):
            name = names.name_from_arn(value, "lambda") or ""
        elif ":" in value:  # name:qualifier
            name = value.split(":", 1)[0]
        functions = self.data.get("functions", {})
        if name in functions:
            return name
        if name in self.aliases.get("functions", {}):
            return self.aliases["functions"][name]
        self.notice(path, f"the function {value} is not one of the template's functions that "
                    "eventsim runs: what targets it does nothing")  # fmt: skip
        return None

    def queue_named(self, value: Any, path: KeyPath) -> str | None:
        """The queue an ARN or URL names; a queue outside the template is made with default
        attributes (a notice says so)."""
        if value is MISSING:  # unresolved: the problem is recorded
            return None
        name = names.queue_name(value) if isinstance(value, str) else None
        if name is None:
            self.problem(path, f"expected an SQS queue's ARN or URL, got {_shown(value)}")
            return None
        if name not in self.data.get("queues", {}):
            self.notice(path, f"the queue {name} is not in the template: eventsim makes it "
                        "with default attributes")  # fmt: skip
            self.entry("queues", name, path)
        return name

    def topic_named(self, value: Any, path: KeyPath) -> str | None:
        if value is MISSING:
            return None
        name = names.name_from_arn(value, "sns") if isinstance(value, str) else None
        if name is None:
            self.problem(path, f"expected an SNS topic's ARN, got {_shown(value)}")
            return None
        if name not in self.data.get("topics", {}):
            self.notice(path, f"the topic {name} is not in the template: eventsim makes it")
            self.entry("topics", name, path)
        return name

    def destination(self, value: Any, kind: Any, path: KeyPath) -> str | None:
        """``function:NAME``, ``queue:NAME``, ``topic:NAME`` or ``bus:NAME`` for a destination
        ARN; others are noticed."""
        if value is MISSING:
            return None
        if not isinstance(value, str):
            self.problem(path, f"expected a destination ARN, got {_shown(value)}")
            return None
        service = value.split(":")[2] if value.count(":") >= 5 else ""
        if service == "sqs" or kind == "SQS":
            queue = self.queue_named(value, path)
            return f"queue:{queue}" if queue else None
        if service == "lambda" or kind == "Lambda":
            function = self.function_named(value, path)
            return f"function:{function}" if function else None
        if service == "sns" or kind == "SNS":
            topic = self.topic_named(value, path)
            return f"topic:{topic}" if topic else None
        bus = names.name_from_arn(value, "events") if service == "events" else None
        if bus is not None:
            if bus != "default" and bus not in self.data.get("buses", {}):
                self.notice(path, f"the event bus {bus} is not in the template: eventsim makes it")
                self.entry("buses", bus, path)
            return f"bus:{bus}"
        self.notice(path, f"destination {value}: eventsim sends destinations to functions, "
                    "queues, topics and event buses; this one receives nothing")  # fmt: skip
        return None


def _shown(value: Any) -> str:
    return json.dumps(value, default=str)[:100]
