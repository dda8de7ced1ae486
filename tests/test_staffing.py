"""Erlang B / C / A and the interval staffing view (issue 5).

Expected values are computed here independently of kpitools.staffing: Erlang B and C from
the textbook factorial sums (small N) or the Poisson distribution (large N), Erlang A from
an explicit truncated birth-death chain plus a matrix exponential for the tagged caller.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg
from scipy.stats import poisson

import kpitools
from kpitools.errors import KpitoolsError
from kpitools.staffing import (
    StaffingError,
    StaffingResult,
    add_arguments,
    asa,
    erlang_a,
    erlang_b,
    erlang_c,
    interval_profile,
    interval_staffing,
    occupancy,
    offered_load,
    required_agents,
    run,
    service_level,
)

# ---------------------------------------------------------------------------------------
# Independent reference formulas


def reference_erlang_b(agents: int, load: float) -> float:
    """Textbook form (A^N/N!) / sum_k A^k/k!, via the Poisson pmf/cdf for stability."""
    return poisson.pmf(agents, load) / poisson.cdf(agents, load)


def reference_erlang_c(agents: int, load: float) -> float:
    """(A^N/N! · N/(N-A)) / (sum_{k<N} A^k/k! + A^N/N! · N/(N-A)), exact factorials."""
    if agents <= 150:
        top = load**agents / math.factorial(agents) * agents / (agents - load)
        bottom = sum(load**k / math.factorial(k) for k in range(agents)) + top
        return top / bottom
    top = poisson.pmf(agents, load) * agents / (agents - load)
    return top / (poisson.cdf(agents - 1, load) + top)


def reference_sl(agents: int, load: float, aht_s: float, within_s: float) -> float:
    return 1 - reference_erlang_c(agents, load) * math.exp(-(agents - load) * within_s / aht_s)


def reference_required(load, aht_s, within_s, target, max_occupancy=None) -> int:
    agents = math.floor(load) + 1
    while reference_sl(agents, load, aht_s, within_s) < target or (
        max_occupancy is not None and load / agents > max_occupancy
    ):
        agents += 1
    return agents


def reference_erlang_a(agents, load, aht_s, patience_s, within_s, queue_cap=400):
    """M/M/N+M from the truncated stationary distribution and the tagged caller's chain."""
    mu, theta = 1 / aht_s, 1 / patience_s
    lam = load * mu
    states = agents + queue_cap
    pi = np.empty(states + 1)
    pi[0] = 1.0
    for k in range(1, states + 1):
        pi[k] = pi[k - 1] * lam / (min(k, agents) * mu + max(k - agents, 0) * theta)
    pi /= pi.sum()
    assert pi[-1] < 1e-15, "queue_cap too small for this case"
    # Drop the negligible tail so the matrix exponential below stays small.
    queue_cap = min(queue_cap, int(np.nonzero(pi[agents:] > 1e-18)[0][-1]) + 5)
    pi = pi[: agents + queue_cap + 1] / pi[: agents + queue_cap + 1].sum()
    p_wait = pi[agents:].sum()
    queue = np.arange(queue_cap + 1)
    p_abandon = theta * (queue * pi[agents:]).sum() / lam

    # Tagged caller who finds m callers ahead: moves up at N·mu + m·theta, abandons at
    # theta, is answered from the head of the queue at N·mu.
    capacity = agents * mu
    generator = np.diag(-(capacity + (queue + 1) * theta))
    generator[queue[1:], queue[:-1]] = capacity + queue[1:] * theta
    start = pi[agents:]
    head = np.zeros(queue_cap + 1)
    head[0] = capacity
    # ∫_0^T e^{Qs} ds = Q^{-1}(e^{QT} - I)
    occupancy_by_t = np.linalg.solve(
        generator.T, (linalg.expm(generator * within_s) - np.eye(len(queue))).T @ start
    )
    answered_by_t = occupancy_by_t @ head
    time_in_state = np.linalg.solve(-generator.T, start)
    answered_eventually = capacity / (capacity + (queue + 1) * theta)
    wait_of_answered = time_in_state @ answered_eventually
    return {
        "p_wait": p_wait,
        "p_abandon": p_abandon,
        "service_level": 1 - p_wait + answered_by_t,
        "asa_s": wait_of_answered / (1 - p_abandon),
        "p_abandon_from_chain": theta * time_in_state.sum(),
    }


# ---------------------------------------------------------------------------------------
# Worked example (issue 5): 100 calls / 30 min, AHT 180 s, 20 s, target 80 %


