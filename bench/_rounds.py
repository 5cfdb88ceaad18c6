"""What every bench shares: paired interleaved rounds and their min / median / max table.

A bench measures eventsim and a floor (or a peer) in the same process and run, alternately,
round after round (eventsim, floor, eventsim, floor...), so that both see the same machine
state; the ratio is taken per round pair. On a shared machine the absolute figures move
from run to run; the ratios are what to compare.

Example::

    pair = await arounds(7, lambda: invoke_rate(sim, n), lambda: pipe.rate(n))
    table("warm invokes", [measure("process isolation", "invokes/s", "pipe floor", pair)])

Each row is also appended, as one JSON line, to the file named by ``BENCH_JSON`` when that is
set (``bench/all.py`` sets it, to print its summary and keep the figures of a run).
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import structlog

T = TypeVar("T")

#: Fewer rounds than this make a median that one noisy round can move (issue #16).
MIN_ROUNDS = 5


@dataclass
class Measure:
    """One measure: eventsim's and the floor's value in each round, in round order."""

    label: str
    unit: str
    floor_name: str
    ours: list[float]
    floor: list[float]

    @property
    def ratios(self) -> list[float]:
        """eventsim / floor, per round pair (rates: < 1 is slower; times: > 1 is slower)."""
        return [o / f if f else float("inf") for o, f in zip(self.ours, self.floor, strict=True)]


def measure(
    label: str, unit: str, floor_name: str, pair: tuple[list[float], list[float]]
) -> Measure:
    """A ``Measure`` from what ``rounds``/``arounds`` returned."""
    return Measure(label, unit, floor_name, *pair)


def rounds(n: int, ours: Callable[[], T], floor: Callable[[], T]) -> tuple[list[T], list[T]]:
    """``n`` paired rounds, eventsim first in each: (eventsim's values, the floor's)."""
    if n < MIN_ROUNDS:
        raise SystemExit(f"--rounds {n}: at least {MIN_ROUNDS} rounds (issue #16)")
    mine, theirs = [], []
    for _ in range(n):
        mine.append(ours())
        theirs.append(floor())
    return mine, theirs


async def arounds(
    n: int, ours: Callable[[], Awaitable[T]], floor: Callable[[], Awaitable[T]]
) -> tuple[list[T], list[T]]:
    """``rounds`` for awaitables."""
    if n < MIN_ROUNDS:
        raise SystemExit(f"--rounds {n}: at least {MIN_ROUNDS} rounds (issue #16)")
    mine, theirs = [], []
    for _ in range(n):
        mine.append(await ours())
        theirs.append(await floor())
    return mine, theirs


def number(value: float) -> str:
    """Two to four significant digits, thousands separated."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    if magnitude >= 0.01:
        return f"{value:.3f}"
    return f"{value:.3g}"


def spread(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def _row(name: str, unit: str, values: list[float]) -> str:
    cells = "".join(f"{number(v):>12}" for v in spread(values))
    return f"  {name:<34}{unit:>10}{cells}"


def table(title: str, measures: list[Measure]) -> None:
    """Print each measure as eventsim / floor / ratio rows of min, median and max."""
    rounds_ = {len(m.ours) for m in measures}
    print(f"\n{title} ({'/'.join(map(str, sorted(rounds_)))} paired rounds)")
    print(f"  {'':<44}{'min':>12}{'median':>12}{'max':>12}")
    for m in measures:
        print(m.label)
        print(_row("eventsim", m.unit, m.ours))
        print(_row(m.floor_name, m.unit, m.floor))
        print(_row("ratio eventsim/" + m.floor_name.split()[0], "x", m.ratios))
        record({"label": m.label, "unit": m.unit, "floor_name": m.floor_name,
                "ours": m.ours, "floor": m.floor, "ratios": m.ratios})  # fmt: skip
    sys.stdout.flush()


def single(label: str, unit: str, values: list[float]) -> None:
    """A figure with no floor of its own (a growth between sizes, a memory figure)."""
    print(f"{label}\n{_row('', unit, values)}")
    record({"label": label, "unit": unit, "values": values})


def target(text: str, met: bool) -> None:
    """A target of the issues, met or missed."""
    print(f"target: {text}: {'met' if met else 'MISSED'}")
    record({"target": text, "met": met})


def record(row: dict[str, object]) -> None:
    """Append ``row`` (with the bench's name) to the ``BENCH_JSON`` file, if set."""
    path = os.environ.get("BENCH_JSON")
    if path:
        row = {"bench": Path(sys.argv[0]).stem, **row}
        with open(path, "a") as file:
            file.write(json.dumps(row) + "\n")


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank ``p`` percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def quiet() -> None:
    """Warnings and errors only, from the standard library and structlog."""
    logging.disable(logging.INFO)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
