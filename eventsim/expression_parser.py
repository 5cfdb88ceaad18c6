"""The tokenizer and ``Parser`` every kind of DynamoDB expression is read with (pure): tokens
and DynamoDB's syntax errors, ``#name`` and ``:value`` placeholders (refused when not defined;
the ones used are recorded), reserved words refused as bare names, document paths, operands,
and a bound on nesting.

``expressions`` builds conditions, projections and key conditions on it, ``updates`` update
expressions.

Example::

    p = Parser("#n.tags[0] = :v", {"#n": "order"}, {":v": {"N": "1"}})
    p.path()                          # ("order", "tags", 0)
    p.expect("=")
    p.value()                         # {"N": "1"}
    p.done()
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .errors import ExpressionError
from .expression_eval import AV, Operand, Path, get_path, size_of
from .expression_words import RESERVED_WORDS

__all__ = ["MAX_NESTING", "Parser"]

#: How deep parentheses, NOT and function calls may nest in one expression. DynamoDB bounds
#: an expression only by its size (4 KB, which allows some 2,000 parentheses); the parser
#: recurses per level, so it stops well before Python's recursion limit.
MAX_NESTING = 100


_TOKEN = re.compile(
    r"\s*(?:(?P<op><>|<=|>=|[=<>()\[\],.+-])|(?P<name>#[A-Za-z0-9_]+)"
    r"|(?P<value>:[A-Za-z0-9_]+)|(?P<int>\d+)|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)


def _tokens(text: str) -> tuple[list[tuple[str, str]], list[tuple[int, int]]]:
    """The tokens of ``text`` and where each is in it (start, end)."""
    tokens: list[tuple[str, str]] = []
    spans: list[tuple[int, int]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            start = position + len(text[position:]) - len(text[position:].lstrip())
            before = spans[-1][0] if spans else start
            raise ExpressionError(
                f'Syntax error; token: "{text[start]}", near: "{text[before : start + 1]}"'
            )
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        spans.append(match.span(kind))
        position = match.end()
    return tokens, spans


class Parser:
    """One expression's tokens and a cursor over them; the placeholders it used (``used_names``,
    ``used_values``) and the first attribute name of every path it read (``heads``)."""

    def __init__(self, text: str, names: Mapping[str, str], values: Mapping[str, AV]) -> None:
        if not text.strip():
            raise ExpressionError("The expression can not be empty;")
        self.text = text
        self.tokens, self.spans = _tokens(text)
        #: Where each "(" is closed: {index of "(": index of its ")"}.
        self.closing: dict[int, int] = {}
        opened: list[int] = []
        for index, token in enumerate(self.tokens):
            if token == ("op", "("):
                opened.append(index)
            elif token == ("op", ")") and opened:
                self.closing[opened.pop()] = index
        self.at = 0
        self.names = names
        self.values = values
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()
        #: The first attribute name of every document path read (what a filter touches).
        self.heads: set[str] = set()
        self.depth = 0

    def syntax_error(self, index: int | None = None) -> ExpressionError:
        """DynamoDB's refusal of the token at ``index`` (default: the next one): the token,
        and the text from the token before it to the token after it."""
        at = self.at if index is None else index
        if at >= len(self.tokens):
            last = self.spans[-1] if self.spans else (0, 0)
            return ExpressionError(
                f'Syntax error; token: "<EOF>", near: "{self.text[last[0] : last[1]]}"'
            )
        start = self.spans[max(at - 1, 0)][0]
        end = self.spans[min(at + 1, len(self.spans) - 1)][1]
        return ExpressionError(
            f'Syntax error; token: "{self.tokens[at][1]}", near: "{self.text[start:end]}"'
        )

    def enter(self) -> None:
        """One level deeper (a parenthesis, a NOT, a function call); see ``leave``."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ExpressionError(
                f"the expression nests parentheses, NOT or functions deeper than "
                f"{MAX_NESTING} levels"
            )

    def leave(self) -> None:
        self.depth -= 1

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise self.syntax_error()
        self.at += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "word" and token[1].upper() == word:
            self.at += 1
            return True
        return False

    def expect(self, op: str) -> None:
        kind, text = self.take()
        if text != op or kind != "op":
            raise self.syntax_error(self.at - 1)

    def done(self) -> None:
        if self.peek() is not None:
            raise self.syntax_error()

    # --- operands ---------------------------------------------------------------------

    def path(self) -> Path:
        parts: list[str | int] = [self.name()]
        while (token := self.peek()) is not None and token[1] in (".", "["):
            self.take()
            if token[1] == ".":
                parts.append(self.name())
            else:
                kind, text = self.take()
                if kind != "int":
                    raise self.syntax_error(self.at - 1)
                parts.append(int(text))
                self.expect("]")
        self.heads.add(str(parts[0]))
        return tuple(parts)

    def name(self) -> str:
        kind, text = self.take()
        if kind == "name":
            if text not in self.names:
                raise ExpressionError(
                    "An expression attribute name used in the document path is not defined; "
                    f"attribute name: {text}"
                )
            self.used_names.add(text)
            return self.names[text]
        if kind == "word":
            if text.upper() in RESERVED_WORDS:
                raise ExpressionError(
                    f"Attribute name is a reserved keyword; reserved keyword: {text}"
                )
            return text
        raise self.syntax_error(self.at - 1)

    def value(self) -> AV:
        kind, text = self.take()
        if kind != "value":
            raise self.syntax_error(self.at - 1)
        if text not in self.values:
            raise ExpressionError(
                "An expression attribute value used in expression is not defined; "
                f"attribute value: {text}"
            )
        self.used_values.add(text)
        return self.values[text]

    def operand(self) -> Operand:
        token = self.peek()
        if token is None:
            raise self.syntax_error()
        if token[0] == "value":
            constant = self.value()
            return lambda item: constant
        if token[0] == "word" and token[1] == "size" and self.is_call():
            self.take()
            self.expect("(")
            path = self.path()
            self.expect(")")
            return lambda item: size_of(get_path(item, path))
        path = self.path()
        return lambda item: get_path(item, path)

    def is_call(self) -> bool:
        following = self.peek(1)
        return following is not None and following[1] == "("