def test_worked_example_by_hand():
    result = required_agents(100, 1800, 180, 20, 0.80, shrinkage=0.30)
    assert result.offered_load == pytest.approx(10.0)
    assert result.agents == 14
    assert reference_sl(13, 10.0, 180, 20) < 0.80 <= reference_sl(14, 10.0, 180, 20)
    assert result.p_wait == pytest.approx(reference_erlang_c(14, 10.0), rel=1e-12)
    assert result.p_wait == pytest.approx(0.174, abs=5e-4)
    assert result.service_level == pytest.approx(0.888, abs=5e-4)
    assert result.asa_s == pytest.approx(7.8, abs=0.05)
    assert result.asa_s == pytest.approx(reference_erlang_c(14, 10.0) * 180 / 4, rel=1e-12)
    assert result.occupancy == pytest.approx(10 / 14)
    # 14 / 0.7 is 20.000000000000004 in floating point; it must not round up to 21.
    assert result.scheduled_agents == 20


def test_result_is_frozen_and_serialisable():
    result = required_agents(100, 1800, 180, 20, 0.80)
    assert isinstance(result, StaffingResult)
    assert result.scheduled_agents is None
    with pytest.raises(AttributeError):
        result.agents = 3  # type: ignore[misc]
    assert result.to_dict() == {
        "agents": 14,
        "service_level": result.service_level,
        "asa_s": result.asa_s,
        "occupancy": result.occupancy,
        "p_wait": result.p_wait,
        "offered_load": result.offered_load,
        "scheduled_agents": None,
    }


@pytest.mark.parametrize(
    ("shrinkage", "scheduled"),
    # 14 / 1 = 14; 14 / 0.7 = 20; 14 / 0.75 = 18.67 -> 19; 14 / 0.5 = 28; 14 / 0.875 = 16
    [(0.0, 14), (0.30, 20), (0.25, 19), (0.5, 28), (0.125, 16)],
)
def test_scheduled_agents(shrinkage, scheduled):
    result = required_agents(100, 1800, 180, 20, 0.80, shrinkage=shrinkage)
    assert result.agents == 14
    assert result.scheduled_agents == scheduled


def test_occupancy_cap_forces_more_agents_than_the_sl_target():
    # 2000 calls / 30 min at 300 s: A = 333.33 Erlangs. Large queues meet 80/20 at high
    # occupancy, so an 85 % cap binds: ceil(333.33 / 0.85) = ceil(392.16) = 393.
    load = 2000 * 300 / 1800
    by_sl = reference_required(load, 300, 20, 0.80)
    by_cap = math.ceil(load / 0.85)
    assert by_cap == 393 and by_sl < by_cap
    assert required_agents(2000, 1800, 300, 20, 0.80).agents == by_sl
    capped = required_agents(2000, 1800, 300, 20, 0.80, max_occupancy=0.85)
    assert capped.agents == by_cap
    assert capped.occupancy <= 0.85 < load / (by_cap - 1)
    assert capped.service_level == pytest.approx(reference_sl(by_cap, load, 300, 20), abs=1e-9)


def test_occupancy_cap_that_does_not_bind_changes_nothing():
    assert required_agents(100, 1800, 180, 20, 0.80, max_occupancy=0.9).agents == 14
    assert required_agents(100, 1800, 180, 20, 0.80, max_occupancy=1).agents == 14


def test_answer_within_zero_means_no_wait():
    result = required_agents(100, 1800, 180, 0, 0.80)
    assert result.service_level == pytest.approx(1 - result.p_wait)
    assert result.agents == reference_required(10.0, 180, 0, 0.80)


# ---------------------------------------------------------------------------------------
# Erlang B and C against known and independently computed values


def test_erlang_b_table_value():
    assert erlang_b(10, 5.0) == pytest.approx(0.01838, abs=5e-6)
    assert erlang_b(10, 5.0) == pytest.approx(reference_erlang_b(10, 5.0), rel=1e-12)


@pytest.mark.parametrize(
    ("agents", "load"), [(0, 3.0), (1, 0.5), (5, 2.0), (10, 5.0), (20, 25.0), (50, 40.0)]
)
def test_erlang_b_matches_textbook_formula(agents, load):
    assert erlang_b(agents, load) == pytest.approx(reference_erlang_b(agents, load), rel=1e-10)


