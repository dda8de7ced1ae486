"""Malformed input gives a clear message naming file, column, row and value — never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import contact, write_data

import kpitools
from kpitools.cli import main
from kpitools.validation import validate

MON = "2026-03-02"


def good_rows():
    return [contact("c1", f"{MON}T09:00:00", wait=10), contact("c2", f"{MON}T10:00:00", wait=30),
            contact("c3", f"{MON}T11:00:00", wait=3, outcome="abandoned")]


def run_cli(capsys, folder, *extra):
    code = main(["kpis", "--data", str(folder), "--period", "2026-W10", *extra])
    captured = capsys.readouterr()
    return code, captured.err


def test_missing_required_column(make_data, capsys):
    rows = [{k: v for k, v in r.items() if k != "outcome"} for r in good_rows()]
    folder = make_data(interactions=rows)
    code, err = run_cli(capsys, folder)
    assert code == 2
    assert "interactions.csv" in err and "missing required column outcome" in err


def test_unparsable_timestamp(make_data, capsys):
    rows = good_rows()
    rows[1]["answered_at"] = "2026-03-02 25:61:00"
    code, err = run_cli(capsys, make_data(interactions=rows))
    assert code == 2
    assert "column answered_at, row 2 (line 3)" in err and "'2026-03-02 25:61:00'" in err
    assert "ISO 8601" in err


def test_text_in_numeric_column(make_data, capsys):
    rows = good_rows()
    rows[2]["talk_s"] = "ninety"
    code, err = run_cli(capsys, make_data(interactions=rows))
    assert code == 2
    assert "column talk_s, row 3 (line 4): 'ninety' is not a number" in err


def test_negative_duration(make_data, capsys):
    rows = good_rows()
    rows[0]["hold_s"] = -5
    code, err = run_cli(capsys, make_data(interactions=rows))
    assert code == 2
    assert "column hold_s, row 1" in err and "'-5" in err and "negative" in err


def test_duplicate_ids(make_data, capsys):
    rows = good_rows()
    rows[2]["interaction_id"] = "c1"
    code, err = run_cli(capsys, make_data(interactions=rows))
    assert code == 2
    assert "interaction_id has duplicate values" in err and "'c1' x2" in err


def test_unknown_channel_value(make_data, capsys):
    rows = good_rows()
    rows[1]["channel"] = "fax"
    code, err = run_cli(capsys, make_data(interactions=rows))
    assert code == 2
    assert "column channel, row 2" in err and "'fax' is not one of voice, chat, email, social" in err


def test_empty_required_value(make_data, capsys):
    rows = good_rows()
    rows[0]["arrived_at"] = None
    code, err = run_cli(capsys, make_data(interactions=rows))
    assert code == 2 and "column arrived_at, row 1" in err and "required" in err


def test_wrong_parquet_type(make_data, capsys):
    import pandas as pd

    frame = pd.DataFrame(good_rows())
    frame["transferred"] = pd.to_datetime("2026-01-01")
    code, err = run_cli(capsys, make_data("parquet", interactions=frame))
    assert code == 2 and "interactions.parquet: column transferred has type TIMESTAMP" in err


def test_bad_optional_table_is_named(make_data, capsys):
    surveys = [{"interaction_id": "c1", "responded_at": "2026-03-03", "csat": 4.5, "nps": 9, "ces": 2}]
    code, err = run_cli(capsys, make_data(interactions=good_rows(), surveys=surveys))
    assert code == 2 and "surveys.csv: column csat, row 1" in err and "whole number" in err


def test_missing_interactions_file(tmp_path, capsys):
    (tmp_path / "surveys.csv").write_text("interaction_id\n")
    code, err = run_cli(capsys, tmp_path)
    assert code == 2 and "no interactions.csv or interactions.parquet" in err


def test_unreadable_file(make_data, capsys):
    folder = make_data(interactions=good_rows())
    (folder / "interactions.csv").unlink()
    (folder / "interactions.parquet").write_bytes(b"not a parquet file at all")
    code, err = run_cli(capsys, folder)
    assert code == 2 and "interactions.parquet: cannot read" in err


@pytest.mark.parametrize("args, message", [
    (["--period", "2026-W99"], "not a real week"),
    (["--period", "last week"], "cannot read period label 'last week'"),
    (["--by", "colour"], "cannot group by 'colour'"),
    (["--variant", "optimistic"], "unknown variant 'optimistic'"),
    (["--kpi", "happiness"], "unknown KPI 'happiness'"),
])
def test_bad_options(make_data, capsys, args, message):
    folder = make_data(interactions=good_rows())
    argv = ["kpis", "--data", str(folder), "--period", "2026-W10", *args]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and message in err, err


def test_team_without_roster(make_data, capsys):
    code, err = run_cli(capsys, make_data(interactions=good_rows()), "--by", "team")
    assert code == 2 and "grouping by team needs the agents table" in err


def test_bad_targets_file(make_data, capsys):
    folder = make_data(interactions=good_rows())
    (folder / "targets.yaml").write_text("overrides:\n  - {kpi: speed, queue: x, target: 1}\n")
    code, err = run_cli(capsys, folder)
    assert code == 2 and "targets.yaml" in err and "unknown KPI 'speed'" in err


def test_raw_files_are_never_modified(make_data):
    folder = make_data(interactions=good_rows())
    before = (folder / "interactions.csv").read_bytes()
    kpitools.kpis(kpitools.load(folder), "2026-W10")
    assert (folder / "interactions.csv").read_bytes() == before


def test_no_traceback_from_the_real_console_script(make_data):
    rows = good_rows()
    rows[1]["arrived_at"] = "yesterday"
    folder = make_data(interactions=rows)
    proc = subprocess.run([sys.executable, "-m", "kpitools", "kpis", "--data", str(folder),
                           "--period", "2026-W10", "--format", "json"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and "'yesterday'" in proc.stderr
    assert proc.stdout == ""


def test_checks_are_skipped_only_for_a_file_as_it_was_checked(make_data):
    """`kpitools report` hands the stamps of the files its load checked to the notebook
    kernel, which loads them again (``load(checked=...)``). A stamp vouches for one file's
    path, size and modification time: a file written since is checked again."""
    rows = good_rows()
    rows[0]["hold_s"] = 15
    folder = make_data(interactions=rows)
    stamps = kpitools.load(folder).input_checks
    assert [os.path.basename(s["file"]) for s in stamps] == ["interactions.csv"]
    path = folder / "interactions.csv"
    before = path.stat()

    rows[0]["hold_s"] = -5  # same width as 15: the file keeps its size
    write_data(folder, interactions=rows)
    assert path.stat().st_size == before.st_size
    with pytest.raises(kpitools.DataError, match="column hold_s, row 1"):
        kpitools.load(folder, checked=stamps)  # a new modification time: checked again

    # The same bytes with the checked file's time restored pass as checked: the checks are
    # really skipped (what the kernel relies on), and a plain load still finds the value.
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert kpitools.load(folder, checked=stamps).con.execute(
        "SELECT hold_s FROM interactions ORDER BY interaction_id").fetchone()[0] == -5
    with pytest.raises(kpitools.DataError, match="column hold_s, row 1"):
        kpitools.load(folder)


def _id_uniqueness(report) -> dict:
    return next(r for r in report.results if r["table"] == "interactions"
                and r["expectation"] == "expect_column_values_to_be_unique")


def test_the_gate_trusts_only_a_uniqueness_the_loader_checked(make_data):
    """The gate skips its distinct count of interaction ids when the loader checked the
    whole file; when the loader did not (check_unique=False), it still counts repeats."""
    rows = good_rows()
    clean = kpitools.load(make_data(interactions=rows))
    assert clean.unique_columns == {"interactions": "interaction_id"}
    record = _id_uniqueness(validate(clean))
    assert record["success"] is True and record["unexpected_count"] == 0

    rows[2]["interaction_id"] = "c1"
    unchecked = kpitools.load(make_data(interactions=rows), check_unique=False)
    assert unchecked.unique_columns == {}
    record = _id_uniqueness(validate(unchecked))
    assert record["success"] is False and record["unexpected_count"] == 2  # both rows of c1
