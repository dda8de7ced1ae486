"""`kpitools report` inputs: paths relative to the current directory, no silent fall-back to
other data, commentary in ./commentary (old place still read), bounded commentary, clear
errors for bad --out / --data / --commentary / range options. Nothing here renders a review:
every case stops before the notebook runs.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from kpitools.cli import main
from kpitools.errors import DataError, PeriodError
from kpitools.review import batch
from kpitools.review.cadence import get_cadence
from kpitools.review.commentary import (
    MAX_BYTES,
    MAX_LINE_CHARS,
    locate_commentary,
    read_commentary,
    write_stub,
)

WEEKLY = get_cadence("weekly")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    from kpitools.demo import generate_demo_data

    folder = tmp_path_factory.mktemp("inputs") / "data"
    generate_demo_data(folder, weeks=3, contacts_per_week=60)  # 2024-11-04 .. 2024-11-24
    return folder


@pytest.fixture
def run(monkeypatch, capsys):
    """`kpitools ARGS` in this process, from ``cwd`` (the parser and the error line as a user
    meets them, without an interpreter start-up per case)."""
    def call(args, cwd):
        monkeypatch.chdir(cwd)
        code = main(args)
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

    return call


def fails(proc, *needles: str) -> str:
    """One `error:` line, exit 2, nothing on stdout, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), proc.stderr
    for n in needles:
        assert n in last, (n, last)
    return last


# -- data and output paths ---------------------------------------------------------------
def test_no_data_here_is_an_error_not_the_demo_data(run, tmp_path):
    """From a folder without data/demo, the default --data is missing: an error (it used to
    review the checkout's or a generated demo set)."""
    proc = run(["report", "weekly"], cwd=tmp_path)
    fails(proc, f"data folder data/demo ({tmp_path / 'data' / 'demo'}) does not exist")
    assert list(tmp_path.iterdir()) == []  # no reports folder, nothing


def test_relative_data_resolves_against_the_current_directory(run, tmp_path):
    # `kpitools` exists relative to the checkout, not relative to tmp_path
    proc = run(["report", "weekly", "--data", "kpitools"], cwd=tmp_path)
    fails(proc, f"({tmp_path / 'kpitools'}) does not exist")


def test_empty_data_folder_is_an_error(run, tmp_path):
    (tmp_path / "empty").mkdir()
    fails(run(["report", "weekly", "--data", "empty"], cwd=tmp_path),
          f"data folder {tmp_path / 'empty'} is empty")


@pytest.mark.parametrize("out", ["/dev/null", "a-file"])
def test_unwritable_out_is_one_error_line(run, data, tmp_path, out):
    (tmp_path / "a-file").write_text("x")
    proc = run(["report", "weekly", "--data", str(data), "--out", out], cwd=tmp_path)
    fails(proc, f"cannot write reviews under --out {out}: Not a directory")
    assert (tmp_path / "a-file").read_text() == "x"


@pytest.mark.parametrize("args, needle", [
    (["--to", "2024-W46"], "--to needs --from"),
    (["--from", "2024-11"], "--from: the weekly review needs a week label such as 2026-W10, not '2024-11'"),
    (["--from", "2024-W46", "--period", "2024-W46"], "either --period or --from/--to"),
    (["--from", "2024-W47", "--to", "2024-W46"], "--to 2024-W46 is before --from 2024-W47"),
    (["--from", "2024-W46", "--stub"], "--stub writes one period's commentary"),
])
def test_range_options_are_checked(run, data, tmp_path, args, needle):
    proc = run(["report", "weekly", "--data", str(data), "--out", "r", *args], cwd=tmp_path)
    fails(proc, needle)


