"""A review computes once (issue 12): one engine pass for every grouping it shows, each source
queried once in it, no pass repeated by a later section; and that shared pass gives the same
measures as one pass per grouping."""

from __future__ import annotations

import pandas as pd
import pytest

import kpitools
from kpitools.api import kpi_table
from kpitools.demo import generate_demo_data
from kpitools.engine import DuckDBBackend, compute_measure_sets, compute_measures, sources_for
from kpitools.periods import Period
from kpitools.review import open_review, render_all
from kpitools.review.context import REVIEW_GROUPINGS


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("passes")
    generate_demo_data(folder, weeks=40, contacts_per_week=150)  # 2024-11-04 .. 2025-08-10
    return folder


@pytest.fixture
def engine_log(monkeypatch):
    """Every pass (a new calendar of period buckets) and the SQL run in it."""
    passes: list[list[str]] = []
    set_calendar, run = DuckDBBackend.set_calendar, DuckDBBackend.run

    def logged_calendar(self, calendar):
        passes.append([])
        return set_calendar(self, calendar)

    def logged_run(self, sql):
        if passes:
            passes[-1].append(sql)
        return run(self, sql)

    monkeypatch.setattr(DuckDBBackend, "set_calendar", logged_calendar)
    monkeypatch.setattr(DuckDBBackend, "run", logged_run)
    return passes


def _reads(queries: list[str], table: str) -> int:
    return sum(f"FROM {table} " in q for q in queries)


def test_quarterly_review_shares_one_pass(demo, engine_log):
    # 2025-Q1: of the eight quarters the review shows, only it and the previous quarter
    # hold data, so every grouping comes from one pass over them.
    ctx = open_review("quarterly", period="2025-Q1", data_dir=str(demo), run_gate=False)
    first = render_all(ctx)
    # The shared pass, then the staffing view's two passes by day (its buckets are days, so
    # they cannot share the review's calendar of quarters): interval measures from the
    # contacts table alone (plus the distinct agents per interval), and the daily occupancy
    # from agent activity alone.
    assert len(engine_log) == 3
    shared, intervals, occupancy = engine_log
    # One query per contact source (interactions, repeats, surveys, qa), each grouping all
    # the review's groupings at once; agent activity and costs once each.
    assert _reads(shared, "interactions") == 4
    assert sum("GROUPING SETS" in q for q in shared) == 6
    assert _reads(shared, "agent_activity") == 1 and _reads(shared, "costs c") == 1
    assert [_reads(intervals, t) for t in ("interactions", "agent_activity")] == [2, 0]
    assert sum("COUNT(DISTINCT agent_id)" in q for q in intervals) == 1
    assert "repeat_contacts" not in " ".join(intervals)  # no repeat flagging for staffing
    assert [_reads(occupancy, t) for t in ("interactions", "agent_activity")] == [0, 1]
    assert render_all(ctx) == first and len(engine_log) == 3  # nothing is computed twice


def test_weekly_review_totals_the_trend_window_apart(demo, engine_log):
    # 2025-W30: the 13-week trend window holds data beyond the previous week, so the total
    # runs over the window and the groupings over the three breakdown weeks only.
    ctx = open_review("weekly", period="2025-W30", data_dir=str(demo), run_gate=False)
    first = render_all(ctx)
    assert len(engine_log) == 2  # no staffing view in a weekly review
    total, grouped = engine_log
    assert _reads(total, "interactions") == 4 and _reads(grouped, "interactions") == 4
    assert not any("GROUPING SETS" in q for q in total)
    # No per-agent grouping (a weekly review has no workforce section), so no activity
    # query; costs have one grouping (queue).
    assert sum("GROUPING SETS" in q for q in grouped) == 4
    assert _reads(grouped, "agent_activity") == 0
    assert set(ctx.measures[("queue",)].frame["period"]) == {"2025-W29", "2025-W30"}
    assert "2025-W20" in set(ctx.totals["period"])
    assert render_all(ctx) == first and len(engine_log) == 2


