"""The schedule expression engine, as parametrize tables of expressions and next fire times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pyawscron import AWSCron  # type: ignore[import-untyped]

from eventsim.cron import parse
from eventsim.errors import ScheduleExpressionError


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        # AWS's documented examples (docs/aws-behaviour.md §4.2)
        ("cron(0 10 * * ? *)", utc(2026, 1, 1, 10), utc(2026, 1, 2, 10)),
        ("cron(15 12 * * ? *)", utc(2026, 1, 1), utc(2026, 1, 1, 12, 15)),
        ("cron(0 18 ? * MON-FRI *)", utc(2026, 1, 2, 18), utc(2026, 1, 5, 18)),
        ("cron(0 8 1 * ? *)", utc(2026, 1, 1, 8), utc(2026, 2, 1, 8)),
        ("cron(0/10 * ? * MON-FRI *)", utc(2026, 1, 3), utc(2026, 1, 5)),
        ("cron(0/5 8-17 ? * MON-FRI *)", utc(2026, 1, 5, 17, 55), utc(2026, 1, 6, 8)),
        ("cron(0/5 8-17 ? * MON-FRI *)", utc(2026, 1, 5, 8, 2), utc(2026, 1, 5, 8, 5)),
        ("cron(15 10 ? * 6L 2019-2022)", utc(2019, 1, 1), utc(2019, 1, 25, 10, 15)),
        ("cron(15 10 ? * 6L 2019-2022)", utc(2022, 12, 30, 10, 15), None),
        ("cron(5,35 14 * * ? *)", utc(2026, 1, 1, 14, 5), utc(2026, 1, 1, 14, 35)),
        ("cron(1/10 * * * ? *)", utc(2026, 1, 1, 0, 51), utc(2026, 1, 1, 1, 1)),
        # L, W, LW and # at month and year ends; leap years
        ("cron(0 0 L * ? *)", utc(2024, 2, 1), utc(2024, 2, 29)),
        ("cron(0 0 L * ? *)", utc(2023, 2, 1), utc(2023, 2, 28)),
        ("cron(0 0 L * ? *)", utc(2026, 12, 31), utc(2027, 1, 31)),
        ("cron(0 0 LW * ? *)", utc(2026, 1, 1), utc(2026, 1, 30)),  # the 31st is a Saturday
        ("cron(0 0 1W * ? *)", utc(2025, 10, 31), utc(2025, 11, 3)),  # Sat 1st -> Mon 3rd
        ("cron(0 0 31W * ? *)", utc(2025, 8, 1), utc(2025, 8, 29)),  # Sun 31st -> Fri 29th
        ("cron(0 0 15W * ? *)", utc(2026, 2, 1), utc(2026, 2, 16)),  # Sun 15th -> Mon 16th
        ("cron(0 0 30W * ? *)", utc(2026, 2, 1), utc(2026, 3, 30)),  # no Feb 30
        ("cron(0 0 ? * 2#5 *)", utc(2026, 1, 1), utc(2026, 3, 30)),  # first fifth Monday
        ("cron(0 0 ? * 3#2 *)", utc(2026, 1, 1), utc(2026, 1, 13)),  # second Tuesday
        ("cron(0 0 ? * L *)", utc(2026, 1, 1), utc(2026, 1, 3)),  # Saturday, 7
        ("cron(0 0 31 12 ? *)", utc(2026, 12, 31), utc(2027, 12, 31)),
        ("cron(0 0 29 2 ? *)", utc(2025, 1, 1), utc(2028, 2, 29)),
        ("cron(0 0 30 2 ? *)", utc(2026, 1, 1), None),  # impossible: ends, no endless loop
        ("cron(0 0 1 1 ? 2199)", utc(2199, 1, 1), None),
        ("cron(59 23 31 12 ? 2199)", utc(2199, 12, 31), utc(2199, 12, 31, 23, 59)),
        # wrapping ranges, names in any case
        ("cron(0 22-2 * * ? *)", utc(2026, 1, 1, 2), utc(2026, 1, 1, 22)),
        ("cron(0 22-2 * * ? *)", utc(2026, 1, 1, 23), utc(2026, 1, 2)),
        ("cron(0 12 ? * FRI-MON *)", utc(2026, 1, 5, 12), utc(2026, 1, 9, 12)),
        ("cron(0 12 ? jan mon *)", utc(2026, 1, 6), utc(2026, 1, 12, 12)),
        ("cron(0 0 1 NOV-FEB ? *)", utc(2026, 2, 2), utc(2026, 11, 1)),
        # rate and at
        ("at(2026-12-24T18:00:00)", utc(2026, 1, 1), utc(2026, 12, 24, 18)),
        ("at(2026-12-24T18:00:00)", utc(2026, 12, 24, 18), None),
    ],
)
def test_next_fire(expression: str, after: datetime, expected: datetime | None) -> None:
    assert parse(expression).next_after(after) == expected


def test_rate_is_anchored_at_the_start() -> None:
    start = utc(2026, 1, 1, 0, 0, 30)
    rate = parse("rate(1 minute)")
    assert rate.next_after(start, start=start) == utc(2026, 1, 1, 0, 1, 30)
    assert rate.next_after(utc(2026, 1, 1, 0, 7), start=start) == utc(2026, 1, 1, 0, 7, 30)
    assert parse("rate(2 days)").next_after(start, start=start) == utc(2026, 1, 3, 0, 0, 30)
    assert parse("rate(5 hours)").next_after(start) == utc(2026, 1, 1, 5, 0, 30)


NEW_YORK = "America/New_York"


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        # 2026-03-08 02:30 does not exist in New York: skipped.
        ("cron(30 2 * * ? *)", utc(2026, 3, 7, 7, 30), utc(2026, 3, 9, 6, 30)),
        # 2026-11-01 01:30 happens twice: fires once, at the first (EDT) one.
        ("cron(30 1 * * ? *)", utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30)),
        ("cron(30 1 * * ? *)", utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)),
        ("cron(0 12 * * ? *)", utc(2026, 7, 1), utc(2026, 7, 1, 16)),  # EDT
        ("cron(0 12 * * ? *)", utc(2026, 12, 1), utc(2026, 12, 1, 17)),  # EST
        ("at(2026-03-08T02:30:00)", utc(2026, 1, 1), utc(2026, 3, 8, 7, 30)),
    ],
)
def test_time_zones_and_dst(expression: str, after: datetime, expected: datetime) -> None:
    assert parse(expression, NEW_YORK).next_after(after) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("cron(0 10 * * *)", "expected 6 fields"),
        ("cron(0 10 * * * *)", "exactly one of day-of-month and day-of-week must be '?'"),
        ("cron(0 10 ? * ? *)", "exactly one of day-of-month and day-of-week must be '?'"),
        ("cron(60 10 * * ? *)", "minutes: 60 is outside 0-59"),
        ("cron(0 24 * * ? *)", "hours: 24 is outside 0-23"),
        ("cron(0 0 32 * ? *)", "day-of-month: 32 is outside 1-31"),
        ("cron(0 0 ? 13 MON *)", "month: 13 is outside 1-12"),
        ("cron(0 0 ? * 8 *)", "day-of-week: 8 is outside 1-7"),
        ("cron(0 0 * * ? 2200)", "year: 2200 is outside 1970-2199"),
        ("cron(0 0 ? * 3#1,6#3 *)", "only one '#' expression"),
        ("cron(0 0 ? * 3#6 *)", "'#' takes 1-5"),
        ("cron(0/0 0 * * ? *)", "bad step"),
        ("cron(x 0 * * ? *)", "'x' is not a value"),
        ("rate(1 hours)", "rate(1 hour)"),
        ("rate(5 hour)", "rate(5 hours)"),
        ("rate(0 minutes)", "positive integer"),
        ("rate(5 seconds)", "unit minute(s), hour(s) or day(s)"),
        ("at(2026-12-24 18:00)", "expected at(yyyy-mm-ddThh:mm:ss)"),
        ("every 5 minutes", "expected cron(...), rate(...) or at(...)"),
    ],
)
def test_invalid_expressions(expression: str, message: str) -> None:
    with pytest.raises(
        ScheduleExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        parse(expression)


def test_unknown_time_zone() -> None:
    with pytest.raises(ScheduleExpressionError, match="unknown IANA time zone"):
        parse("rate(1 minute)", "Mars/Base")


# Expressions an independent AWS cron implementation (pyawscron) evaluates; it cannot do
# LW, Feb 29, impossible days in a step (10/5) or wrapping ranges, which the tables above cover.
CORPUS = [
    "0 10 * * ? *", "15 12 * * ? *", "0 18 ? * MON-FRI *", "0 8 1 * ? *",
    "0/10 * ? * MON-FRI *", "0/5 8-17 ? * MON-FRI *", "15 10 ? * 6L 2019-2030",
    "5,35 14 * * ? *", "0 0 L * ? *", "0 0 1W * ? *", "0 0 15W * ? *", "0 0 31W * ? *",
    "0 0 ? * 2#5 *", "0 0 ? * 3#2 *", "1/10 * * * ? *", "0 12 ? JAN,JUL MON *",
    "30 6 ? * 1,7 *", "0 0/3 * * ? *", "0 0 1-7 * ? *", "59 23 L * ? *", "0 0 ? * 7L *",
    "0 9 ? * 2-6 2026-2027", "45 23 ? * SUN#1 *", "0 4 28-31 * ? *",
]  # fmt: skip


@pytest.mark.parametrize("expression", CORPUS)
def test_agrees_with_an_independent_implementation(expression: str) -> None:
    theirs, ours = AWSCron(expression), parse(f"cron({expression})")
    instant: datetime | None = utc(2026, 1, 1)
    for _ in range(40):
        assert instant is not None
        expected = theirs.occurrence(instant).next().astimezone(UTC)
        instant = ours.next_after(instant)
        assert instant == expected
