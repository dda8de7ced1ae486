"""Volume, service level and abandonment by weekday and hour of day (the heat maps).

The engine groups by the time-of-contact dimensions ``weekday`` (1 = Monday) and ``hour``,
so the cells are the catalogue's own KPIs, formed from the same measures as every other
number in the review.
"""

from __future__ import annotations

import pandas as pd

from ..api import kpis
from ..periods import Period

HEAT_KPIS = ["contact_volume", "service_level", "abandonment_rate"]
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def weekday_counts(period: Period, coverage=(None, None)) -> dict[int, int]:
    """How many times each weekday (1 = Monday) occurs in ``period`` within the data."""
    first, last = coverage
    start = max(period.start, first) if first is not None else period.start
    end = min(period.end, last) if last is not None else period.end
    days = pd.date_range(start, end, freq="D")
    counts = pd.Series(days.isocalendar().day.to_numpy()).value_counts()
    return {d: int(counts.get(d, 0)) for d in range(1, 8)}


def heat_frame(data, period: Period, cells: pd.DataFrame | None = None) -> pd.DataFrame:
    """Tidy frame: weekday (1 = Monday), hour, kpi, value, numerator, denominator, days.

    Contact volume is a **per-day average**: the count divided by ``days``, the number of
    times that weekday occurs in the period (a month has four or five Thursdays; summing
    would make the five-Thursday weekday look busiest). Rates are ratios of sums as always.
    ``cells``: the period's ``HEAT_KPIS`` by weekday and hour when already computed (the
    review's shared pass); None runs the engine for them.
    """
    frame = kpis(data, period, by=["weekday", "hour"], kpis=HEAT_KPIS) if cells is None else cells
    frame = frame.dropna(subset=["weekday", "hour"])
    frame = frame.astype({"weekday": int, "hour": int})
    frame["days"] = frame["weekday"].map(weekday_counts(period, data.coverage)).astype(float)
    volume = (frame["kpi"] == "contact_volume") & (frame["days"] > 0)
    frame.loc[volume, "value"] = frame.loc[volume, "value"] / frame.loc[volume, "days"]
    return frame[["weekday", "hour", "kpi", "value", "numerator", "denominator",
                  "days"]].reset_index(drop=True)
