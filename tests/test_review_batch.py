"""Backfill (issue 9): `kpitools report weekly --from --to` builds 8 weekly reviews (HTML only,
on a small generated data set), a second run skips all 8, changing one week's commentary
rebuilds only that week; reports/index.html lists them; each review's tables (CSV and xlsx)
hold the same values as `kpitools kpis --format json`.

Nine real renders in all (papermill, nbconvert), run once for the module.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from review_helpers import KPITOOLS, locked, run, shared_root

from kpitools.periods import Period

FIRST, LAST = "2024-W46", "2025-W01"
WEEKS = [Period.parse(FIRST).shift(k).label for k in range(8)]  # W46 .. W52, 2025-W01
NOTED, CHANGED = WEEKS[2], WEEKS[5]  # 2024-W48 has commentary from the start; W51 gets some later
BATCH = ["report", "weekly", "--from", FIRST, "--to", LAST, "--data", "data", "--out", "reports",
         "--format", "html"]


def links(parent: Path) -> dict[str, str]:
    return {w: str((parent / w).resolve()) for w in WEEKS}


def _result(proc) -> dict:
    return {"returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}


def _three_runs(root: Path) -> dict:
    """Three batch runs from one project folder (relative --data/--out: resolved against it)."""
    from kpitools.demo import generate_demo_data

    generate_demo_data(root / "data", weeks=10, contacts_per_week=150)  # 2024-11-04 .. 2025-01-12
    notes = root / "commentary"
    notes.mkdir()
    (notes / f"{NOTED}.md").write_text("# Executive summary\nPeak week handled well.\n")
    parent = root / "reports" / "weekly"
    first = run(BATCH, cwd=root)
    after_first = links(parent) if parent.is_dir() else {}
    index_path = root / "reports" / "index.html"
    index_first = index_path.read_text("utf-8") if index_path.is_file() else ""
    second = run(BATCH, cwd=root)
    after_second = links(parent)
    # an analyst writes this week's commentary; a PDF built earlier sits in its review
    (notes / f"{CHANGED}.md").write_text("# Action triggers\nQueue leads briefed.\n")
    fake_pdf = parent / CHANGED / f"weekly-{CHANGED}.pdf"
    fake_pdf.write_bytes(b"%PDF-1.7 a review rendered earlier")
    third = run(BATCH, cwd=root)
    return {"first": _result(first), "second": _result(second), "third": _result(third),
            "after_first": after_first, "after_second": after_second,
            "after_third": links(parent), "index_first": index_first}


@pytest.fixture(scope="module")
def backfill(tmp_path_factory) -> dict:
    """The three runs, once per session even across xdist workers (a file lock and a result
    file, as review_helpers.rendered: xdist_group does not group under pytest 9 here)."""
    shared = shared_root(tmp_path_factory)
    root = shared / "backfill"
    marker = shared / "backfill.json"
    with locked(shared / "backfill.lock"):
        if not marker.is_file():
            root.mkdir(exist_ok=True)
            marker.write_text(json.dumps(_three_runs(root)))
    info = json.loads(marker.read_text())
    for key in ("first", "second", "third"):
        info[key] = SimpleNamespace(**info[key])
    info["root"], info["parent"] = root, root / "reports" / "weekly"
    return info


def test_backfill_builds_eight_weeks(backfill):
    first = backfill["first"]
    assert first.returncode == 0, first.stderr[-3000:]
    assert "weekly: 8 built, 0 skipped, 0 failed" in first.stderr
    for k, week in enumerate(WEEKS, 1):
        assert re.search(rf"\[weekly\] {k}/8 {week} built in \d+\.\d s", first.stderr), week
        folder = backfill["parent"] / week
        assert folder.is_symlink() and (folder / f"weekly-{week}.html").is_file()
        assert f"{folder}/weekly-{week}.html" in first.stdout.splitlines()
    assert len(set(backfill["after_first"].values())) == 8


def test_second_run_skips_all_eight(backfill):
    second = backfill["second"]
    assert second.returncode == 0, second.stderr[-3000:]
    assert "weekly: 0 built, 8 skipped, 0 failed" in second.stderr
    assert second.stderr.count("skipped: unchanged since") == 8
    assert second.stdout == ""
    assert backfill["after_second"] == backfill["after_first"]  # no new version anywhere


def test_changed_commentary_rebuilds_only_that_week(backfill):
    third = backfill["third"]
    assert third.returncode == 0, third.stderr[-3000:]
    assert "weekly: 1 built, 7 skipped, 0 failed" in third.stderr
    changed = [w for w in WEEKS if backfill["after_third"][w] != backfill["after_second"][w]]
    assert changed == [CHANGED]
    folder = backfill["parent"] / CHANGED
    assert json.loads((folder / "summary.json").read_text())["draft"] is False
    # --format html never deletes the other format already there
    assert (folder / f"weekly-{CHANGED}.pdf").read_bytes() == b"%PDF-1.7 a review rendered earlier"
    assert json.loads((folder / "build.json").read_text())["carried_over"] == ["pdf"]


def test_every_review_file_is_readable_by_others(backfill):
    for week in WEEKS:
        for path in (backfill["parent"] / week).iterdir():
            assert path.stat().st_mode & 0o044 == 0o044, path


class IndexParser(HTMLParser):
    """Rows of each cadence table: the cells' text and the links in them."""

    def __init__(self):
        super().__init__()
        self.section, self.rows, self.scripts, self.refs = None, {}, 0, []
        self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h2":
            self.section = a.get("id")
        elif tag == "script":
            self.scripts += 1
        elif tag == "tr" and self.section:
            self._row = {"cells": [], "links": []}
        elif tag == "td" and self._row is not None:
            self._cell = []
        elif tag == "a" and self._row is not None:
            self._row["links"].append(a["href"])
        for key in ("src", "href"):
            if a.get(key):
                self.refs.append(a[key])

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row["cells"].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row["cells"]:
                self.rows.setdefault(self.section, []).append(self._row)
            self._row = None


