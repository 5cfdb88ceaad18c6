"""The ledger as the dashboard reads it: entries summarised, paged, windowed and counted per
function.

Every entry carries its number, ``Attempt.seq``, given by the ledger when it was recorded (0
for the first ever) and kept while the ledger holds it: page cursors, timeline bars, the event
stream and a click on a bar all name entries by it. Nothing here keeps a copy of the ledger:
every answer is read from it when asked.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...ledger import Attempt, Ledger, Outcome

#: Entries a page or a timeline window may hold at most.
MAX_PAGE = 1000
MAX_BARS = 5000
#: How far before a timeline window a scan looks for attempts that started in it: entries
#: are recorded when they end, and no invocation runs longer than Lambda's 900 s.
LONGEST_S = 900


def millis(attempt: Attempt) -> int:
    return int(attempt.started_at.timestamp() * 1000)


def summary(attempt: Attempt) -> dict[str, Any]:
    """An entry without its event, result and log: what lists, bars and the stream carry."""
    outcomes = Counter(record.outcome for record in attempt.records)
    return {
        "seq": attempt.seq,
        "function": attempt.function,
        "request_id": attempt.request_id,
        "source": attempt.source,
        "invocation_type": attempt.invocation_type,
        "attempt": attempt.attempt,
        "outcome": attempt.outcome.value,
        "code": attempt.code.value if attempt.code is not None else None,
        "reason": attempt.reason,
        "error_type": attempt.error_type,
        "at": attempt.started_at.isoformat(),
        "t": millis(attempt),
        "duration_ms": attempt.duration_ms,
        "billed_ms": attempt.billed_duration_ms,
        "init_ms": attempt.init_duration_ms,
        "cold": attempt.cold_start,
        "records": dict(outcomes),
    }


def detail(attempt: Attempt) -> dict[str, Any]:
    """An entry whole: its summary, the event, the result or error, the log and each record."""
    return {
        **summary(attempt),
        "event": attempt.event,
        "payload": attempt.payload,
        "log": attempt.log_tail,
        "max_memory_used_mb": attempt.max_memory_used_mb,
        "record_outcomes": [
            {"id": r.id, "outcome": r.outcome, "attempt": r.attempt} for r in attempt.records
        ],
    }


def matches(
    attempt: Attempt, function: str | None, outcome: str | None, source: str | None
) -> bool:
    """The filters of a page: function, outcome, trigger (``sqs:`` matches every queue)."""
    return (
        (function is None or attempt.function == function)
        and (outcome is None or attempt.outcome.value == outcome)
        and (
            source is None
            or attempt.source == source
            or (source.endswith(":") and attempt.source.startswith(source))
        )
    )


def page(
    ledger: Ledger,
    *,
    before: int | None = None,
    limit: int = 100,
    function: str | None = None,
    outcome: str | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Up to ``limit`` entries, newest first, older than ``before``; ``next`` is the cursor
    of the page after (None at the oldest entry held)."""
    limit = max(1, min(limit, MAX_PAGE))
    found: list[dict[str, Any]] = []
    cursor = None
    for attempt in ledger.newest_first(before):
        if matches(attempt, function, outcome, source):
            if len(found) == limit:
                cursor = found[-1]["seq"]  # there is at least one more
                break
            found.append(summary(attempt))
    return {
        "entries": found,
        "next": cursor,
        "total": ledger.recorded,
        "held": len(ledger),
        "evicted": ledger.evicted,
    }


def window(ledger: Ledger, start_ms: int, end_ms: int, limit: int = MAX_BARS) -> dict[str, Any]:
    """The entries that started within ``[start_ms, end_ms]``, newest first, at most
    ``limit`` (``truncated`` says there were more: zoom in)."""
    limit = max(1, min(limit, MAX_BARS))
    bars: list[dict[str, Any]] = []
    truncated = False
    stop = start_ms - LONGEST_S * 1000
    for attempt in ledger.newest_first():
        at = millis(attempt)
        if at < stop:
            break
        if start_ms <= at <= end_ms:
            if len(bars) == limit:
                truncated = True
                break
            bars.append(summary(attempt))
    return {"from": start_ms, "to": end_ms, "bars": bars, "truncated": truncated}


# --- per function -----------------------------------------------------------------------------


_RAN = frozenset({Outcome.SUCCESS, Outcome.ERROR, Outcome.TIMEOUT, Outcome.CRASH})


@dataclass
class Stats:
    """What the functions view shows of one function from the entries the ledger holds (its
    concurrency comes from the runtime: ``sim.concurrency``)."""

    invocations: int = 0  # attempts a handler ran
    errors: int = 0  # of those, failed (error, timeout, crash)
    throttles: int = 0
    dropped: int = 0  # dropped or moved: no handler ran
    cold_starts: int = 0
    durations: list[float] = field(default_factory=list)
    last: datetime | None = None

    @classmethod
    def of(cls, attempts: list[Attempt]) -> Stats:
        """Of one function's entries, oldest first (comprehensions: 100k entries in tens of
        milliseconds)."""
        outcomes = Counter(a.outcome for a in attempts)
        ran = [a for a in attempts if a.outcome in _RAN]
        return cls(
            invocations=len(ran),
            errors=len(ran) - outcomes[Outcome.SUCCESS],
            throttles=outcomes[Outcome.THROTTLED],
            dropped=len(attempts) - len(ran) - outcomes[Outcome.THROTTLED],
            cold_starts=sum(1 for a in ran if a.init_duration_ms is not None),
            durations=[a.duration_ms for a in ran],
            last=attempts[-1].started_at if attempts else None,
        )

    def as_dict(self) -> dict[str, Any]:
        ordered = sorted(self.durations)
        return {
            "invocations": self.invocations,
            "errors": self.errors,
            "throttles": self.throttles,
            "dropped": self.dropped,
            "cold_starts": self.cold_starts,
            "p50_ms": percentile(ordered, 0.50),
            "p99_ms": percentile(ordered, 0.99),
            "last": self.last.isoformat() if self.last is not None else None,
        }


def percentile(ordered: list[float], q: float) -> float | None:
    """The nearest-rank percentile of sorted values (None for none)."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def stats(ledger: Ledger) -> dict[str, Stats]:
    """Every function's ``Stats``, from one pass over the ledger."""
    groups: dict[str, list[Attempt]] = {}
    for attempt in ledger.all():
        groups.setdefault(attempt.function, []).append(attempt)
    return {function: Stats.of(attempts) for function, attempts in groups.items()}
