"""The floor views (docs/floor.md): interval table, team scorecards, exception lists.

Every expected number is worked out by hand in a comment from the small data sets below;
the views must also equal ``kpitools kpis`` for the same slice.
"""

from __future__ import annotations

import json
import math
import subprocess

import numpy as np
import pandas as pd
import pytest
from conftest import contact, write_data

import kpitools
from kpitools.cli import main
from kpitools.errors import DataError
from kpitools.floor.exceptions import exception_rows, to_csv
from kpitools.floor.interval import interval_table
from kpitools.floor.team import benjamini_hochberg, team_report, two_proportion_p
from kpitools.periods import Period

SECRET = "CUSTSECRET"  # customer ids start with this; no review may show them


# -- an interval day (UTC) ----------------------------------------------------------------------
def interval_contacts():
    return [
        # 09:00 slot (30 min): two voice answers, one short and one long abandon
        contact("v1", "2026-03-02T09:00:00", wait=10, talk=100, acw=20, customer=SECRET + "1"),
        contact("v2", "2026-03-02T09:10:00", wait=30, talk=200, acw=40, customer=SECRET + "2"),
        contact("v3", "2026-03-02T09:20:00", wait=3, outcome="abandoned", customer=SECRET + "3"),
        contact("v4", "2026-03-02T09:25:00", wait=60, outcome="abandoned", customer=SECRET + "4"),
        # 09:30 slot: one chat answered in 50 s (threshold 60 s)
        contact("c1", "2026-03-02T09:40:00", wait=50, talk=300, channel="chat", queue="sales",
                customer=SECRET + "5"),
        # 10:00 slot: one voice answered in 5 s; 10:30 and later: nothing
        contact("v5", "2026-03-02T10:05:00", wait=5, talk=60, customer=SECRET + "6"),
    ]


@pytest.fixture(scope="module")
def interval_data(tmp_path_factory):
    folder = write_data(
        tmp_path_factory.mktemp("interval"), interactions=interval_contacts(),
        # 3 agents 09:00-10:00 for the whole center, given as a 60-minute head count
        staffing=[{"interval_start": "2026-03-02T09:00:00", "interval_minutes": 60,
                   "queue": None, "channel": None, "staffed_agents": 3, "staffed_s": None}])
    return kpitools.load(folder)


def _row(table, hhmm):
    rows = table.rows
    return rows[rows["interval_start"].str[11:16] == hhmm].iloc[0]


def test_interval_table_30_minutes_by_hand(interval_data):
    t = interval_table(interval_data, "2026-03-02", 30)
    assert len(t.rows) == 48  # 24 h / 30 min
    r = _row(t, "09:00")
    assert (r["offered"], r["handled"], r["abandoned"], r["short_abandons"]) == (4, 2, 1, 1)
    assert r["service_level"] == pytest.approx(1 / 3)  # 1 within 20 s / (4 offered - 1 short)
    assert r["asa_s"] == pytest.approx(20)  # (10 + 30) / 2
    assert r["p90_wait_s"] == pytest.approx(28)  # 10 + 0.9 * (30 - 10)
    assert r["max_wait_s"] == 30
    assert r["aht_s"] == pytest.approx(180)  # (120 + 240) / 2
    # Erlang C: A = 4 x 180 / 1800 = 0.4; N = 1 gives SL 1 - 0.4 e^(-0.6*20/180) = 0.63 < 0.8;
    # N = 2: C = 0.0667, SL = 1 - 0.0667 e^(-1.6*20/180) = 0.944 -> 2 agents
    assert r["required_agents"] == 2
    # staffing: 3 agents over 09:00-10:00 -> 3 in each 30-minute half; gap 3 - 2
    assert r["staffed_agents"] == pytest.approx(3)
    assert r["staffing_gap"] == pytest.approx(1)
    assert r["occupancy_est"] == pytest.approx(360 / (3 * 1800))  # handle time / staffed time
    chat = _row(t, "09:30")
    assert (chat["offered"], chat["service_level"], chat["asa_s"], chat["aht_s"]) == (1, 1.0, 50, 300)
    empty = _row(t, "10:30")
    assert (empty["offered"], empty["handled"], empty["abandoned"]) == (0, 0, 0)
    assert np.isnan(empty["service_level"]) and np.isnan(empty["asa_s"])
    assert empty["required_agents"] == 0  # nothing offered, nobody needed
    assert np.isnan(empty["staffed_agents"])  # the staffing rows cover 09:00-10:00 only


