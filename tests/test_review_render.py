"""End-to-end reviews: real papermill, nbconvert and WeasyPrint on a small generated data set.

Each cadence is rendered once per session (see review_helpers); the tests read the PDF text
back and compare the headline numbers with ``kpitools kpis --format json``.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import psutil
import pytest
from review_helpers import (
    MONTH_PARTIAL,
    QUARTER,
    WEEK,
    PdfText,
    path_of,
    rendered,
    run,
    shared_root,
    small_data,
)

from kpitools.errors import RenderError
from kpitools.formatting import fmt_value
from kpitools.review import CADENCES
from kpitools.review.context import HEADLINE, HEADLINE_EXTRA
from kpitools.review.render import finish_workbook, render_review, start_workbook
from kpitools.review.tables import WORKBOOK_PENDING

CODE_MARKERS = ["Traceback", "In [", "Out[", "def ", "import ", "review.section", "open_review",
                "ctx)"]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return shared_root(tmp_path_factory)


@pytest.fixture(scope="module", params=["weekly", "monthly", "quarterly"])
def review(request, root):
    info = rendered(root, request.param)
    info["cadence"] = request.param
    info["pdf_text"] = PdfText(path_of(info, ".pdf"))
    info["html"] = path_of(info, ".html").read_text("utf-8")
    return info


def kpis_json(data: str, period: str) -> dict[str, dict]:
    proc = run(["kpis", "--data", data, "--period", period, "--format", "json"])
    assert proc.returncode == 0, proc.stderr
    return {r["kpi"]: r for r in json.loads(proc.stdout)}


def test_outputs_and_cli_contract(review, root):
    expected = {"weekly": WEEK, "monthly": MONTH_PARTIAL, "quarterly": QUARTER}[review["cadence"]]
    assert review["period"] == expected  # weekly and quarterly: latest complete period
    names = sorted(Path(p).name for p in review["paths"])
    stem = f"{review['cadence']}-{expected}"
    tables = {"scorecard", "service_level_variants", "queues", "channels", "issue_types",
              "heatmap", "triggers"}
    tables |= {"weekly": set(), "monthly": {"agents"},
               "quarterly": {"agents", "staffing_intervals", "staffing_profile"}}[review["cadence"]]
    assert names == sorted([f"{stem}.html", f"{stem}.pdf", f"{stem}.ipynb", f"{stem}.xlsx",
                            "validation.json", "summary.json",
                            *(f"{stem}-{t}.csv" for t in tables)])
    folder = Path(review["folder"])
    # the xlsx was written by a second process from tables the notebook left pending
    assert not (folder / WORKBOOK_PENDING).exists()
    for p in review["paths"]:  # stdout holds the paths and nothing else
        assert Path(p).is_file()
        assert Path(p).stat().st_mode & 0o044 == 0o044, p  # readable by group and others
    assert json.loads(Path(folder, "validation.json").read_text())["ok"] is True
    # the review is a symlink into .versions; nothing else is hidden next to it
    assert folder.is_symlink() and folder.is_dir()
    hidden = [p.name for p in folder.parent.iterdir() if p.name.startswith(".")]
    assert hidden == [".versions"]
    assert not [p.name for p in (folder.parent / ".versions").iterdir() if p.name.startswith(".")]
    assert "executing the notebook" in review["stderr"]  # progress goes to stderr
    # weekly commentary sits in <data>/commentary: still read, with a notice to move it
    moved = "notice: read commentary from the old place" in review["stderr"]
    assert moved == (review["cadence"] == "weekly")
    summary = json.loads(Path(folder, "summary.json").read_text())
    assert summary["period"] == expected and summary["draft"] == (review["cadence"] != "weekly")
    assert Path(root, "reports", "index.html").is_file()


def test_headline_values_equal_kpitools_kpis(review):
    period = review["period"]
    truth = kpis_json(review["data"], period)
    page_one = review["pdf_text"].pages[0]
    headline = HEADLINE + HEADLINE_EXTRA.get(review["cadence"], [])
    checked = 0
    for kid in headline:
        rec = truth[kid]
        if rec["value"] is None:
            continue
        shown = fmt_value(rec["value"], rec["unit"])
        assert shown in page_one, f"{kid}: {shown!r} not on page one"
        checked += 1
    assert checked >= 8
    assert f"{CADENCES[review['cadence']].title} — {period}" in page_one
    assert "Generated" in page_one and "Data coverage 2024-11-04 to 2025-12-28" in page_one


def test_small_samples_are_flagged_not_coloured(review):
    truth = kpis_json(review["data"], review["period"])
    small = [k for k in ("csat", "nps", "ces") if truth[k]["small_sample"] and truth[k]["value"] is not None]
    if review["cadence"] == "weekly":
        assert small, "the small weekly fixture should have survey KPIs below the minimum sample"
    page_one = review["pdf_text"].pages[0]
    assert ("n too small" in page_one) == bool(small)


def test_draft_only_without_reviewed_commentary(review):
    pages = review["pdf_text"].pages
    if review["cadence"] == "weekly":  # analyst commentary present
        assert not any("DRAFT" in p for p in pages)
    else:  # monthly: no file; quarterly: an unedited --stub file
        assert all("DRAFT" in p for p in pages), [k + 1 for k, p in enumerate(pages) if "DRAFT" not in p]


def test_commentary_appears_in_its_section(review):
    pdf = review["pdf_text"]
    if review["cadence"] == "weekly":
        summary = pdf.section("Executive summary")
        assert "Callbacks pilot starts Monday on the billing line." in summary
        assert "The billing team was briefed on the CSAT trigger." in pdf.section("Action triggers")
        assert "briefed on the CSAT trigger" not in summary
        assert "analyst commentary" in summary.lower()
        # the raw HTML in the file is shown as text, never run
        assert "&lt;script&gt;alert(&#x27;commentary must not run&#x27;)&lt;/script&gt;" in review["html"] \
            or "&lt;script&gt;alert('commentary must not run')&lt;/script&gt;" in review["html"]
    elif review["cadence"] == "quarterly":  # the --stub file, shown as such
        assert "commentary stub" in pdf.section("Executive summary").lower()
    else:
        assert "automatic observations" in pdf.section("Executive summary").lower()


def test_no_code_prompts_or_tracebacks(review):
    text = review["pdf_text"].text
    for marker in CODE_MARKERS:
        assert marker not in text, marker
    html_text = re.sub(r"<[^>]+>", " ", review["html"])
    for marker in CODE_MARKERS:
        assert marker not in html_text, marker
    assert "jp-InputArea-editor" not in review["html"]
    nb = nbformat.read(path_of(review, ".ipynb"), as_version=4)
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.scripts, self.images = [], 0, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "img":
            self.images.append(a)
        for key in ("src", "href", "data", "poster", "srcset"):
            if a.get(key):
                self.refs.append((tag, a[key]))


def test_html_loads_nothing_from_the_network(review):
    html = review["html"]
    parser = _Refs()
    parser.feed(html)
    assert parser.scripts == 0
    external = [(t, v[:60]) for t, v in parser.refs if re.match(r"(https?:)?//", v.strip())]
    assert external == []
    assert "@import" not in html and not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert parser.images, "charts are embedded images"
    for img in parser.images:
        assert img["src"].startswith("data:image/png;base64,")
        assert len(img.get("alt", "")) > 40  # a real description, not a placeholder


def test_pdf_structure(review):
    pdf = review["pdf_text"]
    n = len(pdf.pages)
    assert f"Page 1 of {n}" in pdf.pages[0] and f"Page {n} of {n}" in pdf.pages[-1]
    titles = [t for t, lvl, _ in pdf.bookmarks if lvl == 2]
    cad = CADENCES[review["cadence"]]
    assert titles == cad.section_titles()
    assert ("Line chart of Erlang C required agents" in review["html"]) == (review["cadence"] == "quarterly")
    assert ("Cost per handled contact" in pdf.text) == (review["cadence"] != "weekly")


def test_partial_period_is_flagged(review):
    if review["cadence"] != "monthly":
        return
    pdf = review["pdf_text"]
    assert "Partial month" in pdf.pages[0]
    assert f"{MONTH_PARTIAL} is partial" in pdf.section("Executive summary")


def test_trends_say_when_history_is_short(review):
    if review["cadence"] == "quarterly":  # 8 quarters wanted, 5 in the data (Q4 2024 .. Q3 2025)
        assert "holds 4 of the 8 quarters" in review["pdf_text"].section("Trends") or \
               "holds 5 of the 8 quarters" in review["pdf_text"].section("Trends")


# -- failures leave the previous review untouched --------------------------------------
def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _running_kernels() -> list[int]:
    """Jupyter kernels among this process's children that are still running (another test's
    exited subprocess may linger as a zombie, which is not running and has no command line)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "ipykernel" in " ".join(child.cmdline()):
                found.append(child.pid)
        except psutil.Error:  # exited meanwhile, or a zombie
            pass
    return found


