"""AWS schedule expressions, pure: parsing and next-fire arithmetic (docs/aws-behaviour.md
§4.2–§4.4).

``parse(text, timezone="UTC")`` returns a ``Schedule`` whose ``next_after(instant, start)``
gives the next firing strictly after ``instant`` as an aware UTC datetime, or None when the
schedule has ended.

* ``cron(Minutes Hours Day-of-month Month Day-of-week Year)``: six fields; ``, - * /``;
  month and day names in any case; exactly one of day-of-month and day-of-week is ``?``;
  ``L``, ``nL``, ``W``, ``LW``, ``#``; ranges may wrap (``FRI-MON``, hours ``22-2``); day-of-week
  1-7 is SUN-SAT. Impossible dates (Feb 30) are skipped; past 2199 the schedule ends.
* ``rate(1 minute|hour|day)``, ``rate(N minutes|hours|days)`` (N > 1): every period, counted
  from the schedule's start.
* ``at(yyyy-mm-ddThh:mm:ss)``: once.

Times are local to ``timezone``: a local time that does not exist (spring forward) is skipped,
one that happens twice (fall back) fires once, at its first occurrence.

Example::

    schedule = parse("cron(0/15 8-17 ? * MON-FRI *)")
    schedule.next_after(datetime(2026, 1, 2, 17, 50, tzinfo=UTC))   # Mon 2026-01-05 08:00Z
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ScheduleExpressionError

YEARS = (1970, 2199)
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


class Schedule:
    """A parsed schedule expression."""

    timezone: ZoneInfo

    def next_after(self, instant: datetime, start: datetime | None = None) -> datetime | None:
        raise NotImplementedError


def parse(text: str, timezone: str = "UTC") -> Schedule:
    """Parse ``cron(...)``, ``rate(...)`` or ``at(...)``; ``ScheduleExpressionError`` if bad."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleExpressionError(f"unknown IANA time zone {timezone!r}") from None
    match = re.fullmatch(r"\s*(cron|rate|at)\((.*)\)\s*", text)
    if not match:
        raise ScheduleExpressionError(f"expected cron(...), rate(...) or at(...), got {text!r}")
    kind, body = match.groups()
    if kind == "rate":
        return Rate.parse(body, zone)
    if kind == "at":
        return At.parse(body, zone)
    return Cron.parse(body, zone)


# --- rate() and at() ------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate(Schedule):
    period: timedelta
    timezone: ZoneInfo

    @classmethod
    def parse(cls, body: str, zone: ZoneInfo) -> Rate:
        match = re.fullmatch(r"\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*", body)
        if not match:
            raise ScheduleExpressionError(
                f"rate({body}): expected 'rate(N unit)' with unit minute(s), hour(s) or day(s)"
            )
        value, unit = int(match.group(1)), match.group(2)
        if value < 1:
            raise ScheduleExpressionError(f"rate({body}): the value must be a positive integer")
        if (value == 1) != (not unit.endswith("s")):
            right = unit.rstrip("s") if value == 1 else unit + ("" if unit.endswith("s") else "s")
            raise ScheduleExpressionError(
                f"rate({body}): AWS wants the singular unit exactly when the value is 1: "
                f"rate({value} {right})"
            )
        seconds = {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]
        return cls(timedelta(seconds=value * seconds), zone)

    def next_after(self, instant: datetime, start: datetime | None = None) -> datetime | None:
        """The first firing is one period after ``start`` (default: ``instant``)."""
        anchor = start or instant
        if instant < anchor + self.period:
            return (anchor + self.period).astimezone(UTC)
        periods = (instant - anchor) // self.period + 1
        return (anchor + periods * self.period).astimezone(UTC)