def test_interval_table_60_and_15_minutes_by_hand(interval_data):
    t60 = interval_table(interval_data, "2026-03-02", 60)
    assert len(t60.rows) == 24
    r = _row(t60, "09:00")
    assert r["offered"] == 5 and r["handled"] == 3
    assert r["service_level"] == pytest.approx(2 / 4)  # voice 10 s + chat 50 s within / (5 - 1)
    assert r["asa_s"] == pytest.approx(30)  # (10 + 30 + 50) / 3
    assert r["p90_wait_s"] == pytest.approx(46)  # rank 0.9 x 2 = 1.8: 30 + 0.8 x 20
    assert r["max_wait_s"] == 50
    assert r["aht_s"] == pytest.approx(220)  # (120 + 240 + 300) / 3
    # voice A = 0.2 -> 1 agent (SL 0.817); chat A = 0.083 -> 1 agent (SL 0.93); summed
    assert r["required_agents"] == 2
    assert r["staffed_agents"] == pytest.approx(3)
    t15 = interval_table(interval_data, "2026-03-02", 15)
    assert len(t15.rows) == 96
    assert _row(t15, "09:00")["service_level"] == pytest.approx(1 / 2)  # v1 within, v2 not
    aband = _row(t15, "09:15")  # v3 short, v4 after 60 s: SL 0 / (2 - 1)
    assert (aband["offered"], aband["handled"], aband["abandoned"], aband["short_abandons"]) == (2, 0, 1, 1)
    assert aband["service_level"] == 0 and np.isnan(aband["asa_s"])
    assert _row(t15, "09:45")["offered"] == 0  # an empty interval between busy ones


def test_interval_rows_equal_kpis_by_interval(tmp_path, interval_data):
    """Same figures as kpitools.kpis(..., by='interval') with that interval width."""
    data = kpitools.load(interval_data.path, params={"interval_minutes": 30})
    kpis = kpitools.kpis(data, "2026-03-02", by="interval")
    t = interval_table(interval_data, "2026-03-02", 30)
    for kpi, col in [("service_level", "service_level"), ("asa", "asa_s"), ("p90_wait", "p90_wait_s"),
                     ("max_wait", "max_wait_s"), ("aht", "aht_s"), ("offered", "offered")]:
        sub = kpis[kpis["kpi"] == kpi]
        want = sub.set_index(sub["interval"].dt.strftime("%H:%M"))["value"]
        for hhmm, value in want.items():
            got = _row(t, hhmm)[col]
            assert (np.isnan(got) and np.isnan(value)) or got == pytest.approx(value), (kpi, hhmm)
    day = kpitools.kpis(data, "2026-03-02").set_index("kpi")["value"]
    totals = t.day_totals.iloc[0]
    assert totals["service_level"] == pytest.approx(day["service_level"])
    assert totals["service_level"] == pytest.approx(3 / 5)  # v1, c1, v5 within / (6 - 1 short)
    assert totals["p90_wait_s"] == pytest.approx(day["p90_wait"])


def test_interval_slice_by_queue_equals_kpis_by_queue(interval_data):
    t = interval_table(interval_data, "2026-03-02", 30, queue="sales")
    assert t.rows["offered"].sum() == 1
    by_queue = kpitools.kpis(interval_data, "2026-03-02", by="queue")
    sales = by_queue[by_queue["queue"] == "sales"].set_index("kpi")["value"]
    assert t.day_totals.iloc[0]["asa_s"] == sales["asa"] == 50
    assert np.isnan(t.rows["staffed_agents"]).all()  # the staffing row has no queue


@pytest.mark.parametrize("row, message", [
    ({"staffed_agents": None, "staffed_s": None}, "has neither staffed_agents nor staffed_s"),
    ({"staffed_agents": -2, "staffed_s": None}, "column staffed_agents must be 0 or more"),
    ({"interval_minutes": 0, "staffed_agents": 3, "staffed_s": None}, "interval_minutes must be a positive"),
])
def test_bad_staffing_rows_are_named(tmp_path, row, message):
    base = {"interval_start": "2026-03-02T09:00:00", "interval_minutes": 60, "queue": None,
            "channel": None}
    folder = write_data(tmp_path / "s", interactions=interval_contacts(), staffing=[{**base, **row}])
    with pytest.raises(DataError, match=message) as err:
        interval_table(kpitools.load(folder), "2026-03-02", 30)
    assert "staffing.csv" in str(err.value) and "2026-03-02 09:00:00" in str(err.value)


