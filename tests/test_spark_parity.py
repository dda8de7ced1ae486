"""The Spark engine gives the same KPIs as the DuckDB engine on the same data (issue 6).

Both engines run the same SQL text generated from the registry (kpitools/sql.py); these tests
load one fixture folder with each engine and compare every KPI value, numerator, denominator,
status, interval and flag — for day, week and month periods, several groupings, the four
service-level variants, the repeat-contact edge cases, time-zone handling, the input checks
and the CLI's JSON. One Spark session (local[2]) is shared by every test, in-process (the CLI
too, through ``kpitools.cli.main``): a JVM start costs 10-15 s.

They never skip: ``make install`` installs ``kpitools[spark]`` and ``make test`` the Java
runtime, so a missing PySpark fails the module with a message saying so.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import math
import subprocess
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

if importlib.util.find_spec("pyspark") is None:
    # Never skipped: `make install` installs the spark extra, so a missing PySpark is a
    # broken environment, not an optional feature to pass over.
    pytest.fail("PySpark is not installed: run `make test` (make install installs kpitools[spark])",
                pytrace=False)

from conftest import contact, write_data  # noqa: E402
from reference import reference_kpis  # noqa: E402
from test_engine_properties import random_interactions, random_surveys  # noqa: E402

import kpitools  # noqa: E402
from kpitools.engine import compute_measures  # noqa: E402
from kpitools.formulas import kpi_frame  # noqa: E402
from kpitools.periods import Period  # noqa: E402

# Every Spark test on one xdist worker (`make test` uses --dist loadgroup): one JVM, one session.
pytestmark = pytest.mark.xdist_group("spark")

REL = 1e-9
VARIANTS = ["exclude_short", "negative", "ignore", "positive"]
NUMERIC = ["value", "numerator", "denominator", "n", "target", "warning", "critical",
           "ci_low", "ci_high"]
EXACT = ["label", "unit", "variant", "status", "small_sample", "partial", "reason", "note",
         "direction"]


# -- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def spark():
    from kpitools.spark import spark_session

    # Tests run many small queries on a short-lived JVM: the C1 JIT alone warms up much sooner.
    session = spark_session(master="local[2]", conf={
        "spark.sql.shuffle.partitions": "2",
        "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1"})
    yield session
    session.stop()


def support_tables(inter: pd.DataFrame, seed: int) -> dict[str, pd.DataFrame]:
    """agents (one agent without a team, one active agent missing from the roster),
    agent_activity, costs (shared and per queue, spanning period edges) and qa rows."""
    rng = np.random.default_rng(seed + 2)
    agents = pd.DataFrame({"agent_id": ["a1", "a2", "a3", "a4"],
                           "team": ["north", "north", "south", None],
                           "site": ["leeds", "leeds", "york", "york"],
                           "hire_date": ["2024-01-08", "2025-06-02", "2023-11-20", "2026-01-05"]})
    days = pd.date_range("2026-02-23", "2026-04-05", freq="D")
    rows = []
    for agent in ("a1", "a2", "a3", "a4", "a9"):
        for d in days:
            logged = float(rng.integers(20_000, 30_000))
            handling = float(rng.integers(10_000, 18_000))
            available = float(rng.integers(1_000, 5_000))
            rows.append({"agent_id": agent, "date": d.date().isoformat(), "logged_in_s": logged,
                         "handling_s": handling, "available_s": available, "paid_s": 28_800.0})
    activity = pd.DataFrame(rows)
    costs = pd.DataFrame({"period_start": ["2026-02-01", "2026-03-01", "2026-03-04", "2026-03-30"],
                          "period_end": ["2026-02-28", "2026-03-31", "2026-03-17", "2026-04-12"],
                          "amount": [12_000.0, 15_500.0, 2_800.0, 1_400.0],
                          "queue": [None, None, "billing", "tech"]})
    handled = inter[inter.outcome == "handled"].sample(frac=0.2, random_state=seed)
    qa = pd.DataFrame({"interaction_id": handled.interaction_id.to_numpy(),
                       "evaluated_at": (handled.arrived_at + pd.Timedelta(days=2)).to_numpy(),
                       "score": rng.integers(40, 101, len(handled)).astype(float)})
    return {"agents": agents, "agent_activity": activity, "costs": costs, "qa": qa}


@pytest.fixture(scope="module")
def fixture_data(tmp_path_factory):
    """Six weeks of random contacts (2026-02-23..2026-04-05) and all five other tables, as
    Parquet (pandas writes nanosecond timestamps, which Spark reads through the footer)."""
    inter = random_interactions(11, 2500, start="2026-02-23", days=42)
    tables = {"interactions": inter, "surveys": random_surveys(inter, 11), **support_tables(inter, 11)}
    folder = write_data(tmp_path_factory.mktemp("parity"), "parquet", **tables)
    return folder, tables


@pytest.fixture(scope="module")
def engines(fixture_data, spark):
    folder, _ = fixture_data
    duck = kpitools.load(folder)
    spk = kpitools.load(folder, engine="spark", spark=spark)
    yield duck, spk
    spk.close()
    duck.close()


@pytest.fixture(scope="module")
def results(engines):
    """(spark, duckdb) KPI frames for a tuple of period labels and a grouping, computed once."""
    duck, spk = engines

    @cache
    def run(labels: tuple[str, ...], by: str | None = None):
        periods = [Period.parse(p) for p in labels]
        return kpitools.kpis_for_periods(spk, periods, by=by), kpitools.kpis_for_periods(duck, periods, by=by)

    return run


# -- comparison --------------------------------------------------------------------------------
def _norm(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def assert_same_kpis(got: pd.DataFrame, want: pd.DataFrame, keys: list[str]) -> int:
    """Same rows (by keys), numeric columns equal within REL, everything else identical.
    Returns the number of non-null values compared."""
    assert len(got) == len(want) and len(want) > 0
    assert list(got.columns) == list(want.columns)
    order = [*keys, "kpi"]
    got = got.sort_values(order, na_position="last", kind="mergesort").reset_index(drop=True)
    want = want.sort_values(order, na_position="last", kind="mergesort").reset_index(drop=True)
    for col in order:
        assert [_norm(v) for v in got[col]] == [_norm(v) for v in want[col]], col
    compared = 0
    for col in [c for c in NUMERIC if c in want.columns]:
        for k, (g, w) in enumerate(zip(got[col], want[col], strict=True)):
            g, w = _norm(g), _norm(w)
            where = f"{col} of {want.loc[k, 'kpi']} at {dict(want.loc[k, keys])}"
            if w is None or (isinstance(w, list | tuple)):
                assert g == w, where
                continue
            assert g is not None, where
            assert g == pytest.approx(w, rel=REL, abs=1e-12), where
            compared += col == "value"
    for col in [c for c in EXACT if c in want.columns]:
        assert [_norm(v) for v in got[col]] == [_norm(v) for v in want[col]], col
    return compared


# -- KPI parity --------------------------------------------------------------------------------
PERIODS = {
    "day": tuple(f"2026-03-{d:02d}" for d in range(2, 16)),
    "week": ("2026-W09", "2026-W10", "2026-W11", "2026-W12", "2026-W13", "2026-W14"),
    "month": ("2026-02", "2026-03", "2026-04"),  # February and April are partial
}
TWO_WEEKS = ("2026-W10", "2026-W11")


@pytest.mark.parametrize("grain", list(PERIODS))
def test_every_kpi_matches_duckdb(results, grain):
    periods = PERIODS[grain]
    got, want = results(periods)
    n = assert_same_kpis(got, want, ["period"])
    # every KPI of the catalogue has a value somewhere (no table or measure silently missing)
    assert set(want.dropna(subset=["value"])["kpi"]) == set(kpitools.registry.kpis)
    assert n >= len(kpitools.registry.kpis) * len(periods) * 0.9
    if grain == "month":
        assert got.set_index(["period", "kpi"]).loc[("2026-02", "aht"), "partial"]


@pytest.mark.parametrize("by", ["queue", "channel", "team", "queue,channel"])
def test_groupings_match_duckdb(results, by):
    got, want = results(TWO_WEEKS, by)
    keys = ["period", *by.split(",")]
    assert_same_kpis(got, want, keys)
    if by == "team":  # agent a4 has no team: its contacts form the null-team group
        assert want["team"].isna().any()
    if by == "queue":  # shared costs are allocated to queues on both engines
        cost = got[got["kpi"] == "cost_per_contact"]
        assert cost["value"].notna().all()


def test_a_review_pass_of_several_groupings_matches_duckdb(engines):
    """A review's shared pass (compute_measure_sets): groupings of few values summed from one
    aggregate, the p90 wait from its own query, agents and teams passed through
    (kpitools.sql._rolled_up); the same measures on both engines."""
    from kpitools.engine import compute_measure_sets

    duck, spk = engines
    periods = [Period.parse(p) for p in TWO_WEEKS]
    sets = [(), ("queue",), ("channel",), ("issue_type",), ("weekday", "hour"), ("agent_id",),
            ("team",), ("queue", "channel")]
    want = compute_measure_sets(duck, periods, sets)
    got = compute_measure_sets(spk, periods, sets)
    for by in sets:
        keys = ["period", *by]
        a = want[by].frame.sort_values(keys).reset_index(drop=True)
        b = got[by].frame.sort_values(keys).reset_index(drop=True)
        assert a.shape == b.shape and len(a) > 0, by
        for col in a.columns:
            if col in keys:
                assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), (by, col)
            else:
                assert np.allclose(a[col].astype(float), b[col].astype(float), rtol=1e-9,
                                   equal_nan=True), (by, col)


def test_service_level_variants_match_duckdb_and_the_spec_formulas(engines):
    """One engine pass per engine; each variant's KPI is then formed from the measures."""
    duck, spk = engines
    periods = [Period.parse("2026-W10"), Period.parse("2026-W11")]
    m_duck = compute_measures(duck, periods)
    m_spk = compute_measures(spk, periods)
    measures = [m.name for m in kpitools.registry.measures.values()]
    pd.testing.assert_frame_equal(m_spk.frame[["period", *measures]], m_duck.frame[["period", *measures]],
                                  check_exact=False, rtol=REL, check_dtype=False)
    reg = kpitools.registry
    sl = [reg["service_level"]]
    values = {}
    for v in VARIANTS:
        want = kpi_frame(m_duck.frame, sl, reg, m_duck.unavailable, ["period"], v)
        got = kpi_frame(m_spk.frame, sl, reg, m_spk.unavailable, ["period"], v)
        assert list(got["variant"]) == [v, v]
        np.testing.assert_allclose(got["value"], want["value"], rtol=REL)
        values[v] = got.set_index("period")["value"]
    # the variants differ from each other, in the directions SPEC §4 implies
    m = m_spk.frame.set_index("period").loc["2026-W10"]
    assert m["rt_abandoned"] > m["rt_short_abandons"] > 0 and m["rt_abandoned_within"] > 0
    w10 = {v: values[v]["2026-W10"] for v in VARIANTS}
    assert w10["negative"] < w10["exclude_short"] < w10["ignore"]
    assert w10["negative"] < w10["positive"]
    assert w10["negative"] == pytest.approx(m["rt_answered_within"] / m["rt_offered"])
    assert w10["positive"] == pytest.approx(
        (m["rt_answered_within"] + m["rt_abandoned_within"]) / m["rt_offered"])


