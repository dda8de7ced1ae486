"""Missing is null (issue 10, item 1): an optional column absent from the data makes the KPIs
that need it null with a reason — never 0 — and leaves every other KPI exactly as before.

One small hand-built data set (all six tables, week 2026-W10); every expected number is worked
out in the comments from its rows. Each case drops one optional column and says which KPIs
become null and which values change (AHT without hold or ACW: a value with a note, no status).
"""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from conftest import contact, write_data

import kpitools
from kpitools.cli import main
from kpitools.errors import ConfigError
from kpitools.registry import load_registry, parse_registry, referenced_columns

W10 = "2026-W10"  # Monday 2026-03-02 .. Sunday 2026-03-08
TRANSFER_REASON = "needs the transferred column, which interactions does not have"


def interactions() -> list[dict]:
    return [
        # handle 100 + 20 + 30 = 150; voice answered in 10 s (within 20 s); transferred
        contact("h1", "2026-03-02T09:00:00", wait=10, talk=100, hold=20, acw=30, customer="u1",
                issue="bill", agent="a1", transferred=True, escalated=False, resolved=True),
        # handle 200 + 0 + 50 = 250; answered in 30 s (late); same customer and issue 24 h
        # after h1, so h1 is followed by a repeat; escalated; not resolved
        contact("h2", "2026-03-03T09:00:00", wait=30, talk=200, hold=0, acw=50, customer="u1",
                issue="bill", agent="a2", transferred=False, escalated=True, resolved=False),
        # short abandon (3 s < 5 s)
        contact("a1", "2026-03-02T10:00:00", wait=3, outcome="abandoned", customer="u2"),
        # abandon after 15 s (not short, within the 20 s threshold)
        contact("a2", "2026-03-02T10:30:00", wait=15, outcome="abandoned", customer="u3"),
        # email answered after 3600 s; handle 300 + 0 + 60 = 360; resolution unknown
        contact("e1", "2026-03-04T09:00:00", wait=3600, channel="email", talk=300, hold=0,
                acw=60, customer="u4", issue="tech", agent="a1", resolved=None),
        # outbound voice; handle 120
        contact("o1", "2026-03-05T09:00:00", wait=0, direction="outbound", talk=120, hold=0,
                acw=0, customer="u5", issue="tech", agent="a2", resolved=True),
    ]


def tables() -> dict[str, pd.DataFrame]:
    return {
        "interactions": pd.DataFrame(interactions()),
        "surveys": pd.DataFrame([
            {"interaction_id": "h1", "responded_at": "2026-03-02T12:00:00", "csat": 5, "nps": 10, "ces": 2},
            {"interaction_id": "h2", "responded_at": "2026-03-03T12:00:00", "csat": 3, "nps": 5, "ces": 5},
            {"interaction_id": "e1", "responded_at": "2026-03-04T12:00:00", "csat": 4, "nps": 9, "ces": 3},
        ]),
        "agent_activity": pd.DataFrame([
            {"agent_id": "a1", "date": "2026-03-02", "logged_in_s": 28800, "handling_s": 18000,
             "available_s": 6000, "paid_s": 30600},
            {"agent_id": "a2", "date": "2026-03-02", "logged_in_s": 28800, "handling_s": 12000,
             "available_s": 12000, "paid_s": 30600},
        ]),
        "agents": pd.DataFrame([
            {"agent_id": "a1", "team": "t1", "site": "north", "hire_date": "2024-01-01"},
            {"agent_id": "a2", "team": "t2", "site": "south", "hire_date": "2025-01-01"},
        ]),
        "costs": pd.DataFrame([
            {"period_start": "2026-03-02", "period_end": "2026-03-08", "amount": 700.0, "queue": "billing"},
        ]),
        "qa": pd.DataFrame([
            {"interaction_id": "h1", "evaluated_at": "2026-03-05T10:00:00", "score": 90},
            {"interaction_id": "h2", "evaluated_at": "2026-03-05T11:00:00", "score": 70},
        ]),
    }


