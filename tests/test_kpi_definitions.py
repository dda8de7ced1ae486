"""Hand-computed cases for every KPI in the SPEC §4 catalogue.

Each expected number is worked out in the comment beside it from the rows in the test,
not taken from the engine.
"""

from __future__ import annotations

import json

import pytest
from conftest import contact, values

import kpitools
from kpitools.cli import main

W10 = "2026-W10"  # Monday 2026-03-02 .. Sunday 2026-03-08
MON = "2026-03-02"


def _kpis(folder, period=W10, **kw):
    return values(kpitools.kpis(kpitools.load(folder), period, **kw))


def test_service_level_variants_worked_check(make_data):
    # SPEC worked check: 70 answered within 20 s, 10 abandoned within the threshold (after
    # 10 s, so not short abandons), 20 answered after the threshold.
    rows = [contact(f"w{k}", f"{MON}T09:{k % 60:02d}:00", wait=10, customer=f"w{k}") for k in range(70)]
    rows += [contact(f"a{k}", f"{MON}T10:{k:02d}:00", wait=10, outcome="abandoned", customer=f"a{k}") for k in range(10)]
    rows += [contact(f"l{k}", f"{MON}T11:{k:02d}:00", wait=45, customer=f"l{k}") for k in range(20)]
    folder = make_data(interactions=rows)
    data = kpitools.load(folder)
    expected = {"ignore": 70 / 90, "negative": 70 / 100, "positive": 80 / 100,
                "exclude_short": 70 / 100}
    for variant, want in expected.items():
        got = values(kpitools.kpis(data, W10, variant=variant, kpis=["service_level"]))
        assert got["service_level"] == pytest.approx(want), variant
    assert round(70 / 90, 3) == 0.778


@pytest.mark.parametrize(
    "channel, wait, within",
    [
        ("voice", 20.0, True),    # exactly at the threshold counts as within
        ("voice", 20.5, False),
        ("voice", 19.0, True),
        ("chat", 60.0, True),     # chat threshold is 60 s
        ("chat", 61.0, False),
        ("chat", 25.0, True),
    ],
)
def test_answer_threshold_per_channel(make_data, channel, wait, within):
    folder = make_data(interactions=[contact("c1", f"{MON}T09:00:00", wait=wait, channel=channel)])
    got = _kpis(folder)
    assert got["service_level"] == (1.0 if within else 0.0)
    assert got["asa"] == pytest.approx(wait)


def test_short_abandons_leave_sl_abandonment_and_answer_rate(make_data):
    rows = [
        contact("h1", f"{MON}T09:00:00", wait=10),                         # within
        contact("h2", f"{MON}T09:05:00", wait=30),                         # late
        contact("s1", f"{MON}T09:10:00", wait=4.9, outcome="abandoned"),   # short (< 5 s)
        contact("s2", f"{MON}T09:11:00", wait=5.0, outcome="abandoned"),   # not short (= 5 s)
        contact("s3", f"{MON}T09:12:00", wait=90, outcome="abandoned"),    # long abandon
    ]
    got = _kpis(make_data(interactions=rows))
    # offered real-time 5, short abandons 1 -> denominator 4
    assert got["service_level"] == pytest.approx(1 / 4)
    assert got["abandonment_rate"] == pytest.approx(2 / 4)  # (3 abandons - 1 short) / 4
    assert got["answer_rate"] == pytest.approx(2 / 4)
    assert got["asa"] == pytest.approx((10 + 30) / 2)
    assert got["offered"] == 5


def test_outbound_counts_in_volume_and_handling_only(make_data):
    rows = [
        contact("in1", f"{MON}T09:00:00", wait=10, talk=200, hold=20, acw=40),   # handle 260
        contact("out1", f"{MON}T10:00:00", wait=3, direction="outbound", talk=500, acw=100,
                transferred=True),                                               # handle 600
        contact("ab1", f"{MON}T11:00:00", wait=30, outcome="abandoned"),
    ]
    got = _kpis(make_data(interactions=rows))
    assert got["contact_volume"] == 3
    assert got["offered"] == 2
    assert got["handled"] == 2
    assert got["aht"] == pytest.approx((260 + 600) / 2)
    assert got["transfer_rate"] == pytest.approx(1 / 2)
    assert got["service_level"] == pytest.approx(1 / 2)  # outbound is not offered
    assert got["fcr"] == pytest.approx(1.0)  # outbound is not in FCR


