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


def heat_frame(data, period: Period) -> pd.DataFrame:
    """Tidy frame: weekday (1 = Monday), hour, kpi, value, numerator, denominator."""
    frame = kpis(data, period, by=["weekday", "hour"], kpis=HEAT_KPIS)
    frame = frame.dropna(subset=["weekday", "hour"])
    frame = frame.astype({"weekday": int, "hour": int})
    return frame[["weekday", "hour", "kpi", "value", "numerator", "denominator"]].reset_index(drop=True)
