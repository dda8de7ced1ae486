"""The investigation notebooks state findings computed from the data they run on (issue 9).

Each notebook is executed with papermill on two generated data sets: the demo (seed 7, 106
weeks to Sunday 2026-11-15) and a shorter, different one (seed 11, 30 weeks from Monday
2025-06-02, so to Sunday 2025-12-28). The text of every cell tagged ``finding`` must differ
between the two, and the numbers it states must be true of each set: they are checked here
against :func:`kpitools.kpis` / :func:`kpitools.trend` for that data, pooled by hand.

The generator places its events relative to the last day (kpitools/demo.py): the AHT trap on
billing and technical_support starts 105 days before the end of the data and the NPS drop
hits the last full week. Worked out by hand:

* demo: 2026-11-15 is day 741 of 742 from 2024-11-04; the trap starts on day 742 − 105 = 637,
  2026-08-03, a Monday: ISO week 2026-W32; the last full week is 2026-W46.
* seed 11: 30 weeks = 210 days, the trap starts on day 105, 2025-06-02 + 105 days =
  2025-09-15, a Monday: ISO week 2025-W38; the last full week is 2025-12-22..28 = 2025-W52.

A third set has no trap to find, and only the AHT-trap notebook runs on it: seed 5, 12 weeks
from Monday 2025-01-06 (ISO weeks 2025-W02..W13). The trap would start 84 − 105 = −21 days
before the data and is withdrawn on day 84 − 50 + 1 = 35 (2025-02-10), so the data holds only
its end: handle time rises back, it never improves against a clean baseline.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest

import kpitools
from kpitools.demo import generate_demo_data
from kpitools.formatting import fmt_value
from kpitools.periods import Period

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SETS = {
    "demo": {"seed": 7},
    "short": {"seed": 11, "weeks": 30, "start": pd.Timestamp("2025-06-02").date()},
    "no-trap": {"seed": 5, "weeks": 12, "start": pd.Timestamp("2025-01-06").date()},
}
RUN_ON = {"no-trap": ["02-aht-fcr-trap.ipynb"]}  # the other sets run every notebook

pytestmark = pytest.mark.xdist_group("notebooks")


def _findings(nb) -> list[str]:
    """The Markdown text of each cell tagged ``finding`` (one entry per cell)."""
    texts = []
    for cell in nb.cells:
        if "finding" not in cell.metadata.get("tags", []):
            continue
        parts = [o["data"]["text/markdown"] for o in cell.outputs
                 if o.get("output_type") == "display_data" and "text/markdown" in o.get("data", {})]
        texts.append("\n".join(parts))
    return texts


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Both data sets, and the findings of every notebook executed on each."""
    import papermill

    base = tmp_path_factory.mktemp("notebook-findings")
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        # The kpitools kernel must import this checkout and draw inline figures.
        mp.setenv("JUPYTER_PREFER_ENV_PATH", "1")
        mp.delenv("MPLBACKEND", raising=False)
        mp.setenv("PYTHONPATH", os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
        for name, options in SETS.items():
            folder = base / name
            generate_demo_data(folder, **options)
            for path in NOTEBOOKS:
                if path.name not in RUN_ON.get(name, [path.name]):
                    continue
                executed = papermill.execute_notebook(
                    str(path), str(base / f"{name}-{path.name}"),
                    parameters={"data_dir": str(folder)}, kernel_name="kpitools",
                    cwd=str(ROOT / "notebooks"), progress_bar=False,
                )
                out[(name, path.name)] = _findings(executed)
            out[name] = folder
    return out


def _load(runs, name):
    return kpitools.load(runs[name])


def _pooled(data, weeks, kpi, queue):
    """A KPI over several weeks for one queue, pooled by hand: the sum of the engine's weekly
    numerators over the sum of its denominators."""
    weekly = kpitools.trend(data, kpi, grain="week", periods=len(weeks), end=weeks[-1],
                            by="queue")
    assert sorted(set(weekly["period"])) == [w.label for w in weeks]
    rows = weekly[weekly["queue"] == queue]
    return rows["numerator"].sum() / rows["denominator"].sum()


def _weeks(first: str, last: str) -> list[Period]:
    out = [Period.parse(first)]
    while out[-1].label != last:
        out.append(out[-1].shift(1))
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_findings_are_stated_and_change_with_the_data(runs, path):
    demo, short = runs[("demo", path.name)], runs[("short", path.name)]
    assert len(demo) == len(short) >= 4
    for first, second in zip(demo, short, strict=True):
        assert first.strip() and second.strip(), "a finding cell printed nothing"
        assert first != second


@pytest.mark.parametrize(("name", "week"), [("demo", "2026-W46"), ("short", "2025-W52")])
def test_getting_started_states_the_latest_week_and_its_values(runs, name, week):
    status = runs[(name, "01-getting-started.ipynb")][0]
    assert status.startswith(f"In {week},")
    data = _load(runs, name)
    values = kpitools.kpis(data, week, kpis=["aht", "nps"]).set_index("kpi")
    for kpi in ("aht", "nps"):  # both are off target on both sets, so their values are stated
        row = values.loc[kpi]
        assert row["status"] in ("amber", "red")
        assert f"{row['label']} {fmt_value(row['value'], row['unit'])}" in status


@pytest.mark.parametrize(("name", "first_week", "first_day"),
                         [("demo", "2026-W32", "3 August 2026"),
                          ("short", "2025-W38", "15 September 2025")])
def test_aht_trap_finds_the_generated_episode_and_sizes_it_truly(runs, name, first_week,
                                                                 first_day):
    episode, tradeoff = runs[(name, "02-aht-fcr-trap.ipynb")][:2]
    assert "**billing and technical_support**" in episode
    found = re.search(r"from (\d{4}-W\d\d) \(week of (.+?)\) to (\d{4}-W\d\d)", episode)
    assert found and found.group(1) == first_week and found.group(2) == first_day
    # Billing's AHT during the stated window, pooled by hand from the engine's weekly
    # numerators (handle seconds) and denominators (handled contacts).
    weeks = _weeks(found.group(1), found.group(3))
    assert 5 <= len(weeks) <= 10
    pooled = _pooled(_load(runs, name), weeks, "aht", "billing")
    assert re.search(rf"billing: Average handle time \S+ → {re.escape(fmt_value(pooled, 'seconds'))} \(−",
                     tradeoff)


@pytest.mark.parametrize("name", ["demo", "short"])
def test_survey_notebook_picks_the_largest_nps_move_and_states_it_truly(runs, name):
    interval = runs[(name, "04-survey-kpis-confidence.ipynb")][0]
    data = _load(runs, name)
    # The largest week-on-week NPS move of the last 13 weeks, by plain differences.
    trend = kpitools.trend(data, "nps", grain="week", periods=13).sort_values("period")
    trend = trend[~trend["small_sample"].astype(bool)]
    steps = trend["value"].diff().abs()
    week = trend.loc[steps.idxmax(), "period"]
    if name == "short":
        assert week == "2025-W52"  # the generated NPS drop lands in the last full week
    nps = kpitools.kpis(data, week, kpis=["nps"]).iloc[0]
    assert interval.startswith(
        f"Net promoter score in {week}: **{fmt_value(nps['value'], 'nps')}** "
        f"from {int(nps['n'])} responses"
    )


def test_aht_trap_says_so_when_there_is_nothing_to_find(runs):
    episode, tradeoff, agents, recovery = runs[("no-trap", "02-aht-fcr-trap.ipynb")][:4]
    assert episode.startswith("**No divergence found**")
    # 12 complete weeks: the latest 12 // 2 = 6 (W08..W13) against the 6 before (W02..W07)
    data = _load(runs, "no-trap")
    before = _pooled(data, _weeks("2025-W02", "2025-W07"), "aht", "billing")
    during = _pooled(data, _weeks("2025-W08", "2025-W13"), "aht", "billing")
    assert during > before  # the end of the trap: handle time went back up
    assert (f"billing: Average handle time {fmt_value(before, 'seconds')} → "
            f"{fmt_value(during, 'seconds')} (+") in tradeoff
    assert recovery.startswith("The window runs to the last complete week")