def test_first_response_time_email_and_social(make_data):
    rows = [
        contact("e1", f"{MON}T08:00:00", wait=2 * 3600, channel="email"),
        contact("e2", f"{MON}T09:00:00", wait=6 * 3600, channel="email"),
        contact("so1", f"{MON}T10:00:00", wait=1800, channel="social"),
        contact("e3", f"{MON}T11:00:00", wait=100, channel="email", outcome="abandoned"),  # no response
        contact("v1", f"{MON}T12:00:00", wait=15),  # voice is not in first response time
    ]
    got = _kpis(make_data(interactions=rows))
    assert got["first_response_time"] == pytest.approx((7200 + 21600 + 1800) / 3)
    assert got["asa"] == pytest.approx(15)
    assert got["service_level"] == 1.0  # only the voice contact is real-time


def test_fcr_ignores_unknown_resolution(make_data):
    rows = [
        contact("r1", f"{MON}T09:00:00", resolved=True),
        contact("r2", f"{MON}T09:10:00", resolved=False),
        contact("r3", f"{MON}T09:20:00", resolved=None),
        contact("r4", f"{MON}T09:30:00", resolved=True, escalated=True),
    ]
    got = _kpis(make_data(interactions=rows))
    assert got["fcr"] == pytest.approx(2 / 3)
    assert got["escalation_rate"] == pytest.approx(1 / 4)


def test_repeat_contacts_window_and_rules(make_data):
    sun = "2026-03-08"  # last day of W10
    rows = [
        # u1: handled Sunday late; comes back Tuesday of W11 (after the period): a repeat in W10
        contact("u1a", f"{sun}T23:00:00", customer="u1", issue="bill"),
        contact("u1b", "2026-03-10T09:00:00", customer="u1", issue="bill", outcome="abandoned", wait=30),
        # u2: back exactly 168 h later (counts) ...
        contact("u2a", f"{MON}T09:00:00", customer="u2", issue="bill"),
        contact("u2b", "2026-03-09T09:00:00", customer="u2", issue="bill"),
        # u3: ... but 168 h + 1 s is too late
        contact("u3a", f"{MON}T09:00:00", customer="u3", issue="bill"),
        contact("u3b", "2026-03-09T09:00:01", customer="u3", issue="bill"),
        # u4: comes back about another issue type: not a repeat
        contact("u4a", f"{MON}T10:00:00", customer="u4", issue="bill"),
        contact("u4b", f"{MON}T11:00:00", customer="u4", issue="tech"),
        # u5: a later outbound call to the customer is not a repeat
        contact("u5a", f"{MON}T10:00:00", customer="u5", issue="bill"),
        contact("u5b", f"{MON}T12:00:00", customer="u5", issue="bill", direction="outbound"),
        # u6: two contacts at the same instant: neither is "later"
        contact("u6a", f"{MON}T13:00:00", customer="u6", issue="bill"),
        contact("u6b", f"{MON}T13:00:00", customer="u6", issue="bill", queue="tech"),
        # no customer id: not in the denominator
        contact("anon", f"{MON}T14:00:00", customer=None, issue="bill"),
        # null issue type: in the denominator, never a repeat
        contact("u7a", f"{MON}T15:00:00", customer="u7", issue=None),
        contact("u7b", f"{MON}T16:00:00", customer="u7", issue=None),
    ]
    got = _kpis(make_data(interactions=rows))
    # W10 handled inbound with a customer: u1a u2a u3a u4a u4b u5a u6a u6b u7a u7b = 10
    # repeats: u1a (next week), u2a (exactly 168 h) = 2
    assert got["repeat_contact_rate"] == pytest.approx(2 / 10)


def test_repeat_window_from_previous_period_does_not_leak(make_data):
    rows = [
        contact("p1", "2026-03-01T09:00:00", customer="u1"),   # W09: repeat of it is in W10
        contact("p2", f"{MON}T09:00:00", customer="u1"),       # W10, no later contact
    ]
    folder = make_data(interactions=rows)
    assert _kpis(folder, "2026-W09")["repeat_contact_rate"] == 1.0
    assert _kpis(folder, W10)["repeat_contact_rate"] == 0.0