# -- DST ----------------------------------------------------------------------------------------
def test_dst_days_have_23_and_25_hours(tmp_path):
    frame = pd.DataFrame([
        contact("s1", "2026-03-08T01:40:00", wait=5),
        contact("s2", "2026-03-08T03:10:00", wait=5),  # 03:00 EDT: the first interval after the gap
        contact("s3", "2026-03-08T02:30:00", wait=5),  # a time no clock showed that day
        contact("f1", "2026-11-01T01:30:00", wait=5),  # ambiguous: EDT or EST?
    ])
    for col in ("arrived_at", "answered_at", "ended_at"):  # naive Parquet timestamps, kept as is
        frame[col] = pd.to_datetime(frame[col])
    folder = write_data(tmp_path / "ny", "parquet", interactions=frame)
    data = kpitools.load(folder, timezone="America/New_York")
    spring = interval_table(data, "2026-03-08", 30)
    real = spring.rows[spring.rows["interval_end"] != ""]
    assert len(real) == 46  # 23 hours x 2
    assert "2026-03-08T02:00:00-05:00" not in set(real["interval_start"])
    three = real[real["interval_start"] == "2026-03-08T03:00:00-04:00"].iloc[0]
    assert three["offered"] == 1
    skipped = spring.rows[spring.rows["interval_end"] == ""]
    assert len(skipped) == 1 and skipped.iloc[0]["offered"] == 1  # kept, marked, not lost
    assert spring.rows["offered"].sum() == 3
    autumn = interval_table(data, "2026-11-01", 15)
    assert len(autumn.rows) == 100  # 25 hours x 4
    first = autumn.rows[autumn.rows["interval_start"] == "2026-11-01T01:30:00-04:00"].iloc[0]
    second = autumn.rows[autumn.rows["interval_start"] == "2026-11-01T01:30:00-05:00"].iloc[0]
    assert first["offered"] == 1 and second["offered"] == 0
    assert "repeated" in second["note"]


# -- team scorecards ----------------------------------------------------------------------------
def team_contacts():
    rows = []
    k = 0
    # fast: 60 contacts, AHT 120 s, resolves 30 (50 %); steady1/2: 60 each, AHT 300 s, 54 (90 %)
    for agent, talk, resolved in (("fast", 120, 30), ("steady1", 300, 54), ("steady2", 300, 54)):
        for j in range(60):
            k += 1
            rows.append(contact(f"t{k:03d}", f"2026-03-0{2 + j % 5}T{9 + j % 8:02d}:{j % 60:02d}:00",
                                wait=5, agent=agent, talk=talk, resolved=j < resolved,
                                customer=f"{SECRET}{k:03d}", issue=f"i{k}"))
    for j in range(10):  # newbie: 10 contacts only, below the minimum sample of 30
        k += 1
        rows.append(contact(f"t{k:03d}", f"2026-03-03T1{j % 8}:30:00", wait=5, agent="newbie",
                            talk=60, resolved=False, customer=f"{SECRET}{k:03d}", issue=f"i{k}"))
    # other team: one agent
    for j in range(40):
        k += 1
        rows.append(contact(f"t{k:03d}", f"2026-03-04T1{j % 8}:1{j % 6}:00", wait=5, agent="other",
                            talk=200, customer=f"{SECRET}{k:03d}", issue=f"i{k}"))
    # a repeat: the fast agent's first customer calls back a day later on the same issue
    rows.append(contact("r001", "2026-03-03T09:00:00", wait=5, agent="steady1", talk=100,
                        customer=f"{SECRET}001", issue="i1"))
    return rows


@pytest.fixture(scope="module")
def team_folder(tmp_path_factory):
    contacts = team_contacts()
    agents = [{"agent_id": a, "team": "Blue" if a != "other" else "Green"}
              for a in ("fast", "steady1", "steady2", "newbie", "other")]
    surveys = [{"interaction_id": "t001", "responded_at": "2026-03-02T12:00:00", "csat": 2, "nps": 3,
                "ces": 5},
               {"interaction_id": "t061", "responded_at": "2026-03-02T12:00:00", "csat": 5, "nps": 10,
                "ces": 1}]
    return write_data(tmp_path_factory.mktemp("team"), interactions=contacts, agents=agents,
                      surveys=surveys)


