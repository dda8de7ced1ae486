"""Staffing models: Erlang B, Erlang C and Erlang A, plus an interval view of real data.

>>> from kpitools.staffing import required_agents
>>> result = required_agents(contacts=100, interval_s=1800, aht_s=180,
...                          answer_within_s=20, target_sl=0.80, shrinkage=0.30)
>>> result.agents, result.scheduled_agents, round(result.service_level, 3)
(14, 20, 0.888)

Every formula here is a small pure function of numbers. The Erlang B recursion
``B(0) = 1, B(n) = A·B(n-1) / (n + A·B(n-1))`` never forms a factorial or a power of the
load, so the models stay finite at thousands of agents; Erlang C is derived from B, and
Erlang A (M/M/N+M, callers who abandon after an exponential patience) from B and
one-dimensional integrals of a log-concave function.

Notation: ``A`` is the offered load in Erlangs (arrival rate × AHT), ``N`` the number of
agents on the phones, ``T`` the answer-time threshold in seconds.

:func:`interval_staffing` applies Erlang C interval by interval to a loaded data set, with
volumes, AHT and achieved service level taken from the KPI engine (one definition of each,
kpitools/catalogue.yaml), so a review can show required versus actual agents; :func:`interval_profile` averages that by weekday and
time of day. :func:`add_arguments` and :func:`run` are the ``kpitools staffing`` command.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .errors import DataError, KpitoolsError

__all__ = [
    "StaffingError",
    "StaffingResult",
    "offered_load",
    "erlang_b",
    "erlang_c",
    "service_level",
    "asa",
    "occupancy",
    "required_agents",
    "erlang_a",
    "interval_staffing",
    "interval_profile",
    "add_arguments",
    "run",
]

# Erlang A integrals are taken over the range where the integrand is within e^-60 of its
# peak; what lies outside changes no probability by more than ~1e-26.
_LOG_MARGIN = 60.0
# Ceilings of a ratio such as 14 / (1 - 0.3) = 20.000000000000004 must not round up.
_CEIL_TOLERANCE = 1e-9


class StaffingError(KpitoolsError, ValueError):
    """An argument of a staffing model is out of range; the message names it and its value."""


# --------------------------------------------------------------------------------------
# Input checks


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise StaffingError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise StaffingError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(number):
        raise StaffingError(f"{name} must be a number, got {value!r}")
    return number


def _positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    number = _number(name, value)
    if math.isinf(number) or number < 0 or (number == 0 and not allow_zero):
        rule = "zero or positive" if allow_zero else "positive"
        raise StaffingError(f"{name} must be {rule} and finite, got {value!r}")
    return number


def _fraction(name: str, value: Any, *, low_open: bool, high_open: bool) -> float:
    number = _number(name, value)
    too_low = number <= 0 if low_open else number < 0
    too_high = number >= 1 if high_open else number > 1
    if too_low or too_high:
        interval = f"{'(' if low_open else '['}0, 1{')' if high_open else ']'}"
        raise StaffingError(f"{name} must be in {interval}, got {value!r}")
    return number


def _target_sl(value: Any) -> float:
    number = _number("target_sl", value)
    if not 0 < number < 1:
        raise StaffingError(f"target_sl must be strictly between 0 and 1, got {value!r}")
    return number


def _agents(value: Any, *, minimum: int = 1) -> int:
    number = _number("agents", value)
    if math.isinf(number) or not number.is_integer() or number < minimum:
        kind = "a positive whole number" if minimum >= 1 else "a whole number >= 0"
        raise StaffingError(f"agents must be {kind}, got {value!r}")
    return int(number)


def _load(value: Any) -> float:
    return _positive("load", value, allow_zero=True)


def _stable_queue(agents: int, load: float) -> None:
    """Erlang C has no steady state unless the agents outnumber the offered load."""
    if load >= agents:
        raise StaffingError(f"offered load {load:g} Erlangs needs more than {agents} agents")


def _checked(agents: Any, load: Any) -> tuple[int, float]:
    n, a = _agents(agents), _load(load)
    _stable_queue(n, a)
    return n, a


# --------------------------------------------------------------------------------------
# Erlang B and C


def offered_load(contacts: float, interval_s: float, aht_s: float) -> float:
    """Offered load in Erlangs: the number of agents the work would keep busy full time.

    Parameters
    ----------
    contacts : float
        Contacts offered in the interval (a forecast may be fractional).
    interval_s : float
        Length of the interval in seconds.
    aht_s : float
        Average handle time (talk + hold + ACW) in seconds.

    Returns
    -------
    float
        ``contacts * aht_s / interval_s``.

    Examples
    --------
    >>> offered_load(100, 1800, 180)
    10.0
    """
    contacts = _positive("contacts", contacts)
    interval_s = _positive("interval_s", interval_s)
    aht_s = _positive("aht_s", aht_s)
    return contacts * aht_s / interval_s


def _erlang_b(agents: int, load: float) -> float:
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = load * blocking / (n + load * blocking)
    return blocking


def _erlang_c_from_b(agents: int, load: float, blocking: float) -> float:
    return agents * blocking / (agents - load * (1.0 - blocking))


def erlang_b(agents: int, load: float) -> float:
    """Erlang B: probability that a contact finds every agent busy when nobody can queue.

    Defined for any load, including ``load >= agents`` (a loss system has no backlog).

    Parameters
    ----------
    agents : int
        Number of agents (0 is allowed: everything is blocked).
    load : float
        Offered load in Erlangs.

    Returns
    -------
    float
        Blocking probability in [0, 1].

    Examples
    --------
    >>> round(erlang_b(10, 5.0), 5)
    0.01838
    """
    return _erlang_b(_agents(agents, minimum=0), _load(load))


def erlang_c(agents: int, load: float) -> float:
    """Erlang C: probability that a contact has to wait (all agents busy on arrival).

    Parameters
    ----------
    agents : int
        Agents taking contacts; must exceed ``load``.
    load : float
        Offered load in Erlangs.

    Returns
    -------
    float
        P(wait) in [0, 1).

    Raises
    ------
    StaffingError
        When ``load >= agents`` (the queue would grow without bound).

    Examples
    --------
    >>> round(erlang_c(14, 10.0), 4)
    0.1741
    """
    n, a = _checked(agents, load)
    return _erlang_c_from_b(n, a, _erlang_b(n, a))


def _service_level(agents: int, load: float, p_wait: float, aht_s: float, within_s: float) -> float:
    return 1.0 - p_wait * math.exp(-(agents - load) * within_s / aht_s)


def service_level(agents: int, load: float, aht_s: float, answer_within_s: float) -> float:
    """Erlang C service level: share of contacts answered within ``answer_within_s``.

    ``SL = 1 - C · exp(-(N - A) · T / AHT)``. A model has no short abandons, so this is
    comparable with every SPEC §4 variant of measured service level.

    Parameters
    ----------
    agents : int
        Agents taking contacts; must exceed ``load``.
    load : float
        Offered load in Erlangs.
    aht_s : float
        Average handle time in seconds.
    answer_within_s : float
        Answer-time threshold in seconds (0 allowed: SL is then the share not waiting).

    Returns
    -------
    float
        Service level as a fraction.

    Examples
    --------
    >>> round(service_level(14, 10.0, 180, 20), 4)
    0.8884
    """
    n, a = _checked(agents, load)
    aht_s = _positive("aht_s", aht_s)
    within_s = _positive("answer_within_s", answer_within_s, allow_zero=True)
    return _service_level(n, a, _erlang_c_from_b(n, a, _erlang_b(n, a)), aht_s, within_s)


def asa(agents: int, load: float, aht_s: float) -> float:
    """Erlang C average speed of answer in seconds: ``C · AHT / (N - A)``.

    The mean is over all contacts, those answered at once included.

    Parameters
    ----------
    agents : int
        Agents taking contacts; must exceed ``load``.
    load : float
        Offered load in Erlangs.
    aht_s : float
        Average handle time in seconds.

    Returns
    -------
    float
        Mean wait in seconds.

    Examples
    --------
    >>> round(asa(14, 10.0, 180), 2)
    7.84
    """
    n, a = _checked(agents, load)
    aht_s = _positive("aht_s", aht_s)
    return _erlang_c_from_b(n, a, _erlang_b(n, a)) * aht_s / (n - a)


def occupancy(agents: int, load: float) -> float:
    """Share of agent time spent handling contacts: ``A / N``.

    Parameters
    ----------
    agents : int
        Agents taking contacts; must exceed ``load``.
    load : float
        Offered load in Erlangs.

    Returns
    -------
    float
        Occupancy as a fraction.

    Examples
    --------
    >>> round(occupancy(14, 10.0), 4)
    0.7143
    """
    n, a = _checked(agents, load)
    return a / n


@dataclass(frozen=True)
class StaffingResult:
    """The answer of :func:`required_agents`: the staffing level and what it achieves.

    ``agents`` are needed on the phones; ``scheduled_agents`` (when a shrinkage was given)
    are the heads to schedule so that ``agents`` remain after breaks, training and absence.
    Fractions are 0–1, times in seconds.
    """

    agents: int
    service_level: float
    asa_s: float
    occupancy: float
    p_wait: float
    offered_load: float
    scheduled_agents: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The result as a plain dict (the JSON of ``kpitools staffing``)."""
        return asdict(self)


