"""YAML loading that remembers where every key and item stands, and that hostile input cannot
stall.

``decode(data)`` turns a file's bytes into text, refusing NUL bytes, UTF-16/UTF-32 and invalid
UTF-8 with the byte's line and column. ``load(text)`` returns the data, a map from key paths
(``("functions", "hello", "timeout")``) to 1-based ``(line, column)``, and the problems that do
not stop reading (duplicate keys, which PyYAML silently resolves to the last one).

What ``load`` reads is plain YAML with YAML 1.2 scalars: only ``true``/``false`` are booleans
(``yes``, ``no``, ``on``, ``off`` stay strings), ``1:30`` is a string and ``010`` is ten; and no
tag beyond the core ones (``!!python/...`` is refused where it stands).

Two limits are checked while PyYAML composes the document, before anything recurses or
expands: nesting deeper than ``MAX_DEPTH`` collections, and more than ``MAX_NODES`` values once
aliases are expanded (the "billion laughs" bomb, which PyYAML keeps small but every reader after
it -- the position walk, pydantic -- would expand). Composing is the place because PyYAML's
composer is recursive (one Python frame per level would hit ``RecursionError`` long before
5,000 nested brackets) while its scanner and parser are not, so refusing at level
``MAX_DEPTH + 1`` is refusing before anything deep happens; an alias's size and depth are known
there from its anchor, so a bomb stops at its first oversized alias.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent, CollectionStartEvent

Path = tuple[str | int, ...]

#: Collections nested in one another; an alias counts as deep as what it names.
MAX_DEPTH = 100
#: Values in the document with every alias expanded. A config of a hundred functions is a few
#: thousand; the cap also bounds parsing time (PyYAML reads about 20,000 values a second).
MAX_NODES = 20_000

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {
    f"{_CORE}{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")
}
_MERGE = f"{_CORE}merge"
_RETYPED = {f"{_CORE}bool", f"{_CORE}int", f"{_CORE}float"}


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


# --- bytes to text ------------------------------------------------------------------------

_WIDE = (
    (codecs.BOM_UTF32_LE, "UTF-32"),  # before UTF-16: its BOM starts with UTF-16-LE's
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def decode(data: bytes) -> str:
    """The text of a config file; ``YamlError`` unless it is UTF-8 without NUL bytes."""
    for bom, name in _WIDE:
        if data.startswith(bom):
            raise YamlError([YamlProblem(f"the file is {name}: save it as UTF-8", None, None)])
    nul = data.find(b"\0")
    if nul >= 0:
        # Without a byte-order mark, UTF-16 and UTF-32 show as a NUL beside most ASCII bytes.
        head = data[:4]
        if len(head) == 4 and head[1:4] == b"\0\0\0" or head[:3] == b"\0\0\0":
            message = "the file looks like UTF-32 (NUL bytes): save it as UTF-8"
        elif len(head) >= 2 and (head[1] == 0) != (head[0] == 0):
            message = "the file looks like UTF-16 (NUL bytes): save it as UTF-8"
        else:
            message = f"NUL byte at byte {nul}: a config is text; save it as UTF-8"
        raise YamlError([YamlProblem(message, *_byte_position(data, nul))])
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        message = f"invalid UTF-8 at byte {exc.start} (0x{data[exc.start]:02x}): save it as UTF-8"
        raise YamlError([YamlProblem(message, *_byte_position(data, exc.start))]) from None


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


# --- text to data -------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans, core tags only and the two limits of the module."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in _RETYPED]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.depth = 0  # collections open now
        self.nodes = 0  # values composed so far, aliases counted expanded
        self.heights = [0]  # per open collection: the deepest nesting among its children
        self.shapes: dict[str, tuple[int, int]] = {}  # anchor -> (values, nesting height)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, AliasEvent):
            node = super().compose_node(parent, index)  # or "found undefined alias"
            assert node is not None
            shape = self.shapes.get(str(event.anchor))
            if shape is None:
                raise _problem(f"alias *{event.anchor} is inside its own anchor", event)
            values, height = shape
            if self.depth + height > MAX_DEPTH:
                raise _problem(
                    f"alias *{event.anchor} nests the config deeper than {MAX_DEPTH} levels", event
                )
            self.nodes += values
            if self.nodes > MAX_NODES:
                raise _problem(
                    f"alias *{event.anchor} expands the config past {MAX_NODES} values "
                    "(an alias bomb?)",
                    event,
                )
            self.heights[-1] = max(self.heights[-1], height)
            return node
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and tag not in _ALLOWED_TAGS:
            shown = str(tag).replace(_CORE, "!!", 1)
            raise _problem(
                f"tag {shown!r} is not allowed: a config holds plain values "
                "(strings, numbers, true/false, null, lists, mappings)",
                event,
            )
        collection = isinstance(event, CollectionStartEvent)
        if collection:
            if self.depth >= MAX_DEPTH:
                raise _problem(f"nested deeper than {MAX_DEPTH} levels", event)
            self.depth += 1
            self.heights.append(0)
        before = self.nodes
        node = super().compose_node(parent, index)
        assert node is not None
        height = 0
        if collection:
            self.depth -= 1
            height = 1 + self.heights.pop()
            self.heights[-1] = max(self.heights[-1], height)
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _problem(f"more than {MAX_NODES} values in the config", event)
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self.shapes[str(anchor)] = (self.nodes - before, height)
        return node

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:  # int("9" * 5000), a date 2024-13-45
            raise ConstructorError(
                None, None, f"cannot read this value: {exc}", node.start_mark
            ) from None


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    # YAML 1.2: a leading 0 is not octal (PyYAML reads 010 as 8), 0o17 and 0x1f are.
    text = str(loader.construct_scalar(node))
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if len(digits) > 4000:  # Python refuses to convert 4300 digits, with advice for Python
        raise ValueError(f"a number of {len(digits)} digits")
    if digits[:2] in ("0o", "0x"):
        return sign * int(digits[2:], 8 if digits[1] == "o" else 16)
    return sign * int(digits, 10)


# YAML 1.2's core schema instead of PyYAML's YAML 1.1: `yes`/`on` are not booleans, `1:30` is
# not 90 (sexagesimal) and `1e3` is a number. Ints before floats: "3" matches both.
_Loader.add_implicit_resolver(
    f"{_CORE}bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    f"{_CORE}int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    f"{_CORE}float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_Loader.add_constructor(f"{_CORE}int", _construct_int)


class _Refused(yaml.composer.ComposerError):
    """A limit passed or a tag refused: reported without the "invalid YAML" prefix."""


def _problem(message: str, event: yaml.Event) -> _Refused:
    return _Refused(None, None, message, event.start_mark)  # type: ignore[arg-type]


def load(text: str) -> tuple[Any, Positions, list[YamlProblem]]:
    """Parse one YAML document: its data, positions, and duplicate keys found.

    Raise ``YamlError`` with positions on bad syntax, a refused tag or a limit passed.
    """
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        positions = Positions()
        duplicates: list[YamlProblem] = []
        if node is not None:
            # Before constructing: the constructor flattens merge keys in place.
            positions.at[()] = _where(node)
            _walk(node, (), positions, duplicates)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = ", ".join(str(p) for p in (exc.context, exc.problem) if p) or str(exc)
        if exc.context and exc.context_mark and exc.problem_mark:  # where the context began
            if exc.context_mark.line != exc.problem_mark.line:
                message = message.replace(
                    str(exc.context), f"{exc.context} (line {exc.context_mark.line + 1})", 1
                )
        if not isinstance(exc, _Refused):
            message = f"invalid YAML: {message}"
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise YamlError([YamlProblem(message, line, column)]) from None
    except yaml.reader.ReaderError as exc:  # a control character: checked before parsing
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        shown = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        message = f"invalid YAML: character {shown} is not allowed in YAML"
        raise YamlError([YamlProblem(message, line, column)]) from None
    except yaml.YAMLError as exc:
        raise YamlError([YamlProblem(f"invalid YAML: {exc}", None, None)]) from None
    except RecursionError:  # the limits above should make this unreachable; never a traceback
        raise YamlError(
            [YamlProblem(f"nested too deeply (over {MAX_DEPTH})", None, None)]
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    # An alias walks its anchor's mapping again: report each duplicate once, where it stands.
    unique = {(p.line, p.column): p for p in reversed(duplicates)}
    return data, positions, sorted(unique.values(), key=lambda p: (p.line or 0, p.column or 0))


def _where(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _walk(node: yaml.Node, path: Path, positions: Positions, problems: list[YamlProblem]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        merged: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.append(value_node)
                continue
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            child = (*path, key)
            if key in seen:
                problems.append(YamlProblem(f"duplicate key {key!r}", *_where(key_node), child))
            seen.add(key)
            positions.at[child] = _where(key_node)
            _walk(value_node, child, positions, problems)
        # ``<<: *base`` (or a list of them): keys given here win, then the first source's.
        for source in merged:
            sources = source.value if isinstance(source, yaml.SequenceNode) else [source]
            for mapping in sources:
                if not isinstance(mapping, yaml.MappingNode):
                    continue  # the constructor says what is wrong with it
                inner = Positions()
                _walk(mapping, path, inner, [])
                for key_path, where in inner.at.items():
                    if key_path[len(path)] not in seen:
                        positions.at.setdefault(key_path, where)
                seen.update(
                    str(k.value) for k, _ in mapping.value if isinstance(k, yaml.ScalarNode)
                )
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            positions.at[child] = _where(item)
            _walk(item, child, positions, problems)
