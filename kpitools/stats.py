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