@pytest.mark.parametrize(
    ("agents", "load"), [(1, 0.5), (2, 1.0), (14, 10.0), (13, 10.0), (30, 25.5), (100, 90.0)]
)
def test_erlang_c_matches_textbook_formula(agents, load):
    assert erlang_c(agents, load) == pytest.approx(reference_erlang_c(agents, load), rel=1e-10)


def test_erlang_c_single_agent_is_the_utilisation():
    assert erlang_c(1, 0.37) == pytest.approx(0.37)


def test_erlang_c_is_finite_at_hundreds_of_agents():
    p_wait = erlang_c(500, 480.0)
    assert 0 < p_wait < 1
    assert p_wait == pytest.approx(reference_erlang_c(500, 480.0), rel=1e-9)
    # And at thousands: no factorials, no overflow.
    big = required_agents(40000, 1800, 180, 20, 0.80)
    assert 4000 < big.agents < 4100 and 0.8 <= big.service_level < 1


def test_service_level_asa_occupancy_formulas():
    c = reference_erlang_c(14, 10.0)
    assert service_level(14, 10.0, 180, 20) == pytest.approx(1 - c * math.exp(-4 * 20 / 180))
    assert asa(14, 10.0, 180) == pytest.approx(c * 180 / 4)
    assert occupancy(14, 10.0) == pytest.approx(10 / 14)


def test_zero_load_needs_nobody_waiting():
    assert erlang_c(3, 0) == 0
    assert service_level(3, 0, 180, 20) == 1
    assert asa(3, 0, 180) == 0


# ---------------------------------------------------------------------------------------
# Properties

agents_and_load = st.integers(min_value=1, max_value=300).flatmap(
    lambda n: st.tuples(st.just(n), st.floats(min_value=0.01, max_value=0.99).map(lambda u: n * u))
)


@settings(max_examples=200, deadline=None)
@given(agents_and_load, st.floats(10, 900), st.floats(0, 120))
def test_more_agents_never_hurt(case, aht_s, within_s):
    agents, load = case
    assert (
        service_level(agents + 1, load, aht_s, within_s)
        >= service_level(agents, load, aht_s, within_s) - 1e-12
    )
    assert erlang_c(agents + 1, load) <= erlang_c(agents, load) + 1e-12
    assert asa(agents + 1, load, aht_s) <= asa(agents, load, aht_s) + 1e-9


@settings(max_examples=100, deadline=None)
@given(
    st.floats(1, 5000),
    st.sampled_from([900, 1800, 3600]),
    st.floats(30, 900),
    st.floats(0, 60),
    st.floats(0.5, 0.99),
)
def test_required_agents_is_the_smallest_that_meets_the_target(
    contacts, interval_s, aht_s, within_s, target
):
    result = required_agents(contacts, interval_s, aht_s, within_s, target)
    load = contacts * aht_s / interval_s
    assert result.agents > load
    assert result.service_level >= target
    fewer = result.agents - 1
    assert fewer <= load or service_level(fewer, load, aht_s, within_s) < target


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=1, max_value=200).flatmap(
        lambda n: st.tuples(st.just(n), st.floats(0.0, 1.0).map(lambda u: (n - 0.5) * u))
    ),
    st.floats(30, 600),
    st.floats(0, 60),
)
def test_erlang_a_tends_to_erlang_c_as_patience_grows(case, aht_s, within_s):
    agents, load = case
    # The gap to Erlang C shrinks like 1/patience; near critical load (N - A = 0.5, long
    # queues) 1e7 s still leaves ~1e-3, 1e9 s leaves ~1e-5.
    model = erlang_a(agents, load, aht_s, patience_s=1e9, answer_within_s=within_s)
    assert model["p_wait"] == pytest.approx(erlang_c(agents, load), abs=1e-3)
    assert model["service_level"] == pytest.approx(
        service_level(agents, load, aht_s, within_s), abs=1e-3
    )
    assert model["p_abandon"] < 1e-3


# ---------------------------------------------------------------------------------------
# Erlang A against an explicit birth-death chain