@pytest.mark.parametrize("by", REVIEW_GROUPINGS + (("team",), ("queue", "channel")))
def test_shared_pass_equals_one_pass_per_grouping(demo, by):
    """GROUPING SETS against a plain GROUP BY per grouping (separate queries): the same rows,
    dtypes and values, nulls (contacts without an issue type) kept apart from totals."""
    data = kpitools.load(demo)
    periods = [Period.parse(p) for p in ("2025-W29", "2025-W30", "2024-W30")]
    groupings = [*REVIEW_GROUPINGS, by]
    shared = compute_measure_sets(data, periods, groupings)[tuple(by)]
    alone = compute_measures(data, periods, by)
    pd.testing.assert_frame_equal(shared.frame, alone.frame, check_exact=False, rtol=1e-12)
    assert shared.unavailable == alone.unavailable and shared.notes == alone.notes
    if by == ("issue_type",):
        assert alone.frame["issue_type"].isna().any()  # the demo has contacts without one


@pytest.mark.parametrize("sets, rolled", [
    ([(), ("queue",), ("channel",), ("weekday", "hour"), ("agent_id",)], True),
    ([(), ("queue", "channel")], True),
    ([(), ("agent_id",)], False),   # one grouping of few values: nothing to sum up
    ([("queue",), ("team",)], False),
])
def test_groupings_of_few_values_are_summed_from_one_aggregate(sets, rolled):
    """The shared pass's queries sum the groupings made of queue, channel, issue type,
    weekday and hour from one aggregate by all of them (kpitools.sql._rolled_up) when there
    are two or more; test_shared_pass_equals_one_pass_per_grouping checks the values."""
    import datetime as dt

    from kpitools.dialects import DUCKDB
    from kpitools.registry import registry
    from kpitools.sql import Scope, interactions_query

    dims = tuple(dict.fromkeys(d for g in sets for d in g))
    scope = Scope(dt.date(2026, 1, 1), dt.date(2026, 3, 31), dims, tuple(sets))
    sql = interactions_query(registry, scope, dict(registry.parameters), DUCKDB)
    assert ("AS MATERIALIZED" in sql) is rolled
    # the quantile (p90 wait) cannot be summed: computed from the rows for those groupings
    assert (sql.count("quantile_cont") == 2) is rolled


def test_sources_for_by_hand():
    reg = kpitools.registry
    assert sources_for(reg, None) is None  # every source
    assert sources_for(reg, ["occupancy", "utilization"]) == {"agent_activity"}
    assert sources_for(reg, ["nps"]) == {"surveys"}
    assert sources_for(reg, ["repeat_contact_rate"]) == {"interactions", "repeats"}
    # Grouped: contacts, activity and costs decide which groups exist.
    assert sources_for(reg, ["nps"], ("queue",)) == {"surveys", "interactions",
                                                      "agent_activity", "costs"}


@pytest.mark.parametrize("by, kpis", [((), ["occupancy"]), (("agent_id",), ["occupancy", "utilization"]),
                                       (("issue_type",), ["aht", "fcr", "repeat_contact_rate"]),
                                       (("weekday", "hour"), ["service_level", "contact_volume"]),
                                       (("queue",), ["cost_per_contact"])])
def test_a_pass_of_some_sources_gives_the_same_kpis(demo, by, kpis):
    """kpis_for_periods reads only the sources of the KPIs asked for: the same table (rows,
    values, reasons) as forming them from a pass over every source."""
    data = kpitools.load(demo)
    periods = [Period.parse("2025-W29"), Period.parse("2025-W30")]
    restricted = kpitools.kpis_for_periods(data, periods, by=by, kpis=kpis)
    full = compute_measures(data, periods, by)
    expected = kpi_table(data, full.frame, periods, by, kpis, None, full.unavailable,
                                  full.notes)
    pd.testing.assert_frame_equal(restricted, expected, check_exact=False, rtol=1e-12)
    assert restricted["value"].notna().any()
