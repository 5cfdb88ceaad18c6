"""YAML loading that remembers where every key and item stands, for error messages.

``load(text)`` returns the data and a map from key paths (``("functions", "hello",
"timeout")``) to 1-based ``(line, column)``. Duplicate keys, which PyYAML silently resolves to
the last one, are reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


def dotted(path: Path) -> str:
    """``("functions", "hello", "timeout")`` as ``functions.hello.timeout``."""
    return ".".join(str(p) for p in path)


@dataclass
class Positions:
    """Where each key path stands in the source."""

    at: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def find(self, path: Path) -> tuple[int, int] | None:
        """The position of ``path`` or, failing that, of its nearest ancestor."""
        for end in range(len(path), -1, -1):
            position = self.at.get(tuple(path[:end]))
            if position is not None:
                return position
        return None


@dataclass(frozen=True)
class YamlProblem:
    message: str
    line: int | None
    column: int | None
    path: Path = ()


class YamlError(Exception):
    def __init__(self, problems: list[YamlProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def load(text: str) -> tuple[Any, Positions]:
    """Parse one YAML document; raise ``YamlError`` with positions on bad syntax or dup keys."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(str(p) for p in (exc.context, exc.problem) if p) or str(exc)
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise YamlError([YamlProblem(f"invalid YAML: {message}", line, column)]) from None
    except yaml.YAMLError as exc:
        raise YamlError([YamlProblem(f"invalid YAML: {exc}", None, None)]) from None
    finally:
        loader.dispose()
    positions = Positions()
    problems: list[YamlProblem] = []
    if node is not None:
        positions.at[()] = (node.start_mark.line + 1, node.start_mark.column + 1)
        _walk(node, (), positions, problems)
    if problems:
        raise YamlError(problems)
    return data, positions


def _walk(node: yaml.Node, path: Path, positions: Positions, problems: list[YamlProblem]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            child = (*path, key)
            if key in seen:
                problems.append(YamlProblem(f"duplicate key {key!r}", *where, child))
            seen.add(key)
            positions.at[child] = where
            _walk(value_node, child, positions, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            positions.at[child] = (item.start_mark.line + 1, item.start_mark.column + 1)
            _walk(item, child, positions, problems)