def parse_index(text: str) -> IndexParser:
    p = IndexParser()
    p.feed(text)
    return p


def test_index_lists_every_review_newest_first(backfill):
    root = backfill["root"]
    first = parse_index(backfill["index_first"])
    assert [r["cells"][0] for r in first.rows["weekly"]] == WEEKS[::-1]
    index = parse_index((root / "reports" / "index.html").read_text("utf-8"))
    rows = {r["cells"][0]: r for r in index.rows["weekly"]}
    assert [r["cells"][0] for r in index.rows["weekly"]] == WEEKS[::-1]
    assert "monthly" not in index.rows and "quarterly" not in index.rows
    for week, row in rows.items():
        status = "final" if week in (NOTED, CHANGED) else "DRAFT"
        assert row["cells"][1] == status, (week, row["cells"])
        validation = json.loads((backfill["parent"] / week / "validation.json").read_text())
        assert row["cells"][2].startswith("passed") == validation["ok"]
        expected = [f"weekly/{week}/weekly-{week}.html", f"weekly/{week}/weekly-{week}.xlsx"]
        if week == CHANGED:
            expected.insert(1, f"weekly/{week}/weekly-{week}.pdf")
        assert row["links"] == expected
        for href in row["links"]:
            assert (root / "reports" / href).is_file()
    # offline: no scripts, nothing fetched from anywhere
    assert index.scripts == 0
    assert not [r for r in index.refs if re.match(r"(https?:)?//", r)]


def test_index_headline_kpis_match_the_reviews_summary(backfill):
    """Each row shows the review's own headline values (formatted) and their status."""
    from kpitools.formatting import fmt_value
    from kpitools.review.htmlkit import RAG_TEXT

    index = parse_index((backfill["root"] / "reports" / "index.html").read_text("utf-8"))
    row = next(r for r in index.rows["weekly"] if r["cells"][0] == WEEKS[3])
    truth = kpis_json(backfill["root"], WEEKS[3])
    sl = truth["service_level"]
    shown = f"{sl['label']}: {fmt_value(sl['value'], sl['unit'])} {RAG_TEXT[sl['status']]}"
    assert shown in row["cells"][3]


# -- tables as data ----------------------------------------------------------------------
def kpis_json(root: Path, week: str, by: str | None = None) -> dict:
    args = ["kpis", "--data", str(root / "data"), "--period", week, "--format", "json"]
    if by:
        args += ["--by", by]
    proc = run(args)
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    return {(r[by], r["kpi"]) if by else r["kpi"]: r for r in records}