# Every KPI on the full data set, by hand.
BASELINE = {
    "contact_volume": 6,
    "offered": 5,                          # h1 h2 a1 a2 e1
    "handled": 4,                          # h1 h2 e1 o1
    "aht": (150 + 250 + 360 + 120) / 4,    # 220
    "talk_time": (100 + 200 + 300 + 120) / 4,  # 180
    "hold_time": (20 + 0 + 0 + 0) / 4,     # 5
    "acw_time": (30 + 50 + 60 + 0) / 4,    # 35
    "p90_wait": 10 + 0.9 * (30 - 10),      # answered voice waits 10, 30; linear interpolation
    "max_wait": 30.0,
    "asa": (10 + 30) / 2,                  # answered inbound voice/chat
    "service_level": 1 / (4 - 1),          # h1 within; 4 real-time offered - 1 short abandon
    "abandonment_rate": (2 - 1) / (4 - 1),
    "answer_rate": 2 / (4 - 1),
    "first_response_time": 3600.0,
    "fcr": 1 / 2,                          # h1 resolved, h2 not, e1 unknown, o1 outbound
    "repeat_contact_rate": 1 / 3,          # h1 repeated by h2; eligible h1 h2 e1
    "transfer_rate": 1 / 4,
    "escalation_rate": 1 / 4,
    "csat": 2 / 3,                         # 5 and 4 of 5, 3, 4
    "csat_score": (5 + 3 + 4) / 3,
    "nps": 100 * (2 - 1) / 3,              # promoters 10, 9; detractor 5
    "ces": (2 + 5 + 3) / 3,
    "occupancy": 30000 / (30000 + 18000),
    "utilization": 30000 / 57600,
    "cost_per_contact": 700 / 4,           # the whole week's cost / handled
    "quality_score": (90 + 70) / 2,
}

NOT_COMPARED = "not compared with the target"

# (table, dropped column, KPIs that become null, KPIs whose value changes -> new value, note)
CASES = [
    ("interactions", "customer_id", {"repeat_contact_rate"}, {}, None),
    ("interactions", "issue_type", {"repeat_contact_rate"}, {}, None),
    ("interactions", "agent_id", set(), {}, None),
    # no ended_at: no abandon wait, so no short abandons: every treatment that needs them
    ("interactions", "ended_at", {"service_level", "abandonment_rate", "answer_rate"}, {}, None),
    # AHT without hold: (150 - 20 + 250 + 360 + 120) / 4 = 215, with a note and no status
    ("interactions", "hold_s", {"hold_time"}, {"aht": 860 / 4}, "leaves out hold_s"),
    # AHT without ACW: (100 + 20 + 200 + 300 + 120) / 4 = 185
    ("interactions", "acw_s", {"acw_time"}, {"aht": 740 / 4}, "leaves out acw_s"),
    ("interactions", "transferred", {"transfer_rate"}, {}, None),
    ("interactions", "escalated", {"escalation_rate"}, {}, None),
    ("interactions", "resolved", {"fcr"}, {}, None),
    ("surveys", "responded_at", set(), {}, None),
    ("surveys", "csat", {"csat", "csat_score"}, {}, None),
    ("surveys", "nps", {"nps"}, {}, None),
    ("surveys", "ces", {"ces"}, {}, None),
    ("agent_activity", "paid_s", set(), {}, None),
    ("agents", "site", set(), {}, None),
    ("agents", "hire_date", set(), {}, None),
    # costs without a queue are shared: the total is unchanged
    ("costs", "queue", set(), {}, None),
    ("qa", "evaluated_at", set(), {}, None),
]


def _frame(folder, **kw):
    return kpitools.kpis(kpitools.load(folder), W10, **kw).set_index("kpi")


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    folder = write_data(tmp_path_factory.mktemp("full"), **tables())
    return _frame(folder)


def test_baseline_is_the_hand_computed_catalogue(full):
    assert set(full.index) == set(BASELINE)
    for kpi, want in BASELINE.items():
        assert full.loc[kpi, "value"] == pytest.approx(want), kpi
    # 220 s <= 360 s, but 4 handled contacts are under the 30-contact minimum sample: no status
    assert full.loc["aht", "note"] is None and full.loc["aht", "small_sample"]
    assert full.loc["aht", "status"] is None


def test_every_optional_column_has_a_case():
    from kpitools.schema import TABLES

    # The staffing table feeds the floor views only (tests/test_floor.py), no catalogue KPI.
    optional = {(t.name, c.name) for t in TABLES.values() for c in t.columns
                if not c.required and t.name != "staffing"}
    assert optional == {(t, c) for t, c, *_ in CASES}


# CSV for every case; Parquet (typed columns) too for the interactions columns.
FORMAT_CASES = [("csv", *c) for c in CASES] + [("parquet", *c) for c in CASES
                                               if c[0] == "interactions"]


