"""Formatting in one place, driven by the registry unit (STYLE §4).

The same functions format scorecard cells, chart labels and commentary sentences.

>>> fmt_value(0.8123, "fraction")
'81.2 %'
>>> fmt_value(95, "seconds")
'1:35'
>>> fmt_change(-0.031, "fraction")
'−3.1 pts'
"""

from __future__ import annotations

import math

MINUS = "\u2212"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def as_number(value) -> float | None:
    """A float, or None for anything missing or not a number (None, NaN, text)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def fmt_duration(seconds: float) -> str:
    """mm:ss under an hour, h:mm:ss from an hour."""
    total = int(round(abs(seconds)))
    sign = MINUS if seconds < 0 else ""
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{sign}{h}:{m:02d}:{s:02d}" if h else f"{sign}{m}:{s:02d}"


def fmt_value(value, unit: str, missing: str = "n/a", symbol: str | None = None) -> str:
    """``value`` in ``unit``; ``symbol`` is the currency symbol for money (``currency.symbol``
    of the center configuration), none by default."""
    if _missing(value):
        return missing
    if isinstance(value, (list, tuple)):
        return "–".join(fmt_value(v, unit, symbol=symbol) for v in value)
    if unit == "fraction":
        return f"{100 * value:.1f} %"
    if unit == "seconds":
        return fmt_duration(value)
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "currency":
        sign = MINUS if value < 0 else ""
        return f"{sign}{symbol or ''}{abs(value):,.2f}"
    if unit == "nps":
        return f"{value:+.1f}".replace("-", MINUS)
    if unit == "score":
        return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
    return f"{value:g}"


def fmt_change(change, unit: str, missing: str = "–", symbol: str | None = None) -> str:
    """A period-over-period change: percentage points for fractions, points for NPS."""
    if _missing(change):
        return missing
    sign = "+" if change > 0 else (MINUS if change < 0 else "±")
    mag = abs(change)
    if unit == "fraction":
        return f"{sign}{100 * mag:.1f} pts"
    if unit == "nps":
        return f"{sign}{mag:.1f} pts"
    if unit == "seconds":
        return f"{sign}{fmt_duration(mag)}"
    if unit == "count":
        return f"{sign}{mag:,.0f}"
    if unit == "currency":
        return f"{sign}{symbol or ''}{mag:,.2f}"
    return f"{sign}{mag:.2f}"


def fmt_target(target, unit: str, direction: str) -> str:
    if not isinstance(target, (list, tuple)) and _missing(target):
        return "–"
    if direction == "band":
        return fmt_value(target, unit)
    prefix = {"higher": "≥ ", "lower": "≤ "}.get(direction, "")
    return prefix + fmt_value(target, unit)
