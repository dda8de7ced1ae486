"""Period labels and calendars (SPEC §3).

Labels: day ``2026-03-02``, ISO week ``2026-W10`` (Monday–Sunday), month ``2026-03``,
quarter ``2026-Q1``. A :class:`Period` knows its first and last day (inclusive), its
neighbours and the same period one year earlier. Pure functions only: no data access.

>>> p = Period.parse("2026-W10")
>>> p.start, p.end
(datetime.date(2026, 3, 2), datetime.date(2026, 3, 8))
>>> p.previous().label
'2026-W09'
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .errors import PeriodError, quote

GRAINS = ("day", "week", "month", "quarter")
# Years a label may name. Reviews look back up to two years and one period ahead, so the
# calendar must have room on both sides (Python dates end at 9999); contacts before 2000 are
# refused by the loader anyway.
FIRST_YEAR, LAST_YEAR = 1900, 2999

_PATTERNS = {
    "day": re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
    "week": re.compile(r"^(\d{4})-W(\d{2})$"),
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
}


@dataclass(frozen=True, order=True)
class Period:
    """A calendar period: ``grain`` in GRAINS, ``start``/``end`` inclusive dates."""

    start: dt.date
    end: dt.date
    grain: str

    # -- construction -------------------------------------------------------------------
    @classmethod
    def parse(cls, label: str) -> Period:
        """Parse a label such as ``2026-W10``; raise PeriodError with the accepted forms."""
        text = str(label).strip()
        for grain, pattern in _PATTERNS.items():
            m = pattern.match(text)
            if not m:
                continue
            if not FIRST_YEAR <= int(m[1]) <= LAST_YEAR:
                raise PeriodError(
                    f"period {quote(text)} is outside the years kpitools handles "
                    f"({FIRST_YEAR} to {LAST_YEAR}); use a label such as 2026-W10"
                )
            try:
                if grain == "day":
                    day = dt.date(int(m[1]), int(m[2]), int(m[3]))
                    return cls(day, day, "day")
                if grain == "week":
                    start = dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)
                    return cls(start, start + dt.timedelta(days=6), "week")
                if grain == "month":
                    return cls.containing(dt.date(int(m[1]), int(m[2]), 1), "month")
                return cls.containing(dt.date(int(m[1]), 3 * int(m[2]) - 2, 1), "quarter")
            except ValueError as exc:
                raise PeriodError(f"period {quote(text)} is not a real {grain}: {exc}") from None
        raise PeriodError(
            f"cannot read period label {quote(text)}; use a day 2026-03-02, an ISO week 2026-W10, "
            "a month 2026-03 or a quarter 2026-Q1"
        )

    @classmethod
    def containing(cls, day: dt.date | dt.datetime, grain: str) -> Period:
        """The period of ``grain`` that contains ``day``."""
        if isinstance(day, dt.datetime):
            day = day.date()
        if grain == "day":
            return cls(day, day, grain)
        if grain == "week":
            start = day - dt.timedelta(days=day.weekday())
            return cls(start, start + dt.timedelta(days=6), grain)
        if grain == "month":
            start = day.replace(day=1)
            return cls(start, _add_months(start, 1) - dt.timedelta(days=1), grain)
        if grain == "quarter":
            start = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
            return cls(start, _add_months(start, 3) - dt.timedelta(days=1), grain)
        raise PeriodError(f"unknown grain {grain!r}; use one of {', '.join(GRAINS)}")

    # -- properties ---------------------------------------------------------------------
    @property
    def label(self) -> str:
        if self.grain == "day":
            return self.start.isoformat()
        if self.grain == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.grain == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def end_exclusive(self) -> dt.date:
        return self.end + dt.timedelta(days=1)

    def __str__(self) -> str:
        return self.label

    # -- navigation ---------------------------------------------------------------------
    def shift(self, n: int) -> Period:
        """The period ``n`` steps later (negative: earlier) at the same grain."""
        if self.grain == "day":
            return Period.containing(self.start + dt.timedelta(days=n), "day")
        if self.grain == "week":
            return Period.containing(self.start + dt.timedelta(weeks=n), "week")
        months = n if self.grain == "month" else 3 * n
        return Period.containing(_add_months(self.start, months), self.grain)

    def previous(self) -> Period:
        return self.shift(-1)

    def same_last_year(self) -> Period:
        """Same period a year earlier: ISO week number for weeks, calendar otherwise."""
        if self.grain == "week":
            year, week, _ = self.start.isocalendar()
            try:
                return Period.parse(f"{year - 1}-W{week:02d}")
            except PeriodError:  # week 53 has no twin: use week 52
                return Period.parse(f"{year - 1}-W52")
        if self.grain == "day":
            try:
                return Period.containing(self.start.replace(year=self.start.year - 1), "day")
            except ValueError:  # 29 February
                return Period.containing(dt.date(self.start.year - 1, 2, 28), "day")
        return Period.containing(_add_months(self.start, -12), self.grain)

    def history(self, n: int) -> list[Period]:
        """The ``n`` periods ending with this one, oldest first."""
        return [self.shift(-k) for k in range(n - 1, -1, -1)]

    def is_covered_by(self, first_day: dt.date | None, last_day: dt.date | None,
                      gaps=()) -> bool:
        """True when the data coverage [first_day, last_day] spans this whole period and none
        of ``gaps`` (days inside the coverage without contacts, see :func:`missing_days`)
        falls in it."""
        if first_day is None or last_day is None:
            return False
        if not (first_day <= self.start and self.end <= last_day):
            return False
        return not any(self.start <= day <= self.end for day in gaps)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def periods_between(first: dt.date, last: dt.date, grain: str) -> list[Period]:
    """Every period of ``grain`` that intersects [first, last], in order."""
    out = []
    p = Period.containing(first, grain)
    while p.start <= last:
        out.append(p)
        p = p.shift(1)
    return out


def latest_complete(first_day: dt.date, last_day: dt.date, grain: str, gaps=()) -> Period:
    """The latest period of ``grain`` wholly inside [first_day, last_day] and free of
    ``gaps`` (days without contacts inside the coverage)."""
    p = Period.containing(last_day, grain)
    while p.start >= first_day and not p.is_covered_by(first_day, last_day, gaps):
        p = p.previous()
    if p.start < first_day:
        raise PeriodError(
            f"the data ({first_day} to {last_day}) covers no complete {grain}; "
            "pass --period to report on a partial one"
        )
    return p


def grain_of(label: str) -> str:
    return Period.parse(label).grain


def parse_closed_days(values) -> frozenset[dt.date]:
    """Dates a center is legitimately closed (the ``closed_days`` parameter): ISO date
    strings or dates. A bad entry is a PeriodError naming it."""
    if values is None:
        return frozenset()
    if isinstance(values, (str, dt.date)):
        values = [values]
    out = set()
    for v in values:
        if isinstance(v, dt.datetime):
            v = v.date()
        if isinstance(v, dt.date):
            out.add(v)
            continue
        try:
            out.add(dt.date.fromisoformat(str(v).strip()))
        except ValueError:
            raise PeriodError(f"closed_days: {quote(v, 40)} is not a date such as 2026-12-25") from None
    return frozenset(out)


def missing_days(days_with_contacts, closed_days=()) -> tuple[dt.date, ...]:
    """Days between the first and last day with contacts that have none and are not
    ``closed_days``: gaps in the data (a missing export), which make the periods that
    contain them partial."""
    days = set(days_with_contacts)
    if not days:
        return ()
    first, last = min(days), max(days)
    closed = set(closed_days)
    out = []
    day = first
    while day <= last:
        if day not in days and day not in closed:
            out.append(day)
        day += dt.timedelta(days=1)
    return tuple(out)