@dataclass(frozen=True)
class At(Schedule):
    when: datetime  # aware, UTC
    timezone: ZoneInfo

    @classmethod
    def parse(cls, body: str, zone: ZoneInfo) -> At:
        try:
            local = datetime.strptime(body.strip(), "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            raise ScheduleExpressionError(f"at({body}): expected at(yyyy-mm-ddThh:mm:ss)") from None
        return cls(local.replace(tzinfo=zone).astimezone(UTC), zone)

    def next_after(self, instant: datetime, start: datetime | None = None) -> datetime | None:
        return self.when if self.when > instant else None


# --- cron() ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DayRule:
    """Which days of a month match: plain days, L, LW, nW (day-of-month) or weekday rules."""

    days: frozenset[int] = frozenset()  # day-of-month numbers
    last_day: bool = False  # L
    last_weekday: bool = False  # LW
    nearest_weekday: int | None = None  # nW
    weekdays: frozenset[int] = frozenset()  # 0=Monday .. 6=Sunday (Python's numbering)
    last_of_weekday: int | None = None  # nL: the last such weekday of the month
    nth_weekday: tuple[int, int] | None = None  # d#n: (weekday, n)

    def matches(self, day: date) -> bool:
        last = calendar.monthrange(day.year, day.month)[1]
        if day.day in self.days or (self.last_day and day.day == last):
            return True
        if self.last_weekday and day == _nearest_weekday(day.year, day.month, last):
            return True
        if self.nearest_weekday is not None and day.day <= last and self.nearest_weekday <= last:
            if day == _nearest_weekday(day.year, day.month, self.nearest_weekday):
                return True
        weekday = day.weekday()
        if weekday in self.weekdays:
            return True
        if self.last_of_weekday == weekday and day.day + 7 > last:
            return True
        if self.nth_weekday is not None:
            target, n = self.nth_weekday
            if weekday == target and (day.day - 1) // 7 + 1 == n:
                return True
        return False


def _nearest_weekday(year: int, month: int, day: int) -> date:
    """``W``: the weekday nearest to ``day``, not crossing into another month."""
    target = date(year, month, day)
    last = calendar.monthrange(year, month)[1]
    if target.weekday() == 5:  # Saturday: Friday, or Monday when the 1st is a Saturday
        return target - timedelta(days=1) if day > 1 else target + timedelta(days=2)
    if target.weekday() == 6:  # Sunday: Monday, or Friday when it is the last day
        return target + timedelta(days=1) if day < last else target - timedelta(days=2)
    return target


@dataclass(frozen=True)
class Cron(Schedule):
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: frozenset[int]
    years: frozenset[int]
    day: _DayRule
    timezone: ZoneInfo
    text: str

    @classmethod
    def parse(cls, body: str, zone: ZoneInfo) -> Cron:
        fields = body.split()
        if len(fields) != 6:
            raise ScheduleExpressionError(
                f"cron({body}): expected 6 fields (minutes hours day-of-month month "
                f"day-of-week year), got {len(fields)}"
            )
        minute, hour, dom, month, dow, year = fields
        if (dom == "?") == (dow == "?"):
            raise ScheduleExpressionError(
                f"cron({body}): exactly one of day-of-month and day-of-week must be '?'"
            )
        day = _day_of_month(dom, body) if dow == "?" else _day_of_week(dow, body)
        return cls(
            minutes=tuple(sorted(_values(minute, 0, 59, "minutes", body))),
            hours=tuple(sorted(_values(hour, 0, 23, "hours", body))),
            months=frozenset(_values(month, 1, 12, "month", body, _MONTHS)),
            years=frozenset(_values(year, *YEARS, "year", body)),
            day=day,
            timezone=zone,
            text=f"cron({body})",
        )

    def next_after(self, instant: datetime, start: datetime | None = None) -> datetime | None:
        local = instant.astimezone(self.timezone)
        day = local.date()
        while day.year <= YEARS[1]:
            if day.year not in self.years:
                later = [y for y in self.years if y > day.year]
                if not later:
                    return None
                day = date(min(later), 1, 1)
                continue
            if day.month not in self.months:
                day = (
                    date(day.year + 1, 1, 1)
                    if day.month == 12
                    else date(day.year, day.month + 1, 1)
                )
                continue
            if self.day.matches(day):
                fired = self._first_time(day, instant)
                if fired is not None:
                    return fired
            day += timedelta(days=1)
        return None

    def _first_time(self, day: date, instant: datetime) -> datetime | None:
        for hour in self.hours:
            for minute in self.minutes:
                wall = datetime(day.year, day.month, day.day, hour, minute)
                local = wall.replace(tzinfo=self.timezone)  # fold=0: first occurrence
                utc = local.astimezone(UTC)
                if utc.astimezone(self.timezone).replace(tzinfo=None) != wall:
                    continue  # does not exist here (spring forward)
                if utc > instant:
                    return utc
        return None


def _number(text: str, low: int, high: int, names: list[str] | None, what: str, body: str) -> int:
    if names and text.upper() in names:
        return names.index(text.upper()) + low
    if not text.isdigit():
        raise ScheduleExpressionError(f"cron({body}): {what}: {text!r} is not a value")
    value = int(text)
    if not low <= value <= high:
        raise ScheduleExpressionError(f"cron({body}): {what}: {value} is outside {low}-{high}")
    return value


def _values(
    field: str, low: int, high: int, what: str, body: str, names: list[str] | None = None
) -> set[int]:
    """The values of a plain field: ``*``, ``a``, ``a-b`` (wrapping), ``a/b``, lists."""
    values: set[int] = set()
    for part in field.split(","):
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) < 1:
                raise ScheduleExpressionError(f"cron({body}): {what}: bad step in {part!r}")
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            first = _number(a, low, high, names, what, body)
            last = _number(b, low, high, names, what, body)
        else:
            first = _number(base, low, high, names, what, body)
            last = high if slash else first
        span = (last - first) % (high - low + 1) if last < first else last - first
        values.update(low + (first - low + i) % (high - low + 1) for i in range(0, span + 1, step))
    return values


def _day_of_month(field: str, body: str) -> _DayRule:
    if field == "*":
        return _DayRule(days=frozenset(range(1, 32)))
    if field == "L":
        return _DayRule(last_day=True)
    if field == "LW":
        return _DayRule(last_weekday=True)
    if re.fullmatch(r"\d+W", field):
        return _DayRule(nearest_weekday=_number(field[:-1], 1, 31, None, "day-of-month", body))
    return _DayRule(days=frozenset(_values(field, 1, 31, "day-of-month", body)))


def _day_of_week(field: str, body: str) -> _DayRule:
    def python_weekday(aws: int) -> int:  # AWS 1=SUN..7=SAT -> Python 0=MON..6=SUN
        return (aws - 2) % 7

    if field == "*":
        return _DayRule(weekdays=frozenset(range(7)))
    if field == "L":
        return _DayRule(weekdays=frozenset({python_weekday(7)}))
    if "#" in field:
        if "," in field:
            raise ScheduleExpressionError(f"cron({body}): only one '#' expression is allowed")
        weekday, _, n = field.partition("#")
        if not n.isdigit() or not 1 <= int(n) <= 5:
            raise ScheduleExpressionError(f"cron({body}): day-of-week: '#' takes 1-5")
        aws = _number(weekday, 1, 7, _DAYS, "day-of-week", body)
        return _DayRule(nth_weekday=(python_weekday(aws), int(n)))
    if field.endswith("L"):
        aws = _number(field[:-1], 1, 7, _DAYS, "day-of-week", body)
        return _DayRule(last_of_weekday=python_weekday(aws))
    aws_days = _values(field, 1, 7, "day-of-week", body, _DAYS)
    return _DayRule(weekdays=frozenset(python_weekday(d) for d in aws_days))