def test_spark_matches_the_independent_pandas_reference(results, fixture_data):
    """Not only equal to DuckDB: equal to the spec written out in pandas (tests/reference.py)."""
    _, t = fixture_data
    want = reference_kpis(t["interactions"], "2026-03-09", "2026-03-15", surveys=t["surveys"],
                          activity=t["agent_activity"], costs=t["costs"], qa=t["qa"])
    got, _ = results(PERIODS["week"])
    got = got[got["period"] == "2026-W11"]
    got = dict(zip(got["kpi"], got["value"], strict=True))
    for kpi, value in want.items():
        assert value is not None
        assert got[kpi] == pytest.approx(value, rel=REL), kpi


# -- repeat contacts: the edge cases, by hand ---------------------------------------------------
def edge_contacts() -> list[dict]:
    """W10 = 2026-03-02..08, W11 = 2026-03-09..15. Eligible = handled inbound with a customer.
    W10: A, D, E, F, H, I, J, K eligible; A (168 h exactly) and F (next period) repeat -> 2/8.
    W11: B, L eligible; B's next contact is 168 h + 1 s later, L's is outbound -> 0/2."""
    return [
        contact("A", "2026-03-02T09:00:00", customer="e1", issue="x"),
        contact("B", "2026-03-09T09:00:00", customer="e1", issue="x"),           # A + 168 h
        contact("C", "2026-03-16T09:00:01", customer="e1", issue="x", outcome="abandoned", wait=30),
        contact("D", "2026-03-03T10:00:00", customer="e2", issue="y"),           # same instant
        contact("E", "2026-03-03T10:00:00", customer="e2", issue="y"),
        contact("F", "2026-03-08T23:00:00", customer="e3", issue="z"),           # Sunday
        contact("G", "2026-03-09T01:00:00", customer="e3", issue="z", outcome="abandoned", wait=40),
        contact("H", "2026-03-04T12:00:00", customer="e4", issue=None),          # null issue
        contact("I", "2026-03-04T13:00:00", customer="e4", issue=None),
        contact("J", "2026-03-05T08:00:00", customer="e5", issue="x"),           # other issue
        contact("K", "2026-03-05T09:00:00", customer="e5", issue="y"),
        contact("L", "2026-03-10T08:00:00", customer="e6", issue="x"),
        contact("M", "2026-03-10T09:00:00", customer="e6", issue="x", direction="outbound"),
        contact("N", "2026-03-06T10:00:00", customer=None, issue="x"),           # no customer
        contact("P", "2026-03-06T11:00:00", customer=None, issue="x"),
    ]