@pytest.mark.parametrize(
    ("agents", "load", "aht_s", "patience_s", "within_s"),
    [
        (3, 2.5, 180, 60, 20),  # under-loaded
        (3, 4.0, 180, 60, 20),  # over-loaded: Erlang C has no answer, Erlang A does
        (5, 5.0, 300, 120, 30),  # critically loaded
        (1, 0.8, 120, 30, 0),  # threshold 0
        (8, 6.0, 240, 600, 60),  # patient callers
        (2, 1.0, 200, 5, 10),  # impatient callers
    ],
)
def test_erlang_a_matches_birth_death_chain(agents, load, aht_s, patience_s, within_s):
    expected = reference_erlang_a(agents, load, aht_s, patience_s, within_s)
    assert expected["p_abandon"] == pytest.approx(expected["p_abandon_from_chain"], rel=1e-9)
    got = erlang_a(agents, load, aht_s, patience_s, within_s)
    assert set(got) == {"p_wait", "p_abandon", "service_level", "asa_s"}
    for key in ("p_wait", "p_abandon", "service_level", "asa_s"):
        assert got[key] == pytest.approx(expected[key], rel=1e-7, abs=1e-10), key


def test_erlang_a_abandonment_matches_palm_closed_form():
    # Mandelbaum & Zeltyn: P(Ab | wait) = 1/(rho·A(x, y)) + 1 - 1/rho, with
    # A(x, y) = 1 + sum_j y^j / prod_{k<=j}(x + k), x = N·mu/theta, y = lambda/theta.
    agents, load, aht_s, patience_s = 10, 9.0, 200.0, 90.0
    x, y, rho = agents * patience_s / aht_s, load * patience_s / aht_s, load / agents
    term, palm = 1.0, 1.0
    for k in range(1, 2000):
        term *= y / (x + k)
        palm += term
    conditional = 1 / (rho * palm) + 1 - 1 / rho
    got = erlang_a(agents, load, aht_s, patience_s, 20)
    assert got["p_abandon"] / got["p_wait"] == pytest.approx(conditional, rel=1e-9)


def test_erlang_a_large_overload_sheds_the_excess():
    # 1000 agents, 1200 Erlangs: in the fluid limit a sixth of the callers abandon and the
    # answered ones wait ln(1.2)·patience.
    got = erlang_a(1000, 1200.0, 300, 60, 20)
    assert got["p_abandon"] == pytest.approx(200 / 1200, abs=2e-3)
    assert got["asa_s"] == pytest.approx(math.log(1.2) * 60, rel=0.02)
    assert 0 <= got["service_level"] <= 1


def test_erlang_a_very_impatient_callers_all_abandon():
    got = erlang_a(2, 1.5, 180, 1e-3, 20)
    assert got["p_abandon"] == pytest.approx(got["p_wait"], rel=1e-4)
    assert got["service_level"] == pytest.approx(1 - got["p_wait"], rel=1e-4)


def test_erlang_a_infinite_patience_is_erlang_c():
    got = erlang_a(14, 10.0, 180, math.inf, 20)
    assert got == {
        "p_wait": pytest.approx(reference_erlang_c(14, 10.0)),
        "p_abandon": 0.0,
        "service_level": pytest.approx(reference_sl(14, 10.0, 180, 20)),
        "asa_s": pytest.approx(reference_erlang_c(14, 10.0) * 180 / 4),
    }


# ---------------------------------------------------------------------------------------
# Input checks: the message names the argument and the value

WORKED = dict(contacts=100, interval_s=1800, aht_s=180, answer_within_s=20, target_sl=0.8)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"contacts": 0}, "contacts must be positive"),
        ({"contacts": -5}, "contacts must be positive and finite, got -5"),
        ({"contacts": float("nan")}, "contacts must be a number"),
        ({"contacts": "many"}, "contacts must be a number, got 'many'"),
        ({"interval_s": 0}, "interval_s must be positive"),
        ({"aht_s": -180}, "aht_s must be positive and finite, got -180"),
        ({"aht_s": math.inf}, "aht_s must be positive"),
        ({"answer_within_s": -1}, "answer_within_s must be zero or positive"),
        ({"target_sl": 0}, "target_sl must be strictly between 0 and 1, got 0"),
        ({"target_sl": 1}, "target_sl must be strictly between 0 and 1, got 1"),
        ({"target_sl": 80}, "target_sl must be strictly between 0 and 1, got 80"),
        ({"max_occupancy": 0}, r"max_occupancy must be in \(0, 1\], got 0"),
        ({"max_occupancy": 1.2}, r"max_occupancy must be in \(0, 1\], got 1.2"),
        ({"shrinkage": 1}, r"shrinkage must be in \[0, 1\), got 1"),
        ({"shrinkage": -0.1}, r"shrinkage must be in \[0, 1\), got -0.1"),
    ],
)
def test_required_agents_rejects_bad_input(override, message):
    with pytest.raises(StaffingError, match=message):
        required_agents(**{**WORKED, **override})


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: erlang_c(12, 12.5), "offered load 12.5 Erlangs needs more than 12 agents"),
        (lambda: erlang_c(10, 10), "offered load 10 Erlangs needs more than 10 agents"),
        (
            lambda: service_level(12, 12.5, 180, 20),
            "offered load 12.5 Erlangs needs more than 12 agents",
        ),
        (lambda: asa(3, 7, 180), "offered load 7 Erlangs needs more than 3 agents"),
        (lambda: occupancy(3, 3.5), "offered load 3.5 Erlangs needs more than 3 agents"),
        (
            lambda: erlang_a(3, 4, 180, math.inf, 20),
            "offered load 4 Erlangs needs more than 3 agents",
        ),
        (lambda: erlang_c(0, 1), "agents must be a positive whole number, got 0"),
        (lambda: erlang_c(2.5, 1), "agents must be a positive whole number, got 2.5"),
        (lambda: erlang_b(-1, 1), "agents must be a whole number >= 0, got -1"),
        (lambda: erlang_c(3, -1), "load must be zero or positive"),
        (lambda: service_level(14, 10, 0, 20), "aht_s must be positive"),
        (lambda: service_level(14, 10, 180, -1), "answer_within_s must be zero or positive"),
        (lambda: erlang_a(3, 2, 180, 0, 20), "patience_s must be positive, got 0"),
        (lambda: offered_load(100, -1800, 180), "interval_s must be positive"),
    ],
)
def test_model_functions_reject_bad_input(call, message):
    with pytest.raises(StaffingError, match=message):
        call()


