"""A review without the data-quality gate's share (issue 12, item 2): what `kpitools report`
does after the gate, timed, and the engine passes the review context runs.

``job``: a fresh process loads the data (as the CLI does before the gate), executes the
template with a given ``validation.json`` (papermill), renders HTML (nbconvert) and PDF
(WeasyPrint); wall time and peak RSS of the process tree (``bench_job.run_measured``).
``profile``: in this process, ``open_review(run_gate=False)`` and each section of the
cadence timed, with every engine pass (a calendar of period buckets) and its queries.

    .venv/bin/python benchmarks/bench_review.py job data/bench/10M weekly 2026-W06 validation.json
    .venv/bin/python benchmarks/bench_review.py profile data/bench/1M quarterly 2026-Q1
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_job(folder: str, cadence: str, period: str, validation_json: str, out: Path) -> dict:
    """The job minus the gate, in this process; seconds per step."""
    import nbformat

    import kpitools
    from kpitools.review import render

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    t0 = time.perf_counter()
    kpitools.load(folder).close()
    steps = {"load": time.perf_counter() - t0}
    params = {"period": period, "data_dir": str(Path(folder).resolve()), "targets_file": "",
              "config_file": "", "commentary_dir": str(out / "commentary"),
              "validation_json": str(Path(validation_json).resolve()),
              "generated_at": "2026-12-01T00:00:00", "output_formats": "html,pdf",
              "engine": "duckdb", "spark_master": ""}
    t = time.perf_counter()
    render._execute(render.notebook_template(cadence), out / "review.ipynb", params, out,
                    render.tables_cell(out, "review"))
    steps["execute"] = time.perf_counter() - t
    nb = nbformat.read(str(out / "review.ipynb"), as_version=4)
    t = time.perf_counter()
    html = render.export_html(nb, f"{cadence} {period}")
    steps["html"] = time.perf_counter() - t
    t = time.perf_counter()
    render.write_pdf(html, out / "review.pdf")
    steps["pdf"] = time.perf_counter() - t
    steps["total"] = time.perf_counter() - t0
    return {k: round(v, 2) for k, v in steps.items()}


def profile(folder: str, cadence: str, period: str) -> dict:
    """Seconds to open the review and per section; the engine passes and their queries."""
    import contextlib
    import io

    from kpitools import review
    from kpitools.engine import DuckDBBackend
    from kpitools.review.sections import SECTION_FUNCTIONS, section_title

    passes: list[list] = []
    set_calendar, run = DuckDBBackend.set_calendar, DuckDBBackend.run

    def logged_calendar(self, calendar):
        passes.append([])
        return set_calendar(self, calendar)

    def logged_run(self, sql):
        t = time.perf_counter()
        result = run(self, sql)
        if passes:
            passes[-1].append((round(time.perf_counter() - t, 2), " ".join(sql.split())[:60]))
        return result

    DuckDBBackend.set_calendar, DuckDBBackend.run = logged_calendar, logged_run
    try:
        t0 = time.perf_counter()
        ctx = review.open_review(cadence, period=period, data_dir=folder, run_gate=False,
                                 generated_at="2026-12-01T00:00:00")
        seconds = {"open_review": time.perf_counter() - t0}
        sections = {"title": section_title, **SECTION_FUNCTIONS}
        for name in ["title", *ctx.cadence.sections]:
            t = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                str(sections[name](ctx))
            seconds[name] = time.perf_counter() - t
        seconds["total"] = time.perf_counter() - t0
    finally:
        DuckDBBackend.set_calendar, DuckDBBackend.run = set_calendar, run
    return {"seconds": {k: round(v, 2) for k, v in seconds.items()}, "passes": passes}


def main(argv: list[str]) -> None:
    if argv[:1] == ["job"] and len(argv) == 5:
        from benchmarks.bench_job import run_measured

        out = Path(tempfile.mkdtemp(prefix="kpitools-review-bench-"))
        result = run_measured([sys.executable, __file__, "_run", *argv[1:], str(out)])
        shutil.rmtree(out, ignore_errors=True)
        print(json.dumps({**json.loads(result.pop("stdout")), **result}))
    elif argv[:1] == ["_run"]:
        print(json.dumps(run_job(*argv[1:5], Path(argv[5]))))
    elif argv[:1] == ["profile"] and len(argv) == 4:
        print(json.dumps(profile(*argv[1:]), indent=1))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
