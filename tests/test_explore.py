"""kpitools.explore: the notebook helpers (issue 5).

Expected values are worked out by hand from the small tables below, or from textbook
formulas written out here (Wilson interval, two-proportion z-test, Erlang C by factorials).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest

import kpitools
from kpitools import explore
from kpitools.errors import KpitoolsError, PeriodError
from kpitools.staffing import StaffingError

# ---------------------------------------------------------------------------------------
# Independent references


def wilson_by_hand(x: float, n: float, z: float = 1.959963984540054) -> tuple[float, float]:
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def erlang_c_by_hand(agents: int, load: float) -> float:
    top = load**agents / math.factorial(agents) * agents / (agents - load)
    return top / (sum(load**k / math.factorial(k) for k in range(agents)) + top)


def sl_by_hand(agents: int, load: float, aht_s: float, within_s: float) -> float:
    return 1 - erlang_c_by_hand(agents, load) * math.exp(-(agents - load) * within_s / aht_s)


def required_by_hand(load: float, aht_s: float, within_s: float, target: float) -> int:
    agents = math.floor(load) + 1
    while sl_by_hand(agents, load, aht_s, within_s) < target:
        agents += 1
    return agents


# ---------------------------------------------------------------------------------------
# A small data set: Monday 2026-03-02, Tuesday 03-03 and Monday 03-09


def _contact(
    cid,
    arrived,
    queue,
    channel="voice",
    agent=None,
    wait=0,
    talk=0.0,
    acw=0.0,
    outcome="handled",
    resolved=None,
):
    arrived_at = pd.Timestamp(arrived)
    answered = arrived_at + pd.Timedelta(seconds=wait)
    handled = outcome == "handled"
    return {
        "interaction_id": cid,
        "customer_id": None,
        "channel": channel,
        "direction": "inbound",
        "queue": queue,
        "issue_type": None,
        "agent_id": agent,
        "arrived_at": arrived_at,
        "answered_at": answered if handled else pd.NaT,
        "ended_at": answered + pd.Timedelta(seconds=talk) if handled else answered,
        "outcome": outcome,
        "talk_s": talk if handled else None,
        "hold_s": 0.0 if handled else None,
        "acw_s": acw if handled else None,
        "transferred": False,
        "escalated": False,
        "resolved": resolved,
    }


CONTACTS = [
    _contact("c1", "2026-03-02 09:00", "billing", agent="a1", wait=10, talk=300, resolved=True),
    _contact(
        "c2", "2026-03-02 10:00", "billing", agent="a2", wait=30, talk=100, acw=20, resolved=False
    ),
    _contact(
        "c3",
        "2026-03-02 11:00",
        "sales",
        channel="chat",
        agent="a1",
        wait=50,
        talk=200,
        resolved=True,
    ),
    _contact("c4", "2026-03-03 09:00", "billing", agent="a1", wait=0, talk=500, resolved=True),
    _contact("c5", "2026-03-03 09:30", "billing", wait=40, outcome="abandoned"),
    _contact("c6", "2026-03-09 09:00", "billing", agent="a2", wait=5, talk=200, resolved=False),
]
SURVEYS = [("c1", 5), ("c2", 2), ("c3", 4), ("c4", 4), ("c6", 1)]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explore")
    pd.DataFrame(CONTACTS).to_csv(folder / "interactions.csv", index=False)
    pd.DataFrame(
        [{"interaction_id": c, "responded_at": "2026-03-10 12:00", "csat": s} for c, s in SURVEYS]
    ).to_csv(folder / "surveys.csv", index=False)
    dataset = kpitools.load(folder)
    yield dataset
    dataset.close()


def _values(frame, *keys):
    return {tuple(r[k] for k in keys): r["value"] for r in frame.to_dict("records")}


# ---------------------------------------------------------------------------------------
# window_kpis


def test_window_kpis_pools_the_days_by_hand(data):
    frame = explore.window_kpis(
        data,
        ("2026-03-02", "2026-03-03"),
        by="queue",
        kpis=["aht", "fcr", "csat", "service_level", "handled"],
    )
    assert set(frame["period"]) == {"2026-03-02..2026-03-03"}
    got = _values(frame, "queue", "kpi")
    assert got[("billing", "handled")] == 3
    assert got[("billing", "aht")] == pytest.approx((300 + 120 + 500) / 3)
    assert got[("billing", "fcr")] == pytest.approx(2 / 3)
    # voice within 20 s: c1 (10 s) and c4 (0 s) of 4 offered, no short abandons
    assert got[("billing", "service_level")] == pytest.approx(2 / 4)
    assert got[("sales", "aht")] == 200 and got[("sales", "fcr")] == 1.0
    csat = frame[(frame["queue"] == "billing") & (frame["kpi"] == "csat")].iloc[0]
    assert csat["value"] == pytest.approx(2 / 3)  # 5 and 4 of 5, 2, 4
    assert csat["n"] == 3 and csat["small_sample"] and csat["status"] is None
    assert (csat["ci_low"], csat["ci_high"]) == pytest.approx(wilson_by_hand(2, 3))
    assert not frame["partial"].any()


def test_window_kpis_whole_center_and_partial_flag(data):
    total = explore.window_kpis(data, ("2026-03-02", "2026-03-03"), kpis=["aht", "service_level"])
    got = _values(total, "kpi")
    assert got[("aht",)] == pytest.approx((920 + 200) / 4)
    # chat c3 answered in 50 s is within its 60 s threshold
    assert got[("service_level",)] == pytest.approx(3 / 5)
    late = explore.window_kpis(data, ("2026-03-08", "2026-03-12"), kpis=["aht"])
    assert late["partial"].all()  # the data ends on 2026-03-09
    assert late["value"].iloc[0] == 200


def test_window_of_a_week_equals_the_engine_week(data):
    window = explore.window_kpis(data, "2026-W10", by="queue")
    week = kpitools.kpis(data, "2026-W10", by="queue")
    keys = ["queue", "kpi"]
    merged = window.merge(week, on=keys, suffixes=("_w", "_k"))
    assert len(merged) == len(week) > 0
    pd.testing.assert_series_equal(merged["value_w"], merged["value_k"], check_names=False)
    assert (merged["period_w"] == "2026-W10").all()


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (("2026-03-03", "2026-03-02"), "the last day 2026-03-02 is before the first day"),
        (("2026-03-02 09:00", "2026-03-03"), "must be a date such as 2026-08-03"),
        ("2026-13", "is not a real month"),
        (42, "must be a period label, a Period or a"),
    ],
)
def test_window_kpis_rejects_bad_windows(data, window, message):
    with pytest.raises(PeriodError, match=message):
        explore.window_kpis(data, window, kpis=["aht"])


# ---------------------------------------------------------------------------------------
# Comparisons with intervals


def test_compare_windows_by_hand(data):
    frame = explore.compare_windows(
        data,
        ("2026-03-02", "2026-03-03"),
        ("2026-03-09", "2026-03-09"),
        by="queue",
        kpis=["aht", "fcr", "csat"],
    )
    billing = frame[frame["queue"] == "billing"].set_index("kpi")
    assert billing.loc["aht", "change"] == pytest.approx(200 - 920 / 3)
    assert pd.isna(billing.loc["aht", "significant"])  # nothing to test for a mean time
    assert billing.loc["fcr", "compare_value"] == pytest.approx(2 / 3)
    assert billing.loc["fcr", "value"] == 0.0
    # two-proportion z: pooled 2/4, se sqrt(.25 (1 + 1/3)), z = -0.667 / 0.577 = -1.15
    assert not billing.loc["fcr", "significant"]
    assert (billing.loc["csat", "compare_ci_low"], billing.loc["csat", "compare_ci_high"]) == (
        pytest.approx(wilson_by_hand(2, 3))
    )
    assert billing.loc["csat", "intervals_overlap"]  # [0, 0.79] and [0.21, 0.94]
    assert billing.loc["csat", "compare_n"] == 3 and billing.loc["csat", "n"] == 1


def test_compare_periods_against_a_label(data):
    frame = explore.compare_periods(
        data, "2026-03-09", against="2026-03-02", by="queue", kpis=["aht"]
    )
    billing = frame[frame["queue"] == "billing"].iloc[0]
    assert billing["compare_period"] == "2026-03-02"
    assert billing["change"] == pytest.approx(200 - (300 + 120) / 2)


def _frame(period, value, num, den, lo, hi, unit="fraction", partial=False):
    return pd.DataFrame(
        [
            {
                "period": period,
                "kpi": "x",
                "unit": unit,
                "value": value,
                "numerator": num,
                "denominator": den,
                "n": den,
                "ci_low": lo,
                "ci_high": hi,
                "partial": partial,
                "small_sample": False,
                "direction": "higher",
                "warning": None,
                "critical": None,
            }
        ]
    )


def test_compare_frames_overlap_and_significance():
    now = _frame("B", 0.80, 800, 1000, 0.775, 0.823)
    then = _frame("A", 0.60, 600, 1000, 0.569, 0.630)
    row = explore.compare_frames(now, then).iloc[0]
    assert row["change"] == pytest.approx(0.20)
    assert not row["intervals_overlap"]
    # z = 0.2 / sqrt(0.7 * 0.3 * 2 / 1000) = 9.8
    assert row["significant"]
    close = explore.compare_frames(_frame("B", 0.61, 610, 1000, 0.58, 0.64), then).iloc[0]
    assert close["intervals_overlap"] and not close["significant"]
    # scores: Welch on the standard errors, se = 0.2/1.96 = 0.102 each; se(d) = 0.1443,
    # df ≈ 98, half-width 1.984·0.1443 = 0.286 < 0.5: significant
    scores = explore.compare_frames(
        _frame("B", 4.0, None, 50, 3.8, 4.2, unit="score").assign(se=0.2 / 1.96),
        _frame("A", 4.5, None, 50, 4.3, 4.7, unit="score").assign(se=0.2 / 1.96),
    ).iloc[0]
    assert scores["significant"] and not scores["intervals_overlap"]
    partial = explore.compare_frames(now.assign(partial=True), then).iloc[0]
    assert pd.isna(partial["change"]) and pd.isna(partial["significant"])


# ---------------------------------------------------------------------------------------
# The AHT trap detector on a hand-made trend frame


def _week(i: int) -> str:
    return f"2026-W{i:02d}"


def _trend_rows(queue, weekly, csat_n=500, small=False):
    """weekly: {week: (aht_s, fcr, csat)} -> tidy rows shaped like kpitools.trend."""
    reg = kpitools.registry
    rows = []
    for week, (aht, fcr, csat) in weekly.items():
        for kpi, value, den in (("aht", aht, 100), ("fcr", fcr, 1000), ("csat", csat, csat_n)):
            k = reg[kpi]
            rows.append(
                {
                    "period": _week(week),
                    "queue": queue,
                    "kpi": kpi,
                    "value": value,
                    "numerator": value * den,
                    "denominator": den,
                    "unit": k.unit,
                    "direction": k.direction,
                    "warning": k.warning,
                    "critical": k.critical,
                    "variant": None,
                    "small_sample": small and kpi == "csat",
                    "partial": False,
                }
            )
    return rows


NORMAL, TRAP = (400.0, 0.75, 0.85), (300.0, 0.60, 0.85)


def _trend():
    trap = {w: (TRAP if 5 <= w <= 10 else NORMAL) for w in range(1, 13)}
    efficient = {w: ((300.0, 0.75, 0.85) if w >= 5 else NORMAL) for w in range(1, 9)}
    unhappy = {w: ((300.0, 0.75, 0.60) if w >= 5 else NORMAL) for w in range(1, 9)}
    rows = (
        _trend_rows("trap", trap)
        + _trend_rows("efficient", efficient)
        + _trend_rows("unhappy", unhappy)
        + _trend_rows("few_surveys", unhappy, 10, True)
    )
    return pd.DataFrame(rows).sample(frac=1.0, random_state=3)  # order must not matter


def test_divergence_flags_the_whole_stretch_against_clean_weeks():
    div = explore.aht_fcr_divergence(_trend(), baseline_weeks=3, min_baseline_weeks=2)
    trap = div[div["queue"] == "trap"].set_index("period")
    assert list(trap.index) == [_week(w) for w in range(1, 13)]
    assert trap["diverging"].tolist() == [5 <= w <= 10 for w in range(1, 13)]
    # weeks 1-2 have fewer than 2 clean weeks before them: no verdict
    assert trap.loc[_week(1), "baseline_periods"] == 0 and math.isnan(
        trap.loc[_week(2), "baseline_aht"]
    )
    # week 10 is still compared with weeks 2-4, not with the trap weeks before it
    assert (
        trap.loc[_week(10), "baseline_aht"] == 400 and trap.loc[_week(10), "baseline_fcr"] == 0.75
    )
    assert trap.loc[_week(10), "change_aht"] == -100
    assert trap.loc[_week(7), "worse"] == kpitools.registry["fcr"].label
    assert not trap.loc[_week(11), "diverging"]  # recovered


def test_divergence_needs_an_experience_kpi_to_get_worse():
    div = explore.aht_fcr_divergence(_trend(), baseline_weeks=3, min_baseline_weeks=2)
    efficient = div[div["queue"] == "efficient"]
    # A healthy improvement becomes the new normal: week 6 is 66.7 s below weeks 3-5, week 7
    # only 33.3 s below weeks 4-6 (under the 45 s bar), week 8 level with weeks 5-7.
    assert efficient["aht_improved"].tolist() == [False] * 4 + [True, True, False, False]
    assert efficient["baseline_aht"].tolist()[5:7] == pytest.approx([1100 / 3, 1000 / 3])
    assert not efficient["diverging"].any() and set(efficient["worse"]) == {""}
    unhappy = div[div["queue"] == "unhappy"].set_index("period")
    assert unhappy.loc[_week(5), "diverging"]
    assert unhappy.loc[_week(5), "worse"] == kpitools.registry["csat"].label
    # the same CSAT drop on 10 responses a week is below the minimum sample: not evidence
    assert not div[div["queue"] == "few_surveys"]["diverging"].any()


def test_divergence_for_the_whole_center_and_bad_input():
    rows = pd.DataFrame(_trend_rows("x", {w: (TRAP if w >= 5 else NORMAL) for w in range(1, 8)}))
    div = explore.aht_fcr_divergence(
        rows.drop(columns="queue"), by=None, baseline_weeks=4, min_baseline_weeks=4
    )
    assert div["diverging"].tolist() == [False] * 4 + [True] * 3
    with pytest.raises(KpitoolsError, match="needs the 'aht' KPI"):
        explore.aht_fcr_divergence(rows[rows["kpi"] != "aht"])
    with pytest.raises(KpitoolsError, match="needs at least one of fcr, csat"):
        explore.aht_fcr_divergence(rows[rows["kpi"] == "aht"])
    with pytest.raises(KpitoolsError, match="min_baseline_weeks <= baseline_weeks"):
        explore.aht_fcr_divergence(rows, baseline_weeks=2, min_baseline_weeks=3)


def test_divergence_stretches():
    div = explore.aht_fcr_divergence(_trend(), baseline_weeks=3, min_baseline_weeks=2)
    stretches = explore.divergence_stretches(div)
    first = stretches.iloc[0]
    assert (first["queue"], first["first_period"], first["last_period"], first["periods"]) == (
        "trap",
        _week(5),
        _week(10),
        6,
    )
    assert first["start"] == dt.date(2026, 1, 26) and first["end"] == dt.date(2026, 3, 8)
    lone = pd.DataFrame(
        {
            "queue": ["q"] * 4,
            "period": [_week(w) for w in (4, 1, 2, 3)],
            "diverging": [True, True, False, False],
        }
    )
    assert explore.divergence_stretches(lone).empty  # two single weeks, not a stretch
    assert len(explore.divergence_stretches(lone, min_periods=1)) == 2


# ---------------------------------------------------------------------------------------
# Staffing what-ifs


def test_staffing_scenarios_by_hand():
    frame = explore.staffing_scenarios(
        100,
        1800,
        180,
        20,
        0.80,
        {
            "volume +10 %": {"volume_change": 0.10},
            "AHT -20 s": {"aht_change_s": -20},
            "target 90 %": {"target_sl": 0.90},
        },
    ).set_index("scenario")
    assert frame.loc["base", "agents"] == 14  # the published worked example
    assert frame.loc["volume +10 %", "agents"] == required_by_hand(11.0, 180, 20, 0.80)
    assert frame.loc["AHT -20 s", "aht_s"] == 160
    assert frame.loc["AHT -20 s", "agents"] == required_by_hand(100 * 160 / 1800, 160, 20, 0.80)
    assert frame.loc["target 90 %", "agents"] == required_by_hand(10.0, 180, 20, 0.90)
    assert frame.loc["target 90 %", "extra_agents"] == frame.loc["target 90 %", "agents"] - 14
    with pytest.raises(StaffingError, match="unknown change volume"):
        explore.staffing_scenarios(100, 1800, 180, 20, 0.8, {"x": {"volume": 2}})


def test_agents_table_by_hand():
    table = explore.agents_table(100, 1800, 180, 20, agents=[9, 10, 11, 14])
    assert table["agents"].tolist() == [11, 14]  # 9 and 10 do not exceed 10 Erlangs
    for row in table.to_dict("records"):
        n = row["agents"]
        assert row["service_level"] == pytest.approx(sl_by_hand(n, 10.0, 180, 20))
        assert row["p_wait"] == pytest.approx(erlang_c_by_hand(n, 10.0))
        assert row["asa_s"] == pytest.approx(erlang_c_by_hand(n, 10.0) * 180 / (n - 10))
        assert row["occupancy"] == pytest.approx(10 / n)
    assert explore.agents_table(100, 1800, 180, 20)["agents"].tolist() == list(range(11, 19))


def test_effective_agents_inverts_erlang_c():
    load = 20 * 300 / 1800
    achieved = sl_by_hand(6, load, 300, 20)
    frame = pd.DataFrame(
        {
            "contacts": [20, 20, 20, 20, 20],
            "aht_s": [300.0, 300.0, math.nan, 300.0, 300.0],
            "achieved_sl": [achieved, achieved - 1e-9, 0.9, 1.0, 0.0],
        }
    )
    got = explore.effective_agents(frame, 20).tolist()
    assert got[:2] == [6, 6]
    assert got[2] is pd.NA and got[3] is pd.NA
    assert got[4] == math.floor(load) + 1


# ---------------------------------------------------------------------------------------
# Display helpers and the data folder


def test_catalogue_and_pretty():
    cat = explore.catalogue()
    assert cat["id"].tolist() == list(kpitools.registry.kpis)
    assert cat.set_index("id").loc["csat", "target"] == "≥ 85.0 %"
    assert cat.set_index("id").loc["csat", "min_sample"] == 30
    frame = pd.DataFrame(
        {
            "unit": ["fraction"],
            "direction": ["higher"],
            "value": [0.8],
            "target": [0.85],
            "ci_low": [0.75],
            "ci_high": [None],
        }
    )
    shown = explore.pretty(frame, ["value", "target", "ci_low", "ci_high"]).iloc[0].tolist()
    assert shown == ["80.0 %", "≥ 85.0 %", "75.0 %", ""]
    counts = explore.pretty(pd.DataFrame({"unit": ["fraction", "count"], "n": [757.0, None]}))
    assert counts["n"].tolist() == [757, pd.NA] and counts["n"].dtype == "Int64"


def test_project_root_walks_up(tmp_path):
    repo = tmp_path / "repo"
    (repo / "kpitools").mkdir(parents=True)
    (repo / "notebooks").mkdir()
    (repo / "pyproject.toml").write_text("")
    assert explore.project_root(repo / "notebooks") == repo
    installed = Path(explore.__file__).resolve().parents[1]
    assert explore.project_root(tmp_path) == installed


def test_ensure_demo_data(tmp_path, monkeypatch):
    ready = tmp_path / "ready"
    ready.mkdir()
    (ready / "interactions.csv").write_text("x\n")
    assert explore.ensure_demo_data(ready) == ready
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("")
    with pytest.raises(KpitoolsError, match=r"junk exists but holds no interactions\.parquet"):
        explore.ensure_demo_data(junk)

    calls = []

    def fake_generate(out_dir):  # the real generator runs in the notebooks (nbval)
        calls.append(Path(out_dir))
        (Path(out_dir) / "interactions.parquet").write_text("")

    import kpitools.demo

    monkeypatch.setattr(kpitools.demo, "generate_demo_data", fake_generate)
    target = tmp_path / "data" / "demo"
    assert explore.ensure_demo_data(target) == target
    assert (target / "interactions.parquet").is_file()
    assert calls and calls[0].parent == target.parent and calls[0] != target
    assert sorted(p.name for p in target.parent.iterdir()) == ["demo"]  # no staging left


def test_docstring_examples():
    import doctest

    assert doctest.testmod(explore, raise_on_error=False).failed == 0