def test_staffing_error_is_in_the_exception_tree():
    assert issubclass(StaffingError, ValueError)
    assert issubclass(StaffingError, KpitoolsError)


# ---------------------------------------------------------------------------------------
# CLI glue


def _parse(argv):
    parser = argparse.ArgumentParser(prog="kpitools staffing")
    add_arguments(parser)
    return parser.parse_args(argv)


WORKED_ARGV = [
    "--contacts",
    "100",
    "--interval-s",
    "1800",
    "--aht-s",
    "180",
    "--answer-within-s",
    "20",
    "--target-sl",
    "0.8",
]


def test_cli_prints_json(capsys):
    assert run(_parse(WORKED_ARGV + ["--shrinkage", "0.3"])) == 0
    record = json.loads(capsys.readouterr().out)
    assert set(record) == {
        "agents",
        "service_level",
        "asa_s",
        "occupancy",
        "p_wait",
        "offered_load",
        "scheduled_agents",
    }
    assert record["agents"] == 14 and record["scheduled_agents"] == 20
    assert record["service_level"] == pytest.approx(0.888, abs=5e-4)


def test_cli_without_shrinkage_gives_null_scheduled_agents(capsys):
    assert run(_parse(WORKED_ARGV + ["--max-occupancy", "0.9"])) == 0
    assert json.loads(capsys.readouterr().out)["scheduled_agents"] is None


def test_cli_table(capsys):
    assert run(_parse(WORKED_ARGV + ["--format", "table"])) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["agents", "14"]
    assert lines[-1].split() == ["scheduled_agents", "-"]


def test_cli_bad_input_is_one_line_and_exit_2(capsys):
    assert run(_parse(WORKED_ARGV[:-1] + ["1.5"])) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: target_sl must be strictly between 0 and 1, got 1.5\n"


def test_cli_options_are_exactly_the_spec():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    options = {o for action in parser._actions for o in action.option_strings} - {"-h", "--help"}
    assert options == {
        "--contacts",
        "--interval-s",
        "--aht-s",
        "--answer-within-s",
        "--target-sl",
        "--max-occupancy",
        "--shrinkage",
        "--format",
    }
    assert _parse(WORKED_ARGV).format == "json"
    with pytest.raises(SystemExit):
        _parse(WORKED_ARGV[2:])  # --contacts is required


# ---------------------------------------------------------------------------------------
# Interval view on a hand-made table (loaded through kpitools.load, measured by the engine)

T = pd.Timestamp

COLUMNS = [
    "interaction_id",
    "channel",
    "direction",
    "queue",
    "agent_id",
    "arrived_at",
    "answered_at",
    "ended_at",
    "outcome",
    "talk_s",
    "hold_s",
    "acw_s",
]