@pytest.mark.parametrize("fmt, table, column, nulls, changed, note", FORMAT_CASES,
                         ids=[f"{f}-{t}.{c}" for f, t, c, *_ in FORMAT_CASES])
def test_missing_optional_column(tmp_path, full, fmt, table, column, nulls, changed, note):
    data = tables()
    data[table] = data[table].drop(columns=[column])
    got = _frame(write_data(tmp_path / "d", fmt, **data))
    for kpi in BASELINE:
        row = got.loc[kpi]
        if kpi in nulls:
            assert pd.isna(row["value"]), kpi
            assert row["status"] is None
            assert row["reason"] == f"needs the {column} column, which {table} does not have"
        elif kpi in changed:
            assert row["value"] == pytest.approx(changed[kpi]), kpi
            assert note in row["note"] and NOT_COMPARED in row["note"]
            assert row["status"] is None  # 215 s would otherwise be "on target"
        else:
            assert row["value"] == pytest.approx(BASELINE[kpi]), kpi
            assert row["status"] == full.loc[kpi, "status"], kpi


def test_hold_and_acw_both_missing_leaves_talk_only_with_one_note(tmp_path):
    data = tables()
    data["interactions"] = data["interactions"].drop(columns=["hold_s", "acw_s"])
    got = _frame(write_data(tmp_path / "d", **data))
    assert got.loc["aht", "value"] == pytest.approx((100 + 200 + 300 + 120) / 4)  # talk only
    assert got.loc["aht", "note"].startswith("leaves out hold_s and acw_s")


def test_service_level_variants_without_ended_at(tmp_path):
    # negative and ignore do not look at the abandon's wait; exclude_short and positive do
    data = tables()
    data["interactions"] = data["interactions"].drop(columns=["ended_at"])
    dataset = kpitools.load(write_data(tmp_path / "d", **data))
    want = {"negative": 1 / 4, "ignore": 1 / (4 - 2), "exclude_short": None, "positive": None}
    for variant, value in want.items():
        row = kpitools.kpis(dataset, W10, variant=variant, kpis=["service_level"]).iloc[0]
        if value is None:
            assert pd.isna(row["value"]) and "ended_at" in row["reason"], variant
        else:
            assert row["value"] == pytest.approx(value), variant


def test_repeat_scope_any_issue_does_not_need_issue_type(tmp_path):
    # any_issue: h1 is followed by h2 (same customer u1, 24 h later) whatever the issue; the
    # eligible contacts are still h1, h2, e1, so the rate stays 1/3 without the column.
    data = tables()
    data["interactions"] = data["interactions"].drop(columns=["issue_type"])
    folder = write_data(tmp_path / "d", **data)
    same_issue = kpitools.kpis(kpitools.load(folder), W10, kpis=["repeat_contact_rate"]).iloc[0]
    assert pd.isna(same_issue["value"]) and "issue_type" in same_issue["reason"]
    dataset = kpitools.load(folder, params={"repeat_scope": "any_issue"})
    row = kpitools.kpis(dataset, W10, kpis=["repeat_contact_rate"]).iloc[0]
    assert row["value"] == pytest.approx(1 / 3)


def test_several_missing_columns_name_each_reason(tmp_path):
    data = tables()
    data["interactions"] = data["interactions"].drop(columns=["customer_id", "issue_type"])
    got = _frame(write_data(tmp_path / "d", **data))
    assert got.loc["repeat_contact_rate", "reason"] == (
        "needs the customer_id and issue_type columns, which interactions does not have")


@pytest.fixture(scope="module")
def no_transfer(tmp_path_factory):
    data = tables()
    data["interactions"] = data["interactions"].drop(columns=["transferred", "escalated", "resolved"])
    return write_data(tmp_path_factory.mktemp("no_transfer"), **data)


