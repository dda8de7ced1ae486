"""Confidence intervals for KPI values (pure functions)."""

from __future__ import annotations

import math

Z95 = 1.959963984540054


def wilson(successes: float, n: float, z: float = Z95) -> tuple[float, float] | tuple[None, None]:
    """Wilson score interval for a proportion ``successes / n``.

    >>> [round(x, 4) for x in wilson(8, 10)]
    [0.4902, 0.9433]
    """
    if not n or n <= 0:
        return (None, None)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def nps_interval(promoters: float, detractors: float, n: float, z: float = Z95):
    """Normal-approximation interval for NPS (in points, -100..100).

    Each response scores +1, 0 or -1; the variance of that score is p + d - (p - d)^2.
    """
    if not n or n <= 0:
        return (None, None)
    p, d = promoters / n, detractors / n
    se = math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)
    centre = p - d
    return (100 * max(-1.0, centre - z * se), 100 * min(1.0, centre + z * se))


def mean_interval(total: float, total_sq: float, n: float, z: float = Z95):
    """Normal-approximation interval for a mean from its sum and sum of squares."""
    if not n or n < 2:
        return (None, None)
    mean = total / n
    var = max((total_sq - n * mean * mean) / (n - 1), 0.0)
    half = z * math.sqrt(var / n)
    return (mean - half, mean + half)


# -- Differences between two periods (or groups) -----------------------------------------
# Every comparison in kpitools (kpitools.compare, the reviews, explore, the guardrail) takes
# the interval of a change from here, so the CLI, notebooks and reviews agree on what is
# significant: the change is significant when its 95 % interval excludes 0.


def diff_proportions(x1, n1, x0, n0, z: float = Z95):
    """Newcombe's hybrid score interval for ``x1/n1 - x0/n0`` (his method 10).

    Built from the two Wilson intervals, so it stays inside [-1, 1] and behaves on small
    samples and rates near 0 or 1, where the Wald interval is too narrow.

    >>> [round(x, 4) for x in diff_proportions(56, 70, 48, 80)]
    [0.0524, 0.3339]
    """
    if not n1 or not n0 or n1 <= 0 or n0 <= 0 or x1 is None or x0 is None:
        return (None, None)
    p1, p0 = x1 / n1, x0 / n0
    l1, u1 = wilson(x1, n1, z)
    l0, u0 = wilson(x0, n0, z)
    d = p1 - p0
    return (d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2),
            d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2))


def mean_se(total, total_sq, n):
    """Standard error of a mean from its sum, sum of squares and count (None when n < 2)."""
    if not n or n < 2 or total is None or total_sq is None:
        return None
    mean = total / n
    var = max((total_sq - n * mean * mean) / (n - 1), 0.0)
    return math.sqrt(var / n)


def nps_se(promoters, detractors, n):
    """Standard error of NPS in points: each response scores +1, 0 or -1."""
    if not n or n <= 0:
        return None
    p, d = promoters / n, detractors / n
    return 100 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)


def diff_welch(mean1, se1, n1, mean0, se0, n0, level: float = 0.95):
    """Welch interval for ``mean1 - mean0`` from each side's mean, standard error and n.

    Degrees of freedom by Welch–Satterthwaite; the quantile is Student's t. Used for means
    (AHT, ASA, CES, QA score) and, with ``se`` from :func:`nps_se`, for NPS.

    >>> [round(x, 3) for x in diff_welch(5.0, 0.5, 10, 3.0, 0.4, 20)]
    [0.665, 3.335]
    """
    from scipy.stats import t as student_t

    if None in (mean1, se1, n1, mean0, se0, n0) or n1 < 2 or n0 < 2:
        return (None, None)
    v1, v0 = se1 * se1, se0 * se0
    se = math.sqrt(v1 + v0)
    d = mean1 - mean0
    if se == 0:
        return (d, d)
    df = (v1 + v0) ** 2 / (v1 * v1 / (n1 - 1) + v0 * v0 / (n0 - 1))
    half = float(student_t.ppf(0.5 + level / 2, df)) * se
    return (d - half, d + half)


def significant(low, high) -> bool | None:
    """True when the interval of a change excludes 0; None when there is no interval."""
    if low is None or high is None or low != low or high != high:
        return None
    return bool(low > 0 or high < 0)