def test_broken_template_keeps_the_previous_review(root, tmp_path):
    good = rendered(root, "weekly")
    # a copy of the good review in a folder of its own (other tests read the shared one)
    folder = tmp_path / "reports" / "weekly" / good["period"]
    shutil.copytree(good["folder"], folder)
    before = _digest(folder)
    templates = tmp_path / "templates"
    shutil.copytree(Path(__file__).parents[1] / "report_templates", templates)
    nb = nbformat.read(templates / "weekly.ipynb", as_version=4)
    k = next(i for i, c in enumerate(nb.cells) if "section_executive_summary" in c.source)
    nb.cells.insert(k + 1, nbformat.v4.new_code_cell('raise RuntimeError("deliberately broken section")'))
    nbformat.write(nb, templates / "weekly.ipynb")
    with pytest.raises(RenderError) as err:
        render_review("weekly", period=good["period"], data_dir=good["data"], out_root=folder.parents[1],
                      template_dir=templates, progress=False)
    message = str(err.value)
    assert "deliberately broken section" in message and "Traceback" not in message
    assert len(message.splitlines()) <= 2
    assert _digest(folder) == before
    listing = sorted(p.name for p in folder.parent.iterdir() if p.name != ".versions")
    assert listing == [good["period"], f"{good['period']}.failed"]
    assert not list((folder.parent / ".versions").glob(".tmp-*"))
    failed = folder.with_name(f"{folder.name}.failed")
    assert (failed / f"weekly-{good['period']}.ipynb").is_file()  # kept for debugging
    # The kernel started before the gate (kpitools.review.kernel) is shut down after a failure.
    assert _running_kernels() == []


