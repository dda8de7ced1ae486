"""Review building blocks without a kernel: commentary, comparisons, guardrail, triggers,
observations, heat map. Expected values are worked out by hand in the comments."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from conftest import contact, write_data

import kpitools
from kpitools import explore
from kpitools.cli import main
from kpitools.errors import DataError
from kpitools.formatting import fmt_change, fmt_value
from kpitools.review import CADENCES, comparison, open_review, parse_commentary, render_markdown
from kpitools.review.changes import is_material, materiality
from kpitools.review.commentary import STUB_MARKER, stub_text, write_stub
from kpitools.review.heat import heat_frame
from kpitools.review.observations import change_sentence, contributions
from kpitools.review.triggers import by_rule

WEEKLY = CADENCES["weekly"]


# -- commentary --------------------------------------------------------------------------
def test_commentary_parts_go_to_their_sections():
    text = ("# Executive summary\nCalm week.\n\n## Detail\nMore.\n\n"
            "# action triggers:\nCallbacks start Monday.\n")
    c = parse_commentary(text, WEEKLY)
    assert c.parts["executive_summary"] == "Calm week.\n\n## Detail\nMore."
    assert c.parts["triggers"] == "Callbacks start Monday."
    assert c.reviewed and not c.stub


@pytest.mark.parametrize("text, fragment", [
    ("# Executive sumary\nx", "line 1: heading 'Executive sumary' names no section"),
    ("# Staffing (Erlang C)\nx", "names a section the weekly review does not have"),
    ("Intro line\n# Scorecard\nx", "line 1: text before the first heading"),
    ("# Scorecard\na\n# Scorecard\nb", "line 3: heading 'Scorecard' appears twice"),
])
def test_commentary_problems_name_the_line(text, fragment):
    with pytest.raises(DataError) as err:
        parse_commentary(text, WEEKLY, "commentary/2026-W10.md")
    assert fragment in str(err.value)
    assert "commentary/2026-W10.md" in str(err.value)


def test_heading_inside_a_code_fence_is_text():
    c = parse_commentary("# Scorecard\n```\n# not a heading\n```\n", WEEKLY)
    assert "# not a heading" in c.parts["scorecard"]


def test_stub_marker_keeps_the_review_a_draft():
    c = parse_commentary(f"{STUB_MARKER} edit me -->\n# Scorecard\nAuto text.\n", WEEKLY)
    assert c.stub and not c.reviewed
    assert c.parts["scorecard"] == "Auto text."


def test_markdown_is_escaped_and_loads_nothing():
    html = render_markdown('<script>alert(1)</script> **bold** ![x](https://example.com/a.png) '
                           '[link](javascript:alert(1))\n\n## Sub')
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<strong>bold</strong>" in html
    assert "<img" not in html
    assert 'href="javascript' not in html
    assert "<h5>Sub</h5>" in html  # ## moves below the section's h2/h3


# -- a two-week data set where billing trades resolution for speed -----------------------
def _week(start: str, queue: str, n: int, talk: float, resolved: int, first_id: int) -> list[dict]:
    day0 = pd.Timestamp(start)
    rows = []
    for i in range(n):
        t = day0 + pd.Timedelta(days=i % 7, hours=9 + i % 8, minutes=i % 50)
        rows.append(contact(f"{queue}-{first_id + i}", t.isoformat(), wait=10, queue=queue,
                            customer=f"{queue}-c{first_id + i}", talk=talk, resolved=i < resolved))
    return rows


@pytest.fixture(scope="module")
def trap_data(tmp_path_factory):
    """W09 (23 Feb–1 Mar 2026): both queues 100 contacts, talk 400 s, 80 resolved.
    W10 (2–8 Mar): billing talk 250 s with 50 resolved; sales unchanged."""
    rows = (_week("2026-02-23", "billing", 100, 400, 80, 0) + _week("2026-02-23", "sales", 100, 400, 80, 0)
            + _week("2026-03-02", "billing", 100, 250, 50, 1000) + _week("2026-03-02", "sales", 100, 400, 80, 1000))
    folder = write_data(tmp_path_factory.mktemp("trap"), interactions=rows)
    return open_review("weekly", period="2026-W10", data_dir=str(folder), run_gate=False)


def test_comparison_agrees_with_kpitools_compare(trap_data, capsys):
    """The review's context, the CLI (kpis --compare), explore and kpitools.compare give the
    same changes, intervals and significance for the same periods."""
    ctx = trap_data
    for against, other in (("previous", ctx.previous), ("last_year", ctx.last_year)):
        mine = comparison(ctx.totals, ctx.period, other, ctx.coverage).set_index("kpi")
        theirs = kpitools.compare(ctx.data, ctx.label, against=against).set_index("kpi")
        notebook = explore.compare_periods(ctx.data, ctx.label, against).set_index("kpi")
        assert main(["kpis", "--data", str(ctx.data_dir), "--period", ctx.label, "--compare",
                     against, "--format", "json"]) == 0
        cli = pd.DataFrame(json.loads(capsys.readouterr().out)).set_index("kpi")
        assert against == "last_year" or theirs["significant"].notna().any()
        for kpi in theirs.index:
            for col in ("value", "compare_value", "change", "change_low", "change_high",
                        "significant"):
                b = theirs.loc[kpi, col]
                for a in (mine.loc[kpi, col], notebook.loc[kpi, col], cli.loc[kpi, col]):
                    assert (pd.isna(a) and pd.isna(b)) or a == pytest.approx(b), (against, kpi, col)
            if against == "previous":
                a, b = mine.loc[kpi, "change_note"], theirs.loc[kpi, "change_note"]
                assert (pd.isna(a) and pd.isna(b)) or a == b, kpi
            else:  # 2025-W10 is outside the data: said plainly
                assert pd.isna(mine.loc[kpi, "change"])
                assert mine.loc[kpi, "change_note"] == "no data for 2025-W10"


def test_fcr_fall_is_attributed_to_billing(trap_data):
    ctx = trap_data
    # R0 = 160/200 = 0.80. billing: (50 − 0.8·100)/200 − (80 − 0.8·100)/200 = −0.15; sales: 0.
    parts = contributions(ctx, "fcr")
    assert parts["billing"] == pytest.approx(-0.15)
    assert parts["sales"] == pytest.approx(0.0)
    row = ctx.row("fcr")
    assert row["change"] == pytest.approx(parts.sum())
    assert change_sentence(ctx, row) == (
        "First contact resolution fell 15.0 pts to 65.0 % against the previous week, below the "
        "75.0 % target (critical); billing contributed most (\u221215.0 pts).")


def test_guardrail_fires_when_aht_falls_and_fcr_falls(trap_data):
    g = trap_data.guardrail
    # AHT 400 → 325 s (−75 s ≥ 45 s, half of 6:00…7:30); FCR 80 % → 65 % (z = −3.36).
    assert g.fired
    scopes = {(f.scope, f.against) for f in g.findings}
    assert ("All contacts", "the previous week") in scopes
    assert ("billing", "the previous week") in scopes
    assert all(f.scope != "sales" for f in g.findings)
    total = next(f for f in g.findings if f.scope == "All contacts")
    assert total.efficiency["change"] == pytest.approx(-75.0)
    assert [w["kpi"] for w in total.worse] == ["fcr"]


def test_triggers_fire_on_total_and_in_the_queue(trap_data):
    outcomes = {o.trigger.id: o for o in by_rule(trap_data.triggers)}
    fcr = outcomes["fcr_low"]
    assert fcr.total.status == "fired" and fcr.total.observed == pytest.approx(0.65)
    # billing 50 % fires, sales 80 % does not; every contact is voice, so voice is the total (65 %)
    assert [r.scope for r in fcr.elsewhere] == ["Queue billing", "Channel voice"]
    assert outcomes["abandonment_high"].total.status == "ok"  # nothing abandoned
    assert outcomes["csat_mean_low"].total.status == "not evaluated"  # no surveys table


def test_no_guardrail_when_both_improve(tmp_path):
    rows = (_week("2026-02-23", "billing", 100, 400, 60, 0)
            + _week("2026-03-02", "billing", 100, 250, 90, 1000))
    ctx = open_review("weekly", period="2026-W10", data_dir=str(write_data(tmp_path / "d", interactions=rows)),
                      run_gate=False)
    assert not ctx.guardrail.fired
    assert ctx.observations["guardrail"] == [
        "Handle time did not improve at the expense of FCR, CSAT or repeat contacts."]


@pytest.mark.parametrize("row, expected", [
    # FCR: half of 0.75 − 0.70 = 0.025; 2 pts (significant on 10,000 contacts) is not material
    ({"unit": "fraction", "direction": "higher", "warning": 0.75, "critical": 0.70, "change": -0.02,
      "significant": True}, False),
    # 10 pts is material, but not significant (e.g. 14/20 vs 16/20; see test_stats_compare)
    ({"unit": "fraction", "direction": "higher", "warning": 0.75, "critical": 0.70, "change": -0.10,
      "significant": False}, False),
    ({"unit": "fraction", "direction": "higher", "warning": 0.75, "critical": 0.70, "change": -0.10,
      "significant": True}, True),
    # no thresholds: 10 % of the earlier value
    ({"unit": "count", "direction": "none", "warning": None, "critical": None, "change": 99,
      "compare_value": 1000}, False),
    ({"unit": "count", "direction": "none", "warning": None, "critical": None, "change": 100,
      "compare_value": 1000}, True),
])
def test_material_changes(row, expected):
    assert is_material(row) is expected


def test_materiality_by_hand():
    assert materiality("higher", 0.75, 0.70) == pytest.approx(0.025)
    assert materiality("band", [0.75, 0.85], [0.65, 0.90]) == pytest.approx(0.025)


def test_heat_frame_by_hand(tmp_path):
    rows = [
        contact("a", "2026-03-02T09:05:00", wait=5),                     # Monday 09h, within 20 s
        contact("b", "2026-03-02T09:40:00", wait=20),                    # at the threshold: within
        contact("c", "2026-03-02T09:50:00", wait=30, outcome="abandoned"),  # not short (≥ 5 s)
        contact("d", "2026-03-03T14:10:00", wait=40),                    # Tuesday 14h, late
    ]
    data = kpitools.load(write_data(tmp_path / "h", interactions=rows))
    h = heat_frame(data, kpitools.Period.parse("2026-W10")).set_index(["weekday", "hour", "kpi"])["value"]
    assert h[(1, 9, "contact_volume")] == 3
    assert h[(1, 9, "service_level")] == pytest.approx(2 / 3)
    assert h[(1, 9, "abandonment_rate")] == pytest.approx(1 / 3)
    assert h[(2, 14, "service_level")] == 0.0
    assert h[(2, 14, "abandonment_rate")] == 0.0


def test_stub_holds_the_observations_and_never_overwrites(trap_data, tmp_path):
    ctx = trap_data
    path = write_stub(ctx, tmp_path)
    text = path.read_text("utf-8")
    assert path.name == "2026-W10.md" and text.startswith(STUB_MARKER)
    assert "# Executive summary" in text
    assert change_sentence(ctx, ctx.row("fcr")) in text
    assert text == stub_text(ctx)
    parsed = parse_commentary(text, WEEKLY)  # the stub is a valid commentary file …
    assert parsed.stub and not parsed.reviewed  # … that keeps the review a draft
    with pytest.raises(DataError, match="already exists"):
        write_stub(ctx, tmp_path)


def test_values_in_sentences_use_the_shared_formatter(trap_data):
    row = trap_data.row("aht")
    assert fmt_value(row["value"], "seconds") == "5:25"  # 325 s
    assert fmt_change(row["change"], "seconds") == "\u22121:15"
    assert not math.isnan(row["value"])


# -- other people's data: only the required table, a few weeks, partial periods ----------
@pytest.fixture(scope="module")
def interactions_only(tmp_path_factory):
    from kpitools.demo import generate_demo_data

    folder = tmp_path_factory.mktemp("thin")
    generate_demo_data(folder, weeks=3, contacts_per_week=150, fmt="csv")  # 2024-11-04 .. 11-24
    for p in folder.iterdir():
        if p.name != "interactions.csv":
            p.unlink()
    return folder


@pytest.mark.parametrize("cadence, period", [("weekly", ""), ("monthly", "2024-11"), ("quarterly", "2024-Q4")])
def test_every_section_renders_on_interactions_only(interactions_only, cadence, period):
    from kpitools.review import render_all

    ctx = open_review(cadence, period=period, data_dir=str(interactions_only), run_gate=False)
    html = render_all(ctx)
    for title in CADENCES[cadence].section_titles():
        assert f"<h2>{title.replace('&', '&amp;')}</h2>" in html
    assert "needs the surveys table" in html  # CSAT and friends: unavailable, said why
    if cadence == "weekly":
        assert ctx.label == "2024-W47" and not ctx.partial  # latest complete week
    else:
        assert ctx.partial and f"Partial {CADENCES[cadence].grain}" in html
        assert "Not drawn, no values: " in html and "Cost per contact" in html


def test_no_complete_period_asks_for_one(interactions_only):
    with pytest.raises(kpitools.PeriodError, match="covers no complete month; pass --period"):
        open_review("monthly", data_dir=str(interactions_only), run_gate=False)


def test_templates_fall_back_to_a_generated_demo_set(tmp_path, monkeypatch):
    """Run from a checkout without data/demo, the templates' default parameters still work."""
    from kpitools.review import context

    monkeypatch.setattr(context, "project_root", lambda: tmp_path)
    monkeypatch.chdir(tmp_path)
    folder, note = context.resolve_data_dir("data/demo")
    assert (folder / "interactions.parquet").is_file()
    assert "small generated demo data set" in note
    ctx = open_review("weekly", data_dir="data/demo", run_gate=False)
    assert ctx.data_note == note and ctx.data_dir == folder
    with pytest.raises(DataError, match="data folder elsewhere does not exist"):
        context.resolve_data_dir("elsewhere")


def test_issue_types_with_odd_names_and_too_many_for_a_chart(tmp_path):
    from kpitools.review import section_issue_types

    names = [f"type_{k}$cost" for k in range(29)] + ["<b>bold</b> & co"]
    rows = [contact(f"i{k}-{j}", f"2026-03-0{2 + j}T10:0{j}:00", wait=5, issue=name, customer=f"c{k}{j}")
            for k, name in enumerate(names) for j in range(k % 3 + 1)]
    ctx = open_review("weekly", period="2026-W10", data_dir=str(write_data(tmp_path / "d", interactions=rows)),
                      run_gate=False)
    html = str(section_issue_types(ctx))
    assert "The 20 issue types with the most handled contacts, of 30." in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html and "<b>bold</b>" not in html
    # the table is bounded (issue 14): the 12 types with the most handled contacts, then one
    # pooled row for the other 18
    assert html.count('<tr><td class="kpi">') == 12
    assert "All other 18 issue types" in html