def required_agents(
    contacts: float,
    interval_s: float,
    aht_s: float,
    answer_within_s: float,
    target_sl: float,
    max_occupancy: float | None = None,
    shrinkage: float | None = None,
) -> StaffingResult:
    """Fewest agents that meet a service-level target (Erlang C).

    The answer is the smallest whole ``N > A`` whose service level is at least
    ``target_sl`` and, when ``max_occupancy`` is given, whose occupancy ``A / N`` is at
    most ``max_occupancy``.

    Parameters
    ----------
    contacts : float
        Contacts offered in the interval.
    interval_s : float
        Interval length in seconds.
    aht_s : float
        Average handle time in seconds.
    answer_within_s : float
        Answer-time threshold in seconds (0 allowed).
    target_sl : float
        Service-level target, strictly between 0 and 1.
    max_occupancy : float, optional
        Occupancy cap in (0, 1]; protects agents from burn-out on large queues.
    shrinkage : float, optional
        Share of paid time not available for contacts, in [0, 1). When given,
        ``scheduled_agents = ceil(agents / (1 - shrinkage))``.

    Returns
    -------
    StaffingResult

    Examples
    --------
    >>> r = required_agents(100, 1800, 180, 20, 0.80)
    >>> r.agents, round(r.asa_s, 1), round(r.p_wait, 3), r.scheduled_agents
    (14, 7.8, 0.174, None)
    """
    load = offered_load(contacts, interval_s, aht_s)
    within_s = _positive("answer_within_s", answer_within_s, allow_zero=True)
    target = _target_sl(target_sl)
    if max_occupancy is not None:
        max_occupancy = _fraction("max_occupancy", max_occupancy, low_open=True, high_open=False)
    if shrinkage is not None:
        shrinkage = _fraction("shrinkage", shrinkage, low_open=False, high_open=True)

    agents = math.floor(load) + 1
    blocking = _erlang_b(agents, load)
    while True:
        p_wait = _erlang_c_from_b(agents, load, blocking)
        achieved = _service_level(agents, load, p_wait, aht_s, within_s)
        busy = load / agents
        if achieved >= target and (max_occupancy is None or busy <= max_occupancy):
            break
        agents += 1
        blocking = load * blocking / (agents + load * blocking)

    scheduled = None
    if shrinkage is not None:
        scheduled = math.ceil(agents / (1.0 - shrinkage) - _CEIL_TOLERANCE)
    return StaffingResult(
        agents=agents,
        service_level=achieved,
        asa_s=p_wait * aht_s / (agents - load),
        occupancy=busy,
        p_wait=p_wait,
        offered_load=load,
        scheduled_agents=scheduled,
    )