def test_cli_json_csv_table_say_null_with_reason(no_transfer, capsys):
    assert main(["kpis", "--data", str(no_transfer), "--period", W10, "--format", "json"]) == 0
    recs = {r["kpi"]: r for r in json.loads(capsys.readouterr().out)}
    for kpi, col in [("transfer_rate", "transferred"), ("escalation_rate", "escalated"),
                     ("fcr", "resolved")]:
        assert recs[kpi]["value"] is None and recs[kpi]["status"] is None
        assert recs[kpi]["reason"] == f"needs the {col} column, which interactions does not have"
    assert recs["aht"]["value"] == pytest.approx(220)

    assert main(["kpis", "--data", str(no_transfer), "--period", W10, "--format", "csv"]) == 0
    csv = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("kpi")
    assert pd.isna(csv.loc["transfer_rate", "value"])
    assert csv.loc["transfer_rate", "reason"] == TRANSFER_REASON

    assert main(["kpis", "--data", str(no_transfer), "--period", W10]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("Transfer rate"))
    assert line.split()[2] == "n/a" and TRANSFER_REASON in line  # value column: n/a, not 0.0 %


def test_trend_and_compare_keep_the_null(no_transfer):
    data = kpitools.load(no_transfer)
    t = kpitools.trend(data, "transfer_rate", grain="week", periods=2, end=W10)
    assert t["value"].isna().all() and (t["reason"] == TRANSFER_REASON).all()
    c = kpitools.compare(data, W10, kpis=["transfer_rate", "handled"]).set_index("kpi")
    assert pd.isna(c.loc["transfer_rate", "value"]) and pd.isna(c.loc["transfer_rate", "change"])
    assert c.loc["transfer_rate", "reason"] == TRANSFER_REASON
    assert c.loc["handled", "value"] == 4


def test_null_kpis_are_grey_no_data_in_the_review(no_transfer):
    from kpitools.review import sections
    from kpitools.review.context import open_review

    ctx = open_review("weekly", W10, str(no_transfer), run_gate=False)
    card = sections.section_scorecard(ctx).html
    row = card[card.index("Transfer rate"):].split("</tr>")[0]
    assert "no data" in row and TRANSFER_REASON in row
    assert "rag-green" not in row and "rag-amber" not in row and "rag-red" not in row
    summary = sections.section_executive_summary(ctx).html
    fcr = summary[summary.index("First contact resolution"):].split("</tr>")[0]
    assert "no data" in fcr and "needs the resolved column" in fcr and "rag-" in fcr
    assert "rag-green" not in fcr and "rag-red" not in fcr
    # The FCR rule (FCR < 0.70) is not evaluated on a null, so it cannot fire.
    fcr_rule = next(r for r in ctx.triggers if r.trigger.id == "fcr_low" and r.scope == "All contacts")
    assert fcr_rule.status == "not evaluated" and "resolved" in fcr_rule.note
    assert not [r for r in ctx.triggers if r.trigger.kpi == "fcr" and r.status == "fired"]
    # The guardrail says FCR could not be checked rather than building on it.
    assert any("needs the resolved column" in u for u in ctx.guardrail.unavailable)
    assert not any(w["kpi"] == "fcr" for f in ctx.guardrail.findings for w in f.worse)
    assert not any("First contact resolution" in s or "FCR" in s
                   for s in ctx.observations.get("executive_summary", []))


# -- the catalogue declares what each measure needs ---------------------------------------
def test_columns_named_in_when_are_inferred_and_literals_ignored():
    assert referenced_columns("interactions", "is_handled AND transferred", "1") == {"transferred"}
    assert referenced_columns("interactions", "issue_type = 'resolved'", None) == {"issue_type"}
    assert referenced_columns("surveys", "nps >= 9") == {"nps"}
    assert referenced_columns("repeats", "is_handled AND has_repeat") == set()


def test_registry_rejects_needs_that_are_not_optional_columns():
    doc = {
        "measures": {
            "x": {"source": "interactions", "needs": ["talk_s"], "description": "x"},
            "y": {"source": "surveys", "partial_without": ["bogus"], "description": "y"},
        },
        "kpis": [{"id": "k", "label": "K", "description": "d", "numerator": {"x": 1},
                  "unit": "count", "direction": "none"}],
    }
    with pytest.raises(ConfigError) as err:
        parse_registry(doc)
    assert "measure 'x': needs names 'talk_s', which is not an optional column of interactions" in str(err.value)
    assert "measure 'y': partial_without names 'bogus'" in str(err.value)


def test_packaged_catalogue_declares_hidden_inputs():
    reg = load_registry()
    assert reg.measures["rt_short_abandons"].required_columns == ("ended_at",)
    assert reg.measures["repeat_contacts"].required_columns == ("customer_id", "issue_type")
    assert reg.measures["handle_time_s"].partial_without == ("hold_s", "acw_s")
    assert reg.measures["handle_time_s"].required_columns == ()