@pytest.fixture(scope="module")
def edge_engines(tmp_path_factory, spark):
    folder = write_data(tmp_path_factory.mktemp("edges"), "csv", interactions=edge_contacts())
    duck = kpitools.load(folder)
    spk = kpitools.load(folder, engine="spark", spark=spark)
    yield duck, spk
    spk.close()
    duck.close()


@pytest.mark.parametrize("period, repeats, eligible", [("2026-W10", 2, 8), ("2026-W11", 0, 2)])
def test_repeat_contact_edge_cases(edge_engines, period, repeats, eligible):
    """Each week alone, so the 168 h look-ahead must reach past the scope of the query."""
    duck, spk = edge_engines
    want = kpitools.kpis(duck, period)
    got = kpitools.kpis(spk, period)
    assert_same_kpis(got, want, ["period"])
    row = got.set_index("kpi").loc["repeat_contact_rate"]
    assert (row["numerator"], row["denominator"]) == (repeats, eligible)
    assert row["value"] == pytest.approx(repeats / eligible)


# -- the data's own columns, missing optional columns, gaps (issue 10) --------------------------
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_extra_dimensions_missing_columns_and_gaps_match(tmp_path, spark, fmt):
    """Extra columns (text and, in Parquet, integer) group KPIs on both engines; absent
    optional columns give the same null KPIs and reasons; the same gap days make the same
    periods partial."""
    frame = pd.DataFrame(edge_contacts()).drop(columns=["transferred", "hold_s", "ended_at"])
    frame["segment"] = ["vip" if k % 2 else "std" for k in range(len(frame))]
    frame["priority"] = [k % 3 for k in range(len(frame))]
    folder = write_data(tmp_path / fmt, fmt, interactions=frame)
    duck = kpitools.load(folder)
    spk = kpitools.load(folder, engine="spark", spark=spark)
    try:
        assert spk.extra_columns == duck.extra_columns == ["segment", "priority"]
        # contacts on 03-02..06, 08..10 and 16: 03-07 and 03-11..15 are gaps
        assert spk.gaps == duck.gaps and len(duck.gaps) == 6
        periods = [Period.parse("2026-W10"), Period.parse("2026-W11")]
        for by in (None, "segment", "queue,priority"):
            want = kpitools.kpis_for_periods(duck, periods, by=by)
            got = kpitools.kpis_for_periods(spk, periods, by=by)
            assert_same_kpis(got, want, ["period", *(by.split(",") if by else [])])
        rows = kpitools.kpis_for_periods(spk, periods).set_index(["period", "kpi"])
        assert rows["partial"].all()  # both weeks hold a gap
        assert math.isnan(rows.loc[("2026-W10", "transfer_rate"), "value"])
        assert rows.loc[("2026-W10", "transfer_rate"), "reason"] == (
            "needs the transferred column, which interactions does not have")
        assert math.isnan(rows.loc[("2026-W10", "service_level"), "value"])  # needs ended_at
        assert rows.loc[("2026-W10", "aht"), "note"].startswith("leaves out hold_s")
    finally:
        spk.close()
        duck.close()