# --------------------------------------------------------------------------------------
# Erlang A (M/M/N+M)


def _log_erlang_b(agents: int, load: float) -> float:
    """log B(N, A) without underflow: log-space form of the same recursion."""
    if load == 0:
        return -math.inf
    log_b = 0.0
    log_load = math.log(load)
    for n in range(1, agents + 1):
        # B(n) = A·B / (n + A·B)  =>  log B(n) = log(A·B) - log(n + A·B)
        log_ab = log_load + log_b
        log_b = log_ab - _logaddexp(math.log(n), log_ab)
    return log_b


def _logaddexp(x: float, y: float) -> float:
    if x == -math.inf:
        return y
    if y == -math.inf:
        return x
    high, low = max(x, y), min(x, y)
    return high + math.log1p(math.exp(low - high))


def _expit(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _expm1_plus(x: float) -> float:
    """``expm1(-x) + x`` (>= 0) without cancellation for small ``|x|``."""
    if abs(x) < 1e-3:
        return x * x * (0.5 - x * (1 / 6 - x * (1 / 24 - x * (1 / 120 - x / 720))))
    return math.expm1(-x) + x


class _QueueExponent:
    """``G_c(s) = λ(1 - e^{-θs})/θ - c·s``, concave in ``s``, measured from its peak.

    For a patient queue ``G`` reaches millions while the integrals need it to O(1), so the
    exponent is written around the peak ``p`` (``u = s - p``, ``r = λe^{-θp}``) as
    ``-(r/θ)·(expm1(-θu) + θu) - (c - r)·u``, which never subtracts two large numbers.
    """

    def __init__(self, arrival_rate: float, theta: float, slope: float) -> None:
        self.arrival_rate, self.theta, self.slope = arrival_rate, theta, slope
        self.peak = math.log(arrival_rate / slope) / theta if arrival_rate > slope else 0.0

    def relative(self, s: float) -> float:
        """``G_c(s) - G_c(peak)`` (<= 0)."""
        u = s - self.peak
        decayed = self.arrival_rate * math.exp(-self.theta * self.peak)
        return -(decayed / self.theta) * _expm1_plus(self.theta * u) - (self.slope - decayed) * u

    def at_peak(self) -> float:
        """``G_c(peak)`` itself (only ever used as a log-scale, never differenced)."""
        if self.arrival_rate <= self.slope:
            return 0.0
        excess = self.arrival_rate / self.slope - 1.0
        return self.slope * (excess - math.log1p(excess)) / self.theta

    def support(self) -> tuple[float, float]:
        """Where ``G_c`` stays within ``_LOG_MARGIN`` of its peak, clipped at ``s = 0``."""
        from scipy.optimize import brentq

        def above_floor(s: float) -> float:
            return self.relative(s) + _LOG_MARGIN

        step = 1.0 / self.slope
        while above_floor(self.peak + step) > 0:
            step *= 2.0
        high = brentq(above_floor, self.peak, self.peak + step, xtol=1e-13 * (self.peak + step))
        low = 0.0
        if self.peak > 0 and above_floor(0.0) < 0:
            low = brentq(above_floor, 0.0, self.peak, xtol=1e-13 * self.peak)
        return low, high


def _integrate(integrand, low: float, high: float, peak: float, tolerance: float = 0.0) -> float:
    from scipy.integrate import quad

    if high <= low:
        return 0.0
    points = [peak] if low < peak < high else None
    value, _ = quad(integrand, low, high, points=points, limit=500, epsabs=tolerance, epsrel=1e-10)
    return value


def erlang_a(
    agents: int,
    load: float,
    aht_s: float,
    patience_s: float,
    answer_within_s: float,
) -> dict[str, float]:
    """Erlang A (M/M/N+M): a queue whose callers hang up after an exponential patience.

    Unlike Erlang C, the model has a steady state for any load, so ``load >= agents`` is
    accepted (abandons drain the excess). As ``patience_s`` grows it tends to Erlang C;
    ``patience_s=math.inf`` returns Erlang C exactly (and then needs ``agents > load``).

    Parameters
    ----------
    agents : int
        Agents taking contacts.
    load : float
        Offered load in Erlangs.
    aht_s : float
        Average handle time in seconds.
    patience_s : float
        Mean time a caller is willing to wait before abandoning, in seconds.
    answer_within_s : float
        Answer-time threshold in seconds (0 allowed).

    Returns
    -------
    dict
        ``p_wait``: share of contacts that find every agent busy;
        ``p_abandon``: share of contacts that abandon;
        ``service_level``: share of *all* offered contacts answered within the threshold
        (an abandon counts as missed, the SPEC's ``negative`` variant: a model has no
        short abandons to exclude);
        ``asa_s``: mean wait of the answered contacts, those answered at once included.

    Notes
    -----
    With arrival rate λ, service rate μ = 1/AHT, abandon rate θ = 1/patience and
    ``G(s) = λ(1 - e^{-θs})/θ - Nμs``, a contact that arrives to find the agents busy is
    answered at time ``s`` with density ``Nμ·π_N·exp(G(s) - θs)``, where π_N is the
    stationary probability that exactly N contacts are present. Hence
    ``P(wait) = π_N · Nμ∫exp(G)``, ``P(answered by T, waited) = π_N · Nμ∫_0^T exp(G - θs)``
    and ``P(abandon) = π_N · Nμ∫exp(G)(1 - e^{-θs})``. ``G`` is concave, so the integrals are
    taken numerically around its peak with everything scaled in log space; π_N comes from
    Erlang B. (``Nμ∫exp(G)`` is Palm's ``A(Nμ/θ, λ/θ)`` of the Mandelbaum–Zeltyn papers.)

    Examples
    --------
    >>> result = erlang_a(14, 10.0, aht_s=180, patience_s=120, answer_within_s=20)
    >>> {key: round(value, 3) for key, value in result.items()}
    {'p_wait': 0.127, 'p_abandon': 0.023, 'service_level': 0.933, 'asa_s': 2.345}
    """
    n = _agents(agents)
    a = _load(load)
    aht_s = _positive("aht_s", aht_s)
    within_s = _positive("answer_within_s", answer_within_s, allow_zero=True)
    patience = _number("patience_s", patience_s)
    if not patience > 0:
        raise StaffingError(f"patience_s must be positive, got {patience_s!r}")

    if math.isinf(patience):
        _stable_queue(n, a)
        p_wait = _erlang_c_from_b(n, a, _erlang_b(n, a))
        return {
            "p_wait": p_wait,
            "p_abandon": 0.0,
            "service_level": _service_level(n, a, p_wait, aht_s, within_s),
            "asa_s": p_wait * aht_s / (n - a),
        }
    if a == 0:
        return {"p_wait": 0.0, "p_abandon": 0.0, "service_level": 1.0, "asa_s": 0.0}

    arrival_rate = a / aht_s
    service_capacity = n / aht_s  # Nμ: answers per second while every agent is busy
    theta = 1.0 / patience
    # exp(G) weighs every caller who waits; exp(G - θs) those still there to be answered.
    waiting = _QueueExponent(arrival_rate, theta, service_capacity)
    answered = _QueueExponent(arrival_rate, theta, service_capacity + theta)

    low, high = waiting.support()
    waiting_mass = _integrate(lambda s: math.exp(waiting.relative(s)), low, high, waiting.peak)
    # Both exponents share the scale of the waiting peak: G - θs - G(p) at the answered peak.
    answered_scale = math.exp(waiting.relative(answered.peak) - theta * answered.peak)
    answered_mass = answered_by_t = answered_wait = 0.0
    if answered_scale > 0:  # else every caller who waits abandons, to machine precision
        a_low, a_high = answered.support()
        tolerance = 1e-14 * waiting_mass / answered_scale

        def answered_integral(integrand, upper: float) -> float:
            return answered_scale * _integrate(
                integrand, a_low, min(upper, a_high), answered.peak, tolerance
            )

        answered_mass = answered_integral(lambda s: math.exp(answered.relative(s)), a_high)
        answered_by_t = answered_integral(lambda s: math.exp(answered.relative(s)), within_s)
        answered_wait = answered_integral(lambda s: s * math.exp(answered.relative(s)), a_high)
    if answered_mass < 0.5 * waiting_mass:
        abandoned = waiting_mass - answered_mass  # most waiting callers abandon: no cancellation
    else:  # few abandon: integrate them directly rather than as a small difference
        abandoned = _integrate(
            lambda s: math.exp(waiting.relative(s)) * -math.expm1(-theta * s),
            low,
            high,
            waiting.peak,
            1e-14 * waiting_mass,
        )

    # P(wait) = B·A_fn / (1 - B + B·A_fn), with A_fn = Nμ·e^{G(peak)}·waiting_mass.
    log_b = _log_erlang_b(n, a)
    log_palm = math.log(service_capacity) + waiting.at_peak() + math.log(waiting_mass)
    if log_b == -math.inf:
        p_wait = 0.0
    else:
        log_not_b = math.log1p(-math.exp(log_b)) if log_b < 0 else -math.inf
        p_wait = _expit(log_b + log_palm - log_not_b) if log_not_b > -math.inf else 1.0

    p_abandon = p_wait * abandoned / waiting_mass
    p_answered = 1.0 - p_abandon
    return {
        "p_wait": p_wait,
        "p_abandon": p_abandon,
        "service_level": (1.0 - p_wait) + p_wait * answered_by_t / waiting_mass,
        "asa_s": p_wait * (answered_wait / waiting_mass) / p_answered
        if p_answered > 0
        else math.nan,
    }


# --------------------------------------------------------------------------------------
# Interval view of real data

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_INTERVAL_COLUMNS = [
    "interval_start",
    "weekday",
    "contacts",
    "handled",
    "aht_s",
    "offered_load",
    "actual_agents",
    "required_agents",
    "predicted_sl",
    "achieved_sl",
    "handle_s",
    "answered_within_threshold",
    "offered_less_short_abandons",
]


def _timestamp(name: str, value: Any):
    import pandas as pd

    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise StaffingError(f"{name} must be a date or timestamp, got {value!r}") from None
    if stamp is pd.NaT:
        raise StaffingError(f"{name} must be a date or timestamp, got {value!r}")
    if stamp.tzinfo is not None:
        raise StaffingError(
            f"{name} must be a naive business-time timestamp (SPEC §2), got {value!r}"
        )
    return stamp


def _on_boundary(name: str, stamp, minutes: int) -> None:
    """The engine counts whole intervals, so a bound inside one would silently move."""
    since_midnight = stamp - stamp.normalize()
    if since_midnight.value % (minutes * 60 * 1_000_000_000):
        raise StaffingError(
            f"{name} must fall on a {minutes}-minute interval boundary, got {stamp}"
        )


def _one_setting(what: str, per_channel: dict[str, float], argument: str) -> float:
    """The registry value shared by the pooled channels, or an error naming the conflict."""
    values = set(per_channel.values())
    if len(values) > 1:
        listed = ", ".join(f"{channel} {value:g}" for channel, value in per_channel.items())
        raise StaffingError(
            f"the channels pooled have different {what} ({listed}); pass {argument} "
            "to model them as one queue"
        )
    return values.pop()


def _distinct_agents_sql(params: dict, dialect, channels: list[str], start, end) -> str:
    """Distinct agents who handled an inbound contact of ``channels``, per interval slot.

    The slot and the ``is_inbound`` / ``is_handled`` flags are the engine's own expressions
    (kpitools.sql), so the agents line up with the engine's measures interval by interval.
    """
    from .sql import contact_columns, dim_expr, sql_list

    slot = dim_expr("interval", "i", params, dialect)
    return (
        "SELECT interval, COUNT(DISTINCT agent_id) AS actual_agents FROM (\n"
        f"  SELECT i.agent_id, {slot},\n      {contact_columns(params, dialect)}\n"
        "  FROM interactions i\n"
        f"  WHERE i.channel IN ({sql_list(channels)})"
        f" AND i.arrived_at >= {dialect.timestamp(start)}"
        f" AND i.arrived_at < {dialect.timestamp(end)}\n"
        ") c WHERE is_inbound AND is_handled AND agent_id IS NOT NULL GROUP BY interval"
    )


def interval_staffing(
    data: Any,
    start: Any,
    end: Any,
    *,
    interval_minutes: int | None = None,
    channels: Sequence[str] = ("voice",),
    answer_within_s: float | None = None,
    target_sl: float | None = None,
    max_occupancy: float | None = None,
    short_abandon_s: float | None = None,
):
    """Required (Erlang C) versus actual agents, interval by interval, from real contacts.

    Every KPI-like number is the engine's: the per-interval measures come from
    :func:`kpitools.engine.compute_measures` grouped by ``interval`` and ``channel``, and
    AHT and achieved service level are the catalogue's ``aht`` and ``service_level``
    (default variant) formed from them. Only the distinct agents handling contacts and the
    Erlang C maths are computed here.

    Parameters
    ----------
    data : kpitools.Dataset
        A loaded data set (:func:`kpitools.load`).
    start, end : date, datetime or str
        Business-time bounds; ``end`` is exclusive. Both must fall on an interval boundary.
    interval_minutes : int, optional
        Interval length; must divide a day (15, 30, 60, …) so intervals align to the clock.
        Defaults to ``data.params["interval_minutes"]`` (30 in the catalogue).
    channels : sequence of str, default ("voice",)
        Real-time channels (``data.params["realtime_channels"]``) pooled into one queue.
    answer_within_s : float, optional
        Answer-time threshold for both the Erlang C model and the achieved service level.
        Defaults to the channel's ``data.params["answer_threshold_s"]`` (voice 20 s,
        chat 60 s). When channels with different registry thresholds are pooled there is
        no single queue threshold, so it must be given; it then applies to every pooled
        channel (the achieved service level counts each contact against it, not against its
        own channel's registry threshold).
    target_sl : float, optional
        Service-level target for ``required_agents``. Defaults to the ``service_level``
        target for the channel (the targets file, else the catalogue's 0.80); pooled
        channels with different targets need it given.
    max_occupancy : float, optional
        Occupancy cap passed to :func:`required_agents`.
    short_abandon_s : float, optional
        Abandons that waited less than this leave the achieved-SL denominator (SPEC §4).
        Defaults to ``data.params["short_abandon_s"]``.

    Returns
    -------
    pandas.DataFrame
        One row per interval with inbound contacts offered on ``channels``:
        ``interval_start``, ``weekday`` (ordered categorical, Monday first), ``contacts``
        (measure ``rt_offered``), ``handled`` (measure ``handled``), ``aht_s`` (KPI ``aht``;
        NaN when nothing was handled), ``offered_load`` (contacts × AHT / interval),
        ``actual_agents`` (distinct agents who handled an inbound contact that arrived in
        the interval), ``required_agents`` (nullable integer), ``predicted_sl`` (Erlang C
        service level with the actual agents; NaN when they do not exceed the load),
        ``achieved_sl`` (KPI ``service_level``), and the additive parts ``handle_s``,
        ``answered_within_threshold`` and ``offered_less_short_abandons`` (the AHT and
        service-level numerators and denominator) so that intervals can be pooled as ratios
        of sums.

    Notes
    -----
    ``handled`` and ``aht_s`` are the catalogue's: they include outbound contacts handled on
    the channels in the interval, exactly as the scorecard's AHT does. ``actual_agents``
    counts agents who handled an inbound contact that arrived in the interval: idle agents
    are missed, while a blended agent who took a single contact counts as a whole agent for
    the interval. Read it as "agents who touched the queue", not as seats staffed for the
    full interval; a large gap between ``predicted_sl`` and ``achieved_sl`` is the sign
    that the two differ.

    Examples
    --------
    >>> import tempfile, kpitools
    >>> folder = tempfile.mkdtemp()
    >>> with open(f"{folder}/interactions.csv", "w") as out:
    ...     _ = out.write(
    ...         "interaction_id,channel,direction,queue,agent_id,arrived_at,answered_at,"
    ...         "ended_at,outcome,talk_s,hold_s,acw_s\\n"
    ...         "c1,voice,inbound,billing,a1,2026-03-02 09:05:00,2026-03-02 09:05:10,"
    ...         "2026-03-02 09:11:00,handled,300,0,60\\n")
    >>> frame = interval_staffing(kpitools.load(folder), "2026-03-02", "2026-03-03")
    >>> frame[["contacts", "aht_s", "actual_agents", "required_agents"]].to_dict("records")
    [{'contacts': 1, 'aht_s': 360.0, 'actual_agents': 1, 'required_agents': 1}]
    """
    import copy

    import numpy as np
    import pandas as pd

    from .engine import compute_measures, sources_for
    from .formulas import kpi_columns
    from .periods import periods_between

    params = dict(data.params)
    minutes = _number(
        "interval_minutes",
        params.get("interval_minutes", 30) if interval_minutes is None else interval_minutes,
    )
    if not (minutes.is_integer() and minutes > 0 and 1440 % int(minutes) == 0):
        raise StaffingError(
            f"interval_minutes must be a whole number of minutes that divides a day "
            f"(15, 30, 60, ...), got {interval_minutes!r}"
        )
    minutes = int(minutes)
    if isinstance(channels, str):
        channels = (channels,)
    channels = [str(channel) for channel in channels]
    if not channels:
        raise StaffingError("channels must name at least one channel, got none")
    realtime = [str(channel) for channel in params.get("realtime_channels", [])]
    not_realtime = [channel for channel in channels if channel not in realtime]
    if not_realtime:
        raise StaffingError(
            f"channels must be real-time channels ({', '.join(realtime)}) for a queueing "
            f"model, got {', '.join(not_realtime)}"
        )

    thresholds = dict(params.get("answer_threshold_s") or {})
    if answer_within_s is None:
        default = float(params.get("default_answer_threshold_s", 20))
        within_s = _one_setting(
            "answer thresholds",
            {ch: float(thresholds.get(ch, default)) for ch in channels},
            "answer_within_s",
        )
    else:
        within_s = _positive("answer_within_s", answer_within_s, allow_zero=True)
    # The engine's answered-within measure then uses the very threshold the model uses.
    params["answer_threshold_s"] = {**thresholds, **{ch: within_s for ch in channels}}
    if target_sl is None:
        kpi = data.registry["service_level"]
        target_sl = _one_setting(
            "service-level targets",
            {ch: float(data.targets.for_row(kpi, {"channel": ch}).target) for ch in channels},
            "target_sl",
        )
    target = _target_sl(target_sl)
    if max_occupancy is not None:
        max_occupancy = _fraction("max_occupancy", max_occupancy, low_open=True, high_open=False)
    if short_abandon_s is not None:
        params["short_abandon_s"] = _positive("short_abandon_s", short_abandon_s, allow_zero=True)
    params["interval_minutes"] = minutes

    start_at, end_at = _timestamp("start", start), _timestamp("end", end)
    if not start_at < end_at:
        raise StaffingError(f"start must be before end, got start={start!r} end={end!r}")
    _on_boundary("start", start_at, minutes)
    _on_boundary("end", end_at, minutes)

    scoped = copy.copy(data)  # same tables, this view's parameters
    scoped.params = params
    days = periods_between(start_at.date(), (end_at - pd.Timedelta(microseconds=1)).date(), "day")
    by = ("interval", "channel")
    # Only the sources of AHT and service level: the repeats, surveys and QA passes would
    # cost most of the time here and add nothing to this view.
    sources = sources_for(data.registry, ["aht", "service_level"], by)
    measures = compute_measures(scoped, days, by, sources=sources).frame
    in_scope = (
        measures["channel"].isin(channels)
        & (measures["interval"] >= start_at)
        & (measures["interval"] < end_at)
    )
    aht_kpi, sl_kpi = data.registry["aht"], data.registry["service_level"]
    aht_formula, sl_formula = aht_kpi.formula(), sl_kpi.formula()
    needed = sorted({*aht_formula.measures, *sl_formula.measures, "rt_offered"})
    frame = measures.loc[in_scope].groupby("interval", sort=True)[needed].sum().reset_index()
    frame = frame[frame["rt_offered"] > 0].reset_index(drop=True)

    aht = kpi_columns(frame, aht_kpi, aht_formula, data.registry, {})
    achieved = kpi_columns(frame, sl_kpi, sl_formula, data.registry, {})

    backend = scoped.backend
    agents = backend.run(_distinct_agents_sql(params, backend.dialect, channels, start_at, end_at))
    width_s = minutes * 60
    agents["interval"] = pd.to_datetime(agents["interval"].astype("int64") * width_s, unit="s")
    frame = frame.merge(agents, on="interval", how="left")

    out = pd.DataFrame(
        {
            "interval_start": frame["interval"],
            "weekday": pd.Categorical(
                frame["interval"].dt.day_name(), categories=_WEEKDAYS, ordered=True
            ),
            "contacts": frame["rt_offered"].astype("int64"),
            "handled": aht["denominator"].astype("int64"),
            "aht_s": aht["value"].astype("float64"),
            "actual_agents": frame["actual_agents"].fillna(0).astype("int64"),
            "achieved_sl": achieved["value"].astype("float64"),
            "handle_s": aht["numerator"].astype("float64"),
            "answered_within_threshold": achieved["numerator"].astype("int64"),
            "offered_less_short_abandons": achieved["denominator"].astype("int64"),
        }
    )

    loads: list[float] = []
    required: list[int | None] = []
    predicted: list[float] = []
    for contacts, aht_s, actual in zip(
        out["contacts"], out["aht_s"], out["actual_agents"], strict=True
    ):
        if not aht_s > 0:  # nothing handled, or handled in zero seconds: no workload known
            loads.append(math.nan)
            required.append(None)
            predicted.append(math.nan)
            continue
        load = offered_load(contacts, width_s, aht_s)
        loads.append(load)
        required.append(
            required_agents(
                contacts, width_s, aht_s, within_s, target, max_occupancy=max_occupancy
            ).agents
        )
        predicted.append(
            service_level(int(actual), load, aht_s, within_s) if actual > load else math.nan
        )
    out["offered_load"] = np.asarray(loads, dtype="float64")
    out["required_agents"] = pd.array(required, dtype="Int64")
    out["predicted_sl"] = np.asarray(predicted, dtype="float64")
    return out[_INTERVAL_COLUMNS]


def interval_profile(df):
    """Average the output of :func:`interval_staffing` by weekday and time of day.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame returned by :func:`interval_staffing`.

    Returns
    -------
    pandas.DataFrame
        One row per weekday × ``time_of_day`` ("HH:MM") seen in ``df``, Monday first, with
        ``intervals`` (how many intervals were averaged; only intervals with contacts
        exist), the means of ``contacts``, ``offered_load``, ``actual_agents`` and
        ``required_agents``, ``staffing_gap`` (mean actual − required), and three pooled
        ratios of sums: ``aht_s``, ``achieved_sl`` and ``predicted_sl`` (the contact-weighted
        Erlang C prediction over the intervals where it is defined).
        ``df.pivot(index="time_of_day", columns="weekday", values=...)`` gives a heat map.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "interval_start": pd.to_datetime(["2026-03-02 09:00", "2026-03-09 09:00"]),
    ...     "contacts": [10, 30], "handled": [10, 30], "handle_s": [1800.0, 3600.0],
    ...     "offered_load": [1.0, 2.0], "actual_agents": [3, 4],
    ...     "required_agents": pd.array([2, 4], dtype="Int64"),
    ...     "predicted_sl": [0.9, 0.8], "answered_within_threshold": [9, 24],
    ...     "offered_less_short_abandons": [10, 30]})
    >>> row = interval_profile(frame).iloc[0]
    >>> row["weekday"], row["time_of_day"], float(row["contacts"]), float(row["aht_s"])
    ('Monday', '09:00', 20.0, 135.0)
    >>> float(row["achieved_sl"]), float(row["predicted_sl"])
    (0.825, 0.825)
    """
    import numpy as np
    import pandas as pd

    frame = df.copy()
    frame["weekday"] = pd.Categorical(
        frame["interval_start"].dt.day_name(), categories=_WEEKDAYS, ordered=True
    )
    frame["time_of_day"] = frame["interval_start"].dt.strftime("%H:%M")
    frame["required_agents"] = frame["required_agents"].astype("float64")
    frame["staffing_gap"] = frame["actual_agents"] - frame["required_agents"]
    predicted = frame["predicted_sl"].notna()
    frame["predicted_answered"] = (frame["predicted_sl"] * frame["contacts"]).where(predicted, 0.0)
    frame["predicted_contacts"] = frame["contacts"].where(predicted, 0)

    grouped = frame.groupby(["weekday", "time_of_day"], observed=True, sort=True)
    profile = grouped.agg(
        intervals=("interval_start", "size"),
        contacts=("contacts", "mean"),
        offered_load=("offered_load", "mean"),
        actual_agents=("actual_agents", "mean"),
        required_agents=("required_agents", "mean"),
        staffing_gap=("staffing_gap", "mean"),
        handled=("handled", "sum"),
        handle_s=("handle_s", "sum"),
        answered_within_threshold=("answered_within_threshold", "sum"),
        offered_less_short_abandons=("offered_less_short_abandons", "sum"),
        predicted_answered=("predicted_answered", "sum"),
        predicted_contacts=("predicted_contacts", "sum"),
    ).reset_index()

    def ratio(numerator: str, denominator: str) -> pd.Series:
        bottom = profile[denominator].astype("float64")
        return (profile[numerator] / bottom.replace(0, np.nan)).astype("float64")

    profile["aht_s"] = ratio("handle_s", "handled")
    profile["achieved_sl"] = ratio("answered_within_threshold", "offered_less_short_abandons")
    profile["predicted_sl"] = ratio("predicted_answered", "predicted_contacts")
    profile["weekday"] = profile["weekday"].astype(str)
    profile["weekday"] = pd.Categorical(profile["weekday"], categories=_WEEKDAYS, ordered=True)
    return profile[
        [
            "weekday",
            "time_of_day",
            "intervals",
            "contacts",
            "aht_s",
            "offered_load",
            "actual_agents",
            "required_agents",
            "staffing_gap",
            "predicted_sl",
            "achieved_sl",
        ]
    ]


# --------------------------------------------------------------------------------------
# CLI glue (wired into ``kpitools staffing`` by the CLI module)

_EXAMPLE = (
    "example: kpitools staffing --contacts 100 --interval-s 1800 --aht-s 180 "
    "--answer-within-s 20 --target-sl 0.8 --shrinkage 0.3"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``kpitools staffing`` options to ``parser``."""
    parser.add_argument(
        "--contacts",
        type=float,
        required=True,
        metavar="N",
        help="contacts offered in the interval (forecast)",
    )
    parser.add_argument(
        "--interval-s",
        type=float,
        required=True,
        metavar="S",
        help="interval length in seconds, e.g. 1800 for 30 minutes",
    )
    parser.add_argument(
        "--aht-s",
        type=float,
        required=True,
        metavar="S",
        help="average handle time (talk + hold + ACW) in seconds",
    )
    parser.add_argument(
        "--answer-within-s",
        type=float,
        default=None,
        metavar="S",
        help="service-level threshold in seconds, e.g. 20 (required unless --config gives it)",
    )
    parser.add_argument(
        "--target-sl",
        type=float,
        default=None,
        metavar="F",
        help="service-level target as a fraction, e.g. 0.8 (required unless --config gives it)",
    )
    parser.add_argument(
        "--max-occupancy",
        type=float,
        default=None,
        metavar="F",
        help="optional occupancy cap as a fraction, e.g. 0.85",
    )
    parser.add_argument(
        "--shrinkage",
        type=float,
        default=None,
        metavar="F",
        help="optional shrinkage as a fraction, e.g. 0.3; adds scheduled_agents",
    )
    parser.add_argument(
        "--format", choices=("json", "table"), default="json", help="output format (default: json)"
    )
    if not parser.epilog:
        parser.epilog = _EXAMPLE


def run(args: argparse.Namespace) -> int:
    """Run ``kpitools staffing``: print the Erlang C answer; 0 on success, 2 on bad input."""
    try:
        result = required_agents(
            contacts=args.contacts,
            interval_s=args.interval_s,
            aht_s=args.aht_s,
            answer_within_s=args.answer_within_s,
            target_sl=args.target_sl,
            max_occupancy=args.max_occupancy,
            shrinkage=args.shrinkage,
        )
    except StaffingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    record = result.to_dict()
    if getattr(args, "format", "json") == "table":
        width = max(len(key) for key in record)
        for key, value in record.items():
            shown = (
                "-" if value is None else (f"{value:.4f}" if isinstance(value, float) else value)
            )
            print(f"{key:<{width}}  {shown}")
    else:
        print(json.dumps(record))
    return 0


# -- staffed agents from a workforce-management export --------------------------------------
def check_staffing(data) -> None:
    """Each staffing row needs a positive length and a non-negative head count or time."""
    path = data.files["staffing"].path
    rules = [
        ("staffed_agents IS NULL AND staffed_s IS NULL", "staffed_agents",
         "has neither staffed_agents nor staffed_s; give one of them"),
        ("interval_minutes <= 0", "interval_minutes", "must be a positive number of minutes"),
        ("staffed_agents < 0", "staffed_agents", "must be 0 or more"),
        ("staffed_s < 0", "staffed_s", "must be 0 or more"),
    ]
    for condition, column, what in rules:
        bad = data.sql(f"SELECT CAST(interval_start AS VARCHAR) AS t, {column} AS v, COUNT(*) OVER () AS n "
                       f"FROM staffing WHERE {condition} LIMIT 1")
        if len(bad):
            row = bad.iloc[0]
            raise DataError(f"{path}: {int(row['n'])} row(s) where column {column} {what}, e.g. "
                            f"the row with interval_start {str(row['t'])[:30]} ({column} = "
                            f"{str(row['v'])[:20]})")


def staffed_agents(data, starts, minutes: int, zone, *, queue=None, channel=None):
    """Agents staffed on average in each interval ``[start, start + minutes)`` from the
    optional ``staffing`` table (what WFM tools export); None without the table.

    ``starts`` is a pandas Series of UTC timestamps (NaT: no figure). Staffing rows are in
    business time (``zone``). Each row's agent-seconds (``staffed_s``, else
    ``staffed_agents`` × its length) are spread evenly over its span and summed into the
    intervals by overlap, so a 60-minute export feeds a 15-minute grid and the other way
    round. Only intervals fully covered by staffing rows get a figure (partial cover is
    unknown, not a shortfall). With ``queue`` / ``channel`` only rows of that queue / channel
    count; without them every row does.
    """
    import numpy as np
    import pandas as pd

    if not data.has("staffing"):
        return None
    check_staffing(data)
    starts = pd.to_datetime(starts, utc=True)
    out = pd.Series(np.nan, index=starts.index)
    valid = starts.notna().to_numpy()
    if not valid.any():
        return out
    local = starts[valid].dt.tz_convert(zone)
    lo = (local.min().date() - dt.timedelta(days=1)).isoformat()
    hi = (local.max().date() + dt.timedelta(days=2)).isoformat()
    filters = "".join(f" AND {col} = '{str(val).replace(chr(39), chr(39) * 2)}'"
                      for col, val in (("queue", queue), ("channel", channel)) if val)
    staff = data.sql(
        "SELECT interval_start, interval_minutes, "
        "COALESCE(staffed_s, staffed_agents * interval_minutes * 60.0) AS staffed_s "
        f"FROM staffing WHERE interval_start >= TIMESTAMP '{lo}' "
        f"AND interval_start < TIMESTAMP '{hi}'{filters}")
    staff = staff[staff["staffed_s"].notna() & (staff["interval_minutes"] > 0)]
    if staff.empty:
        return out
    s_start = pd.DatetimeIndex(staff["interval_start"]).tz_localize(zone, ambiguous=True,
                                                                     nonexistent="shift_forward")
    s0 = s_start.tz_convert("UTC").as_unit("ns").asi8 / 1e9
    length = staff["interval_minutes"].to_numpy(dtype="float64") * 60
    rate = staff["staffed_s"].to_numpy(dtype="float64") / length  # agents on average
    g0 = starts[valid].dt.as_unit("ns").astype("int64").to_numpy() / 1e9
    order = np.argsort(g0)
    g0_sorted = g0[order]
    width = minutes * 60.0
    agent_s = np.zeros(len(g0))
    covered = np.zeros(len(g0))
    # Sorted grid: each staffing row only touches the intervals starting in
    # (row start - width, row end); no grid × rows matrix (a quarter has thousands of both).
    for a, b, r in zip(s0, s0 + length, rate, strict=True):
        i, j = np.searchsorted(g0_sorted, [a - width, b], side="right")
        if i >= j:
            continue
        idx = order[i:j]
        overlap = np.clip(np.minimum(g0[idx] + width, b) - np.maximum(g0[idx], a), 0, None)
        agent_s[idx] += overlap * r
        covered[idx] += overlap
    full = covered >= width - 1e-6
    out[valid] = np.where(full, agent_s / width, np.nan)
    return out
