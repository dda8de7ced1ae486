"""Gaps make periods partial, and the data's own columns are dimensions (issue 10, items 1, 5).

Days without contacts inside the data's span (a missing export) make every period containing
them partial, unless the center lists them as ``closed_days``. Extra columns of interactions
(segment, priority …) group KPIs like the built-in dimensions; every expected value is worked
out by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from conftest import contact, write_data

import kpitools
from kpitools.cli import main
from kpitools.errors import KpitoolsError, PeriodError
from kpitools.periods import Period, latest_complete, missing_days

GAP = dt.date(2026, 3, 4)  # Wednesday of 2026-W10


# -- gaps ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gap_folder(tmp_path_factory):
    # One handled contact a day, Monday 2026-02-23 (W09) to Sunday 2026-03-15 (W11), except
    # Wednesday 2026-03-04: W09 7 contacts, W10 6, W11 7.
    days = [dt.date(2026, 2, 23) + dt.timedelta(days=k) for k in range(21)]
    rows = [contact(f"c{k}", f"{d}T10:00:00", wait=5, customer=f"u{k}")
            for k, d in enumerate(days) if d != GAP]
    return write_data(tmp_path_factory.mktemp("gap"), interactions=rows)


def test_missing_days_lists_only_inner_empty_days():
    days = [dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 6)]
    assert missing_days(days) == (dt.date(2026, 3, 4), dt.date(2026, 3, 5))
    assert missing_days(days, closed_days=[dt.date(2026, 3, 5)]) == (dt.date(2026, 3, 4),)
    assert missing_days([]) == ()


def test_a_one_day_gap_makes_its_week_partial_and_not_the_neighbours(gap_folder):
    data = kpitools.load(gap_folder)
    assert data.coverage == (dt.date(2026, 2, 23), dt.date(2026, 3, 15))
    assert data.gaps == (GAP,)
    frame = kpitools.trend(data, "contact_volume", grain="week", periods=3, end="2026-W11")
    got = dict(zip(frame["period"], zip(frame["value"], frame["partial"], strict=True), strict=True))
    assert got == {"2026-W09": (7, False), "2026-W10": (6, True), "2026-W11": (7, False)}
    days = kpitools.trend(data, "contact_volume", grain="day", periods=3, end="2026-03-05")
    assert days["partial"].tolist() == [False, True, False]  # 03-03, the gap 03-04, 03-05


def test_compare_refuses_a_period_with_a_gap(gap_folder):
    data = kpitools.load(gap_folder)
    c = kpitools.compare(data, "2026-W11", kpis=["contact_volume"]).iloc[0]
    assert pd.isna(c["change"]) and c["change_note"] == "2026-W10 is partial"
    c = kpitools.compare(data, "2026-W10", kpis=["contact_volume"]).iloc[0]
    assert pd.isna(c["change"]) and c["change_note"] == "2026-W10 is partial"


def test_closed_days_exempt_a_legitimately_closed_day(gap_folder):
    data = kpitools.load(gap_folder, params={"closed_days": ["2026-03-04"]})
    assert data.gaps == ()
    c = kpitools.compare(data, "2026-W11", kpis=["contact_volume"]).iloc[0]
    assert not c["partial"] and not c["compare_partial"]
    assert c["change"] == 7 - 6


def test_bad_closed_day_is_named(gap_folder):
    data = kpitools.load(gap_folder, params={"closed_days": ["2026-02-30"]})
    with pytest.raises(PeriodError, match="closed_days: '2026-02-30' is not a date"):
        _ = data.gaps


def test_latest_complete_period_skips_periods_with_gaps():
    first, last = dt.date(2026, 2, 23), dt.date(2026, 3, 8)
    assert latest_complete(first, last, "week").label == "2026-W10"
    assert latest_complete(first, last, "week", gaps=(GAP,)).label == "2026-W09"
    assert not Period.parse("2026-W10").is_covered_by(first, last, (GAP,))
    assert Period.parse("2026-W09").is_covered_by(first, last, (GAP,))


def test_review_title_says_why_the_period_is_partial(gap_folder):
    from kpitools.review import sections
    from kpitools.review.context import open_review

    ctx = open_review("weekly", "2026-W10", str(gap_folder), run_gate=False)
    assert ctx.partial
    html = sections.section_title(ctx).html
    assert "Partial week" in html and "no contacts on 2026-03-04" in html


# -- the data's own dimensions ---------------------------------------------------------------
def dims_tables() -> dict[str, pd.DataFrame]:
    rows = [
        contact("c1", "2026-03-02T09:00:00", wait=10, talk=100, acw=20, queue="billing", customer="u1"),  # 120 s
        contact("c2", "2026-03-02T10:00:00", wait=40, talk=200, queue="billing", customer="u2"),  # 200 s, late
        contact("c3", "2026-03-03T09:00:00", wait=5, talk=300, queue="tech", customer="u3"),  # 300 s
        contact("c4", "2026-03-03T10:00:00", wait=30, outcome="abandoned", queue="tech", customer="u4"),
    ]
    frame = pd.DataFrame(rows)
    frame["segment"] = ["vip", "std", "vip", "std"]
    frame["priority"] = [1, 2, 2, 1]
    frame["Customer Name"] = ["A", "B", "C", "D"]  # not an identifier: not kept
    frame["value"] = ["x", "y", "x", "y"]          # kept, but a reserved name: not a dimension
    frame["Score"] = [1, 2, 3, 4]                  # clashes with qa.score: not a dimension
    return {
        "interactions": frame,
        "surveys": pd.DataFrame([{"interaction_id": "c1", "csat": 5}, {"interaction_id": "c2", "csat": 2},
                                 {"interaction_id": "c3", "csat": 4}]),
        "qa": pd.DataFrame([{"interaction_id": "c1", "score": 80}, {"interaction_id": "c3", "score": 100}]),
        "agent_activity": pd.DataFrame([{"agent_id": "a1", "date": "2026-03-02", "logged_in_s": 100,
                                         "handling_s": 50, "available_s": 50}]),
    }


@pytest.fixture(scope="module", params=["csv", "parquet"])
def dims_data(request, tmp_path_factory):
    return kpitools.load(write_data(tmp_path_factory.mktemp("dims"), request.param, **dims_tables()))


def _by(frame, *dims):
    return {(*(r[d] for d in dims), r["kpi"]): (None if pd.isna(r["value"]) else r["value"])
            for r in frame.to_dict("records")}


def test_extra_columns_are_kept_and_listed(dims_data):
    assert dims_data.extra_columns == ["segment", "priority", "value", "Score"]
    from kpitools.engine import dimensions

    dims = dimensions(dims_data)
    assert dims[:8] == ["queue", "channel", "agent_id", "team", "issue_type", "weekday", "hour",
                        "interval"]
    assert dims[8:] == ["segment", "priority"]


def test_kpis_by_an_extra_column(dims_data):
    frame = kpitools.kpis(dims_data, "2026-W10", by="segment",
                          kpis=["handled", "aht", "service_level", "abandonment_rate",
                                "csat_score", "quality_score", "occupancy"])
    got = _by(frame, "segment")
    # vip: c1 (120 s, 10 s wait) and c3 (300 s, 5 s); std: c2 (200 s, 40 s) and abandon c4 (30 s)
    assert got[("vip", "handled")] == 2 and got[("std", "handled")] == 1
    assert got[("vip", "aht")] == pytest.approx((120 + 300) / 2)
    assert got[("std", "aht")] == pytest.approx(200)
    assert got[("vip", "service_level")] == pytest.approx(2 / 2)
    assert got[("std", "service_level")] == pytest.approx(0 / 2)
    assert got[("std", "abandonment_rate")] == pytest.approx(1 / 2)
    # surveys and QA follow their contact's segment
    assert got[("vip", "csat_score")] == pytest.approx((5 + 4) / 2)
    assert got[("std", "csat_score")] == pytest.approx(2)
    assert got[("vip", "quality_score")] == pytest.approx((80 + 100) / 2)
    assert got[("std", "quality_score")] is None  # no evaluation: denominator 0
    occ = frame[frame["kpi"] == "occupancy"]
    assert occ["value"].isna().all()
    assert (occ["reason"] == "agent_activity cannot be broken down by segment").all()


def test_extra_column_with_a_built_in_dimension(dims_data):
    got = _by(kpitools.kpis(dims_data, "2026-W10", by=["queue", "segment"], kpis=["handled", "aht"]),
              "queue", "segment")
    assert got[("billing", "vip", "aht")] == pytest.approx(120)
    assert got[("billing", "std", "aht")] == pytest.approx(200)
    assert got[("tech", "vip", "aht")] == pytest.approx(300)
    assert got[("tech", "std", "handled")] == 0


def test_typed_extra_column_groups_by_its_values(dims_data):
    got = _by(kpitools.kpis(dims_data, "2026-W10", by="priority", kpis=["handled", "aht"]), "priority")
    keys = {str(k[0]) for k in got}  # CSV: text "1"/"2"; Parquet: integers 1/2
    assert keys == {"1", "2"}
    by_text = {(str(k[0]), k[1]): v for k, v in got.items()}
    assert by_text[("1", "aht")] == pytest.approx(120)           # c1 only (c4 abandoned)
    assert by_text[("2", "aht")] == pytest.approx((200 + 300) / 2)


def test_cli_json_has_a_key_per_extra_dimension(dims_data, capsys):
    args = ["kpis", "--data", str(dims_data.path), "--period", "2026-W10", "--by", "segment,queue",
            "--kpi", "handled", "--format", "json"]
    assert main(args) == 0
    recs = json.loads(capsys.readouterr().out)
    assert {(r["segment"], r["queue"]): r["value"] for r in recs} == {
        ("vip", "billing"): 1, ("std", "billing"): 1, ("vip", "tech"): 1, ("std", "tech"): 0}


@pytest.mark.parametrize("by, message", [
    ("region", "cannot group by 'region'; choose from queue, channel, agent_id, team, issue_type, "
               "weekday, hour, interval, segment, priority"),
    ("value", "cannot group by 'value': the interactions column has a name kpitools uses"),
    ("Score", "cannot group by 'Score': the interactions column has a name kpitools uses"),
    ("Customer Name", "cannot group by 'Customer Name'; choose from"),
    ('x"; DROP TABLE interactions; --', "cannot group by 'x\"; DROP TABLE interactions; --'"),
])
def test_unknown_or_unusable_dimensions_are_clear_errors(dims_data, capsys, by, message):
    with pytest.raises(KpitoolsError) as err:
        kpitools.kpis(dims_data, "2026-W10", by=[by])
    assert message in str(err.value)
    args = ["kpis", "--data", str(dims_data.path), "--period", "2026-W10", "--by", by]
    assert main(args) == 2
    out = capsys.readouterr()
    assert out.err.startswith("error: ") and "Traceback" not in out.err
    assert kpitools.kpis(dims_data, "2026-W10", kpis=["contact_volume"])["value"].iloc[0] == 4


def test_kpis_help_lists_every_dimension(capsys):
    with pytest.raises(SystemExit):
        main(["kpis", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for dim in ("queue", "channel", "agent_id", "team", "issue_type", "weekday", "hour",
                "interval", "any extra column of interactions"):
        assert dim in text


def test_cli_json_writes_time_valued_groups_as_iso_text(tmp_path, capsys):
    # --by interval (30-minute slots) and a Parquet timestamp column: ISO text, not a crash
    frame = pd.DataFrame([contact("c1", "2026-03-02T09:10:00", wait=5),
                          contact("c2", "2026-03-02T09:40:00", wait=5)])
    frame["opened"] = pd.to_datetime(["2026-03-01T08:00:00", "2026-03-01T08:00:00"])
    folder = write_data(tmp_path / "d", "parquet", interactions=frame)
    for by, want in [("interval", {"2026-03-02T09:00:00": 1, "2026-03-02T09:30:00": 1}),
                     ("opened", {"2026-03-01T08:00:00": 2})]:
        args = ["kpis", "--data", str(folder), "--period", "2026-W10", "--by", by,
                "--kpi", "handled", "--format", "json"]
        assert main(args) == 0
        assert {r[by]: r["value"] for r in json.loads(capsys.readouterr().out)} == want
