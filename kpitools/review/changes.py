"""When is a change a change? Materiality and significance for period-over-period moves.

A move counts (for the guardrail, the observations and the "biggest movers") when it is

* **material**: at least half the distance between the KPI's warning and critical lines in the
  registry (FCR 0.75 / 0.70 -> 2.5 points, AHT 6:00 / 7:30 -> 45 s). KPIs without thresholds
  (volumes, cost per contact) must move by :data:`RELATIVE_MATERIALITY` of their earlier value;
* and **statistically distinguishable** where the data allows a test: a two-proportion z-test
  at 95 % for rates, non-overlapping intervals for NPS and mean scores. Handle time carries no
  variance in the measures, so materiality alone decides for it.

Pure functions over rows of a comparison frame (see :mod:`kpitools.review.context`).
"""

from __future__ import annotations

import math

from ..stats import Z95

RELATIVE_MATERIALITY = 0.10


def _num(x) -> float | None:
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def materiality(direction: str, warning, critical) -> float | None:
    """Half the distance between the warning and critical lines (None without both)."""
    if warning is None or critical is None:
        return None
    if isinstance(warning, (list, tuple)):
        gaps = [abs(w - c) for w, c in zip(warning, critical, strict=True) if w != c]
        return min(gaps) / 2 if gaps else None
    gap = abs(float(warning) - float(critical))
    return gap / 2 if gap else None


def two_proportion_z(x1, n1, x0, n0) -> float | None:
    """z statistic of p1 - p0 with the pooled standard error (None when undefined)."""
    x1, n1, x0, n0 = (_num(v) for v in (x1, n1, x0, n0))
    if not n1 or not n0 or x1 is None or x0 is None:
        return None
    pooled = (x1 + x0) / (n1 + n0)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    if se == 0:
        return None
    return (x1 / n1 - x0 / n0) / se


def is_significant(row: dict) -> bool:
    """True when the change in ``row`` is unlikely to be sampling noise (or cannot be tested)."""
    unit = row.get("unit")
    if unit == "fraction":
        z = two_proportion_z(row.get("numerator"), row.get("denominator"),
                             row.get("compare_numerator"), row.get("compare_denominator"))
        return z is None or abs(z) >= Z95
    lo1, hi1 = _num(row.get("ci_low")), _num(row.get("ci_high"))
    lo0, hi0 = _num(row.get("compare_ci_low")), _num(row.get("compare_ci_high"))
    if None in (lo1, hi1, lo0, hi0):
        return True
    return hi1 < lo0 or hi0 < lo1


def is_material(row: dict) -> bool:
    """True when ``row['change']`` is material and significant (False when there is none)."""
    change = _num(row.get("change"))
    if change is None or change == 0:
        return False
    bar = materiality(row.get("direction"), row.get("warning"), row.get("critical"))
    if bar is None:
        before = _num(row.get("compare_value"))
        if not before:
            return False
        bar = RELATIVE_MATERIALITY * abs(before)
    return abs(change) >= bar and is_significant(row)


def is_better(direction: str, change: float, value=None, before=None, target=None) -> bool | None:
    """Whether a change is an improvement given the KPI's direction (None: no opinion)."""
    change = _num(change)
    if change is None or change == 0:
        return None
    if direction == "higher":
        return change > 0
    if direction == "lower":
        return change < 0
    if direction == "band" and isinstance(target, (list, tuple)):
        v, b = _num(value), _num(before)
        if v is None or b is None:
            return None
        mid = (target[0] + target[1]) / 2
        return abs(v - mid) < abs(b - mid)
    return None
