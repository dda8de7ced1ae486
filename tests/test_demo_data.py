"""The demo-data generator: files, determinism, schema and the consistency rules of SPEC §2.

Every rule is re-checked here with pandas, independently of the generator's code.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from kpitools.demo import TABLES, generate_demo_data, generate_scaled_interactions

SMALL = dict(seed=11, start=dt.date(2025, 3, 3), weeks=3, contacts_per_week=2000)

SCHEMA = {
    "interactions": {
        "interaction_id": pa.string(), "customer_id": pa.string(), "channel": pa.string(),
        "direction": pa.string(), "queue": pa.string(), "issue_type": pa.string(),
        "agent_id": pa.string(), "arrived_at": pa.timestamp("us"),
        "answered_at": pa.timestamp("us"), "ended_at": pa.timestamp("us"),
        "outcome": pa.string(), "talk_s": pa.float64(), "hold_s": pa.float64(),
        "acw_s": pa.float64(), "transferred": pa.bool_(), "escalated": pa.bool_(),
        "resolved": pa.bool_(),
    },
    "surveys": {
        "interaction_id": pa.string(), "responded_at": pa.timestamp("us"), "csat": pa.int64(),
        "nps": pa.int64(), "ces": pa.int64(),
    },
    "agent_activity": {
        "agent_id": pa.string(), "date": pa.date32(), "logged_in_s": pa.float64(),
        "handling_s": pa.float64(), "available_s": pa.float64(), "paid_s": pa.float64(),
    },
    "agents": {"agent_id": pa.string(), "team": pa.string(), "site": pa.string(),
               "hire_date": pa.date32()},
    "costs": {"period_start": pa.date32(), "period_end": pa.date32(), "amount": pa.float64(),
              "queue": pa.string()},
    "qa": {"interaction_id": pa.string(), "evaluated_at": pa.timestamp("us"),
           "score": pa.float64()},
}


def _read(folder, name):
    return pd.read_parquet(folder / f"{name}.parquet", dtype_backend="numpy_nullable")


def _load(folder):
    return {name: _read(folder, name) for name in TABLES}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    counts = generate_demo_data(folder, **SMALL)
    return folder, counts, _load(folder)


@pytest.fixture(scope="module")
def interactions(demo):
    inter = demo[2]["interactions"].copy()
    inter["handled"] = inter["outcome"] == "handled"
    return inter


# --- files, schema, determinism ------------------------------------------------------------


def test_all_files_and_counts(demo):
    folder, counts, tables = demo
    for name in TABLES:
        assert (folder / f"{name}.parquet").is_file(), name
        assert counts[name] == len(tables[name]) > 0, name
    assert set(counts) == set(TABLES)
    # ~2000 contacts a week for 3 weeks
    assert 4500 <= counts["interactions"] <= 7500


def test_targets_yaml(demo):
    folder = demo[0]
    text = (folder / "targets.yaml").read_text()
    assert text.startswith("# Target overrides:")
    doc = yaml.safe_load(text)
    entries = doc["overrides"]
    assert {"kpi": "first_response_time", "channel": "social", "target": 3600} in entries
    assert {"kpi": "first_response_time", "channel": "email", "target": 14400} in entries
    aht = {e["issue_type"]: e["target"] for e in entries if e["kpi"] == "aht"}
    issues = set(demo[2]["interactions"]["issue_type"].dropna())
    assert issues <= set(aht), issues - set(aht)
    assert all(60 <= t <= 1800 for t in aht.values())


def test_schema(demo):
    folder = demo[0]
    for name, columns in SCHEMA.items():
        schema = pq.read_schema(folder / f"{name}.parquet")
        assert schema.names == list(columns), name
        for col, typ in columns.items():
            assert schema.field(col).type == typ, (name, col, schema.field(col).type)


def test_nullable_ints_stay_ints(demo):
    surveys = demo[2]["surveys"]
    for col in ("csat", "nps", "ces"):
        assert str(surveys[col].dtype) == "Int64"
    assert surveys["nps"].isna().any()  # nullable, yet still integers


def test_deterministic_same_seed(demo, tmp_path):
    folder = demo[0]
    again = tmp_path / "again"
    counts = generate_demo_data(again, **SMALL)
    assert counts == demo[1]
    for name in TABLES:
        pd.testing.assert_frame_equal(_read(folder, name), _read(again, name), check_exact=True)
        assert (folder / f"{name}.parquet").read_bytes() == (again / f"{name}.parquet").read_bytes()
    assert (folder / "targets.yaml").read_text() == (again / "targets.yaml").read_text()


def test_different_seed_differs(demo, tmp_path):
    other = tmp_path / "other"
    generate_demo_data(other, **{**SMALL, "seed": 12})
    a, b = demo[2]["interactions"], _read(other, "interactions")
    assert len(a) != len(b) or not a.equals(b)
    assert not a["arrived_at"].head(200).reset_index(drop=True).equals(
        b["arrived_at"].head(200).reset_index(drop=True))


@pytest.mark.parametrize("start", [dt.date(2025, 3, 4), "2025-03-09"])
def test_start_must_be_monday(tmp_path, start):
    with pytest.raises(ValueError, match="Monday"):
        generate_demo_data(tmp_path / "x", start=start, weeks=1, contacts_per_week=100)


def test_csv_format(tmp_path):
    counts = generate_demo_data(tmp_path, seed=3, start="2025-01-06", weeks=1,
                                contacts_per_week=700, fmt="csv")
    for name in TABLES:
        frame = pd.read_csv(tmp_path / f"{name}.csv")
        assert len(frame) == counts[name], name
    inter = pd.read_csv(tmp_path / "interactions.csv")
    assert inter["interaction_id"].is_unique
    assert pd.to_datetime(inter["arrived_at"]).min() >= pd.Timestamp("2025-01-06")
    assert pd.to_datetime(inter["arrived_at"]).max() < pd.Timestamp("2025-01-13")
    assert (tmp_path / "targets.yaml").is_file()
    with pytest.raises(ValueError):
        generate_demo_data(tmp_path / "bad", weeks=1, contacts_per_week=100, fmt="xlsx")


# --- consistency rules ------------------------------------------------------------------------


def test_values_and_coverage(interactions):
    i = interactions
    assert i["interaction_id"].is_unique
    assert set(i["channel"]) <= {"voice", "chat", "email", "social"}
    assert set(i["direction"]) <= {"inbound", "outbound"}
    assert set(i["outcome"]) <= {"handled", "abandoned"}
    assert i["channel"].notna().all() and i["queue"].notna().all()
    start = pd.Timestamp(SMALL["start"])
    assert i["arrived_at"].min() >= start
    assert i["arrived_at"].max() < start + pd.Timedelta(weeks=SMALL["weeks"])
    assert 0.02 <= i["customer_id"].isna().mean() <= 0.08
    assert 0.005 <= i["issue_type"].isna().mean() <= 0.04
    handled = i[i["handled"]]
    assert 0.06 <= handled["resolved"].isna().mean() <= 0.14


def test_timestamps_ordered(interactions):
    i = interactions
    ans = i["answered_at"].notna()
    assert (i.loc[ans, "answered_at"] >= i.loc[ans, "arrived_at"]).all()
    assert (i.loc[ans, "ended_at"] >= i.loc[ans, "answered_at"]).all()
    assert (i.loc[~ans, "ended_at"] >= i.loc[~ans, "arrived_at"]).all()
    assert i["ended_at"].notna().all()


def test_abandoned_rules(interactions):
    ab = interactions[~interactions["handled"]]
    assert len(ab) > 0
    assert (ab["direction"] == "inbound").all()
    assert ab["agent_id"].isna().all()
    assert ab["answered_at"].isna().all()
    assert (ab[["talk_s", "hold_s", "acw_s"]] == 0).all().all()
    assert ab["resolved"].isna().all()


def test_handled_rules(interactions):
    i = interactions
    assert (i["agent_id"].isna() == ~i["handled"]).all()  # null exactly when not handled
    hin = i[i["handled"] & (i["direction"] == "inbound")]
    assert hin["agent_id"].notna().all() and hin["answered_at"].notna().all()
    out = i[i["direction"] == "outbound"]
    assert len(out) > 0
    assert out["handled"].all()
    assert (out["channel"] == "voice").all()
    ring = (out["answered_at"] - out["arrived_at"]).dt.total_seconds()
    assert ring.between(0, 30).all()


def test_durations_non_negative(demo):
    t = demo[2]
    assert (t["interactions"][["talk_s", "hold_s", "acw_s"]] >= 0).all().all()
    assert t["interactions"][["talk_s", "hold_s", "acw_s"]].notna().all().all()
    act = t["agent_activity"][["logged_in_s", "handling_s", "available_s", "paid_s"]]
    assert (act >= 0).all().all() and act.notna().all().all()


def test_survey_and_qa_point_at_handled(demo, interactions):
    handled_ids = set(interactions.loc[interactions["handled"], "interaction_id"])
    arrived = interactions.set_index("interaction_id")["arrived_at"]
    for name, ts in (("surveys", "responded_at"), ("qa", "evaluated_at")):
        frame = demo[2][name]
        assert frame["interaction_id"].isin(handled_ids).all(), name
        assert (frame[ts].to_numpy() >= arrived.loc[frame["interaction_id"]].to_numpy()).all()


def test_score_ranges(demo):
    s, qa = demo[2]["surveys"], demo[2]["qa"]
    assert s["csat"].dropna().between(1, 5).all()
    assert s["nps"].dropna().between(0, 10).all()
    assert s["ces"].dropna().between(1, 7).all()
    assert (s[["csat", "nps", "ces"]].notna().any(axis=1)).all()
    assert qa["score"].between(0, 100).all() and qa["score"].notna().all()


def test_agents_known(demo, interactions):
    agents = demo[2]["agents"]
    assert agents["agent_id"].is_unique
    known = set(agents["agent_id"])
    assert set(interactions["agent_id"].dropna()) <= known
    assert set(demo[2]["agent_activity"]["agent_id"]) <= known
    assert agents[["team", "site", "hire_date"]].notna().all().all()
    # nobody handles a contact before being hired
    hired = agents.set_index("agent_id")["hire_date"]
    h = interactions[interactions["handled"]]
    first = h.groupby("agent_id")["arrived_at"].min().dt.normalize()
    assert (first >= pd.to_datetime(hired.loc[first.index])).all()


def test_agent_day_handling(demo, interactions):
    act = demo[2]["agent_activity"].copy()
    assert not act.duplicated(["agent_id", "date"]).any()
    assert (act["handling_s"] <= act["logged_in_s"]).all()
    assert (act["handling_s"] + act["available_s"] <= act["logged_in_s"]).all()
    h = interactions[interactions["handled"]].copy()
    h["date"] = h["arrived_at"].dt.normalize()
    h["dur"] = h["talk_s"] + h["hold_s"] + h["acw_s"]
    sums = h.groupby(["agent_id", "date"], as_index=False)["dur"].sum()
    act["date"] = pd.to_datetime(act["date"])
    merged = sums.merge(act, on=["agent_id", "date"], how="left")
    assert merged["handling_s"].notna().all(), "contacts on an agent-day without activity"
    assert (merged["dur"] <= merged["handling_s"]).all()


def test_costs(demo, interactions):
    costs = demo[2]["costs"]
    start = pd.to_datetime(costs["period_start"])
    end = pd.to_datetime(costs["period_end"])
    assert (start.dt.day == 1).all()
    assert (end == start + pd.offsets.MonthEnd(0)).all()
    assert not costs.duplicated(["period_start", "queue"]).any()
    months = interactions["arrived_at"].dt.to_period("M").unique()
    assert costs.groupby("period_start").size().eq(interactions["queue"].nunique()).all()
    assert len(costs["period_start"].unique()) == len(months)
    assert (costs["amount"] > 0).all()


def test_plausible_levels(demo, interactions):
    """Loose sanity bands (a small sample): the realism tuned for the default demo."""
    i = interactions
    share = i["channel"].value_counts(normalize=True)
    assert 0.45 <= share["voice"] <= 0.65 and 0.03 <= share.get("social", 0) <= 0.08
    assert 0.05 <= (i["direction"] == "outbound").mean() <= 0.11
    rt = i[(i["direction"] == "inbound") & i["channel"].isin(["voice", "chat"])]
    assert 0.02 <= (rt["outcome"] == "abandoned").mean() <= 0.09
    hin = i[i["handled"] & (i["direction"] == "inbound")]
    fcr = hin["resolved"].dropna().astype(bool).mean()
    assert 0.68 <= fcr <= 0.82
    aht = i.loc[i["handled"], ["talk_s", "hold_s", "acw_s"]].sum(axis=1)
    by_issue = aht.groupby(i.loc[i["handled"], "issue_type"]).mean()
    assert by_issue.max() / by_issue.min() > 2.5  # clearly different handle times


# --- stories (a longer but still small data set) ---------------------------------------------


def test_stories(tmp_path):
    generate_demo_data(tmp_path, seed=5, start="2025-06-02", weeks=20, contacts_per_week=2500)
    i = _read(tmp_path, "interactions")
    end = pd.Timestamp("2025-06-02") + pd.Timedelta(weeks=20)
    day = i["arrived_at"].dt.normalize()
    # 1. outage spike, end - 62 days (a Tuesday)
    outage = end - pd.Timedelta(days=62)
    assert outage.dayofweek == 1
    tv = i[(i["queue"] == "technical_support") & (i["channel"] == "voice")
           & (i["direction"] == "inbound")]
    on = tv[tv["arrived_at"].dt.normalize() == outage]
    before = tv[tv["arrived_at"].dt.normalize() == outage - pd.Timedelta(days=7)]
    assert len(on) > 2.3 * len(before)
    assert (on["outcome"] == "abandoned").mean() > 0.20
    # 2. AHT trap on billing + technical_support, end - 105 days .. end - 50 days
    t0, t1 = end - pd.Timedelta(days=105), end - pd.Timedelta(days=50)
    bt = i[i["queue"].isin(["billing", "technical_support"]) & (i["outcome"] == "handled")]
    bt = bt.assign(hs=bt["talk_s"] + bt["hold_s"] + bt["acw_s"])
    bt_day = bt["arrived_at"].dt.normalize()
    trap = bt[(bt_day >= t0 + pd.Timedelta(days=7)) & (bt_day <= t1)]
    after = bt[bt_day >= t1 + pd.Timedelta(days=14)]
    normal = bt[bt_day < t0]
    assert trap["hs"].mean() < 0.8 * normal["hs"].mean()
    assert trap["hs"].mean() < 0.8 * after["hs"].mean()

    def fcr(x):
        x = x[x["direction"] == "inbound"]
        return x["resolved"].dropna().astype(bool).mean()

    assert fcr(trap) < fcr(normal) - 0.08 and fcr(trap) < fcr(after) - 0.08
    assert day.max() == end - pd.Timedelta(days=1)


# --- scaled benchmark data ---------------------------------------------------------------------


def test_scaled_interactions(tmp_path, demo):
    path = tmp_path / "big" / "interactions.parquet"
    n = generate_scaled_interactions(path, n_contacts=30_000, start=dt.date(2025, 1, 1),
                                     days=40, seed=3, chunk_rows=7_000)
    assert n == 30_000
    pf = pq.ParquetFile(path)
    assert pf.metadata.num_rows == 30_000
    assert pf.metadata.num_row_groups >= 4  # written in chunks
    assert pf.schema_arrow == pq.read_schema(demo[0] / "interactions.parquet")
    i = pd.read_parquet(path, dtype_backend="numpy_nullable")
    assert i["interaction_id"].is_unique
    assert i["arrived_at"].is_monotonic_increasing
    assert i["arrived_at"].min() >= pd.Timestamp("2025-01-01")
    assert i["arrived_at"].max() < pd.Timestamp("2025-02-10")
    handled = i["outcome"] == "handled"
    assert (i["agent_id"].isna() == ~handled).all()
    ab = i[~handled]
    assert (ab["direction"] == "inbound").all() and ab["answered_at"].isna().all()
    ans = i["answered_at"].notna()
    assert (i.loc[ans, "answered_at"] >= i.loc[ans, "arrived_at"]).all()
    assert (i.loc[ans, "ended_at"] >= i.loc[ans, "answered_at"]).all()
    again = tmp_path / "again.parquet"
    generate_scaled_interactions(again, n_contacts=30_000, start=dt.date(2025, 1, 1), days=40,
                                 seed=3, chunk_rows=7_000)
    assert again.read_bytes() == path.read_bytes()
    assert not list(tmp_path.glob("**/*.tmp"))