# -- time zones and timestamp types ------------------------------------------------------------
def test_offsets_and_time_zone_conversion_match(tmp_path, spark):
    """Offset-aware text (CSV) and instants (Parquet, tz-aware) are both converted to the
    business time zone; hour-of-day buckets and waits across the DST change agree."""
    base = pd.Timestamp("2026-03-28T22:00:00Z")  # London switches to BST at 2026-03-29 01:00 UTC
    rows = []
    for k in range(24):
        t0 = base + pd.Timedelta(minutes=37 * k)
        c = contact(f"t{k}", t0.isoformat(), wait=(k % 7) * 9, channel="voice" if k % 3 else "chat",
                    customer=f"c{k % 5}", issue="x")
        c["arrived_at"] = t0.tz_convert("Europe/Paris").isoformat()  # +01:00 / +02:00 offsets
        c["answered_at"] = pd.Timestamp(c["answered_at"]).tz_convert("Asia/Kolkata").isoformat()
        c["ended_at"] = pd.Timestamp(c["ended_at"]).tz_convert("UTC").isoformat()
        rows.append(c)
    # answered 20 s after arrival, across the spring-forward hour: wall clock says 1 h 20 s
    rows.append(contact("dst", "2026-03-29T00:59:50+00:00", wait=20, customer="c9", issue="x"))
    frame = pd.DataFrame(rows)
    csv = write_data(tmp_path / "csv", "csv", interactions=frame)
    typed = frame.copy()
    for col in ("arrived_at", "answered_at", "ended_at"):
        typed[col] = pd.to_datetime(typed[col], utc=True)
    pq = write_data(tmp_path / "pq", "parquet", interactions=typed)
    periods = [Period.parse("2026-03-28"), Period.parse("2026-03-29")]
    results = []
    for folder in (csv, pq):
        duck = kpitools.load(folder, timezone="Europe/London")
        spk = kpitools.load(folder, engine="spark", spark=spark, timezone="Europe/London")
        want = compute_measures(duck, periods, by="hour").frame
        got = compute_measures(spk, periods, by="hour").frame
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=REL, check_dtype=False)
        # both engines do wall-clock arithmetic on business-local time (docs/engines.md)
        for d in (duck, spk):
            wait = d.backend.dialect.seconds_between("arrived_at", "answered_at")
            row = d.sql(f"SELECT {wait} AS w, CAST(answered_at AS STRING) AS a FROM interactions "
                        "WHERE interaction_id = 'dst'")
            assert (row["w"][0], row["a"][0]) == (3620.0, "2026-03-29 02:00:10"), d
        assert spk.coverage == duck.coverage == (pd.Timestamp("2026-03-28").date(),
                                                 pd.Timestamp("2026-03-29").date())
        results.append(got)
        spk.close()
    # both file formats give the same local hours: 22:00 UTC on the 28th is 22:00 GMT
    assert results[0]["hour"].tolist() == results[1]["hour"].tolist()
    first = results[0].iloc[0]
    assert (first["period"], first["hour"]) == ("2026-03-28", 22)


