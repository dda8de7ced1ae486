"""Volume, service level and abandonment by weekday and hour of day (the heat maps).

The engine groups by period and dimension only, so this is one extra query over the same
per-contact columns and registry measures the engine uses (:mod:`kpitools.sql`); KPI values
are then formed from the measures by :mod:`kpitools.formulas`, so no formula is repeated.
"""

from __future__ import annotations

import pandas as pd

from ..formulas import kpi_frame
from ..periods import Period
from ..sql import Scope, _contacts_in_scope, _measure_selects

HEAT_KPIS = ("contact_volume", "service_level", "abandonment_rate")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def heat_frame(data, period: Period) -> pd.DataFrame:
    """Tidy frame: weekday (1 = Monday), hour, kpi, value, numerator, denominator."""
    reg = data.registry
    backend = data.backend
    inner = _contacts_in_scope(Scope(period.start, period.end), data.params, backend.dialect)
    sql = (
        "SELECT CAST(isodow(arrived_at) AS INTEGER) AS weekday, "
        "CAST(hour(arrived_at) AS INTEGER) AS hour,\n  "
        + ",\n  ".join(_measure_selects(reg, "interactions"))
        + f"\nFROM (\n{inner}\n) src\nGROUP BY 1, 2 ORDER BY 1, 2"
    )
    measures = backend.run(sql)
    kpis = [reg[k] for k in HEAT_KPIS]
    if measures.empty:
        return pd.DataFrame(columns=["weekday", "hour", "kpi", "value", "numerator", "denominator"])
    return kpi_frame(measures, kpis, reg, {}, ["weekday", "hour"])