def test_two_proportion_test_and_bh_by_hand():
    # 30/60 vs 108/120: pooled 138/180 = 0.7667; var 0.7667 x 0.2333 x (1/60 + 1/120) = 0.004472;
    # z = -0.4 / 0.06687 = -5.98; two-sided p = erfc(5.98 / sqrt 2) = 2.2e-9
    assert two_proportion_p(30, 60, 108, 120) == pytest.approx(2.213e-9, rel=1e-3)
    assert two_proportion_p(5, 10, 5, 10) == pytest.approx(1.0)
    assert two_proportion_p(0, 0, 1, 2) is None
    # BH, q = 0.05, m = 4: sorted 0.001 <= 0.0125, 0.02 <= 0.025, 0.03 > 0.0375? no: 0.03 <= 0.0375,
    # 0.5 > 0.05 -> the three smallest are discoveries
    assert benjamini_hochberg([0.03, 0.5, 0.001, 0.02]) == [True, False, True, True]
    assert benjamini_hochberg([0.04, 0.04, 0.04, 0.9]) == [False, False, False, False]


def test_team_scorecard_flags_the_aht_trap_on_the_fast_agent(team_folder):
    data = kpitools.load(team_folder)
    report = team_report(data, "2026-W10")
    blue = next(c for c in report.cards if c.team == "Blue")
    trap = [f for f in blue.flags if f.kind == "trap"]
    assert [f.agent_id for f in trap] == ["fast"]
    # peers' AHT: (60 x 300 + 100 + 60 x 300 + 10 x 60) / 131 = 36700 / 131 = 280.2 s;
    # 120 / 280.2 = 0.43 -> 57 % below
    assert trap[0].text.startswith("AHT 57 % below peers")
    fcr_worse = [f for f in blue.flags if f.kind == "worse" and f.kpi == "fcr"]
    assert [f.agent_id for f in fcr_worse] == ["fast"]
    assert not [f for f in blue.flags if f.agent_id == "newbie"]  # n = 10 < 30: never flagged
    newbie = blue.agents[blue.agents["agent_id"] == "newbie"].iloc[0]
    assert newbie["fcr"]["value"] == 0.0 and newbie["fcr"]["n"] == 10


