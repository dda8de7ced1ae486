"""Adversarial inputs through the command line (issue 14).

Two parts:

* property-based: hypothesis mutates the clean fixture's CSVs (a cell set to a hostile value,
  a column deleted / duplicated / renamed, a line cut short, a BOM, an empty file, a huge
  field) and runs ``kpitools kpis --format json`` in-process;
* a table of the explicit cases of issue 14, each run as a real ``python -m kpitools``
  process.

Every case must end in a clean success (strict JSON on stdout) or exactly one ``error:`` line
and a non-zero exit — never a traceback — within a time bound (and, for the processes, a
6 GiB address-space limit), with short messages, and leave its input files byte for byte as
they were.

Deterministic: hypothesis runs derandomized with a fixed example budget and no example
database. Set ``KPITOOLS_ADVERSARIAL_TABLE=path`` to write the outcome table of a run.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpitools.cli import main

CLEAN = Path(__file__).parent / "fixtures" / "clean"
PERIOD = "2026-W02"
CASE_SECONDS = 60  # per case; a clean run takes well under a second in-process
MAX_ERROR_CHARS = 2000  # an error message quotes at most ~60 characters of any value

settings.register_profile(
    "adversarial", max_examples=60, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

OUTCOMES: Counter = Counter()

TABLES = ["interactions", "surveys", "agent_activity", "agents", "costs", "qa"]
HOSTILE = [
    "", "inf", "-inf", "Infinity", "nan", "NaN", "1e300", "-1", "-1e-9", "86401", "0",
    "0001-01-01T00:00:00", "9999-12-31T23:59:59", "2026-02-30", "1970-01-01", "true", "yes",
    "NULL", "None", "'; DROP TABLE interactions; --", "\x00", "ünïcödé ✓", "1,5", '"', "  7 ",
    "x" * 100_000, "9" * 400,
]


def checksums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


@contextlib.contextmanager
def time_limit(seconds: int):
    def _alarm(signum, frame):
        raise TimeoutError(f"case ran past {seconds} s")
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_in_process(argv: list[str]) -> tuple[int, str, str, float]:
    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    with time_limit(CASE_SECONDS), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except Exception as exc:  # noqa: BLE001 - that is exactly the failure we look for
            pytest.fail(f"traceback from {argv}: {type(exc).__name__}: {str(exc)[:300]}")
    return code, out.getvalue(), err.getvalue(), time.perf_counter() - t0


def check_outcome(code: int, out: str, err: str, json_out: bool = True) -> str:
    """Assert the contract; return 'ok', 'gate failed' or 'error' for the outcome table.

    ``validate`` exits 1 with its full report (strict JSON) when a critical check fails: that
    is a clean answer, not an error."""
    assert "Traceback" not in err and "Traceback" not in out
    if code == 1 and json_out and out.strip():
        report = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict token {c}"))
        assert report["ok"] is False
        return "gate failed"
    if code == 0:
        if json_out:
            json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict JSON token {c}"))
        assert all(line.startswith("warning: ") for line in err.splitlines() if line.strip()), err
        return "ok"
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, err
    assert len(errors[0]) < MAX_ERROR_CHARS, errors[0][:300]
    assert code != 0
    return "error"


# -- mutations ------------------------------------------------------------------------------
def read_lines(path: Path) -> list[str]:
    return path.read_text("utf-8").splitlines()


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", "utf-8")


def csv_cell(value: str) -> str:
    if any(ch in value for ch in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def mutate(folder: Path, kind: str, table: str, pick: int, value: str) -> None:
    path = folder / f"{table}.csv"
    lines = read_lines(path)
    header = lines[0].split(",")
    col = pick % len(header)
    row = 1 + pick % (len(lines) - 1)
    if kind == "cell":
        cells = lines[row].split(",")
        cells[col] = csv_cell(value)
        lines[row] = ",".join(cells)
    elif kind == "delete_column":
        lines = [",".join(c for k, c in enumerate(line.split(",")) if k != col) for line in lines]
    elif kind == "duplicate_column":
        lines = [line + "," + line.split(",")[col] for line in lines]
    elif kind == "rename_column":
        header[col] = header[col].upper() if pick % 2 else header[col] + "_x"
        lines[0] = ",".join(header)
    elif kind == "truncate_line":
        lines[row] = lines[row][: max(1, len(lines[row]) // 2)]
    elif kind == "bom":
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
        return
    elif kind == "empty_file":
        path.write_bytes(b"")
        return
    elif kind == "header_only":
        lines = lines[:1]
    elif kind == "huge_field":
        cells = lines[row].split(",")
        cells[col] = "7" * 2_000_000
        lines[row] = ",".join(cells)
    write_lines(path, lines)


KINDS = ["cell", "cell", "cell", "delete_column", "duplicate_column", "rename_column",
         "truncate_line", "bom", "empty_file", "header_only", "huge_field"]


@pytest.fixture(scope="module", autouse=True)
def outcome_table():
    yield
    path = os.environ.get("KPITOOLS_ADVERSARIAL_TABLE")
    if path:
        lines = ["| case | outcome | count |", "|---|---|---|"]
        lines += [f"| {case} | {outcome} | {n} |" for (case, outcome), n in sorted(OUTCOMES.items())]
        Path(path).write_text("\n".join(lines) + "\n")


@settings(settings.get_profile("adversarial"))
@given(kind=st.sampled_from(KINDS), table=st.sampled_from(TABLES),
       pick=st.integers(0, 10_000), value=st.sampled_from(HOSTILE))
def test_mutated_csv_never_crashes(tmp_path_factory, kind, table, pick, value):
    folder = tmp_path_factory.mktemp("mut") / "data"
    shutil.copytree(CLEAN, folder, ignore=shutil.ignore_patterns("*.py"))
    mutate(folder, kind, table, pick, value)
    before = checksums(folder)
    code, out, err, elapsed = run_in_process(
        ["kpis", "--data", str(folder), "--period", PERIOD, "--format", "json"])
    outcome = check_outcome(code, out, err)
    assert elapsed < CASE_SECONDS
    assert checksums(folder) == before
    OUTCOMES[(f"mutated {kind}", outcome)] += 1


# -- the explicit cases of issue 14, as real processes --------------------------------------
def spoil_cell(table, column, value, row=0):
    def apply(folder: Path):
        path = folder / f"{table}.csv"
        lines = read_lines(path)
        header = lines[0].split(",")
        cells = lines[row + 1].split(",")
        cells[header.index(column)] = value
        lines[row + 1] = ",".join(cells)
        write_lines(path, lines)
    return apply


def rename_header(table, old, new):
    def apply(folder: Path):
        path = folder / f"{table}.csv"
        lines = read_lines(path)
        lines[0] = ",".join(new if c == old else c for c in lines[0].split(","))
        write_lines(path, lines)
    return apply


def duplicate_header(folder: Path):
    path = folder / "interactions.csv"
    lines = read_lines(path)
    write_lines(path, [lines[0] + ",resolved"] + [line + ",true" for line in lines[1:]])


def duplicate_agent(folder: Path):
    path = folder / "agents.csv"
    lines = read_lines(path)
    write_lines(path, lines + [lines[1]])


def replace_interactions(kind):
    def apply(folder: Path):
        target = folder / "interactions.csv"
        target.unlink()
        if kind == "folder":
            target.mkdir()
        elif kind == "pipe":
            os.mkfifo(target)
        else:
            target.symlink_to(target)
    return apply


KPIS = ["kpis", "--data", "{data}", "--period", PERIOD, "--format", "json"]
CASES = [
    # (name, spoil, argv, expected exit, words expected on stderr)
    ("period 9999-W52", None, ["kpis", "--data", "{data}", "--period", "9999-W52"], 2,
     "outside the years"),
    ("talk_s inf", spoil_cell("interactions", "talk_s", "inf"), KPIS, 2, "not a finite number"),
    ("hold_s 1e300", spoil_cell("interactions", "hold_s", "1e300"), KPIS, 2, "longer than 86,400 s"),
    ("arrived 0001-01-01", spoil_cell("interactions", "arrived_at", "0001-01-01T00:00:00"), KPIS,
     2, "not a plausible date"),
    ("duplicated header", duplicate_header, KPIS, 2, "appears 2 times"),
    ("Resolved header", rename_header("interactions", "resolved", "Resolved"), KPIS, 2,
     "should be spelled 'resolved'"),
    ("csat 6", spoil_cell("surveys", "csat", "6"), KPIS, 2, "off the csat scale"),
    ("cost ends before start", spoil_cell("costs", "period_end", "2025-12-01"), KPIS, 2,
     "before period_start"),
    ("duplicate roster id", duplicate_agent, KPIS, 2, "agent_id has duplicate values"),
    ("answered before arrival", spoil_cell("interactions", "answered_at", "2026-01-05T07:00:00"),
     KPIS, 0, "negative wait"),
    ("interactions.csv is a folder", replace_interactions("folder"), KPIS, 2, "is a folder"),
    ("interactions.csv is a pipe", replace_interactions("pipe"), KPIS, 2, "is a named pipe"),
    ("interactions.csv is a symlink loop", replace_interactions("loop"), KPIS, 2,
     "symbolic link loop"),
    ("--data is a file", None, ["kpis", "--data", "{data}/agents.csv", "--period", PERIOD], 2,
     "is not a folder"),
    ("validate json on talk_s inf", spoil_cell("interactions", "talk_s", "inf"),
     ["validate", "--data", "{data}", "--format", "json"], 1, ""),
    ("validate json on Resolved header", rename_header("interactions", "resolved", "Resolved"),
     ["validate", "--data", "{data}", "--period", PERIOD, "--format", "json"], 1, ""),
]


MEMORY_LIMIT = 6 << 30  # address space per case: a blow-up fails the case instead of the machine


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def python_m_kpitools(argv: list[str], timeout: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "False",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]),
                                          os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "kpitools", *argv], capture_output=True,
                          text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL,
                          preexec_fn=_limit_memory)


@pytest.mark.parametrize(("name", "spoil", "argv", "expected", "words"), CASES,
                         ids=[c[0] for c in CASES])
def test_issue_14_case_as_a_process(tmp_path, name, spoil, argv, expected, words):
    folder = tmp_path / "data"
    shutil.copytree(CLEAN, folder, ignore=shutil.ignore_patterns("*.py"))
    if spoil:
        spoil(folder)
    before = checksums(folder)
    args = [a.replace("{data}", str(folder)) for a in argv]
    proc = python_m_kpitools(args, timeout=CASE_SECONDS * 2)
    json_out = "json" in args
    outcome = check_outcome(proc.returncode, proc.stdout, proc.stderr, json_out=json_out)
    assert proc.returncode == expected, proc.stderr[-500:]
    assert words in proc.stderr
    if name == "answered before arrival":
        recs = {r["kpi"]: r for r in json.loads(proc.stdout)}
        assert recs["asa"]["status"] is None and "negative wait" in recs["asa"]["note"]
    assert checksums(folder) == before
    OUTCOMES[(name, f"{outcome} (exit {proc.returncode})")] += 1


def test_warehouse_twice_as_a_process(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(CLEAN, folder, ignore=shutil.ignore_patterns("*.py"))
    argv = ["kpis", "--data", str(folder), "--period", PERIOD, "--format", "json",
            "--kpi", "handled", "--warehouse", str(tmp_path / "w.duckdb")]
    runs = [python_m_kpitools(argv, timeout=CASE_SECONDS * 2) for _ in range(2)]
    for proc in runs:
        assert check_outcome(proc.returncode, proc.stdout, proc.stderr) == "ok", proc.stderr[-500:]
    assert json.loads(runs[0].stdout) == json.loads(runs[1].stdout)
    OUTCOMES[("--warehouse used twice", "ok (exit 0)")] += 1
