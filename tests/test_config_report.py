"""One real review (papermill + nbconvert) for a center in America/New_York with a
kpitools.yaml: local weeks across the DST change, an accepted data-quality defect lowered by
the configuration, a definitions preset and an extra KPI, all visible in the review."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from review_helpers import run

WEEK = "2026-W11"  # Mon 9 - Sun 15 March 2026; US DST started Sun 8 March 02:00
REASON = "Overflow calls lose their agent id in the PBX export (ticket OPS-12)."
CONFIG = {
    "timezone": "America/New_York",
    "definitions": "cisco",
    "currency": {"code": "USD", "symbol": "$"},
    "quality": [{"check": "handled_inbound_has_agent", "severity": "warning", "reason": REASON}],
    "measures": {"long_holds": {"source": "interactions", "when": "is_handled AND hold_s > 60",
                                "description": "handled contacts held over a minute"}},
    "kpis": [{"id": "long_hold_rate", "label": "Long-hold rate",
              "description": "Handled contacts held more than 60 s.",
              "numerator": {"long_holds": 1}, "denominator": {"handled": 1},
              "unit": "fraction", "direction": "lower", "target": 0.1}],
}


@pytest.fixture(scope="module")
def center(tmp_path_factory):
    """Demo data whose contact times are written as UTC instants of New York wall-clock times,
    with three served inbound calls missing their agent id in the review week."""
    from kpitools.demo import generate_demo_data

    root = tmp_path_factory.mktemp("ny")
    data = root / "data"
    generate_demo_data(data, start=dt.date(2026, 2, 16), weeks=5, contacts_per_week=400)
    frame = pd.read_parquet(data / "interactions.parquet")
    local = frame.copy()
    for col in ("arrived_at", "answered_at", "ended_at"):
        frame[col] = frame[col].dt.tz_localize("America/New_York", ambiguous="NaT",
                                               nonexistent="shift_forward").dt.tz_convert("UTC")
    week = (local["arrived_at"] >= "2026-03-09") & (local["arrived_at"] < "2026-03-16")
    served = week & (local["outcome"] == "handled") & (local["direction"] == "inbound")
    frame.loc[frame.index[served][:3], "agent_id"] = None
    frame.to_parquet(data / "interactions.parquet", index=False)
    (data / "kpitools.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False), encoding="utf-8")
    # Independent counts: New York wall clock (what the review must use) and UTC days.
    utc_day = frame["arrived_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    counts = {"local": int(week.sum()),
              "utc": int(((utc_day >= "2026-03-09") & (utc_day < "2026-03-16")).sum())}
    proc = run(["report", "weekly", "--data", str(data), "--out", str(root / "reports"),
                "--period", WEEK, "--format", "html"])
    assert proc.returncode == 0, proc.stderr
    paths = [Path(p) for p in proc.stdout.split()]
    return {"data": data, "paths": paths, "counts": counts,
            "html": next(p for p in paths if p.suffix == ".html").read_text("utf-8"),
            "validation": json.loads(next(p for p in paths if p.name == "validation.json").read_text())}


def test_review_weeks_are_new_york_weeks(center):
    local, utc = center["counts"]["local"], center["counts"]["utc"]
    assert local != utc  # contacts near midnight fall in another week in UTC
    html = center["html"]
    summary = html[html.index('id="executive_summary"'):html.index('id="scorecard"')]
    row = summary[summary.index('<td class="kpi">Contact volume'):][:300]
    assert f'<td class="num">{local:,}</td>' in row and "America/New_York" in html
    got = run(["kpis", "--data", str(center["data"]), "--period", WEEK, "--kpi", "contact_volume",
               "--format", "json"])
    assert json.loads(got.stdout)[0]["value"] == local


def test_review_shows_the_accepted_defect_and_its_reason(center):
    v = center["validation"]
    rec = next(r for r in v["results"] if r["check"] == "handled_inbound_has_agent")
    assert v["ok"] and rec["success"] is False and rec["unexpected_count"] == 3
    assert rec["override"]["original_severity"] == "critical" and rec["override"]["reason"] == REASON
    html = center["html"]
    assert "Accepted by kpitools.yaml" in html and "ticket OPS-12" in html
    assert "lowered from critical by kpitools.yaml" in html


def test_appendix_prints_the_configuration_in_force(center):
    html = center["html"]
    appendix = html[html.index('id="appendix"'):]
    assert "Configuration in force (kpitools.yaml)" in appendix
    assert "preset cisco: service_level ignore_within; abandonment_rate exclude_short" in appendix
    assert "USD $" in appendix and "Long-hold rate" in appendix
    assert str(center["data"]) not in html  # file names, never local paths
    assert "[ignore_within]" in html[html.index('id="scorecard"'):html.index('id="trends"')]
