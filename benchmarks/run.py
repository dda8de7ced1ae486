"""`make bench`: the kpitools engine against a hand-written DuckDB SQL baseline, the
validation gate, and the end-to-end weekly review. Prints figures and ratios; asserts nothing.

Data sets are generated once under data/bench/ (git-ignored) and reused:
  * a 10M-contact quarter (2026-Q1) plus surveys, QA, agent activity and costs derived from it;
  * BENCH_SIZES=1,10,30 (millions) adds the other sizes for the scale table.

Timings: the engine and the baseline run alternately in this process (best of BENCH_REPEAT,
default 3) on the same files; peak memory is the max RSS of a separate `kpitools kpis`
process (and of a baseline process) measured by the OS.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH = ROOT / "data" / "bench"
BASELINE_SQL = (ROOT / "benchmarks" / "baseline.sql").read_text()
QUARTER = ("2026-Q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31))
START = dt.date(2025, 12, 29)  # Monday; the data runs 98 days so repeats past the quarter exist
DAYS = 98
KPITOOLS = str(Path(sys.executable).with_name("kpitools"))


def ensure_data(millions: float) -> Path:
    """Interactions for ~`millions` M contacts inside the quarter, plus derived tables."""
    from kpitools.demo import generate_scaled_interactions

    folder = BENCH / f"{millions:g}M"
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    n = int(millions * 1_000_000 * DAYS / 90)
    t0 = time.perf_counter()
    generate_scaled_interactions(folder / "interactions.parquet", n_contacts=n, start=START, days=DAYS)
    derive_tables(folder)
    print(f"  generated {n:,} contacts into {folder} in {time.perf_counter() - t0:.0f} s", flush=True)
    done.write_text("ok")
    return folder


def derive_tables(folder: Path) -> None:
    """Surveys (~15 %), QA (~2 %), agent activity and monthly costs, consistent with the contacts."""
    con = duckdb.connect()
    src = f"read_parquet('{folder}/interactions.parquet')"
    con.execute(f"""COPY (
        SELECT interaction_id, ended_at + INTERVAL 2 HOUR AS responded_at,
               CAST(1 + hash(interaction_id || 'c') % 5 AS BIGINT) AS csat,
               CAST(hash(interaction_id || 'n') % 11 AS BIGINT) AS nps,
               CAST(1 + hash(interaction_id || 'e') % 7 AS BIGINT) AS ces
        FROM {src} WHERE outcome = 'handled' AND hash(interaction_id) % 100 < 15
    ) TO '{folder}/surveys.parquet' (FORMAT parquet)""")
    con.execute(f"""COPY (
        SELECT interaction_id, ended_at + INTERVAL 1 DAY AS evaluated_at,
               CAST(60 + hash(interaction_id || 'q') % 41 AS DOUBLE) AS score
        FROM {src} WHERE outcome = 'handled' AND hash(interaction_id) % 100 >= 98
    ) TO '{folder}/qa.parquet' (FORMAT parquet)""")
    con.execute(f"""COPY (
        SELECT agent_id, CAST(arrived_at AS DATE) AS date,
               sum(talk_s + hold_s + acw_s) / 0.8 + 1800 AS logged_in_s,
               sum(talk_s + hold_s + acw_s) AS handling_s,
               sum(talk_s + hold_s + acw_s) / 0.8 * 0.2 AS available_s,
               sum(talk_s + hold_s + acw_s) / 0.8 + 3600 AS paid_s
        FROM {src} WHERE agent_id IS NOT NULL GROUP BY ALL
    ) TO '{folder}/agent_activity.parquet' (FORMAT parquet)""")
    con.execute(f"""COPY (
        SELECT DISTINCT agent_id, 'team ' || (hash(agent_id) % 6) AS team, 'site A' AS site,
               DATE '2020-01-01' AS hire_date
        FROM {src} WHERE agent_id IS NOT NULL
    ) TO '{folder}/agents.parquet' (FORMAT parquet)""")
    con.execute(f"""COPY (
        SELECT CAST(m AS DATE) AS period_start, CAST(m + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) AS period_end,
               250000.0 AS amount, q AS queue
        FROM range(DATE '2025-12-01', DATE '2026-05-01', INTERVAL 1 MONTH) t(m),
             (SELECT DISTINCT queue AS q FROM {src}) queues
    ) TO '{folder}/costs.parquet' (FORMAT parquet)""")
    con.close()


def run_baseline(folder: Path, start: dt.date, end: dt.date) -> dict:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")  # as kpitools' connections: no bars
    cur = con.execute(BASELINE_SQL.format(dir=folder, start=start, end=end))
    names = [d[0] for d in cur.description]
    row = cur.fetchall()[0]
    con.close()
    return dict(zip(names, row, strict=True))


def run_engine(folder: Path, period: str, by: str | None = None, checked=()) -> dict:
    """The catalogue for ``period`` through kpitools (load, then kpis). ``checked``: stamps of
    files already checked (kpitools.load), as in a review's notebook kernel."""
    import kpitools

    data = kpitools.load(folder, checked=checked)
    frame = kpitools.kpis(data, period, by=by)
    data.close()
    if by:
        return {"rows": len(frame)}
    return dict(zip(frame["kpi"], frame["value"], strict=True))


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def child_peak(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of a child process."""
    code = (
        "import resource, subprocess, sys, time, json; t0 = time.perf_counter(); "
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
        "print(json.dumps([time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, p.returncode]))"
    )
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, check=True)
    wall, peak, rc = json.loads(out.stdout)
    if rc != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {rc}")
    return wall, peak


def compare_values(engine: dict, baseline: dict) -> list[str]:
    bad = []
    for k, v in baseline.items():
        e = engine.get(k)
        if v is None and (e is None or e != e):
            continue
        if e is None or abs(float(e) - float(v)) > 1e-9 * max(1.0, abs(float(v))):
            bad.append(f"{k}: engine {e} vs baseline {v}")
    return bad


def bench_engine(millions: float, repeat: int) -> dict:
    folder = ensure_data(millions)
    label, start, end = QUARTER
    run_baseline(folder, start, end)  # warm the file cache for both
    base = best_of(lambda: run_baseline(folder, start, end), repeat)
    eng = best_of(lambda: run_engine(folder, label), repeat)
    eng_q = best_of(lambda: run_engine(folder, label, by="queue"), repeat)
    # The loader's value checks (types, ranges, unique ids) are work the hand-written query
    # does not do: the same engine run on files a load has already checked shows their share.
    import kpitools

    first = kpitools.load(folder)
    stamps = first.input_checks
    first.close()
    eng_checked = best_of(lambda: run_engine(folder, label, checked=stamps), repeat)
    mismatches = compare_values(run_engine(folder, label), run_baseline(folder, start, end))
    cli = [KPITOOLS, "kpis", "--data", str(folder), "--period", label,
           "--format", "json"]
    cli_wall, cli_peak = child_peak(cli)
    base_cmd = [sys.executable, "-c",
                f"import sys; sys.path.insert(0, {str(ROOT)!r}); from benchmarks.run import run_baseline; "
                "import datetime as dt; from pathlib import Path; "
                f"run_baseline(Path({str(folder)!r}), dt.date(2026, 1, 1), dt.date(2026, 3, 31))"]
    base_wall, base_peak = child_peak(base_cmd)
    rows = duckdb.sql(f"SELECT count(*) FROM read_parquet('{folder}/interactions.parquet') "
                      f"WHERE arrived_at >= DATE '{start}' AND arrived_at < DATE '{end}' + 1").fetchall()[0][0]
    return {"size": f"{millions:g}M", "contacts_in_quarter": rows, "baseline_s": base,
            "engine_s": eng, "ratio": eng / base, "engine_checked_s": eng_checked,
            "ratio_checked": eng_checked / base, "engine_by_queue_s": eng_q,
            "ratio_by_queue": eng_q / base, "cli_wall_s": cli_wall, "cli_peak_mb": cli_peak,
            "baseline_process_s": base_wall, "baseline_peak_mb": base_peak,
            "values_match": not mismatches, "mismatches": mismatches}


def machine() -> str:
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {mem_gb:.0f} GiB RAM, "
            f"Python {platform.python_version()}, duckdb {duckdb.__version__}")


def write_docs(results: list[dict], extra: dict) -> None:
    """Record the figures as a Markdown table in docs/performance.md (between markers)."""
    lines = [
        f"Measured {dt.date.today()} on: {machine()}.", "",
        "| contacts in 2026-Q1 | baseline SQL (s) | kpitools (s) | ratio | files already checked (s) | ratio | kpitools --by queue (s) | ratio | `kpitools kpis` process (s) | peak RSS (MB) | baseline peak RSS (MB) | values equal |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['contacts_in_quarter']:,} | {r['baseline_s']:.2f} | {r['engine_s']:.2f} | {r['ratio']:.2f} | "
            f"{r['engine_checked_s']:.2f} | {r['ratio_checked']:.2f} | "
            f"{r['engine_by_queue_s']:.2f} | {r['ratio_by_queue']:.2f} | {r['cli_wall_s']:.2f} | "
            f"{r['cli_peak_mb']:,.0f} | {r['baseline_peak_mb']:,.0f} | {'yes' if r['values_match'] else 'NO'} |")
    for name, res in extra.items():
        lines += ["", f"**{name}**" + ("" if "quarter" in name else " (demo data)") + ":", ""]
        lines += [f"- {k}: {v:.2f}" if isinstance(v, float) else f"- {k}: {v}" for k, v in res.items()]
    path = ROOT / "docs" / "performance.md"
    text = path.read_text() if path.exists() else "# Performance\n\n<!-- bench:start -->\n<!-- bench:end -->\n"
    head, rest = text.split("<!-- bench:start -->", 1)
    _, tail = rest.split("<!-- bench:end -->", 1)
    path.write_text(head + "<!-- bench:start -->\n" + "\n".join(lines) + "\n<!-- bench:end -->" + tail)
    print(f"table written to {path.relative_to(ROOT)}")


def bench_jobs() -> dict:
    """The review job and the gate on the BENCH_JOB_SIZE quarter (default 10M; empty: skip),
    and Spark standalone next to local mode for each of BENCH_SPARK_SIZES (default 1,10)."""
    from benchmarks.bench_job import bench_job, bench_spark_modes

    out = {}
    for size in filter(None, os.environ.get("BENCH_JOB_SIZE", "10").split(",")):
        res = bench_job(ensure_data(float(size)))
        out[f"review job and gate ({size}M quarter)"] = res
        print(f"\nreview job and gate ({size}M quarter):")
        for k, v in res.items():
            print(f"  {k:32s}: {v}")
    for size in filter(None, os.environ.get("BENCH_SPARK_SIZES", "1,10").split(",")):
        modes = bench_spark_modes(ensure_data(float(size)))
        for mode, res in modes.items():
            keep = {k: v for k, v in res.items() if k not in ("data", "mismatches")}
            out[f"Spark {mode} ({size}M quarter, engine only)"] = keep
            print(f"\nSpark {mode} ({size}M quarter):")
            for k, v in keep.items():
                print(f"  {k:32s}: {v}")
    return out


def main() -> int:
    sizes = [float(s) for s in os.environ.get("BENCH_SIZES", "10").split(",")]
    repeat = int(os.environ.get("BENCH_REPEAT", "3"))
    print(f"kpitools benchmarks — {machine()}")
    print(f"full catalogue ({len(__import__('kpitools').registry)} KPIs) for {QUARTER[0]}; best of {repeat}\n")
    results = []
    for m in sizes:
        r = bench_engine(m, repeat)
        results.append(r)
        print(f"[{r['size']}] {r['contacts_in_quarter']:,} contacts in the quarter")
        print(f"  hand-written DuckDB SQL baseline : {r['baseline_s']:7.2f} s")
        print(f"  kpitools engine (load + kpis)    : {r['engine_s']:7.2f} s   ratio {r['ratio']:.2f}  (target <= 1.0)")
        print(f"  same, files already checked      : {r['engine_checked_s']:7.2f} s   ratio {r['ratio_checked']:.2f}")
        print(f"  kpitools engine --by queue       : {r['engine_by_queue_s']:7.2f} s   ratio {r['ratio_by_queue']:.2f}")
        print(f"  `kpitools kpis` process          : {r['cli_wall_s']:7.2f} s   peak RSS {r['cli_peak_mb']:,.0f} MB  (target <= 1536)")
        print(f"  baseline process                 : {r['baseline_process_s']:7.2f} s   peak RSS {r['baseline_peak_mb']:,.0f} MB")
        print(f"  values equal to the baseline     : {'yes' if r['values_match'] else 'NO: ' + '; '.join(r['mismatches'])}")
    extra = {}
    demo = ROOT / "data" / "demo"
    for name, module, fn in (("validation", "benchmarks.bench_validation", "bench_validation"),
                             ("weekly review", "benchmarks.bench_report", "bench_weekly_report")):
        try:
            mod = __import__(module, fromlist=[fn])
        except ImportError:
            print(f"\n{name}: benchmark not available yet")
            continue
        if not (demo / "interactions.parquet").exists():
            subprocess.run([KPITOOLS, "demo-data", "--out", str(demo)], check=True)
        res = getattr(mod, fn)(demo)
        extra[name] = res
        print(f"\n{name} (demo data):")
        for k, v in res.items():
            print(f"  {k:32s}: {v:.2f}" if isinstance(v, float) else f"  {k:32s}: {v}")
    extra.update(bench_jobs())
    if "--write-docs" in sys.argv:
        write_docs(results, extra)
    out = ROOT / "data" / "bench" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine(), "engine": results, **extra}, indent=2, default=str))
    print(f"\nresults written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