def _row(
    arrived,
    outcome="handled",
    agent=None,
    wait=0.0,
    talk=0.0,
    hold=0.0,
    acw=0.0,
    channel="voice",
    direction="inbound",
):
    arrived_at = T(arrived)
    waited = arrived_at + pd.Timedelta(seconds=wait)
    handled = outcome == "handled"
    return {
        "interaction_id": f"c{len(ROWS) + 1}",
        "channel": channel,
        "direction": direction,
        "queue": "general",
        "agent_id": agent,
        "arrived_at": arrived_at,
        "answered_at": waited if handled else pd.NaT,
        "ended_at": waited + pd.Timedelta(seconds=talk + hold) if handled else waited,
        "outcome": outcome,
        "talk_s": talk if handled else None,
        "hold_s": hold if handled else None,
        "acw_s": acw if handled else None,
    }


ROWS: list[dict] = []
for spec in [
    # Monday 2026-03-02, 09:00-09:30: 5 inbound voice contacts, 3 handled by 2 agents
    dict(arrived="2026-03-02 09:00:00", agent="a1", wait=10, talk=200, hold=20, acw=40),
    dict(arrived="2026-03-02 09:10:00", agent="a2", wait=20, talk=100, acw=20),  # at threshold
    dict(arrived="2026-03-02 09:20:00", agent="a1", wait=45, talk=300, acw=100),  # late
    dict(arrived="2026-03-02 09:25:00", outcome="abandoned", wait=3),  # short abandon
    dict(arrived="2026-03-02 09:29:59", outcome="abandoned", wait=41),
    # another channel; and an outbound voice call, which the catalogue's handled and AHT
    # count (600 s) but which is not offered load and not an inbound agent
    dict(arrived="2026-03-02 09:05:00", agent="a9", wait=5, talk=600, channel="chat"),
    dict(arrived="2026-03-02 09:06:00", agent="a8", talk=600, direction="outbound"),
    # 09:30-10:00: boundary contact belongs here
    dict(arrived="2026-03-02 09:30:00", agent="a3", wait=5, talk=100),
    # 10:00-10:30: only an abandon, so no AHT and no requirement
    dict(arrived="2026-03-02 10:05:00", outcome="abandoned", wait=30),
    # 10:30-11:00: 3 contacts of 1800 s on one agent: load 3 >= 1 agent, no prediction
    dict(arrived="2026-03-02 10:31:00", agent="a4", talk=1800),
    dict(arrived="2026-03-02 10:32:00", agent="a4", talk=1800),
    dict(arrived="2026-03-02 10:33:00", agent="a4", talk=1800),
    # 11:00-11:30: outbound only, no inbound contact offered: no row
    dict(arrived="2026-03-02 11:10:00", agent="a8", talk=300, direction="outbound"),
    # next Monday, 09:00-09:30
    dict(arrived="2026-03-09 09:05:00", agent="a1", wait=30, talk=500),
    # end is exclusive
    dict(arrived="2026-03-10 00:00:00", agent="a1", talk=100),
]:
    ROWS.append(_row(**spec))


def _write_folder(folder, targets: str | None = None):
    pd.DataFrame(ROWS, columns=COLUMNS).to_csv(folder / "interactions.csv", index=False)
    if targets is not None:
        (folder / "targets.yaml").write_text(targets)
    return folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return _write_folder(tmp_path_factory.mktemp("interval_view"))


@pytest.fixture(scope="module")
def data(folder):
    dataset = kpitools.load(folder)
    yield dataset
    dataset.close()


