"""DynamoDB expressions over DynamoDB JSON items (pure): conditions, updates, key conditions,
projections.

The subset DynamoDB's expression language has for these, parsed once and evaluated on items
in DynamoDB JSON (``{"name": {"S": "x"}}``), so numbers stay exact strings until arithmetic,
which uses ``Decimal``:

* conditions: ``= <> < <= > >=``, ``BETWEEN``, ``IN``, ``AND``/``OR``/``NOT``, parentheses,
  ``attribute_exists``, ``attribute_not_exists``, ``attribute_type``, ``begins_with``,
  ``contains``, ``size``;
* updates: ``SET`` (``+``, ``-``, ``if_not_exists``, ``list_append``), ``REMOVE``, ``ADD``,
  ``DELETE``;
* paths: names, ``#placeholders``, ``a.b`` and ``a[0]``; values are ``:placeholders``;
* projections: only the named paths of an item (``project``);
* key conditions: the partition key's value and the sort key's operator and operands.

As DynamoDB does, a bare name that is one of DynamoDB's reserved words is refused (use a
``#name``), as are placeholders that are not defined, and document paths of one expression
that overlap (``a`` and ``a.b``) or conflict (``a[0]`` and ``a.b``). Error messages are
DynamoDB's words; callers prefix them with ``Invalid <Kind>Expression: ``.

Example::

    condition = parse_condition("attribute_not_exists(pk) OR #n < :max", names, values)
    condition.evaluate(item)          # bool
    update = parse_update("SET total = total + :inc REMOVE draft", names, values)
    new_item = update.apply(item)
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .errors import EventsimError

AV = dict[str, Any]  # one AttributeValue, e.g. {"N": "3"}
Item = dict[str, AV]
Path = tuple[str | int, ...]
MISSING_OPERAND = "The provided expression refers to an attribute that does not exist in the item"
#: How deep parentheses, NOT and function calls may nest in one expression. DynamoDB bounds
#: an expression only by its size (4 KB, which allows some 2,000 parentheses); the parser
#: recurses per level, so it stops well before Python's recursion limit.
MAX_NESTING = 100


class ExpressionError(EventsimError, ValueError):
    """An expression DynamoDB would refuse (its ValidationException)."""


# --- tokens -------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<op><>|<=|>=|[=<>()\[\],.+-])|(?P<name>#[A-Za-z0-9_]+)"
    r"|(?P<value>:[A-Za-z0-9_]+)|(?P<int>\d+)|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)
#: DynamoDB's reserved words (its developer guide, "Reserved words in DynamoDB"); any case.
RESERVED_WORDS = frozenset(
    """
    ABORT ABSOLUTE ACTION ADD AFTER AGENT AGGREGATE ALL ALLOCATE ALTER ANALYZE AND ANY ARCHIVE
    ARE ARRAY AS ASC ASCII ASENSITIVE ASSERTION ASYMMETRIC AT ATOMIC ATTACH ATTRIBUTE AUTH
    AUTHORIZATION AUTHORIZE AUTO AVG BACK BACKUP BASE BATCH BEFORE BEGIN BETWEEN BIGINT BINARY
    BIT BLOB BLOCK BOOLEAN BOTH BREADTH BUCKET BULK BY BYTE CALL CALLED CALLING CAPACITY
    CASCADE CASCADED CASE CAST CATALOG CHAR CHARACTER CHECK CLASS CLOB CLOSE CLUSTER CLUSTERED
    CLUSTERING CLUSTERS COALESCE COLLATE COLLATION COLLECTION COLUMN COLUMNS COMBINE COMMENT
    COMMIT COMPACT COMPILE COMPRESS CONDITION CONFLICT CONNECT CONNECTION CONSISTENCY
    CONSISTENT CONSTRAINT CONSTRAINTS CONSTRUCTOR CONSUMED CONTINUE CONVERT COPY CORRESPONDING
    COUNT COUNTER CREATE CROSS CUBE CURRENT CURSOR CYCLE DATA DATABASE DATE DATETIME DAY
    DEALLOCATE DEC DECIMAL DECLARE DEFAULT DEFERRABLE DEFERRED DEFINE DEFINED DEFINITION DELETE
    DELIMITED DEPTH DEREF DESC DESCRIBE DESCRIPTOR DETACH DETERMINISTIC DIAGNOSTICS DIRECTORIES
    DISABLE DISCONNECT DISTINCT DISTRIBUTE DO DOMAIN DOUBLE DROP DUMP DURATION DYNAMIC EACH
    ELEMENT ELSE ELSEIF EMPTY ENABLE END EQUAL EQUALS ERROR ESCAPE ESCAPED EVAL EVALUATE
    EXCEEDED EXCEPT EXCEPTION EXCEPTIONS EXCLUSIVE EXEC EXECUTE EXISTS EXIT EXPLAIN EXPLODE
    EXPORT EXPRESSION EXTENDED EXTERNAL EXTRACT FAIL FALSE FAMILY FETCH FIELDS FILE FILTER
    FILTERING FINAL FINISH FIRST FIXED FLATTERN FLOAT FOR FORCE FOREIGN FORMAT FORWARD FOUND
    FREE FROM FULL FUNCTION FUNCTIONS GENERAL GENERATE GET GLOB GLOBAL GO GOTO GRANT GREATER
    GROUP GROUPING HANDLER HASH HAVE HAVING HEAP HIDDEN HOLD HOUR IDENTIFIED IDENTITY IF IGNORE
    IMMEDIATE IMPORT IN INCLUDING INCLUSIVE INCREMENT INCREMENTAL INDEX INDEXED INDEXES
    INDICATOR INFINITE INITIALLY INLINE INNER INNTER INOUT INPUT INSENSITIVE INSERT INSTEAD INT
    INTEGER INTERSECT INTERVAL INTO INVALIDATE IS ISOLATION ITEM ITEMS ITERATE JOIN KEY KEYS
    LAG LANGUAGE LARGE LAST LATERAL LEAD LEADING LEAVE LEFT LENGTH LESS LEVEL LIKE LIMIT
    LIMITED LINES LIST LOAD LOCAL LOCALTIME LOCALTIMESTAMP LOCATION LOCATOR LOCK LOCKS LOG
    LOGED LONG LOOP LOWER MAP MATCH MATERIALIZED MAX MAXLEN MEMBER MERGE METHOD METRICS MIN
    MINUS MINUTE MISSING MOD MODE MODIFIES MODIFY MODULE MONTH MULTI MULTISET NAME NAMES
    NATIONAL NATURAL NCHAR NCLOB NEW NEXT NO NONE NOT NULL NULLIF NUMBER NUMERIC OBJECT OF
    OFFLINE OFFSET OLD ON ONLINE ONLY OPAQUE OPEN OPERATOR OPTION OR ORDER ORDINALITY OTHER
    OTHERS OUT OUTER OUTPUT OVER OVERLAPS OVERRIDE OWNER PAD PARALLEL PARAMETER PARAMETERS
    PARTIAL PARTITION PARTITIONED PARTITIONS PATH PERCENT PERCENTILE PERMISSION PERMISSIONS
    PIPE PIPELINED PLAN POOL POSITION PRECISION PREPARE PRESERVE PRIMARY PRIOR PRIVATE
    PRIVILEGES PROCEDURE PROCESSED PROJECT PROJECTION PROPERTY PROVISIONING PUBLIC PUT QUERY
    QUIT QUORUM RAISE RANDOM RANGE RANK RAW READ READS REAL REBUILD RECORD RECURSIVE REDUCE REF
    REFERENCE REFERENCES REFERENCING REGEXP REGION REINDEX RELATIVE RELEASE REMAINDER RENAME
    REPEAT REPLACE REQUEST RESET RESIGNAL RESOURCE RESPONSE RESTORE RESTRICT RESULT RETURN
    RETURNING RETURNS REVERSE REVOKE RIGHT ROLE ROLES ROLLBACK ROLLUP ROUTINE ROW ROWS RULE
    RULES SAMPLE SATISFIES SAVE SAVEPOINT SCAN SCHEMA SCOPE SCROLL SEARCH SECOND SECTION
    SEGMENT SEGMENTS SELECT SELF SEMI SENSITIVE SEPARATE SEQUENCE SERIALIZABLE SESSION SET SETS
    SHARD SHARE SHARED SHORT SHOW SIGNAL SIMILAR SIZE SKEWED SMALLINT SNAPSHOT SOME SOURCE
    SPACE SPACES SPARSE SPECIFIC SPECIFICTYPE SPLIT SQL SQLCODE SQLERROR SQLEXCEPTION SQLSTATE
    SQLWARNING START STATE STATIC STATUS STORAGE STORE STORED STREAM STRING STRUCT STYLE SUB
    SUBMULTISET SUBPARTITION SUBSTRING SUBTYPE SUM SUPER SYMMETRIC SYNONYM SYSTEM TABLE
    TABLESAMPLE TEMP TEMPORARY TERMINATED TEXT THAN THEN THROUGHPUT TIME TIMESTAMP TIMEZONE
    TINYINT TO TOKEN TOTAL TOUCH TRAILING TRANSACTION TRANSFORM TRANSLATE TRANSLATION TREAT
    TRIGGER TRIM TRUE TRUNCATE TTL TUPLE TYPE UNDER UNDO UNION UNIQUE UNIT UNKNOWN UNLOGGED
    UNNEST UNPROCESSED UNSIGNED UNTIL UPDATE UPPER URL USAGE USE USER USERS USING UUID VACUUM
    VALUE VALUED VALUES VARCHAR VARIABLE VARIANCE VARINT VARYING VIEW VIEWS VIRTUAL VOID WAIT
    WHEN WHENEVER WHERE WHILE WINDOW WITH WITHIN WITHOUT WORK WRAPPED WRITE YEAR ZONE
    """.split()
)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"invalid syntax near {text[position : position + 20]!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class Parser:
    def __init__(self, text: str, names: Mapping[str, str], values: Mapping[str, AV]) -> None:
        if not text.strip():
            raise ExpressionError("The expression can not be empty;")
        self.tokens = _tokens(text)
        self.at = 0
        self.names = names
        self.values = values
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()
        self.depth = 0

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
            raise ExpressionError("the expression ends too early")
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
            raise ExpressionError(f"expected {op!r}, found {text!r}")

    def done(self) -> None:
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]

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
                    raise ExpressionError(f"a list index is a number, found {text!r}")
                parts.append(int(text))
                self.expect("]")
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
        raise ExpressionError(f"expected an attribute name, found {text!r}")

    def value(self) -> AV:
        kind, text = self.take()
        if kind != "value":
            raise ExpressionError(f"expected a :value, found {text!r}")
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
            raise ExpressionError("the expression ends too early")
        if token[0] == "value":
            constant = self.value()
            return lambda item: constant
        if token[0] == "word" and token[1] == "size" and self.is_call():
            self.take()
            self.expect("(")
            path = self.path()
            self.expect(")")
            return lambda item: _size(get_path(item, path))
        path = self.path()
        return lambda item: get_path(item, path)

    def is_call(self) -> bool:
        following = self.peek(1)
        return following is not None and following[1] == "("


Operand = Callable[[Item], AV | None]
Predicate = Callable[[Item], bool]


# --- conditions ---------------------------------------------------------------------------


def _condition(p: Parser) -> Predicate:
    return _chain(p, "OR", _conjunction, lambda a, b: lambda item: a(item) or b(item))


def _conjunction(p: Parser) -> Predicate:
    return _chain(p, "AND", _negation, lambda a, b: lambda item: a(item) and b(item))


def _chain(
    p: Parser,
    word: str,
    operand: Callable[[Parser], Predicate],
    combine: Callable[[Predicate, Predicate], Predicate],
) -> Predicate:
    """``operand (word operand)*``, combined left to right."""
    left = operand(p)
    while p.keyword(word):
        left = combine(left, operand(p))
    return left


def _negation(p: Parser) -> Predicate:
    if p.keyword("NOT"):
        p.enter()
        inner = _negation(p)
        p.leave()
        return lambda item: not inner(item)
    return _comparison(p)


def _comparison(p: Parser) -> Predicate:
    token = p.peek()
    if token is not None and token[1] == "(":
        p.take()
        p.enter()
        inner = _condition(p)
        p.expect(")")
        p.leave()
        return inner
    if token is not None and token[0] == "word" and p.is_call() and token[1] != "size":
        return _function(p)
    left = p.operand()
    if p.keyword("BETWEEN"):
        low = p.operand()
        if not p.keyword("AND"):
            raise ExpressionError("BETWEEN needs 'AND'")
        high = p.operand()
        return lambda item: _between(left(item), low(item), high(item))
    if p.keyword("IN"):
        p.expect("(")
        options = [p.operand()]
        while (t := p.peek()) is not None and t[1] == ",":
            p.take()
            options.append(p.operand())
        p.expect(")")
        return lambda item: (v := left(item)) is not None and any(v == o(item) for o in options)
    kind, op = p.take()
    if op not in _COMPARE or kind != "op":
        raise ExpressionError(f"expected a comparison, found {op!r}")
    right = p.operand()
    test = _COMPARE[op]
    return lambda item: test(left(item), right(item))


def _function(p: Parser) -> Predicate:
    _, name = p.take()
    p.expect("(")
    if name in ("attribute_exists", "attribute_not_exists"):
        path = p.path()
        p.expect(")")
        if name == "attribute_exists":
            return lambda item: get_path(item, path) is not None
        return lambda item: get_path(item, path) is None
    if name not in ("attribute_type", "begins_with", "contains"):
        raise ExpressionError(f"unknown function {name!r}")
    path = p.path()
    p.expect(",")
    argument = p.operand()
    p.expect(")")
    if name == "attribute_type":
        return lambda item: (
            (v := get_path(item, path)) is not None and tag_of(v) == _text(argument(item))
        )
    if name == "begins_with":
        return lambda item: _begins_with(get_path(item, path), argument(item))
    return lambda item: contains(get_path(item, path), argument(item))


def tag_of(value: AV) -> str:
    return next(iter(value))


def _text(value: AV | None) -> str | None:
    return value.get("S") if value is not None else None


def _key(value: AV) -> tuple[str, Any]:
    """A comparable form: numbers numerically, strings and binary by their bytes."""
    tag = tag_of(value)
    if tag == "N":
        return tag, Decimal(value["N"])
    if tag == "S":
        return tag, value["S"].encode()
    if tag == "B":
        return tag, base64.b64decode(value["B"])
    return tag, repr(value[tag])


def sort_key(value: AV) -> Any:
    """The order DynamoDB sorts key values in (one type per key)."""
    return _key(value)[1]


def _ordered(test: Callable[[Any, Any], bool]) -> Callable[[AV | None, AV | None], bool]:
    def compare(a: AV | None, b: AV | None) -> bool:
        if a is None or b is None or tag_of(a) != tag_of(b) or tag_of(a) not in ("N", "S", "B"):
            return False
        return test(_key(a)[1], _key(b)[1])

    return compare


def _equal(a: AV | None, b: AV | None) -> bool:
    if a is None or b is None:
        return False
    if tag_of(a) in ("SS", "NS", "BS") and tag_of(a) == tag_of(b):
        return set(a[tag_of(a)]) == set(b[tag_of(b)])
    if tag_of(a) == "N" and tag_of(b) == "N":
        return Decimal(a["N"]) == Decimal(b["N"])
    return a == b


_COMPARE: dict[str, Callable[[AV | None, AV | None], bool]] = {
    "=": _equal,
    "<>": lambda a, b: not _equal(a, b),  # a missing value is unequal to anything
    "<": _ordered(lambda a, b: bool(a < b)),
    "<=": _ordered(lambda a, b: bool(a <= b)),
    ">": _ordered(lambda a, b: bool(a > b)),
    ">=": _ordered(lambda a, b: bool(a >= b)),
}


def _between(value: AV | None, low: AV | None, high: AV | None) -> bool:
    return _COMPARE[">="](value, low) and _COMPARE["<="](value, high)


def _begins_with(value: AV | None, prefix: AV | None) -> bool:
    if value is None or prefix is None or tag_of(value) != tag_of(prefix):
        return False
    if tag_of(value) not in ("S", "B"):
        return False
    return bool(_key(value)[1].startswith(_key(prefix)[1]))


def contains(value: AV | None, operand: AV | None) -> bool:
    if value is None or operand is None:
        return False
    tag = tag_of(value)
    if tag == "S" and tag_of(operand) == "S":
        return operand["S"] in value["S"]
    if tag in ("SS", "NS", "BS") and tag_of(operand) == tag[0]:
        return any(_equal({tag[0]: member}, operand) for member in value[tag])
    if tag == "L":
        return any(_equal(member, operand) for member in value["L"])
    return False


def _size(value: AV | None) -> AV | None:
    if value is None:
        return None
    tag = tag_of(value)
    data = value[tag]
    if tag == "B":
        size = len(_key(value)[1])
    elif tag == "S":
        size = len(data.encode())
    elif tag in ("M", "L", "SS", "NS", "BS"):
        size = len(data)
    else:
        return None
    return {"N": str(size)}


# --- paths --------------------------------------------------------------------------------


def get_path(item: Item, path: Path) -> AV | None:
    """The value at ``path`` in ``item``, or None when any step is missing."""
    current: Any = {"M": item}
    for step in path:
        if isinstance(step, int):
            values = current.get("L") if isinstance(current, dict) else None
            if values is None or step >= len(values):
                return None
            current = values[step]
        else:
            members = current.get("M") if isinstance(current, dict) else None
            if members is None or step not in members:
                return None
            current = members[step]
    return current  # type: ignore[no-any-return]


def _parent(item: Item, path: Path) -> Any:
    parent = get_path(item, path[:-1]) if len(path) > 1 else {"M": item}
    step = path[-1]
    container = None if parent is None else parent.get("L" if isinstance(step, int) else "M")
    if container is None:
        raise ExpressionError(
            "The document path provided in the update expression is invalid for update"
        )
    return container


def set_path(item: Item, path: Path, value: AV) -> None:
    container = _parent(item, path)
    step = path[-1]
    if isinstance(step, int):
        if step >= len(container):
            container.append(value)
        else:
            container[step] = value
    else:
        container[step] = value


def remove_path(item: Item, path: Path) -> None:
    try:
        container = _parent(item, path)
    except ExpressionError:
        return
    step = path[-1]
    if isinstance(step, int):
        if step < len(container):
            del container[step]
    else:
        container.pop(step, None)


# --- entry points -------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """A parsed condition (ConditionExpression, FilterExpression)."""

    test: Predicate

    def evaluate(self, item: Item | None) -> bool:
        return self.test(item or {})


def parse_condition(
    text: str, names: Mapping[str, str] | None = None, values: Mapping[str, AV] | None = None
) -> Condition:
    p = Parser(text, names or {}, values or {})
    test = _condition(p)
    p.done()
    return Condition(test)


def parse_projection(text: str, names: Mapping[str, str] | None = None) -> list[Path]:
    """A ProjectionExpression: the paths to keep (none overlapping another)."""
    p = Parser(text, names or {}, {})
    paths = [p.path()]
    while p.peek() is not None:
        p.expect(",")
        paths.append(p.path())
    check_paths(paths)
    return paths


def _shown(path: Path) -> str:
    return "[" + ", ".join(f"[{step}]" if isinstance(step, int) else step for step in path) + "]"


def check_paths(paths: list[Path]) -> None:
    """Refuse two paths where one is within the other, or where one takes an element of a list
    and the other a member of a map at the same place (DynamoDB's words)."""
    for i, one in enumerate(paths):
        for two in paths[i + 1 :]:
            for a, b in zip(one, two, strict=False):
                if isinstance(a, int) != isinstance(b, int):
                    raise ExpressionError(
                        "Two document paths conflict with each other; must remove or rewrite "
                        f"one of these paths; path one: {_shown(one)}, path two: {_shown(two)}"
                    )
                if a != b:
                    break
            else:
                raise ExpressionError(
                    "Two document paths overlap with each other; must remove or rewrite one "
                    f"of these paths; path one: {_shown(one)}, path two: {_shown(two)}"
                )


def project(item: Item, paths: list[Path] | tuple[Path, ...]) -> Item:
    """Only the parts of ``item`` that ``paths`` name: a nested map keeps just the named
    members, a list just the named elements (in their order); paths the item lacks are left
    out."""
    tree: dict[Any, Any] = {}
    for path in paths:
        node = tree
        for step in path[:-1]:
            node = node.setdefault(step, {})
            if node is None:
                break
        else:
            node[path[-1]] = None  # the whole value
    picked = _pick({"M": item}, tree)
    return picked["M"] if picked is not None else {}


def _pick(value: AV, tree: dict[Any, Any] | None) -> AV | None:
    if tree is None:
        return value
    if all(isinstance(step, int) for step in tree):
        values = value.get("L") if isinstance(value, dict) else None
        if values is None:
            return None
        chosen = [
            kept
            for index in sorted(tree)
            if index < len(values) and (kept := _pick(values[index], tree[index])) is not None
        ]
        return {"L": chosen} if chosen else None
    members = value.get("M") if isinstance(value, dict) else None
    if members is None:
        return None
    out = {
        name: kept
        for name, subtree in tree.items()
        if isinstance(name, str)
        and name in members
        and (kept := _pick(members[name], subtree)) is not None
    }
    return {"M": out} if out else None


SortOperator = str  # "=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"


@dataclass(frozen=True)
class KeyCondition:
    """A parsed KeyConditionExpression: the partition key's value and the sort key's test
    (``sort_op`` None: any sort key), with one operand, or two for ``BETWEEN``."""

    partition: AV
    sort_op: SortOperator | None = None
    sort_values: tuple[AV, ...] = ()

    def matches_sort(self, sort_value: AV | None) -> bool:
        if self.sort_op is None:
            return True
        if sort_value is None:
            return False
        if self.sort_op == "BETWEEN":
            return _between(sort_value, *self.sort_values)
        if self.sort_op == "begins_with":
            return _begins_with(sort_value, self.sort_values[0])
        return _COMPARE[self.sort_op](sort_value, self.sort_values[0])


_UNSUPPORTED_KEY = "Query key condition not supported"


def parse_key_condition(
    text: str,
    partition_key: str,
    sort_key: str | None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, AV] | None = None,
) -> KeyCondition:
    """``pk = :v`` optionally ``AND`` one of ``sk = < <= > >= :v``, ``sk BETWEEN :a AND :b``,
    ``begins_with(sk, :v)``, in either order, with parentheses as boto3 writes them."""
    p = Parser(text, names or {}, values or {})
    partition: AV | None = None
    sort: tuple[str, tuple[AV, ...]] | None = None
    depth = 0
    while True:
        while p.peek() == ("op", "("):
            p.take()
            depth += 1
        token = p.peek()
        if token is not None and token[0] == "word" and token[1] == "begins_with" and p.is_call():
            p.take()
            p.expect("(")
            name = _key_name(p)
            p.expect(",")
            prefix = p.value()
            p.expect(")")
            if name != sort_key:
                raise ExpressionError(_UNSUPPORTED_KEY)
            found: tuple[str, tuple[AV, ...]] = ("begins_with", (prefix,))
        else:
            name = _key_name(p)
            if p.keyword("BETWEEN"):
                low = p.value()
                if not p.keyword("AND"):
                    raise ExpressionError("BETWEEN needs 'AND'")
                found = ("BETWEEN", (low, p.value()))
            else:
                kind, op = p.take()
                if kind != "op" or op not in _COMPARE or op == "<>":
                    raise ExpressionError(_UNSUPPORTED_KEY)
                found = (op, (p.value(),))
            if name == partition_key:
                if found[0] != "=":
                    raise ExpressionError(_UNSUPPORTED_KEY)
                if partition is not None:
                    raise ExpressionError(
                        "KeyConditionExpressions must only contain one condition per key"
                    )
                partition = found[1][0]
                found = ("", ())
            elif name != sort_key:
                raise ExpressionError(
                    f"Query condition missed key schema element: {sort_key}"
                    if sort_key is not None
                    else _UNSUPPORTED_KEY
                )
        if found[0]:
            if sort is not None:
                raise ExpressionError(
                    "KeyConditionExpressions must only contain one condition per key"
                )
            sort = found
        while depth and p.peek() == ("op", ")"):
            p.take()
            depth -= 1
        if not p.keyword("AND"):
            break
    if depth:
        raise ExpressionError("unbalanced parentheses")
    if p.peek() is not None:
        raise ExpressionError(_UNSUPPORTED_KEY)
    if partition is None:
        raise ExpressionError("Query condition missed key schema element: " + partition_key)
    if sort is None:
        return KeyCondition(partition)
    return KeyCondition(partition, sort[0], sort[1])


def _key_name(p: Parser) -> str:
    path = p.path()
    if len(path) != 1 or not isinstance(path[0], str):
        raise ExpressionError(_UNSUPPORTED_KEY)
    return path[0]