def test_survey_kpis_follow_the_contact_period(make_data):
    rows = [contact(f"c{k}", f"{MON}T09:{k:02d}:00", customer=f"u{k}") for k in range(6)]
    rows.append(contact("next", "2026-03-09T09:00:00", customer="x"))  # W11 contact
    surveys = [
        # answered the next week: still W10's response
        {"interaction_id": "c0", "responded_at": "2026-03-10T10:00:00", "csat": 5, "nps": 10, "ces": 1},
        {"interaction_id": "c1", "responded_at": "2026-03-02T10:00:00", "csat": 4, "nps": 9, "ces": 2},
        {"interaction_id": "c2", "responded_at": "2026-03-02T10:00:00", "csat": 3, "nps": 8, "ces": 4},
        {"interaction_id": "c3", "responded_at": "2026-03-02T10:00:00", "csat": 2, "nps": 6, "ces": 6},
        {"interaction_id": "c4", "responded_at": "2026-03-02T10:00:00", "csat": None, "nps": 0, "ces": None},
        {"interaction_id": "next", "responded_at": "2026-03-09T10:00:00", "csat": 1, "nps": 0, "ces": 7},
    ]
    folder = make_data(interactions=rows, surveys=surveys)
    frame = kpitools.kpis(kpitools.load(folder), W10)
    got = values(frame)
    assert got["csat"] == pytest.approx(2 / 4)            # 5 and 4 of 5,4,3,2
    assert got["csat_score"] == pytest.approx((5 + 4 + 3 + 2) / 4)
    assert got["nps"] == pytest.approx(100 * (2 - 2) / 5)  # promoters 10,9; detractors 6,0
    assert got["ces"] == pytest.approx((1 + 2 + 4 + 6) / 4)
    n = dict(zip(frame["kpi"], frame["n"], strict=True))
    assert n["csat"] == 4 and n["nps"] == 5 and n["ces"] == 4
    # fewer than 30 responses: flagged, and no RAG colour
    csat = frame[frame["kpi"] == "csat"].iloc[0]
    assert bool(csat["small_sample"]) and csat["status"] is None


def test_nps_with_only_promoters_and_passives(make_data):
    rows = [contact(f"c{k}", f"{MON}T09:{k:02d}:00") for k in range(4)]
    surveys = [{"interaction_id": f"c{k}", "responded_at": f"{MON}T10:00:00", "csat": 5,
                "nps": score, "ces": 2} for k, score in enumerate([10, 9, 7, 8])]
    got = _kpis(make_data(interactions=rows, surveys=surveys))
    assert got["nps"] == pytest.approx(50.0)  # 100 * (2 - 0) / 4


def test_occupancy_utilization_from_activity_days(make_data):
    rows = [contact("c1", f"{MON}T09:00:00")]
    activity = [
        {"agent_id": "a1", "date": "2026-03-02", "logged_in_s": 28800, "handling_s": 20000,
         "available_s": 5000, "paid_s": 30600},
        {"agent_id": "a2", "date": "2026-03-08", "logged_in_s": 14400, "handling_s": 10000,
         "available_s": 2000, "paid_s": 15000},
        {"agent_id": "a1", "date": "2026-03-09", "logged_in_s": 28800, "handling_s": 1000,
         "available_s": 27000, "paid_s": 30600},  # W11: out of scope
    ]
    agents = [{"agent_id": "a1", "team": "red", "site": "x", "hire_date": "2020-01-01"},
              {"agent_id": "a2", "team": "blue", "site": "x", "hire_date": "2021-01-01"}]
    folder = make_data(interactions=rows, agent_activity=activity, agents=agents)
    got = _kpis(folder)
    assert got["occupancy"] == pytest.approx(30000 / (30000 + 7000))
    assert got["utilization"] == pytest.approx(30000 / 43200)
    by_team = kpitools.kpis(kpitools.load(folder), W10, by="team", kpis=["occupancy"])
    assert values(by_team, team="blue")["occupancy"] == pytest.approx(10000 / 12000)
    by_queue = values(kpitools.kpis(kpitools.load(folder), W10, by="queue", kpis=["occupancy"]))
    assert by_queue["occupancy"] is None  # activity has no queue


def test_cost_is_spread_pro_rata_by_day(make_data):
    rows = [contact(f"c{k}", f"{MON}T09:{k:02d}:00", queue="billing" if k < 4 else "tech")
            for k in range(5)]
    costs = [
        {"period_start": "2026-03-01", "period_end": "2026-03-31", "amount": 3100.0, "queue": "billing"},
        {"period_start": "2026-02-23", "period_end": "2026-03-04", "amount": 1000.0, "queue": None},
    ]
    folder = make_data(interactions=rows, costs=costs)
    # W10 = Mar 2..8: billing 7 days x 100 = 700; shared row covers 10 days, Mar 2-4 in W10 = 300
    got = _kpis(folder)
    assert got["cost_per_contact"] == pytest.approx((700 + 300) / 5)
    by_queue = kpitools.kpis(kpitools.load(folder), W10, by="queue", kpis=["cost_per_contact"])
    # shared 300 goes 4/5 to billing, 1/5 to tech (their shares of handled contacts)
    assert values(by_queue, queue="billing")["cost_per_contact"] == pytest.approx((700 + 240) / 4)
    assert values(by_queue, queue="tech")["cost_per_contact"] == pytest.approx(60 / 1)


