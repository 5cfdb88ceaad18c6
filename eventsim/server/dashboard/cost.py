"""What the same invocations would cost on AWS Lambda: a per-function estimate.

The price table is ``PRICES``, here and nowhere else: us-east-1's public on-demand prices for
x86 functions (docs/aws-behaviour.md §9), with the date they were taken. Every attempt a
handler ran is a request (retries included; throttled, dropped and moved events are not); its
billed duration (rounded up to the millisecond; INIT included, as AWS bills it since August
2025) times the function's memory in GB is its GB-seconds. The free tier is left out: this is
the price of these invocations alone, as if they were the month's only ones.

Example::

    estimate("resize", 512, sim.ledger.for_function("resize")).total   # dollars
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ...ledger import Attempt


@dataclass(frozen=True)
class Prices:
    """One region's Lambda prices, in US dollars."""

    region: str
    architecture: str
    per_request: float
    per_gb_second: float
    taken: str  # when they were read off AWS's pricing page (ISO date)
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "region": self.region, "architecture": self.architecture,
            "per_million_requests": round(self.per_request * 1_000_000, 6),
            "per_gb_second": self.per_gb_second, "taken": self.taken, "source": self.source,
        }  # fmt: skip


#: us-east-1, x86, first duration tier (the next starts past 6 billion GB-s a month).
PRICES = Prices(
    region="us-east-1",
    architecture="x86_64",
    per_request=0.20 / 1_000_000,
    per_gb_second=0.0000166667,
    taken="2026-11-29",
    source="https://aws.amazon.com/lambda/pricing/",
)


@dataclass(frozen=True)
class Estimate:
    """One function's invocations priced."""

    function: str
    memory_mb: int
    requests: int
    billed_ms: int
    gb_seconds: float
    request_cost: float
    duration_cost: float

    @property
    def total(self) -> float:
        return self.request_cost + self.duration_cost

    def as_dict(self) -> dict[str, Any]:
        return {
            "function": self.function, "memory_mb": self.memory_mb, "requests": self.requests,
            "billed_ms": self.billed_ms, "gb_seconds": self.gb_seconds,
            "request_cost": self.request_cost, "duration_cost": self.duration_cost,
            "total": self.total,
        }  # fmt: skip


def estimate(
    function: str, memory_mb: int, attempts: Iterable[Attempt], prices: Prices = PRICES
) -> Estimate:
    """Price the attempts of ``function`` (a function of ``memory_mb``) that ran a handler."""
    requests = billed_ms = 0
    for attempt in attempts:
        if attempt.ran:
            requests += 1
            billed_ms += attempt.billed_duration_ms
    gb_seconds = billed_ms / 1000 * memory_mb / 1024
    return Estimate(
        function=function,
        memory_mb=memory_mb,
        requests=requests,
        billed_ms=billed_ms,
        gb_seconds=gb_seconds,
        request_cost=requests * prices.per_request,
        duration_cost=gb_seconds * prices.per_gb_second,
    )
