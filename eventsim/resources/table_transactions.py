"""TransactWriteItems and TransactGetItems over one or more tables: all or nothing.

A write transaction takes the write lock of every table it touches (``BEGIN IMMEDIATE`` on
each file, in name order), reads every item, checks every condition, computes every new
item, and only if all succeed writes them and commits; otherwise it rolls every table back
and raises ``TransactionCanceledException`` with one reason per action, in order (``None``
for the actions that would have succeeded). No other writer, in this process or another,
can change an item between the check and the write. (Each table is its own SQLite file: a
crash between two tables' commits could leave one committed; within a running simulator the
transaction is atomic.)

``Tokens`` remembers each ``ClientRequestToken`` for ten minutes on the clock: the same
token with the same request is answered as a success without writing again; with another
request it is ``IdempotentParameterMismatchException``.

Example::

    transact_write([(orders.plan_put(item), False), (stock.plan_update(key, "ADD n :m",
                    values=values), False)], clock=clock)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..clock import Clock
from ..errors import TableError
from ..expressions import Item
from .table import Planned, Table
from .table_pages import Usage

#: DynamoDB's limit on the actions of one transaction.
TRANSACTION_LIMIT = 100
TOKEN_LIFETIME_S = 600


def transact_write(
    actions: Sequence[tuple[Planned, bool]], *, clock: Clock, usage: Usage | None = None
) -> None:
    """Run planned writes (and condition checks) as one transaction; each action's flag: a
    failed condition's reason carries the item (ReturnValuesOnConditionCheckFailure)."""
    keys = [(planned.table.name, planned.columns) for planned, _ in actions]
    if len(set(keys)) != len(keys):
        raise TableError(
            "ValidationException",
            "Transaction request cannot include multiple operations on one item",
        )
    tables = sorted({planned.table.name: planned.table for planned, _ in actions}.items())
    begun: list[Table] = []
    committed = False
    try:
        for _, table in tables:
            table.store.begin()
            begun.append(table)
        olds: list[Item | None] = []
        news: list[Item | None] = []
        reasons: list[dict[str, Any]] = []
        for planned, with_item in actions:
            db = planned.table.store.connection
            old = planned.table.store.get(db, *planned.columns)
            olds.append(old)
            if planned.test is not None and not planned.test.evaluate(old):
                reason: dict[str, Any] = {"Code": "ConditionalCheckFailed",
                                          "Message": "The conditional request failed"}  # fmt: skip
                if with_item and old is not None:
                    reason["Item"] = old
                reasons.append(reason)
                news.append(old)
                continue
            try:
                news.append(planned.change(old) if planned.change is not None else old)
            except TableError as exc:
                reasons.append({"Code": "ValidationError", "Message": str(exc)})
                news.append(old)
                continue
            reasons.append({"Code": "None"})
        if any(reason["Code"] != "None" for reason in reasons):
            codes = ", ".join(reason["Code"] for reason in reasons)
            raise TableError(
                "TransactionCanceledException",
                f"Transaction cancelled, please refer cancellation reasons for specific reasons "
                f"[{codes}]",
                CancellationReasons=reasons,
            )
        now = clock.time()
        for (planned, _), old, new in zip(actions, olds, news, strict=True):
            if usage is not None:
                planned.table.count_write(usage, old, new)
            if planned.change is not None and new != old:
                db = planned.table.store.connection
                planned.table.store.write(db, *planned.columns, old, new, now)
        for table in begun:
            table.store.end(commit=True)
        committed = True
    finally:
        if not committed:
            for table in begun:
                table.store.end(commit=False)
    changed = {planned.table.name for (planned, _), old, new in zip(actions, olds, news,
               strict=True) if new != old}  # fmt: skip
    for name, table in tables:
        if name in changed:
            table.changed()


def transact_get(
    gets: Sequence[tuple[Table, Item, str | None, Mapping[str, str] | None]],
    usage: Usage | None = None,
) -> list[Item | None]:
    """Read items as of one moment (``table, key, projection, names`` each): each table's
    read transaction stays open over all its reads."""
    tables = sorted({get[0].name: get[0] for get in gets}.items())
    begun: list[Table] = []
    try:
        for _, table in tables:
            table.store.begin(read=True)
            begun.append(table)
        return [
            table.get(key, projection=projection, names=names, usage=usage)
            for table, key, projection, names in gets
        ]
    finally:
        for table in begun:
            table.store.end(commit=False)


def fingerprint(request: Any) -> str:
    """A request's identity for idempotency: its canonical JSON's digest."""
    text = json.dumps(request, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class Tokens:
    """ClientRequestTokens of successful transactions, each kept for ten minutes."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._seen: dict[str, tuple[str, float]] = {}

    def seen(self, token: str, request: Any) -> bool:
        """Whether this token already ran this request (``IdempotentParameterMismatch`` if it
        ran another)."""
        now = self._clock.time()
        self._seen = {t: v for t, v in self._seen.items() if v[1] > now}
        known = self._seen.get(token)
        if known is None:
            return False
        if known[0] != fingerprint(request):
            raise TableError(
                "IdempotentParameterMismatchException",
                "Request ClientRequestToken was used with a different request before",
            )
        return True

    def remember(self, token: str, request: Any) -> None:
        self._seen[token] = (fingerprint(request), self._clock.time() + TOKEN_LIFETIME_S)