# -- input checks ------------------------------------------------------------------------------
GOOD = [contact("i1", "2026-03-02T09:00:00"), contact("i2", "2026-03-02T10:00:00"),
        contact("i3", "2026-03-03T11:00:00")]


def _bad(changes: dict) -> list[dict]:
    rows = [dict(r) for r in GOOD]
    for (row, col), value in changes.items():
        rows[row][col] = value
    return rows


@pytest.mark.parametrize("case, rows", [
    ("bad timestamp", _bad({(2, "arrived_at"): "yesterday noon"})),
    ("negative duration and unknown channel", _bad({(1, "talk_s"): -4, (2, "channel"): "fax"})),
    ("duplicate id", _bad({(2, "interaction_id"): "i1"})),
    ("missing column", [{k: v for k, v in r.items() if k != "outcome"} for r in GOOD]),
])
def test_bad_input_gives_the_same_error_on_both_engines(tmp_path, spark, case, rows):
    folder = write_data(tmp_path / "bad", "csv", interactions=rows)
    with pytest.raises(kpitools.DataError) as duck_err:
        kpitools.load(folder)
    with pytest.raises(kpitools.DataError) as spark_err:
        kpitools.load(folder, engine="spark", spark=spark)
    assert str(spark_err.value) == str(duck_err.value)
    assert "interactions.csv" in str(spark_err.value)
    if case == "bad timestamp":
        assert "column arrived_at, row 3 (line 4): 'yesterday noon'" in str(spark_err.value)


# Other tables and typed (Parquet) columns: each rule of kpitools.casts, expected lines by hand.
WHOLE = "is not a whole number"
BAD_TABLES = {
    "surveys text": ("csv", {"surveys": [
        {"interaction_id": "i1", "csat": "5", "nps": "9", "ces": "2"},
        {"interaction_id": "i2", "csat": "4.5", "nps": "11", "ces": "3"}]},
        # row 2 is CSV line 3 (after the header); 4.5 lies on the 1-5 scale, 11 is off 0-10
        ["surveys.csv: column csat, row 2 (line 3): '4.5' " + WHOLE,
         "surveys.csv: column nps, row 2 (line 3): '11' is off the nps scale (0 to 10)"]),
    "cost period": ("csv", {"costs": [
        {"period_start": "2026-03-10", "period_end": "2026-03-01", "amount": "100"}]},
        ["costs.csv: column period_end, row 1 (line 2): '2026-03-01' is before period_start "
         "(a cost period ends on or after its first day)"]),
    "duplicate agent": ("csv", {"agents": [{"agent_id": a, "team": "north"} for a in
                                           ("a1", "a2", "a1")]},
                        ["agents.csv: column agent_id has duplicate values: 'a1' x2"]),
    "activity date and duration": ("csv", {"agent_activity": [
        {"agent_id": "a1", "date": "2026-02-30", "logged_in_s": "100", "handling_s": "50",
         "available_s": "10"},
        {"agent_id": "a1", "date": "2026-03-02", "logged_in_s": "90000", "handling_s": "50",
         "available_s": "10"}]},
        ["agent_activity.csv: column date, row 1 (line 2): '2026-02-30' is not an ISO 8601 "
         "date such as 2026-03-02",
         # 90000 s > 86400 s = 24 h, the default max_duration_s
         "agent_activity.csv: column logged_in_s, row 2 (line 3): '90000' is longer than "
         "86,400 s (24 h), the longest believable duration (parameter max_duration_s)"]),
    "typed score": ("parquet", {"surveys": pd.DataFrame(
        {"interaction_id": ["i1", "i2"], "csat": [5.0, 4.5]})},
        ["surveys.parquet: column csat, row 2: '4.5' " + WHOLE]),
}


@pytest.mark.parametrize("case", list(BAD_TABLES))
def test_bad_tables_give_the_same_error_on_both_engines(tmp_path, spark, case):
    fmt, tables, lines = BAD_TABLES[case]
    good = pd.DataFrame(GOOD)
    folder = write_data(tmp_path / "bad", fmt, interactions=good, **tables)
    with pytest.raises(kpitools.DataError) as duck_err:
        kpitools.load(folder)
    with pytest.raises(kpitools.DataError) as spark_err:
        kpitools.load(folder, engine="spark", spark=spark)
    assert str(spark_err.value) == str(duck_err.value)
    assert str(duck_err.value) == "\n".join(f"{folder}/{line}" for line in lines)