def test_interval_staffing_counts_by_hand(data):
    frame = interval_staffing(data, "2026-03-02", dt.datetime(2026, 3, 10))
    assert list(frame["interval_start"]) == [
        T("2026-03-02 09:00"),
        T("2026-03-02 09:30"),
        T("2026-03-02 10:00"),
        T("2026-03-02 10:30"),
        T("2026-03-09 09:00"),
    ]
    assert list(frame["weekday"].astype(str)) == ["Monday"] * 5
    assert list(frame["contacts"]) == [5, 1, 1, 3, 1]
    # handled is the catalogue's: the outbound voice call at 09:06 counts in the first slot
    assert list(frame["handled"]) == [4, 1, 0, 3, 1]
    assert list(frame["actual_agents"]) == [2, 1, 0, 1, 1]  # inbound handlers only

    first = frame.iloc[0]
    assert first["handle_s"] == 260 + 120 + 400 + 600
    assert first["aht_s"] == pytest.approx(1380 / 4)  # 345 s
    load = 5 * 345 / 1800
    assert first["offered_load"] == pytest.approx(load)
    # voice threshold 20 s and target 0.80 come from the registry
    assert first["required_agents"] == reference_required(load, 345, 20, 0.80)
    assert first["predicted_sl"] == pytest.approx(reference_sl(2, load, 345, 20))
    # within 20 s: 2 (one exactly at 20 s); denominator 5 - 1 short abandon
    assert first["answered_within_threshold"] == 2
    assert first["offered_less_short_abandons"] == 4
    assert first["achieved_sl"] == pytest.approx(0.5)

    assert frame.iloc[1]["aht_s"] == 100
    assert frame.iloc[1]["required_agents"] == reference_required(100 / 1800, 100, 20, 0.80) == 1
    assert frame.iloc[1]["achieved_sl"] == 1.0

    no_handled = frame.iloc[2]
    assert math.isnan(no_handled["aht_s"]) and math.isnan(no_handled["offered_load"])
    assert pd.isna(no_handled["required_agents"]) and math.isnan(no_handled["predicted_sl"])
    assert no_handled["achieved_sl"] == 0.0

    overloaded = frame.iloc[3]
    assert overloaded["offered_load"] == pytest.approx(3.0)
    assert overloaded["required_agents"] == reference_required(3.0, 1800, 20, 0.80)
    assert math.isnan(overloaded["predicted_sl"])
    assert frame["required_agents"].dtype == "Int64"


def test_interval_staffing_agrees_with_the_scorecard(data):
    # Pooled over the day, the view's additive parts give the engine's own AHT and service
    # level for voice: one definition, whichever way it is sliced.
    frame = interval_staffing(data, "2026-03-02", "2026-03-03")
    day = kpitools.kpis(data, "2026-03-02", by="channel", kpis=["aht", "service_level"])
    voice = day[day["channel"] == "voice"].set_index("kpi")["value"]
    # 11:00 has only an outbound call (300 s), which the scorecard's AHT also counts
    assert voice["aht"] == pytest.approx(
        (frame["handle_s"].sum() + 300) / (frame["handled"].sum() + 1)
    )
    assert voice["service_level"] == pytest.approx(
        frame["answered_within_threshold"].sum() / frame["offered_less_short_abandons"].sum()
    )
    # by hand: within 20 s 2 + 1 (a3, 5 s) + 0 + 3 (waits 0) = 6; denominator 4 + 1 + 1 + 3
    assert voice["service_level"] == pytest.approx(6 / 9)


def test_interval_staffing_filters_and_options(data):
    both = interval_staffing(
        data,
        "2026-03-02",
        "2026-03-03",
        channels=("voice", "chat"),
        interval_minutes=60,
        answer_within_s=20,
    )
    assert list(both["interval_start"]) == [T("2026-03-02 09:00"), T("2026-03-02 10:00")]
    assert list(both["contacts"]) == [7, 4]  # 5 + boundary contact + chat; abandon + 3
    assert list(both["actual_agents"]) == [4, 1]  # a1, a2, a3, a9; not the outbound a8
    # chat answered in 5 s counts against the 20 s given: c1, c2, a3, chat
    assert both.iloc[0]["answered_within_threshold"] == 4
    # short_abandon_s 0: the 3 s abandon stays in the denominator
    strict = interval_staffing(data, "2026-03-02", "2026-03-03", short_abandon_s=0)
    assert strict.iloc[0]["offered_less_short_abandons"] == 5
    capped = interval_staffing(data, "2026-03-02", "2026-03-03", max_occupancy=0.5)
    assert capped.iloc[3]["required_agents"] == reference_required(3.0, 1800, 20, 0.80, 0.5)
    tighter = interval_staffing(data, "2026-03-02", "2026-03-03", target_sl=0.95)
    assert tighter.iloc[0]["required_agents"] == reference_required(5 * 345 / 1800, 345, 20, 0.95)
    # an explicit threshold is used by the model and by the achieved service level alike
    slow = interval_staffing(data, "2026-03-02", "2026-03-03", answer_within_s=45)
    assert slow.iloc[0]["answered_within_threshold"] == 3  # the 45 s answer is now within
    assert slow.iloc[0]["predicted_sl"] == pytest.approx(reference_sl(2, 5 * 345 / 1800, 345, 45))
    empty = interval_staffing(data, "2026-04-01", "2026-04-02")
    assert empty.empty and "required_agents" in empty.columns


