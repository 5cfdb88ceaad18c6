"""Reading a SAM or CloudFormation template: YAML (or JSON) with CloudFormation's short tags,
every key's position kept.

``load(path)`` returns a ``Template``: the data, with each short tag turned into the long form
CloudFormation defines (``!GetAtt Queue.Arn`` is ``{"Fn::GetAtt": ["Queue", "Arn"]}``, ``!Ref
X`` is ``{"Ref": "X"}``), and the positions of every key and item, so that a problem anywhere
reads ``template.yaml:41:9: Resources.Fn.Properties.Events.Q.Properties.Queue: ...``.

The loader is ``yamlpos``'s (the same limits against hostile input: size, nesting, alias
bombs; YAML 1.2 scalars) with constructors for CloudFormation's short tags and no others: a
``!!python/...`` or unknown ``!Tag`` is refused where it stands. ``looks_like_template(text)``
tells a template from an eventsim config before parsing either.

Example::

    template = load(Path("template.yaml"))
    template.data["Resources"]["Jobs"]["Type"]          # "AWS::SQS::Queue"
    template.issue(("Resources", "Jobs"), "...")       # a ConfigIssue at Jobs' line
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.events import MappingStartEvent, ScalarEvent, SequenceStartEvent

from .. import yamlpos
from ..errors import ConfigError, ConfigIssue

#: CloudFormation's short tags (``!Name``) and the long form each stands for.
SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "Base64", "Cidr", "FindInMap", "GetAtt", "GetAZs", "ImportValue", "Join", "Select",
            "Split", "Sub", "Transform", "And", "Equals", "If", "Not", "Or",
        )
    },
}  # fmt: skip

_CORE = "tag:yaml.org,2002:"
#: The first keys of a template; an eventsim config has none of them.
_TEMPLATE_KEYS = ("AWSTemplateFormatVersion", "Transform", "Resources")
_SNIFF = re.compile(
    r"""^\s*["']?(?:AWSTemplateFormatVersion|Transform|Resources)["']?\s*:""", re.MULTILINE
)


def looks_like_template(text: str) -> bool:
    """Whether ``text`` may be a template (cheap; ``is_template`` decides on the data)."""
    return _SNIFF.search(text) is not None


def is_template(data: Any) -> bool:
    """Whether parsed data is a template: a mapping with a template's top-level keys."""
    return isinstance(data, dict) and any(key in data for key in _TEMPLATE_KEYS)


@dataclass(frozen=True)
class Template:
    """A parsed template: its data (intrinsics in long form) and where each key stands."""

    file: Path
    data: dict[str, Any]
    positions: yamlpos.Positions

    @property
    def folder(self) -> Path:
        """The folder relative paths in the template (``CodeUri``...) resolve against."""
        return self.file.resolve().parent

    def where(self, path: yamlpos.Path) -> tuple[int | None, int | None]:
        found = self.positions.find(path)
        return found if found is not None else (None, None)

    def issue(self, path: yamlpos.Path, message: str) -> ConfigIssue:
        """A problem (or a notice) at ``path`` in the template."""
        line, column = self.where(path)
        return ConfigIssue(str(self.file), line, column, yamlpos.dotted(path), message)


class _Loader(yamlpos._Loader):
    """``yamlpos``'s loader that also takes CloudFormation's short tags.

    ``yamlpos`` refuses every tag but the core ones while composing (before anything expands);
    a short tag is shown to it as the core tag of its node's kind and put back on the node.
    """

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        tag = getattr(event, "tag", None)
        if not isinstance(tag, str) or not tag.startswith("!") or tag == "!":
            return super().compose_node(parent, index)
        if tag[1:] not in SHORT_TAGS:
            raise yamlpos._problem(
                f"tag {tag!r} is not a CloudFormation intrinsic function (expected one of: "
                f"{', '.join('!' + name for name in SHORT_TAGS)})",
                event,
            )
        kind = (
            "str" if isinstance(event, ScalarEvent)
            else "seq" if isinstance(event, SequenceStartEvent)
            else "map" if isinstance(event, MappingStartEvent)
            else None
        )  # fmt: skip
        if kind is None:  # an alias carries no tag; nothing else does either
            return super().compose_node(parent, index)
        event.tag = f"{_CORE}{kind}"
        node = super().compose_node(parent, index)
        node.tag = tag
        return node


def _construct_intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    """``!Name value`` as ``{"Fn::Name": value}`` (``Ref`` and ``Condition`` keep their name);
    ``!GetAtt A.B`` takes CloudFormation's dotted form apart."""
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {SHORT_TAGS[suffix]: value}


_Loader.add_multi_constructor("!", _construct_intrinsic)


def load(path: Path, text: str) -> Template:
    """Parse ``text``, the template at ``path``.

    ``ConfigError`` with positions on bad YAML, a refused tag, a limit passed, duplicate keys,
    or data that is not a template.
    """
    template = parse(path, text)
    if template is None:
        message = "not a template: expected Resources (and AWSTemplateFormatVersion, Transform)"
        raise _error(path, [yamlpos.YamlProblem(message, 1, 1)])
    return template


def parse(path: Path, text: str) -> Template | None:
    """``text`` as a template, or None if it is YAML but not a template (``ConfigError`` if
    it is not YAML, or has duplicate keys)."""
    data, positions, duplicates = _parse(path, text)
    if not is_template(data):
        return None
    if duplicates:
        raise _error(path, duplicates)
    return Template(path, data, positions)


def _parse(path: Path, text: str) -> tuple[Any, yamlpos.Positions, list[yamlpos.YamlProblem]]:
    """``yamlpos.load`` with this module's loader (the same errors, the same positions)."""
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        positions = yamlpos.Positions()
        duplicates: list[yamlpos.YamlProblem] = []
        if node is not None:
            positions.at[()] = yamlpos._where(node)
            yamlpos._walk(node, (), positions, duplicates)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = ", ".join(str(p) for p in (exc.context, exc.problem) if p) or str(exc)
        if not isinstance(exc, yamlpos._Refused):
            message = f"invalid YAML: {message}"
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise _error(path, [yamlpos.YamlProblem(message, line, column)]) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise _error(path, [yamlpos.YamlProblem(f"invalid YAML: {exc}", None, None)]) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, positions, duplicates


def _error(path: Path, problems: list[yamlpos.YamlProblem]) -> ConfigError:
    return ConfigError(
        [
            ConfigIssue(str(path), p.line, p.column, yamlpos.dotted(p.path), p.message)
            for p in problems
        ]
    )