def test_typed_columns_cast_alike_on_both_engines(tmp_path, spark):
    """A timestamp stored as integers is refused by both engines (each names the type as it
    reads it); flags stored as decimals 1/0 load as true/false on both."""
    import decimal

    frame = pd.DataFrame(GOOD)
    frame["arrived_at"] = [1, 2, 3]
    folder = write_data(tmp_path / "int", "parquet", interactions=frame)
    with pytest.raises(kpitools.DataError) as duck_err:
        kpitools.load(folder)
    with pytest.raises(kpitools.DataError) as spark_err:
        kpitools.load(folder, engine="spark", spark=spark)
    want = f"{folder}/interactions.parquet: column arrived_at has type BIGINT, expected a timestamp"
    assert str(duck_err.value) == want
    assert str(spark_err.value) == want.replace("BIGINT", "bigint")

    frame = pd.DataFrame(GOOD)
    frame["transferred"] = [decimal.Decimal("1"), decimal.Decimal("0"), None]
    folder = write_data(tmp_path / "decimal", "parquet", interactions=frame)
    query = "SELECT interaction_id, transferred FROM interactions ORDER BY interaction_id"
    duck = kpitools.load(folder)
    spk = kpitools.load(folder, engine="spark", spark=spark)
    try:
        for data in (duck, spk):
            rows = data.sql(query)
            assert rows["interaction_id"].tolist() == ["i1", "i2", "i3"]
            assert rows["transferred"].tolist()[:2] == [True, False]
            assert pd.isna(rows["transferred"].tolist()[2])
    finally:
        spk.close()
        duck.close()


