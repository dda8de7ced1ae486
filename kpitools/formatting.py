"""Formatting in one place, driven by the registry unit (STYLE §4).

The same functions format scorecard cells, chart labels and commentary sentences.

>>> fmt_value(0.8123, "fraction")
'81.2 %'
>>> fmt_value(95, "seconds")
'1:35'
>>> fmt_change(-0.031, "fraction")
'−3.1 pts'
>>> fmt_tick(0.8, "fraction"), fmt_tick(-0.05, "fraction", change=True)
('80 %', '−5 pts')
"""

from __future__ import annotations

import math
from collections.abc import Callable

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


def fmt_value(value, unit: str, missing: str = "n/a", symbol: str | None = None,
              against=None) -> str:
    """A value for reading. ``symbol`` is the currency symbol for money (``currency.symbol``
    of the center configuration), none by default. With ``against`` (a target, or a band's
    bounds), digits are added until a value that is not its target no longer prints as the
    target: ``fmt_value(0.7496, "fraction", against=0.75)`` is '74.96 %', not '75.0 %'."""
    if _missing(value):
        return missing
    if isinstance(value, (list, tuple)):
        return "–".join(fmt_value(v, unit, symbol=symbol) for v in value)
    if against is not None and unit in _DIGITS:
        return _fmt_apart(value, unit, against)
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


# Digits fmt_value shows by default, and the scale of the printed number, per unit.
_DIGITS = {"fraction": (1, 100), "nps": (1, 1), "score": (2, 1), "seconds": (0, 1)}


def _fmt_digits(value: float, unit: str, digits: int) -> str:
    if unit == "fraction":
        return f"{100 * value:.{digits}f} %"
    if unit == "nps":
        return f"{value:+.{digits}f}".replace("-", MINUS)
    if unit == "seconds":
        if digits == 0:
            return fmt_duration(value)
        sign = MINUS if value < 0 else ""
        m, s = divmod(round(abs(value), digits), 60)
        return f"{sign}{int(m)}:{s:0{3 + digits}.{digits}f}"
    return f"{value:.{digits}f}"


def _fmt_apart(value: float, unit: str, against) -> str:
    base, scale = _DIGITS[unit]
    if unit == "score" and abs(value) >= 10:
        base = 1
    bounds = [b for b in (against if isinstance(against, (list, tuple)) else [against])
              if not _missing(b)]
    digits = base
    while digits < base + 3 and any(
            b != value and round(value * scale, digits) == round(b * scale, digits)
            for b in bounds):
        digits += 1
    return _fmt_digits(value, unit, digits)


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


def fmt_tick(value, unit: str, span: float | None = None, change: bool = False) -> str:
    """A chart label: an axis tick, a heat-map cell or a point annotation.

    Shorter than :func:`fmt_value`: whole percents (one decimal when the axis ``span`` is
    under 5 points), whole NPS points, mm:ss. With ``change=True`` the value is a change and
    reads as one: ``+5 pts``, ``−0:20``.

    >>> [fmt_tick(v, "fraction", span=0.03) for v in (0.81, 0.815)]
    ['81.0 %', '81.5 %']
    >>> fmt_tick(-12, "nps"), fmt_tick(95, "seconds"), fmt_tick(3, "nps", change=True)
    ('−12', '1:35', '+3 pts')
    """
    if _missing(value):
        return ""
    if change:
        sign = "+" if value > 0 else (MINUS if value < 0 else "±")
        mag = abs(value)
        if unit == "fraction":
            digits = 1 if span is not None and span < 0.05 else 0
            return f"{sign}{100 * mag:.{digits}f} pts"
        if unit == "nps":
            return f"{sign}{mag:.0f} pts"
        return fmt_change(value, unit)
    if unit == "fraction":
        digits = 1 if span is not None and span < 0.05 else 0
        return f"{100 * value:.{digits}f} %"
    if unit == "seconds":
        return fmt_duration(value)
    if unit == "count":  # per-day averages span 0–2: whole numbers would all read "1"
        return f"{value:,.{1 if span is not None and span < 10 else 0}f}"
    if unit == "currency":
        return f"{value:,.2f}"
    if unit == "nps":
        return f"{value:+.0f}".replace("-", MINUS)
    return f"{value:g}"


def tick_formatter(
    unit: str, span: float | None = None, change: bool = False
) -> Callable[[float, int | None], str]:
    """:func:`fmt_tick` as a matplotlib tick formatter (a ``(value, position)`` callable,
    which ``axis.set_major_formatter`` accepts as it is).

    >>> tick_formatter("seconds")(358, 0)
    '5:58'
    """

    def label(value: float, position: int | None = None) -> str:
        return fmt_tick(value, unit, span, change)

    return label