def test_plan_builds_complete_periods_and_says_why_it_skips_others():
    # coverage Wednesday 2024-11-06 .. Sunday 2024-11-24: W45 (Nov 4-10) is partial,
    # W46 (11-17) and W47 (18-24) complete, W48 outside
    todo, skipped = batch.plan(WEEKLY, "2024-W45", "2024-W48",
                               (dt.date(2024, 11, 6), dt.date(2024, 11, 24)))
    assert [p.label for p in todo] == ["2024-W46", "2024-W47"]
    assert [(o.period, o.status) for o in skipped] == [("2024-W45", "skipped"), ("2024-W48", "skipped")]
    assert skipped[0].reason == "partial: the data covers 2024-11-06 to 2024-11-24"
    assert skipped[1].reason == "outside the data (2024-11-06 to 2024-11-24)"
    # without --to: through the latest complete week
    todo, _ = batch.plan(WEEKLY, "2024-W46", None, (dt.date(2024, 11, 6), dt.date(2024, 11, 24)))
    assert [p.label for p in todo] == ["2024-W46", "2024-W47"]
    with pytest.raises(PeriodError, match="more than 520 periods"):
        batch.plan(WEEKLY, "2024-W46", "2040-W01", (dt.date(2024, 11, 6), dt.date(2024, 11, 24)))


