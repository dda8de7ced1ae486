from __future__ import annotations

import datetime as dt

import pytest

from kpitools.errors import PeriodError
from kpitools.formatting import fmt_change, fmt_duration, fmt_value
from kpitools.periods import Period, latest_complete
from kpitools.stats import nps_interval, wilson
from kpitools.targets import Thresholds, rag_status

D = dt.date


@pytest.mark.parametrize("label, start, end, grain", [
    ("2026-W10", D(2026, 3, 2), D(2026, 3, 8), "week"),
    ("2026-W01", D(2025, 12, 29), D(2026, 1, 4), "week"),   # ISO week 1 starts in December
    ("2020-W53", D(2020, 12, 28), D(2021, 1, 3), "week"),
    ("2026-02", D(2026, 2, 1), D(2026, 2, 28), "month"),
    ("2024-02", D(2024, 2, 1), D(2024, 2, 29), "month"),
    ("2026-Q4", D(2026, 10, 1), D(2026, 12, 31), "quarter"),
    ("2026-03-02", D(2026, 3, 2), D(2026, 3, 2), "day"),
])
def test_parse_labels(label, start, end, grain):
    p = Period.parse(label)
    assert (p.start, p.end, p.grain, p.label) == (start, end, grain, label)


@pytest.mark.parametrize("label, prev, last_year", [
    ("2026-W01", "2025-W52", "2025-W01"),
    ("2026-01", "2025-12", "2025-01"),
    ("2026-Q1", "2025-Q4", "2025-Q1"),
    ("2020-W53", "2020-W52", "2019-W52"),  # no week 53 in 2019
    ("2024-02-29", "2024-02-28", "2023-02-28"),
])
def test_neighbours(label, prev, last_year):
    p = Period.parse(label)
    assert p.previous().label == prev
    assert p.same_last_year().label == last_year


@pytest.mark.parametrize("bad", ["2026-W54", "2026-13", "2026-Q5", "2026-02-30", "W10", ""])
def test_bad_labels(bad):
    with pytest.raises(PeriodError):
        Period.parse(bad)


def test_latest_complete():
    assert latest_complete(D(2024, 11, 4), D(2026, 11, 15), "week").label == "2026-W46"
    assert latest_complete(D(2024, 11, 4), D(2026, 11, 15), "month").label == "2026-10"
    assert latest_complete(D(2024, 11, 4), D(2026, 11, 15), "quarter").label == "2026-Q3"
    assert latest_complete(D(2024, 11, 4), D(2026, 11, 30), "month").label == "2026-11"
    with pytest.raises(PeriodError, match="no complete quarter"):
        latest_complete(D(2026, 3, 2), D(2026, 3, 20), "quarter")


@pytest.mark.parametrize("value, unit, text", [
    (0.8123, "fraction", "81.2 %"), (95, "seconds", "1:35"), (3725, "seconds", "1:02:05"),
    (12345, "count", "12,345"), (6.5, "currency", "6.50"), (-12.04, "nps", "−12.0"),
    (31, "nps", "+31.0"), (3.14159, "score", "3.14"), (86.25, "score", "86.2"),
    (None, "fraction", "n/a"), (float("nan"), "seconds", "n/a"),
])
def test_fmt_value(value, unit, text):
    assert fmt_value(value, unit) == text


def test_fmt_change_and_duration():
    assert fmt_change(-0.031, "fraction") == "−3.1 pts"
    assert fmt_change(12, "seconds") == "+0:12"
    assert fmt_change(0, "count") == "±0"
    assert fmt_duration(-61) == "−1:01"


def test_wilson_against_hand_computation():
    # p = 0.8, n = 10, z = 1.96: centre (0.8 + 0.19208)/1.38416 = 0.71676,
    # half = 1.96 * sqrt(0.016 + 0.009604)/1.38416 = 0.22658
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)
    assert wilson(0, 0) == (None, None)
    lo, hi = nps_interval(50, 50, 100)  # p = d = 0.5: variance 1, se 0.1 -> ±19.6 points
    assert lo == pytest.approx(-19.6, abs=0.01) and hi == pytest.approx(19.6, abs=0.01)


@pytest.mark.parametrize("direction, value, th, status", [
    ("higher", 0.80, Thresholds(0.80, 0.80, 0.70), "green"),   # exactly on target
    ("higher", 0.75, Thresholds(0.80, 0.80, 0.70), "amber"),
    ("higher", 0.69, Thresholds(0.80, 0.80, 0.70), "red"),
    ("lower", 0.05, Thresholds(0.05, 0.05, 0.08), "green"),
    ("lower", 0.081, Thresholds(0.05, 0.05, 0.08), "red"),
    ("band", 0.80, Thresholds([0.75, 0.85], [0.75, 0.85], [0.65, 0.90]), "green"),
    ("band", 0.88, Thresholds([0.75, 0.85], [0.75, 0.85], [0.65, 0.90]), "amber"),
    ("band", 0.60, Thresholds([0.75, 0.85], [0.75, 0.85], [0.65, 0.90]), "red"),
    ("lower", 5.0, Thresholds(None, None, None), None),
    ("higher", None, Thresholds(0.8, 0.8, 0.7), None),
])
def test_rag_status(direction, value, th, status):
    assert rag_status(direction, value, th) == status
