"""Significance of a change, in one place (kpitools.stats, kpitools.api.compare_tables).

Expected values are worked out by hand in the comments or taken from a published example.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats as scipy_stats

from kpitools.api import COMPARE_COLUMNS, compare_tables
from kpitools.stats import diff_proportions, diff_welch, mean_se, nps_se, significant, wilson


def test_newcombe_published_example():
    # Newcombe (1998), Statistics in Medicine 17:873, Table II, example (a): 56/70 − 48/80,
    # method 10 (score interval of each proportion, hybrid): 0.0524 to 0.3339.
    lo, hi = diff_proportions(56, 70, 48, 80)
    assert lo == pytest.approx(0.0524, abs=1e-4)
    assert hi == pytest.approx(0.3339, abs=1e-4)


def test_newcombe_from_the_wilson_bounds_by_hand():
    # p1 = 14/20 = 0.70, p0 = 16/20 = 0.80, d = −0.10.
    # Wilson 14/20: centre (0.7 + 1.9208/20) / (1 + 3.8415/20) = 0.79604/1.19207 = 0.66778,
    #   half = 1.96·sqrt(0.21/20 + 3.8415/1600)/1.19207 = 1.96·0.11357/1.19207 = 0.18673
    #   -> (0.48106, 0.85450); Wilson 16/20 -> (0.58398, 0.91931).
    # L = −0.10 − sqrt((0.70 − 0.48106)² + (0.91931 − 0.80)²) = −0.10 − 0.24935 = −0.34935
    # U = −0.10 + sqrt((0.85450 − 0.70)² + (0.80 − 0.58398)²) = −0.10 + 0.26552 = 0.16552
    l1, u1 = wilson(14, 20)
    assert (l1, u1) == (pytest.approx(0.48106, abs=1e-4), pytest.approx(0.85450, abs=1e-4))
    lo, hi = diff_proportions(14, 20, 16, 20)
    assert lo == pytest.approx(-0.34935, abs=2e-4)
    assert hi == pytest.approx(0.16552, abs=2e-4)
    assert significant(lo, hi) is False  # ten points on 20 contacts each: noise


def test_welch_from_sums_by_hand():
    # A = 2, 4, 6: n 3, sum 12, sum of squares 56, mean 4, s² = (56 − 3·16)/2 = 4, se² = 4/3.
    # B = 1, 3:    n 2, sum 4,  sum of squares 10, mean 2, s² = (10 − 2·4)/1 = 2,  se² = 1.
    # se(d) = sqrt(4/3 + 1) = 1.52753; df = (7/3)² / ((4/3)²/2 + 1²/1) = 5.44444/1.88889 = 2.88235
    se_a, se_b = mean_se(12, 56, 3), mean_se(4, 10, 2)
    assert se_a == pytest.approx(math.sqrt(4 / 3)) and se_b == pytest.approx(1.0)
    lo, hi = diff_welch(4.0, se_a, 3, 2.0, se_b, 2)
    t = scipy_stats.t.ppf(0.975, 2.88235)  # only the quantile comes from a table
    assert (hi - lo) / 2 == pytest.approx(t * 1.52753, rel=1e-4)
    assert (lo + hi) / 2 == pytest.approx(2.0)
    # Independent check: scipy's Welch t-test on the raw values gives the same interval.
    ci = scipy_stats.ttest_ind([2, 4, 6], [1, 3], equal_var=False).confidence_interval()
    assert (lo, hi) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert significant(lo, hi) is False


def test_nps_standard_error_by_hand():
    # 100 responses, 50 promoters, 20 detractors: score +1/0/−1 with mean 0.30,
    # variance 0.50 + 0.20 − 0.30² = 0.61, se = 100·sqrt(0.61/100) = 7.8102 points.
    assert nps_se(50, 20, 100) == pytest.approx(7.8102, abs=1e-4)


def _row(period, kpi, unit, value, num=None, den=None, se=None, ci=(None, None), partial=False):
    return {"period": period, "kpi": kpi, "unit": unit, "value": value, "numerator": num,
            "denominator": den, "n": den, "ci_low": ci[0], "ci_high": ci[1], "se": se,
            "partial": partial, "small_sample": False}


def test_compare_tables_marks_significance_per_kind():
    now = pd.DataFrame([
        _row("B", "fcr", "fraction", 0.70, 14, 20, ci=wilson(14, 20)),
        _row("B", "sl", "fraction", 0.65, 650, 1000, ci=wilson(650, 1000)),
        _row("B", "nps", "nps", 10.0, None, 400, se=4.9),
        _row("B", "volume", "count", 120.0),
    ])
    then = pd.DataFrame([
        _row("A", "fcr", "fraction", 0.80, 16, 20, ci=wilson(16, 20)),
        _row("A", "sl", "fraction", 0.75, 750, 1000, ci=wilson(750, 1000)),
        _row("A", "nps", "nps", 27.6, None, 400, se=4.7),
        _row("A", "volume", "count", 100.0),
    ])
    out = compare_tables(now, then).set_index("kpi")
    assert set(COMPARE_COLUMNS) <= set(out.columns)
    assert out.loc["fcr", "significant"] is False
    # 650/1000 vs 750/1000: Newcombe excludes 0 (the Wald half-width alone is
    # 1.96·sqrt(0.65·0.35/1000 + 0.75·0.25/1000) = 0.0397 < 0.10).
    assert out.loc["sl", "significant"] is True
    assert out.loc["sl", "change_high"] < 0
    # NPS −17.6 pts, se(d) = sqrt(4.9² + 4.7²) = 6.7897, df ≈ 797, t ≈ 1.9630 -> ±13.33 pts
    assert out.loc["nps", "change"] == pytest.approx(-17.6)
    assert out.loc["nps", "change_high"] - out.loc["nps", "change"] == pytest.approx(13.33, abs=0.01)
    assert out.loc["nps", "significant"] is True
    assert out.loc["volume", "change"] == pytest.approx(20)
    assert out.loc["volume", "significant"] is None  # counts have no sampling variance here
    partial = compare_tables(now.assign(partial=True), then).set_index("kpi")
    assert partial["change"].isna().all() and partial["significant"].isna().all()
    assert partial.loc["fcr", "change_note"] == "B is partial"
