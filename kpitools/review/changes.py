"""When is a change a change? Materiality and significance for period-over-period moves.

A move counts (for the guardrail, the observations and the "biggest movers") when it is

* **material**: at least half the distance between the KPI's warning and critical lines in the
  registry (FCR 0.75 / 0.70 -> 2.5 points, AHT 6:00 / 7:30 -> 45 s). KPIs without thresholds
  (volumes, cost per contact) must move by :data:`RELATIVE_MATERIALITY` of their earlier value;
* and **significant** where the data allows a test: the 95 % interval of the change excludes 0
  (:func:`kpitools.api.compare_tables`: Newcombe for rates, Welch for means and NPS). Counts,
  costs and occupancy carry no sampling variance, so materiality alone decides for them.

Pure functions over rows of a comparison frame (see :mod:`kpitools.review.context`).
"""

from __future__ import annotations

import math

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


def is_significant(row: dict) -> bool:
    """False only when the change's 95 % interval (``significant`` from
    :func:`kpitools.api.compare_tables`) includes 0; a change that cannot be tested (counts,
    costs, occupancy) is left to materiality."""
    return row.get("significant") is not False


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