def test_quality_score_mean(make_data):
    rows = [contact(f"c{k}", f"{MON}T09:{k:02d}:00") for k in range(3)]
    qa = [{"interaction_id": "c0", "evaluated_at": "2026-03-03T09:00:00", "score": 90},
          {"interaction_id": "c1", "evaluated_at": "2026-03-12T09:00:00", "score": 70}]
    got = _kpis(make_data(interactions=rows, qa=qa))
    assert got["quality_score"] == pytest.approx(80.0)


def test_missing_optional_tables_are_null_with_reason(make_data):
    folder = make_data(interactions=[contact("c1", f"{MON}T09:00:00")])
    frame = kpitools.kpis(kpitools.load(folder), W10)
    for kpi, table in [("csat", "surveys"), ("nps", "surveys"), ("ces", "surveys"),
                       ("occupancy", "agent_activity"), ("utilization", "agent_activity"),
                       ("cost_per_contact", "costs"), ("quality_score", "qa")]:
        row = frame[frame["kpi"] == kpi].iloc[0]
        assert row["value"] != row["value"], kpi  # NaN, never 0
        assert table in row["reason"], kpi


def test_empty_period_gives_zero_counts_and_null_rates(make_data):
    folder = make_data(interactions=[contact("c1", f"{MON}T09:00:00")])
    frame = kpitools.kpis(kpitools.load(folder), "2026-W20")
    got = values(frame)
    assert got["contact_volume"] == 0 and got["handled"] == 0
    for kpi in ("aht", "asa", "service_level", "fcr", "transfer_rate"):
        assert got[kpi] is None
        assert "denominator is 0" in frame[frame["kpi"] == kpi].iloc[0]["reason"]
    assert frame["partial"].all()  # the data does not cover W20


def test_zero_denominator_inside_a_covered_period(make_data):
    # Only email contacts: no real-time offered, so SL and ASA are null, not 0
    folder = make_data(interactions=[contact("e1", f"{MON}T09:00:00", wait=60, channel="email")])
    got = _kpis(folder)
    assert got["service_level"] is None and got["asa"] is None
    assert got["first_response_time"] == 60


def test_aware_timestamps_convert_to_business_time(make_data):
    # 23:30 UTC on Sunday 8 March is 00:30 Monday 9 March in Paris: week 11 there.
    row = contact("c1", "2026-03-08T23:30:00+00:00", wait=10)
    folder = make_data(interactions=[row])
    utc = values(kpitools.kpis(kpitools.load(folder), W10))
    paris = values(kpitools.kpis(kpitools.load(folder, timezone="Europe/Paris"), "2026-W11"))
    assert utc["contact_volume"] == 1 and paris["contact_volume"] == 1
    # naive timestamps are already business-local: no shift
    naive = make_data(interactions=[contact("c2", "2026-03-08T23:30:00", wait=10)])
    assert values(kpitools.kpis(kpitools.load(naive, timezone="Europe/Paris"), W10))["contact_volume"] == 1


@pytest.mark.parametrize("label, start, end", [
    ("2026-03-02", "2026-03-02", "2026-03-02"),
    ("2026-W10", "2026-03-02", "2026-03-08"),
    ("2026-03", "2026-03-01", "2026-03-31"),
    ("2026-Q1", "2026-01-01", "2026-03-31"),
])
def test_period_grains_select_their_days(make_data, label, start, end):
    import datetime as dt

    days = ["2025-12-31", "2026-01-01", "2026-02-28", "2026-03-01", "2026-03-02", "2026-03-08",
            "2026-03-09", "2026-03-31", "2026-04-01"]
    rows = [contact(f"c{k}", f"{d}T12:00:00", customer=f"u{k}") for k, d in enumerate(days)]
    got = _kpis(make_data(interactions=rows), label)
    lo, hi = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    expected = sum(lo <= dt.date.fromisoformat(d) <= hi for d in days)
    assert got["contact_volume"] == expected


def test_targets_override_per_channel(make_data, tmp_path):
    # 15 chats past 60 s and 15 within: 30 contacts, the minimum sample for a status
    rows = [contact("v1", f"{MON}T09:00:00", wait=10)]
    rows += [contact(f"c{i}", f"{MON}T09:{i:02d}:00", wait=100 if i % 2 else 10, channel="chat")
             for i in range(30)]
    folder = make_data(interactions=rows)
    (folder / "targets.yaml").write_text(
        "overrides:\n  - {kpi: service_level, channel: chat, target: 0.5, critical: 0.3}\n")
    frame = kpitools.kpis(kpitools.load(folder), W10, by="channel", kpis=["service_level"])
    chat = frame[frame["channel"] == "chat"].iloc[0]
    voice = frame[frame["channel"] == "voice"].iloc[0]
    assert chat["value"] == 0.5 and chat["target"] == 0.5 and chat["status"] == "green"
    assert voice["target"] == 0.8