def test_interval_staffing_reads_registry_parameters(folder):
    # A voice threshold of 45 s and short abandons below 0 s, from the data set's parameters
    data = kpitools.load(
        folder, params={"answer_threshold_s": {"voice": 45, "chat": 60}, "short_abandon_s": 0}
    )
    try:
        first = interval_staffing(data, "2026-03-02", "2026-03-03").iloc[0]
    finally:
        data.close()
    assert first["answered_within_threshold"] == 3
    assert first["offered_less_short_abandons"] == 5
    assert first["achieved_sl"] == pytest.approx(3 / 5)
    assert first["required_agents"] == reference_required(5 * 345 / 1800, 345, 45, 0.80)


def test_interval_staffing_takes_the_target_from_the_targets_file(tmp_path):
    folder = _write_folder(
        tmp_path, "overrides:\n  - {kpi: service_level, channel: voice, target: 0.95}\n"
    )
    data = kpitools.load(folder)
    try:
        first = interval_staffing(data, "2026-03-02", "2026-03-03").iloc[0]
    finally:
        data.close()
    assert first["required_agents"] == reference_required(5 * 345 / 1800, 345, 20, 0.95)


def test_interval_staffing_interval_width_defaults_to_the_parameter(folder):
    data = kpitools.load(folder, params={"interval_minutes": 60})
    try:
        frame = interval_staffing(data, "2026-03-02", "2026-03-03")
    finally:
        data.close()
    assert list(frame["interval_start"]) == [T("2026-03-02 09:00"), T("2026-03-02 10:00")]
    assert list(frame["contacts"]) == [6, 4]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"interval_minutes": 7},
            "interval_minutes must be a whole number of minutes that divides a day",
        ),
        ({"interval_minutes": 0}, "interval_minutes"),
        ({"target_sl": 1.0}, "target_sl"),
        ({"max_occupancy": 0}, "max_occupancy"),
        ({"channels": ()}, "channels must name at least one channel"),
        (
            {"channels": ("voice", "email")},
            r"channels must be real-time channels \(voice, chat\) for a queueing model, got email",
        ),
        (
            {"channels": ("voice", "chat")},
            r"different answer thresholds \(voice 20, chat 60\); pass answer_within_s",
        ),
        ({"start": "2026-03-03"}, "start must be before end"),
        ({"start": "not a date"}, "start must be a date or timestamp, got 'not a date'"),
        ({"end": "2026-03-03T00:00+01:00"}, "end must be a naive business-time timestamp"),
        (
            {"start": "2026-03-02 09:10"},
            "start must fall on a 30-minute interval boundary, got 2026-03-02 09:10:00",
        ),
    ],
)
def test_interval_staffing_rejects_bad_input(data, kwargs, message):
    arguments = {"start": "2026-03-02", "end": "2026-03-03", **kwargs}
    with pytest.raises(StaffingError, match=message):
        interval_staffing(data, **arguments)


def test_interval_profile_pools_mondays_at_nine(data):
    frame = interval_staffing(data, "2026-03-02", "2026-03-10")
    profile = interval_profile(frame)
    assert list(profile["time_of_day"]) == ["09:00", "09:30", "10:00", "10:30"]
    nine = profile.iloc[0]
    assert nine["weekday"] == "Monday"
    assert nine["intervals"] == 2
    assert nine["contacts"] == pytest.approx((5 + 1) / 2)
    assert nine["actual_agents"] == pytest.approx((2 + 1) / 2)
    # ratios of sums, not means of ratios: (1380 + 500) / (4 + 1), (2 + 0) / (4 + 1)
    assert nine["aht_s"] == pytest.approx(376.0)
    assert nine["achieved_sl"] == pytest.approx(0.4)
    monday_9 = frame[frame["interval_start"].dt.strftime("%H:%M") == "09:00"]
    assert nine["required_agents"] == pytest.approx(
        monday_9["required_agents"].astype(float).mean()
    )
    weights = monday_9["contacts"]
    assert nine["predicted_sl"] == pytest.approx(
        (monday_9["predicted_sl"] * weights).sum() / weights.sum()
    )
    assert nine["staffing_gap"] == pytest.approx(
        (monday_9["actual_agents"] - monday_9["required_agents"].astype(float)).mean()
    )
    # intervals without a defined value stay undefined
    ten = profile.iloc[2]
    assert math.isnan(ten["aht_s"]) and math.isnan(ten["required_agents"])
    assert math.isnan(profile.iloc[3]["predicted_sl"])
    assert list(profile["weekday"].cat.categories[:2]) == ["Monday", "Tuesday"]


def test_docstring_examples():
    import doctest

    import kpitools.staffing

    assert doctest.testmod(kpitools.staffing, raise_on_error=False).failed == 0
