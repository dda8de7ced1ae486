"""kpitools.findings and the notebook helpers around it (issue 9): sentences built from
hand-made frames, the episode and move pickers, and chart labels by unit.

Expected values are worked out by hand in the comments.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import contact, write_data

from kpitools import explore, findings
from kpitools.errors import PeriodError
from kpitools.formatting import fmt_tick, tick_formatter
from kpitools.periods import Period
from kpitools.review.charts import axis_formatter

# ---------------------------------------------------------------------------------------
# Chart labels


@pytest.mark.parametrize("unit", ["fraction", "seconds", "count", "currency", "nps", "score"])
@pytest.mark.parametrize("span", [None, 0.02, 0.3])
def test_tick_labels_match_the_reviews_axes(unit, span):
    for value in (-12.0, 0.0, 0.043, 0.8, 0.815, 95.0, 3725.0):
        assert tick_formatter(unit, span)(value, 0) == axis_formatter(unit, span)(value, 0)


@pytest.mark.parametrize(("value", "unit", "span", "text"), [
    (-0.05, "fraction", None, "−5 pts"),      # 100 × 0.05 = 5 points, whole
    (0.012, "fraction", 0.03, "+1.2 pts"),    # narrow axis: one decimal
    (0.0, "fraction", None, "±0 pts"),
    (-20, "seconds", None, "−0:20"),
    (125, "seconds", None, "+2:05"),          # 125 s = 2 min 5 s
    (3.4, "nps", None, "+3 pts"),
])
def test_change_ticks(value, unit, span, text):
    assert fmt_tick(value, unit, span, change=True) == text


def test_format_cells_and_format_axis():
    from matplotlib.figure import Figure

    table = pd.DataFrame({"Mon": [0.8123, np.nan], "Tue": [0.5, 1.0]})
    assert explore.format_cells(table, "fraction").values.tolist() == [["81 %", "50 %"],
                                                                       ["", "100 %"]]
    ax = Figure().subplots()
    ax.plot([0, 1], [300, 420])
    explore.format_axis(ax, "seconds")
    assert ax.yaxis.get_major_formatter()(360, 0) == "6:00"
    explore.format_axis(ax, "fraction", axis="x", change=True)
    assert ax.xaxis.get_major_formatter()(-0.13, 0) == "−13 pts"


# ---------------------------------------------------------------------------------------
# Picking periods from the data


def _trend(values, kpi="nps", start="2026-W01", small=()):
    first = Period.parse(start)
    rows = []
    for k, v in enumerate(values):
        label = first.shift(k).label
        rows.append({"period": label, "kpi": kpi, "value": v, "partial": False,
                     "small_sample": label in small})
    return pd.DataFrame(rows)


def test_largest_move_against_the_week_before():
    # steps: +2, −9, +4, +1 → the largest is W03 (−9), from 30 to 21
    move = explore.largest_move(_trend([28.0, 30.0, 21.0, 25.0, 26.0]), "nps")
    assert (move["period"], move["compare_period"], move["change"]) == ("2026-W03", "2026-W02",
                                                                         -9.0)
    # a small-sample week breaks the chain: W03 is left out, so W02 → W03 and W03 → W04 are
    # not steps; the remaining steps are +2 (W02) and +1 (W05)
    move = explore.largest_move(_trend([28.0, 30.0, 21.0, 25.0, 26.0], small={"2026-W03"}), "nps")
    assert (move["period"], move["change"]) == ("2026-W02", 2.0)
    assert explore.largest_move(_trend([28.0]), "nps") is None


def _stretch(queue, first, weeks):
    p = Period.parse(first)
    last = p.shift(weeks - 1)
    return {"queue": queue, "first_period": p.label, "last_period": last.label,
            "periods": weeks, "start": p.start, "end": last.end}


def test_divergence_episode_joins_overlapping_stretches():
    stretches = pd.DataFrame([
        _stretch("tech", "2026-W32", 9),       # the longest: W32..W40
        _stretch("billing", "2026-W32", 8),    # shares 8 ≥ ceil(9 / 2) = 5 weeks: joins
        _stretch("sales", "2026-W39", 3),      # would share 1 week: stays out
        _stretch("general", "2026-W10", 2),    # no overlap
    ])
    episode = explore.divergence_episode(stretches)
    assert episode.groups == ("billing", "tech")
    assert (episode.first_period, episode.last_period, episode.periods) == ("2026-W32",
                                                                            "2026-W39", 8)
    assert episode.start == dt.date(2026, 8, 3) and episode.end == dt.date(2026, 9, 27)
    assert explore.divergence_episode(stretches.iloc[0:0]) is None


def test_episode_sentence_without_an_episode():
    divergence = pd.DataFrame({"queue": ["billing"] * 3, "period": ["2026-W05", "2026-W06",
                                                                    "2026-W07"],
                               "baseline_periods": [0, 4, 5], "diverging": [False, True, False]})
    text = findings.episode_sentence(None, pd.DataFrame(), divergence)
    assert text.startswith("**No divergence found**: in the 2 weeks with a baseline "
                           "(2026-W06 to 2026-W07)")
    assert "1 isolated week(s) were flagged" in text


@pytest.fixture
def weeks_data(tmp_path):
    import kpitools

    # Contacts on Wednesday 2026-03-04 and Sunday 2026-03-29: complete weeks W10..W13 (Mon
    # 2026-03-02 is before the first contact, so W10 is not complete: W11, W12, W13 are).
    rows = [contact("c1", "2026-03-04 10:00"), contact("c2", "2026-03-29 10:00")]
    data = kpitools.load(write_data(tmp_path / "d", interactions=rows))
    yield data
    data.close()


def test_available_periods_and_weeks_before(weeks_data):
    assert explore.available_periods(weeks_data, "week", at_most=13) == 3    # W11, W12, W13
    assert explore.available_periods(weeks_data, "week", at_most=2) == 2
    # four weeks before W13 would reach W09; only W11 and W12 are complete
    assert explore.weeks_before(weeks_data, "2026-W13", 4) == (dt.date(2026, 3, 9),
                                                              dt.date(2026, 3, 22))
    with pytest.raises(PeriodError, match="no complete week"):
        explore.weeks_before(weeks_data, "2026-W11", 4)
    assert [p.label for p in explore.latest_periods(weeks_data)] == ["2026-W13"]


def test_episode_windows_fall_back_to_the_latest_weeks(weeks_data):
    # no episode, 3 complete weeks: during = the latest 3 // 2 = 1 week (W13), before = W11..W12
    windows = explore.episode_windows(weeks_data, None, weeks=8)
    assert windows.during == (dt.date(2026, 3, 23), dt.date(2026, 3, 29))
    assert windows.before == (dt.date(2026, 3, 9), dt.date(2026, 3, 22))
    assert windows.after is None and not windows.found


# ---------------------------------------------------------------------------------------
# Sentences


def test_agents_sentence_counts_by_hand():
    moves = pd.DataFrame({"aht": [-60, -30, -10, 5], "fcr": [-0.1, -0.05, 0.02, -0.01]})
    text = findings.agents_sentence(moves, 30)
    # 2 cut AHT and lost FCR, 1 cut AHT and kept it, 1 did not cut AHT; 2 < 0.8 × 4
    assert text.startswith("Of 4 agents with at least 30 handled contacts in both windows, 2 "
                           "cut AHT and lost FCR, 1 cut AHT and kept FCR, and 1 did not cut AHT.")
    assert "not uniform" in text
    assert "moved together" in findings.agents_sentence(moves.iloc[:2], 30)
    assert findings.agents_sentence(moves.iloc[0:0], 30).startswith("No agent")


def test_change_sentence_and_interval_sentence():
    row = pd.Series({"label": "CSAT", "unit": "fraction", "period": "2026-W46",
                     "compare_period": "2026-W45", "value": 0.70, "compare_value": 0.80,
                     "change": -0.10, "intervals_overlap": False, "significant": True})
    assert findings.change_sentence(row) == (
        "CSAT 80.0 % in 2026-W45 → 70.0 % in 2026-W46 (**−10.0 pts**); the two 95 % intervals "
        "do not overlap; significant at 95 %.")
    row["change"] = np.nan
    assert "no like-for-like change" in findings.change_sentence(row)
    nps = pd.Series({"label": "NPS", "unit": "nps", "period": "2026-W46", "value": 20.0,
                     "n": 400, "ci_low": 13.0, "ci_high": 27.0})
    # half-width (27 − 13) / 2 = 7 points
    assert findings.interval_sentence(nps).endswith("95 % interval +13.0 to +27.0 (±7.0 pts).")


def test_survey_pattern_points_outside_when_only_nps_moves():
    compared = pd.DataFrame({
        "kpi": ["nps", "csat", "ces"], "label": ["NPS", "CSAT", "CES"],
        "unit": ["nps", "fraction", "score"], "change": [-12.0, -0.01, 0.05],
        "significant": [True, False, False]})
    text = findings.survey_pattern_sentence(compared)
    assert text.startswith("Significant moves: NPS −12.0 pts; no significant change in CSAT and CES.")
    assert "outside the contact center" in text
    compared.loc[1, "significant"] = True
    assert "contact experience itself moved" in findings.survey_pattern_sentence(compared)


def test_shortfall_sentence_by_hand():
    frame = pd.DataFrame({
        "interval_start": pd.to_datetime(["2026-03-02 09:00", "2026-03-02 10:00",
                                          "2026-03-03 09:00", "2026-03-03 11:00"]),
        "weekday": ["Monday", "Monday", "Tuesday", "Tuesday"],
        "required_agents": [10, 10, 8, 8],
        "effective_agents": pd.array([8, 9, 8, pd.NA], dtype="Int64"),
    })
    # known: 3 intervals; short: Monday 09:00 (2) and 10:00 (1): mean 1.5
    assert findings.shortfall_sentence(frame) == (
        "2 of 3 intervals were short of the requirement (effective staffing below required), "
        "by 1.5 agents on average. **Monday** had the most: 2, between 09:00 and 10:00, short "
        "by 1.5 on average.")


def test_duration_axes_tick_on_clock_steps():
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    ax.plot([0, 1], [200, 520])          # a 320 s span: 60 s steps give 6 ticks (≤ 8)
    explore.format_axis(ax, "seconds")
    ticks = [t for t in ax.get_yticks() if 200 <= t <= 520]
    assert ticks == [240, 300, 360, 420, 480]


def test_percent_axes_tick_on_whole_percents():
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    ax.plot([0, 1], [0.70, 0.89])
    explore.format_axis(ax, "fraction")
    labels = [ax.yaxis.get_major_formatter()(t, 0) for t in ax.get_yticks()]
    # every tick is a whole percent, so its label (no decimals on this 19-point axis) is exact
    assert all(abs(100 * t - round(100 * t)) < 1e-9 for t in ax.get_yticks()), labels


def test_tradeoff_sentence_by_hand():
    def row(queue, kpi, label, unit, before, after, significant):
        return {"queue": queue, "kpi": kpi, "label": label, "unit": unit,
                "compare_value": before, "value": after, "change": after - before,
                "significant": significant}

    compared = pd.DataFrame([
        row("billing", "aht", "AHT", "seconds", 400.0, 280.0, None),
        row("billing", "fcr", "FCR", "fraction", 0.75, 0.62, True),
        row("sales", "fcr", "FCR", "fraction", 0.80, 0.79, False),
        row("retention", "csat", "CSAT", "fraction", 0.88, 0.82, True),
    ])
    # billing: 400 s = 6:40 → 280 s = 4:40, change −120 s = −2:00; FCR −13.0 points
    assert findings.tradeoff_sentence(compared, ["billing"]) == (
        "billing: AHT 6:40 → 4:40 (−2:00) and FCR 75.0 % → 62.0 % (−13.0 pts). Other "
        "significant moves: retention CSAT 88.0 % → 82.0 % (−6.0 pts).")
    assert findings.tradeoff_sentence(compared[compared["queue"] == "billing"], ["billing"]) == (
        "billing: AHT 6:40 → 4:40 (−2:00) and FCR 75.0 % → 62.0 % (−13.0 pts).")


def test_episode_sentence_with_an_episode_and_isolated_weeks():
    stretches = pd.DataFrame([_stretch("tech", "2026-W32", 3), _stretch("billing", "2026-W32", 2),
                              _stretch("sales", "2026-W10", 2)])
    episode = explore.divergence_episode(stretches)
    # 3 + 2 + 2 = 7 weeks in stretches; 8 flagged in all, so 1 was flagged alone
    divergence = pd.DataFrame({"queue": ["tech"] * 8, "period": [f"2026-W{w}" for w in range(
        30, 38)], "baseline_periods": [4] * 8, "diverging": [True] * 8})
    text = findings.episode_sentence(episode, stretches, divergence)
    assert text.startswith("The rule finds **billing and tech** from 2026-W32 (week of "
                           "3 August 2026) to 2026-W33: tech 2026-W32 to 2026-W34 (3 weeks) and "
                           "billing 2026-W32 to 2026-W33 (2 weeks).")
    assert text.endswith("Also other stretches: sales 2026-W10 to 2026-W11; 1 isolated week(s) "
                         "flagged, none two in a row.")


def test_data_folder_parameter_env_and_default(tmp_path, monkeypatch):
    root = explore.project_root()
    # an explicit folder is taken as given (relative to the repository root), never generated
    assert explore.data_folder(str(tmp_path / "nowhere")) == tmp_path / "nowhere"
    assert not (tmp_path / "nowhere").exists()
    assert explore.data_folder("data/other") == root / "data" / "other"
    # without one, $KPITOOLS_DATA (a folder that already holds data is left as it is)
    write_data(tmp_path / "env", interactions=[contact("c1", "2026-03-04 10:00")])
    monkeypatch.setenv("KPITOOLS_DATA", str(tmp_path / "env"))
    assert explore.data_folder(None) == tmp_path / "env"
    assert sorted(p.name for p in (tmp_path / "env").iterdir()) == ["interactions.csv"]