# -- commentary ----------------------------------------------------------------------------
def test_commentary_new_place_first_then_the_old_place_with_a_notice(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    (data / "commentary").mkdir(parents=True)
    (data / "commentary" / "2024-W46.md").write_text("# Executive summary\nold place\n")
    folder, notice = locate_commentary("2024-W46", data)
    assert folder == data / "commentary"
    assert notice.startswith("notice: read commentary from the old place")
    assert str(tmp_path / "commentary" / "2024-W46.md") in notice
    (tmp_path / "commentary").mkdir()
    (tmp_path / "commentary" / "2024-W46.md").write_text("# Executive summary\nnew place\n")
    assert locate_commentary("2024-W46", data) == (tmp_path / "commentary", None)
    # a week with commentary nowhere: the new place (absent file, DRAFT review)
    assert locate_commentary("2024-W47", data) == (tmp_path / "commentary", None)
    # --commentary: that folder only, relative to the current directory
    (tmp_path / "notes").mkdir()
    assert locate_commentary("2024-W46", data, "notes") == (tmp_path / "notes", None)
    with pytest.raises(DataError, match="--commentary missing: folder .* does not exist"):
        locate_commentary("2024-W46", data, "missing")
    (tmp_path / "a-file").write_text("")
    with pytest.raises(DataError, match="--commentary a-file: .* is not a folder"):
        locate_commentary("2024-W46", data, "a-file")


def _stub_ctx(data: Path, label: str):
    return SimpleNamespace(cadence=WEEKLY, label=label, data_dir=data,
                           observations={"executive_summary": ["Volume rose."]})


def test_stub_goes_to_the_new_place_and_never_shadows_the_old(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    path = write_stub(_stub_ctx(data, "2024-W46"))
    assert path == tmp_path / "commentary" / "2024-W46.md"
    assert "- Volume rose." in path.read_text()
    (data / "commentary").mkdir()
    (data / "commentary" / "2024-W47.md").write_text("# Executive summary\nmine\n")
    with pytest.raises(DataError, match="2024-W47.md already exists \\(in the old place\\); move it"):
        write_stub(_stub_ctx(data, "2024-W47"))
    assert not (tmp_path / "commentary" / "2024-W47.md").exists()


def test_commentary_that_is_a_folder_or_broken_link_is_an_error(tmp_path):
    (tmp_path / "2024-W46.md").mkdir()
    with pytest.raises(DataError, match=f"commentary {tmp_path / '2024-W46.md'} is a folder"):
        read_commentary(tmp_path / "2024-W46.md", WEEKLY)
    (tmp_path / "2024-W47.md").symlink_to(tmp_path / "nowhere.md")
    with pytest.raises(DataError, match="2024-W47.md cannot be read: No such file"):
        read_commentary(tmp_path / "2024-W47.md", WEEKLY)
    os.mkfifo(tmp_path / "2024-W48.md")  # would block a reader forever
    with pytest.raises(DataError, match="2024-W48.md is not a regular file"):
        read_commentary(tmp_path / "2024-W48.md", WEEKLY)


def test_commentary_size_and_line_limits(tmp_path):
    big = tmp_path / "big.md"
    # 60,000 lines of "word word\n" (10 bytes each) = 600,000 bytes > MAX_BYTES
    big.write_text("# Executive summary\n" + "word word\n" * 60_000)
    with pytest.raises(DataError, match=f"is 600,020 bytes; the limit is {MAX_BYTES:,} bytes"):
        read_commentary(big, WEEKLY)
    long = tmp_path / "long.md"
    long.write_text("# Executive summary\n" + "x" * (MAX_LINE_CHARS + 1) + "\n")
    with pytest.raises(DataError, match="line 2: 4,001 characters on one line; the limit is 4,000"):
        read_commentary(long, WEEKLY)
    ok = tmp_path / "ok.md"
    ok.write_text("# Executive summary\n" + "y" * MAX_LINE_CHARS + "\n")  # exactly at the limit
    assert read_commentary(ok, WEEKLY).for_section("executive_summary") == "y" * MAX_LINE_CHARS


def test_report_with_a_folder_as_commentary_fails_naming_it(run, data, tmp_path):
    (tmp_path / "commentary" / "2024-W47.md").mkdir(parents=True)
    proc = run(["report", "weekly", "--data", str(data), "--period", "2024-W47", "--out", "r"],
               cwd=tmp_path)
    fails(proc, f"commentary {tmp_path / 'commentary' / '2024-W47.md'} is a folder")
    assert not list((tmp_path / "r" / "weekly").glob("2024-W47*"))


# -- make and the commentary folder ---------------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]


def make_dry_run(*args: str) -> str:
    proc = subprocess.run(["make", "-n", "-C", str(ROOT), "reports", *args], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_make_reports_with_and_without_a_range():
    plain = make_dry_run()
    for cadence in ("weekly", "monthly", "quarterly"):
        assert f"report {cadence} --data data/demo --out reports" in plain
    assert "--from" not in plain
    assert "report weekly --from 2026-W01 --to 2026-W10 --data data/demo --out reports" in \
        make_dry_run("FROM=2026-W01", "TO=2026-W10")
    assert "report monthly --from 2026-01 --data data/demo --out reports" in make_dry_run("FROM=2026-01")
    assert "report quarterly --from 2025-Q1 --to 2025-Q4" in make_dry_run("FROM=2025-Q1", "TO=2025-Q4")


def test_commentary_readme_names_every_section_title():
    text = " ".join((ROOT / "commentary" / "README.md").read_text("utf-8").split())
    titles = {t for cadence in ("weekly", "monthly", "quarterly")
              for t in get_cadence(cadence).section_titles()}
    assert [t for t in sorted(titles) if t not in text] == []


def test_batch_goes_on_after_a_failed_period_and_exits_non_zero(run, data, tmp_path):
    """Two weeks with a typo in their commentary fail (before any render), the week outside the
    data is skipped with its reason, and the summary lists each."""
    notes = tmp_path / "commentary"
    notes.mkdir()
    for week in ("2024-W46", "2024-W47"):
        (notes / f"{week}.md").write_text("# Executive sumary\nTypo.\n")
    proc = run(["report", "weekly", "--from", "2024-W46", "--to", "2024-W48", "--data", str(data),
                "--out", "r"], cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert "weekly: 0 built, 1 skipped, 2 failed" in proc.stderr
    assert "[weekly] 1/2 2024-W46 FAILED in" in proc.stderr
    assert "[weekly] 2/2 2024-W47 FAILED in" in proc.stderr
    for week in ("2024-W46", "2024-W47"):
        assert f"  {week} failed: {notes / week}.md, line 1: heading 'Executive sumary' names no section" \
            in proc.stderr
    assert "  2024-W48 skipped: outside the data (2024-11-04 to 2024-11-24)" in proc.stderr