def number(text: str):
    return None if text == "" else float(text)


def same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_scorecard_csv_and_xlsx_equal_kpis_json(backfill):
    from openpyxl import load_workbook

    week = WEEKS[3]
    folder = backfill["parent"] / week
    truth = kpis_json(backfill["root"], week)
    rows = read_csv(folder / f"weekly-{week}-scorecard.csv")
    assert [r["kpi"] for r in rows] == list(truth)  # every KPI, catalogue order
    for r in rows:
        t = truth[r["kpi"]]
        assert r["period"] == week and r["unit"] == t["unit"] and r["label"] == t["label"]
        for col in ("value", "numerator", "denominator", "n"):
            assert same(number(r[col]), t[col]), (r["kpi"], col, r[col], t[col])
        assert r["status"] == (t["status"] or "")
    book = load_workbook(folder / f"weekly-{week}.xlsx", read_only=True)
    assert {"scorecard", "queues", "channels", "issue_types", "heatmap", "triggers",
            "service_level_variants"} <= set(book.sheetnames)
    sheet = list(book["scorecard"].iter_rows(values_only=True))
    header = list(sheet[0])
    values = {row[header.index("kpi")]: row[header.index("value")] for row in sheet[1:]}
    assert values.keys() == truth.keys()
    for kid, v in values.items():
        assert same(v, truth[kid]["value"]), (kid, v, truth[kid]["value"])


def test_queue_breakdown_csv_is_complete_and_equals_kpis_by_queue(backfill):
    week = WEEKS[3]
    truth = kpis_json(backfill["root"], week, by="queue")
    rows = read_csv(backfill["parent"] / week / f"weekly-{week}-queues.csv")
    got = {(r["queue"], r["kpi"]): r for r in rows}
    assert got.keys() == truth.keys()  # every queue, every KPI
    for key, r in got.items():
        assert same(number(r["value"]), truth[key]["value"]), key
        assert same(number(r["n"]), truth[key]["n"]), key


def test_heatmap_csv_cells_add_up_to_the_weeks_volume(backfill):
    week = WEEKS[3]
    truth = kpis_json(backfill["root"], week)
    rows = read_csv(backfill["parent"] / week / f"weekly-{week}-heatmap.csv")
    volume = [r for r in rows if r["kpi"] == "contact_volume"]
    assert {r["weekday_name"] for r in volume} <= {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
    # every contact falls in exactly one weekday x hour cell
    assert sum(float(r["value"]) for r in volume) == truth["contact_volume"]["value"]


def test_two_concurrent_runs_for_one_week_both_end_well(backfill):
    """The second `kpitools report` for a week another run is building waits for its lock,
    then publishes on top of it; nothing is left behind."""
    root, week = backfill["root"], WEEKS[0]
    args = [*KPITOOLS, "report", "weekly", "--period", week, "--data", "data",
            "--out", "concurrent", "--format", "html"]
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "False"}
    env.pop("MPLBACKEND", None)
    first = subprocess.Popen(args, cwd=root, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    early = []
    for line in first.stderr:  # the first run holds the lock once it validates
        early.append(line)
        if "validating data" in line:
            break
    second = subprocess.Popen(args, cwd=root, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    out1, err1 = first.communicate(timeout=600)
    out2, err2 = second.communicate(timeout=600)
    assert first.returncode == 0, "".join(early) + err1
    assert second.returncode == 0, err2
    assert f"waiting for another kpitools run that is building weekly {week}" in err2
    parent = root / "concurrent" / "weekly"
    assert (parent / week / f"weekly-{week}.html").is_file()
    assert out1.splitlines()[0] == out2.splitlines()[0] == f"{parent / week}/weekly-{week}.html"
    versions = sorted(p.name for p in (parent / ".versions").iterdir())
    assert versions == [f"{week}-1", f"{week}-2", f"{week}.lock"]
    assert (parent / week).resolve().name == f"{week}-2"  # the second run's review is shown
    assert sorted(p.name for p in parent.iterdir()) == [".versions", week]