def test_cli_json_contract(make_data, capsys):
    rows = [contact("v1", f"{MON}T09:00:00", wait=10, queue="billing"),
            contact("v2", f"{MON}T09:10:00", wait=40, queue="tech", channel="chat")]
    folder = make_data(interactions=rows)
    assert main(["kpis", "--data", str(folder), "--period", W10, "--by", "queue,channel",
                 "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    ids = list(kpitools.registry)
    assert len(records) == 2 * len(ids)  # two (queue, channel) groups x every KPI
    for rec in records:
        assert {"period", "kpi", "value", "queue", "channel"} <= set(rec)
        assert rec["period"] == W10
    sl = {(r["queue"], r["channel"]): r["value"] for r in records if r["kpi"] == "service_level"}
    assert sl == {("billing", "voice"): 1.0, ("tech", "chat"): 1.0}  # chat 40 s <= 60 s
    assert main(["kpis", "--data", str(folder), "--period", W10, "--variant", "negative",
                 "--format", "json", "--kpi", "service_level"]) == 0
    rec = json.loads(capsys.readouterr().out)[0]
    assert rec["variant"] == "negative" and rec["value"] == 1.0


def test_cli_csv_and_table_formats(make_data, capsys):
    folder = make_data(interactions=[contact("v1", f"{MON}T09:00:00", wait=10)])
    assert main(["kpis", "--data", str(folder), "--period", W10, "--format", "csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("period,kpi,value")
    assert len(out) == 1 + len(kpitools.registry)
    assert main(["kpis", "--data", str(folder), "--period", W10]) == 0
    text = capsys.readouterr().out
    assert "Service level [exclude_short]" in text and "100.0 %" in text


def test_persistent_warehouse_gives_the_same_values(make_data, tmp_path):
    rows = [contact("v1", f"{MON}T09:00:00", wait=10), contact("v2", f"{MON}T09:10:00", wait=40)]
    folder = make_data("parquet", interactions=rows)
    warehouse = tmp_path / "kpis.duckdb"
    in_memory = values(kpitools.kpis(kpitools.load(folder), W10))
    data = kpitools.load(folder, warehouse=warehouse)
    persistent = values(kpitools.kpis(data, W10))
    data.close()
    assert warehouse.exists() and persistent == in_memory
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("SELECT count(*) FROM interactions").fetchall()[0][0] == 2


def test_time_of_contact_dimensions(make_data):
    rows = [
        contact("m1", "2026-03-02T09:10:00", wait=10),   # Monday 09:00-09:30 slot, within
        contact("m2", "2026-03-02T09:29:59", wait=30),   # same slot, late
        contact("m3", "2026-03-02T09:30:00", wait=5),    # next slot
        contact("s1", "2026-03-08T23:59:00", wait=10),   # Sunday, hour 23
    ]
    data = kpitools.load(make_data(interactions=rows))
    heat = kpitools.kpis(data, W10, by=["weekday", "hour"], kpis=["contact_volume", "service_level"])
    vol = {(r["weekday"], r["hour"]): r["value"] for r in heat[heat.kpi == "contact_volume"].to_dict("records")}
    assert vol == {(1, 9): 3, (7, 23): 1}
    slots = kpitools.kpis(data, W10, by="interval", kpis=["service_level"])
    got = {str(r["interval"]): r["value"] for r in slots.to_dict("records")}
    assert got == {"2026-03-02 09:00:00": 0.5, "2026-03-02 09:30:00": 1.0, "2026-03-08 23:30:00": 1.0}


def test_repeat_rate_near_the_end_of_data_is_flagged(make_data):
    rows = [contact("a", f"{MON}T09:00:00", customer="u1"),
            contact("b", "2026-03-16T09:00:00", customer="u2")]  # data ends Monday of W12
    data = kpitools.load(make_data(interactions=rows))
    note = lambda p: kpitools.kpis(data, p, kpis=["repeat_contact_rate"]).iloc[0]["note"]  # noqa: E731
    assert note("2026-W10") is None            # W10 + 168 h = 2026-03-15 23:59, inside the data
    assert "understated" in note("2026-W11")   # its look-ahead needs data up to 2026-03-22