def test_bad_commentary_stops_with_a_short_error(root, tmp_path):
    good = rendered(root, "weekly")
    folder = Path(good["folder"])
    before = _digest(folder)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / f"{good['period']}.md").write_text("# Executive sumary\nTypo in the heading.\n")
    proc = run(["report", "weekly", "--data", good["data"], "--out", str(folder.parents[1]),
                "--commentary", str(notes)])
    assert proc.returncode != 0 and proc.stdout == ""
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "Traceback" not in proc.stderr
    assert "line 1" in last and "Executive sumary" in last
    assert _digest(folder) == before


def test_wrong_period_grain_is_refused(root):
    data = small_data(root)
    proc = run(["report", "weekly", "--data", str(data), "--period", "2025-11", "--out", str(root / "x")])
    assert proc.returncode != 0
    assert "needs a week label such as 2026-W10, not '2025-11'" in proc.stderr
    assert not (root / "x" / "weekly" / "2025-11").exists()


def test_stub_writes_observations_once(root, tmp_path):
    data = small_data(root)
    proc = run(["report", "weekly", "--data", str(data), "--period", "2025-W50", "--stub",
                "--commentary", str(tmp_path)])
    assert proc.returncode == 0, proc.stderr
    path = Path(proc.stdout.strip())
    assert path == tmp_path / "2025-W50.md"
    text = path.read_text("utf-8")
    assert "# Executive summary" in text and "# Action triggers" in text
    again = run(["report", "weekly", "--data", str(data), "--period", "2025-W50", "--stub",
                 "--commentary", str(tmp_path)])
    assert again.returncode != 0 and "already exists" in again.stderr
    assert path.read_text("utf-8") == text


def test_unreadable_data_fails_the_gate_not_the_render(root, tmp_path):
    """A value the loader rejects goes through the data-quality gate: exit 1, every problem
    listed, nothing written."""
    import pandas as pd

    data = small_data(root)
    bad = tmp_path / "bad"
    bad.mkdir()
    frame = pd.read_parquet(data / "interactions.parquet").astype({"arrived_at": str})
    frame.loc[5, "arrived_at"] = "yesterday at noon"
    frame.to_csv(bad / "interactions.csv", index=False)
    out = tmp_path / "out"
    proc = run(["report", "weekly", "--data", str(bad), "--out", str(out)])
    assert proc.returncode == 1 and proc.stdout == ""
    assert "error: the data failed validation, so no review was built" in proc.stderr
    assert "'yesterday at noon'" in proc.stderr and "Traceback" not in proc.stderr
    assert not (out / "weekly").exists()


def test_a_failed_workbook_fails_the_render_with_its_reason(tmp_path):
    """The xlsx is written by a second process (render.start_workbook); when it fails, the
    render fails with the reason (here: the notebook left no tables pending), never a
    review without its workbook."""
    proc = start_workbook(tmp_path, "weekly-2026-W01")
    with pytest.raises(RenderError, match=r"writing the xlsx workbook failed: .*workbook-tables"):
        finish_workbook(proc, tmp_path, "weekly-2026-W01")
    assert list(tmp_path.iterdir()) == []