# -- command line ------------------------------------------------------------------------------
def _cli_json(capsys, *args) -> list[dict]:
    from kpitools.cli import main

    capsys.readouterr()
    code = main(["kpis", *args, "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_cli_json_is_the_same_on_both_engines(fixture_data, spark, capsys, tmp_path):
    """`kpitools kpis --engine spark` (in-process: it runs in the active Spark session, as it
    would inside a cluster's driver) prints the same JSON as `--engine duckdb`. A CSV folder
    with contacts only, so the unavailable KPIs' reasons are compared too."""
    _, t = fixture_data
    inter = t["interactions"]
    folder = write_data(tmp_path / "cli", "csv", interactions=inter[inter.arrived_at < "2026-03-23"])
    common = ["--data", str(folder), "--period", "2026-W11", "--by", "queue", "--variant", "positive"]
    want = _cli_json(capsys, *common, "--engine", "duckdb")
    got = _cli_json(capsys, *common, "--engine", "spark")
    assert len(got) == len(want) == 3 * len(kpitools.registry.kpis)
    assert {r["reason"] for r in got if r["kpi"] == "csat"} == {"needs the surveys table, which is not in the data"}
    for g, w in zip(got, want, strict=True):
        assert g.keys() == w.keys()
        for key, value in w.items():
            if isinstance(value, float):
                assert g[key] == pytest.approx(value, rel=REL), (w["kpi"], w["queue"], key)
            else:
                assert g[key] == value, (w["kpi"], w["queue"], key)
    assert {r["variant"] for r in got if r["kpi"] == "service_level"} == {"positive"}


def test_engine_option_errors_are_one_line(fixture_data, tmp_path):
    folder, _ = fixture_data
    proc = subprocess.run([sys.executable, "-m", "kpitools", "kpis", "--data", str(folder),
                           "--period", "2026-W11", "--engine", "spark",
                           "--warehouse", str(tmp_path / "w.duckdb")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: warehouse= is a DuckDB file; the Spark engine keeps no warehouse"
    with pytest.raises(kpitools.ConfigError, match="unknown engine 'flink'"):
        kpitools.load(folder, engine="flink")
    assert Path(folder, "interactions.parquet").is_file()


# -- the data-quality gate on Spark ------------------------------------------------------------
CLEAN = Path(__file__).resolve().parent / "fixtures" / "clean"


def _fixture_copy(tmp_path: Path, edit=None) -> Path:
    """The hand-made clean fixture, optionally with one defect seeded by test_validation's
    helpers (T0114: a handled social contact on Fri 2026-01-16, arrived 13:11)."""
    from test_validation import Fixture

    folder = tmp_path / "fixture"
    folder.mkdir()
    for f in CLEAN.glob("*.csv"):
        (folder / f.name).write_bytes(f.read_bytes())
    if edit:
        edit(Fixture(folder))
    return folder


def _plain(v):
    """One spelling per value: DuckDB hands dates over as midnight datetimes, pandas NA …"""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        v = dt.datetime.combine(v, dt.time())
    return v


@pytest.mark.parametrize("case, label", [("clean", None), ("unreadable timestamp", "2026-W03")])
def test_gate_frames_on_spark_equal_the_duckdb_frames(tmp_path, spark, case, label):
    """The gate's frames (kpitools/_validation_frames.py, one definition) built on Spark
    staging (kpitools/_validation_spark.py) hold the rows, columns, keys and order they hold
    on DuckDB staging (kpitools/_validation_data.py) — for the clean fixture (all rows), and
    for a folder the loader rejects (lenient read, the bad text kept aside), scoped to a
    review period."""
    from kpitools import _validation_data as vd
    from kpitools import _validation_frames as vf
    from kpitools import _validation_spark as vs
    from kpitools.validation import scope_periods

    edit = None
    if case == "unreadable timestamp":
        from test_validation import set_

        edit = set_("interactions", "T0114", "arrived_at", "yesterday")
    folder = _fixture_copy(tmp_path, edit)
    try:
        duck, duck_error = vd.stage_dataset(kpitools.load(folder)), None
    except kpitools.DataError as exc:
        duck, duck_error = vd.stage_folder(folder, "UTC"), str(exc)
    spk, spark_error = vs.stage(folder, spark=spark)
    assert spark_error == duck_error
    assert (duck_error is None) == (case == "clean")
    try:
        periods = scope_periods(label) if label else None
        ranges = vf.merge_ranges([(p.start, p.end) for p in periods]) if periods else None
        primary = (periods[0].start, periods[0].end) if periods else None
        want_frames = vf.build_frames(duck, ranges, primary)
        got_frames = vf.build_frames(spk, ranges, primary)
        assert sorted(got_frames) == sorted(want_frames)
        assert len(want_frames) == 9  # six tables, agent days, daily volume, weekly responses
        rows = {}
        for name in want_frames:
            frame = vf.fetch(duck, want_frames[name])
            g = vf.fetch(spk, got_frames[name])
            assert list(g.columns) == list(frame.columns), name
            assert len(g) == len(frame) > 0, name
            for k, (a, b) in enumerate(zip(g.itertuples(index=False), frame.itertuples(index=False),
                                           strict=True)):
                assert [_plain(v) for v in a] == [_plain(v) for v in b], (name, k)
            rows[name] = g
        if case == "clean":
            assert len(rows["interactions"]) == 310  # every row: 31 contacts a week, 10 weeks
        else:
            ix = rows["interactions"]
            assert ix.loc[ix["_key"] == "T0114", "arrived_at__unreadable"].tolist() == ["yesterday"]
    finally:
        vd.drop_views(duck)
        duck.con.close()
        spk.close()


GATE_KEYS = ["suite", "check", "table", "column", "expectation", "severity", "success",
             "unexpected_count", "element_count", "unexpected_percent", "examples",
             "example_values", "skipped", "error"]


def test_validate_on_spark_reports_what_the_pandas_gate_reports(tmp_path, spark):
    """The stored GX suites, run as Spark SQL on Spark views, give the same record for every
    expectation as GX itself on pandas copies of the DuckDB frames (the reference) —
    success, counts, examples, skips — on the clean fixture with one seeded defect (T0114
    answered a minute before it arrived): that one check fails on both, with the same
    example, and the other ~100 pass on both."""
    from test_validation import set_

    from kpitools.validation import validate

    folder = _fixture_copy(tmp_path, set_("interactions", "T0114", "answered_at", "2026-01-16T13:10:00"))
    want = validate(folder, "2026-W03", checks="gx")
    got = validate(folder, "2026-W03", engine="spark", spark=spark)
    assert len(got.results) == len(want.results) > 80
    for g, w in zip(got.results, want.results, strict=True):
        assert {k: g[k] for k in GATE_KEYS} == {k: w[k] for k in GATE_KEYS}, w["check"]
    assert got.rows_checked == want.rows_checked
    assert [r["check"] for r in got.failures] == ["answered_after_arrival"]
    assert got.failures[0]["examples"] == ["T0114"] and got.failures[0]["unexpected_count"] == 1
    assert not got.ok and not want.ok
    assert sum(r["success"] is True for r in got.results) >= 80


def test_review_sections_are_identical_on_spark(tmp_path, spark):
    """The review reads its numbers through the engine: on Spark, page one and the scorecard
    must come out exactly as on DuckDB (`kpitools report --engine spark`)."""
    from kpitools import review
    from kpitools.demo import generate_demo_data

    folder = tmp_path / "data"
    generate_demo_data(folder, weeks=3, contacts_per_week=800, start=dt.date(2026, 3, 2))
    html = {}
    for engine in ("duckdb", "spark"):
        ctx = review.open_review("weekly", data_dir=str(folder), engine=engine, run_gate=False,
                                 generated_at="2026-03-23T08:00:00")
        html[engine] = [review.section_executive_summary(ctx).html, review.section_scorecard(ctx).html]
    assert ctx.period.label == "2026-W12"
    assert "Service level" in html["duckdb"][0] and "Repeat contact rate" in html["duckdb"][1]
    assert html["spark"] == html["duckdb"]


def test_center_configuration_applies_on_spark(tmp_path, fixture_data, spark):
    """kpitools.yaml reaches the Spark loader the same way: time zone, preset, repeat scope,
    extra KPIs; every value equals DuckDB's. ``once_only`` counts contacts without a repeat,
    so here the repeat flags come from the window form of the repeats query (the catalogue
    alone uses the semi join: test_repeat_contact_edge_cases)."""
    import shutil

    folder = shutil.copytree(fixture_data[0], tmp_path / "center")
    (folder / "kpitools.yaml").write_text(
        "timezone: America/New_York\ndefinitions: cisco\nrepeat: {scope: any_issue, window_h: 48}\n"
        "measures:\n  long_holds: {source: interactions, when: is_handled AND hold_s > 30, "
        "description: long holds}\n"
        "  once_only: {source: repeats, when: is_handled AND NOT has_repeat, "
        "description: handled without a repeat}\n"
        "kpis:\n  - {id: long_hold_rate, label: Long-hold rate, description: Long holds., "
        "numerator: {long_holds: 1}, denominator: {handled: 1}, unit: fraction, direction: lower}\n"
        "  - {id: once_rate, label: Once rate, description: No repeat., "
        "numerator: {once_only: 1}, denominator: {repeat_eligible: 1}, unit: fraction, "
        "direction: higher}\n",
        encoding="utf-8")
    duck = kpitools.load(folder)
    spk = kpitools.load(folder, engine="spark", spark=spark)
    try:
        assert spk.config == duck.config and spk.params["business_timezone"] == "America/New_York"
        d = kpitools.kpis(duck, "2026-W11").set_index("kpi")
        s = kpitools.kpis(spk, "2026-W11").set_index("kpi")
    finally:
        spk.close()
    assert d.loc["service_level", "variant"] == s.loc["service_level", "variant"] == "ignore_within"
    assert d.loc["long_hold_rate", "value"] > 0
    # once_only and repeat_contacts split the eligible contacts between them
    assert d.loc["once_rate", "value"] + d.loc["repeat_contact_rate", "value"] == pytest.approx(1)
    pd.testing.assert_series_equal(s["value"], d["value"], check_exact=False, rtol=1e-9)


# -- the loader's arrival rules ------------------------------------------------------------------
def _weekdays(n: int) -> list[dict]:
    """n clean contacts on Mon 2 - Wed 4 March 2026 (ISO week 10)."""
    return [contact(f"i{k}", f"2026-03-0{2 + k % 3}T09:{k % 60:02d}:00", wait=10) for k in range(n)]


def test_negative_waits_are_distrusted_alike_on_both_engines(tmp_path, spark):
    rows = _weekdays(120) + [contact("neg1", "2026-03-03T12:00:00", wait=-30),
                             contact("neg2", "2026-03-04T12:00:00", outcome="abandoned", wait=-5)]
    folder = write_data(tmp_path / "neg", "csv", interactions=rows)
    duck = kpitools.load(folder)
    spk = kpitools.load(folder, engine="spark", spark=spark)
    try:
        days = {dt.date(2026, 3, 3), dt.date(2026, 3, 4)}
        assert duck.distrusted_days == days and spk.distrusted_days == days
        assert spk.warnings == duck.warnings
        assert spk.warnings[0].startswith("interactions: 2 contacts answered or abandoned before "
                                          "they arrived (negative wait; e.g. 'neg1', 'neg2')")
        asa = kpitools.kpis(spk, period="2026-W10").set_index("kpi").loc["asa"]
        assert asa["status"] is None and "negative wait" in asa["note"]
    finally:
        duck.close()
        spk.close()


def test_a_contact_far_from_the_rest_is_refused_alike_on_both_engines(tmp_path, spark):
    # 1 of 121 contacts (under 1 %) lies 420 days before the rest (more than 180)
    rows = _weekdays(120) + [contact("far", "2025-01-06T09:00:00", wait=10)]
    folder = write_data(tmp_path / "far", "csv", interactions=rows)
    with pytest.raises(kpitools.DataError) as duck_err:
        kpitools.load(folder)
    with pytest.raises(kpitools.DataError) as spark_err:
        kpitools.load(folder, engine="spark", spark=spark)
    assert str(spark_err.value) == str(duck_err.value) == (
        f"{folder}/interactions.csv: column arrived_at: 1 contact dated 2025-01-06 (e.g. "
        "interaction_id 'far' at 2025-01-06 09:00:00) lies more than 180 days from the rest of "
        "the data (2026-03-02 to 2026-03-04); correct or remove it")