def test_team_scorecard_values_equal_kpis_by_agent_id(team_folder, capsys):
    data = kpitools.load(team_folder)
    report = team_report(data, "2026-W10")
    assert main(["kpis", "--data", str(team_folder), "--period", "2026-W10", "--by", "agent_id",
                 "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    want = {(r["agent_id"], r["kpi"]): r["value"] for r in records}
    compared = 0
    for card in report.cards:
        for row in card.agents.to_dict("records"):
            for kpi in ("handled", "aht", "talk_time", "fcr", "repeat_contact_rate", "transfer_rate",
                        "csat", "nps"):
                got, expected = row[kpi]["value"], want[(row["agent_id"], kpi)]
                assert (expected is None and math.isnan(got)) or got == pytest.approx(expected)
                compared += 1
    assert compared == 5 * 8
    fast = next(c for c in report.cards if c.team == "Blue").agents.set_index("agent_id").loc["fast"]
    assert fast["aht"]["value"] == 120 and fast["fcr"]["value"] == 0.5  # by construction
    assert fast["repeat_contact_rate"]["value"] == pytest.approx(1 / 60)  # t001 -> r001


def test_team_option_and_pseudonyms(team_folder):
    data = kpitools.load(team_folder)
    report = team_report(data, "2026-W10", team="Green", pseudonyms=True)
    assert [c.team for c in report.cards] == ["Green"]
    shown = report.cards[0].agents["display"].iloc[0]
    assert shown.startswith("Agent ") and "other" not in shown
    assert shown == team_report(data, "2026-W10", team="Green", pseudonyms=True).cards[0].agents[
        "display"].iloc[0]  # stable


# -- exception lists ----------------------------------------------------------------------------
def test_exception_lists_add_up_to_the_kpis(team_folder, interval_data):
    data = kpitools.load(team_folder)
    period = Period.parse("2026-W10")
    repeats = exception_rows(data, period, "repeats")
    kpis = kpitools.kpis(data, period).set_index("kpi")
    # chains = the repeat-rate numerator (t001 only); the chain is t001 then r001
    assert repeats["position"].eq(0).sum() == kpis.loc["repeat_contact_rate", "numerator"] == 1
    assert repeats["interaction_id"].tolist() == ["t001", "r001"]
    low = exception_rows(data, period, "low-survey")
    assert low["interaction_id"].tolist() == ["t001"]  # csat 2, nps 3; t061 scored 5 / 10
    assert low.iloc[0]["agent_id"] == "fast" and low.iloc[0]["queue"] == "billing"
    text = to_csv(low, "low-survey", period)
    assert text.splitlines()[0].startswith("# kpitools exceptions low-survey 2026-W10")
    assert "CUSTOMER IDS" in text.splitlines()[0] and SECRET in text
    day = Period.parse("2026-03-02")
    abandoned = exception_rows(interval_data, day, "abandoned")
    assert abandoned["interaction_id"].tolist() == ["v4"]  # v3 was a short abandon
    waited = exception_rows(interval_data, day, "waited", minutes=30)
    # worst intervals below the 80 % target: 09:00 (SL 1/3); v2 waited 30 s > 20 s there
    assert waited["interaction_id"].tolist() == ["v2"]
    assert waited.iloc[0]["interval_service_level"] == pytest.approx(1 / 3)


# -- rendering and the command line ---------------------------------------------------------------
def _pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_rendered_views_show_no_customer_ids(tmp_path, interval_data, team_folder, capsys):
    out = tmp_path / "reports"
    assert main(["report", "interval", "--data", str(interval_data.path), "--period", "2026-03-02",
                 "--out", str(out)]) == 0
    assert main(["report", "team", "--data", str(team_folder), "--period", "2026-W10",
                 "--out", str(out), "--team", "Blue"]) == 0
    printed = capsys.readouterr().out.split()
    pages = [p for p in printed if p.endswith((".html", ".pdf"))]
    assert len(pages) == 4
    for path in pages:
        text = _pdf_text(path) if path.endswith(".pdf") else open(path, encoding="utf-8").read()
        assert SECRET not in text, path
    interval_pdf = _pdf_text(next(p for p in pages if "interval" in p and p.endswith(".pdf")))
    assert "33.3 %" in interval_pdf  # the 09:00 service level, 1 / 3
    team_pdf = _pdf_text(next(p for p in pages if "team" in p and p.endswith(".pdf")))
    assert "50.0 %" in team_pdf and "trap" in team_pdf  # the fast agent's FCR and flag
    csvs = [p for p in printed if "exceptions-" in p]
    assert len(csvs) == 4 and all(open(p).readline().startswith("# kpitools exceptions") for p in csvs)


@pytest.mark.parametrize("argv, message", [
    (["report", "interval", "--period", "2026-03-02", "--minutes", "20"], "--minutes must be one of 15, 30, 60"),
    (["report", "interval", "--period", "2026-03"], "covers a day (2026-03-02) or a week"),
    (["report", "interval", "--period", "2026-03-02", "--queue", "nope"], "'nope' is not a queue"),
    (["report", "interval", "--period", "2026-03-02", "--format", "docx"], "use html, pdf"),
    (["report", "team", "--period", "2026-W10", "--team", "Purple"], "'Purple' is not a team"),
    (["report", "team", "--period", "2026-W10", "--minutes", "15"], "--minutes: not an option of report team"),
    (["report", "weekly", "--period", "2026-W10", "--queue", "billing"], "--queue: only for report interval"),
    (["exceptions", "--period", "2026-W99", "--kind", "waited"], "is not a real week"),
    (["exceptions", "--period", "2026-W10", "--kind", "waited", "--channel", "fax"], "'fax' is not a channel"),
])
def test_cli_errors_name_the_bad_option(team_folder, argv, message, capsys, tmp_path):
    code = main([*argv, "--data", str(team_folder), *(["--out", str(tmp_path / "o")]
                                                       if argv[0] == "report" else [])])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_exceptions_command_writes_csv_with_header(team_folder, tmp_path, capsys):
    out = tmp_path / "low.csv"
    assert main(["exceptions", "--data", str(team_folder), "--period", "2026-W10",
                 "--kind", "low-survey", "--out", str(out)]) == 0
    frame = pd.read_csv(out, comment="#")
    assert frame["interaction_id"].tolist() == ["t001"]
