"""The job leadership waits for, on the bench's quarter (issue 12): the quarterly review and a
weekly review end to end (`kpitools report`, HTML and PDF), the data-quality gate alone
(`kpitools validate`), and the hand-written SQL catalogue (benchmarks/baseline.sql) timed in
the same run, so each job's time is also given as a ratio to it. Spark: the engine on a
standalone cluster (kpitools.spark_standalone) next to local mode.

Every job is a separate process. Peak memory is measured two ways: the OS's max RSS of the
largest single process (``/usr/bin/time``: the CLI or its notebook kernel), and
the largest sum of RSS over the whole process tree, sampled every 0.1 s with psutil (the CLI,
its Jupyter kernel and WeasyPrint run at the same time, so this is what the machine needs).

    .venv/bin/python benchmarks/bench_job.py data/bench/1M
    .venv/bin/python -c "from benchmarks.bench_job import bench_spark_modes as b; print(b('data/bench/1M'))"
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
KPITOOLS = str(Path(sys.executable).with_name("kpitools"))
QUARTER = ("2026-Q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31))
WEEK = ("2026-W06", dt.date(2026, 2, 2), dt.date(2026, 2, 8))  # a full week inside the quarter


def _tree_rss(pid: int) -> int:
    """Bytes of RSS of a process and all its descendants (0 once it has gone)."""
    import psutil

    try:
        root = psutil.Process(pid)
        total = root.memory_info().rss
        children = root.children(recursive=True)
    except psutil.Error:
        return 0
    for child in children:
        try:
            total += child.memory_info().rss
        except psutil.Error:  # a child exited between listing and reading it
            pass
    return total


def run_measured(cmd: list[str], env: dict | None = None, timeout_s: float = 3600,
                 watch: tuple[int, ...] = ()) -> dict:
    """Wall seconds, peak RSS of the process tree (sampled sum, MB) and of its largest single
    process (OS max RSS, MB) of one command; raises RuntimeError when it fails. ``watch``:
    other processes (e.g. a Spark cluster's daemons, whose trees hold the executors) whose
    trees' summed RSS is sampled alongside, as ``peak_watched_mb``."""

    env = {**os.environ, "GX_ANALYTICS_ENABLED": "False", "JUPYTER_PREFER_ENV_PATH": "1",
           **(env or {})}
    env.pop("MPLBACKEND", None)
    # GNU time reports the max RSS of the command and its waited-for descendants, per run.
    rss_file = Path(tempfile.mkstemp(prefix="kpitools-rss-")[1])
    timed = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *cmd]
    t0 = time.perf_counter()
    proc = subprocess.Popen(timed, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = [0, 0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            if watch:
                peak[1] = max(peak[1], sum(_tree_rss(pid) for pid in watch))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout_s)
    finally:
        done.set()
        sampler.join()
    wall = time.perf_counter() - t0
    single = rss_file.read_text().strip().splitlines()[-1:]
    rss_file.unlink()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} … exited {proc.returncode}: {err.strip()[-800:]}")
    result = {"wall_s": round(wall, 2), "peak_tree_mb": round(peak[0] / 2**20),
              "peak_process_mb": round(int(single[0]) / 1024) if single and single[0].isdigit() else None,
              "stdout": out}
    if watch:
        result["peak_watched_mb"] = round(peak[1] / 2**20)
    return result


def baseline_seconds(folder: Path, start: dt.date, end: dt.date, repeat: int = 2) -> float:
    """Best time of the hand-written SQL catalogue over [start, end], in this process."""
    from benchmarks.run import best_of, run_baseline

    return best_of(lambda: run_baseline(folder, start, end), repeat)


def _review(folder: Path, cadence: str, period: str | None, out: Path) -> dict:
    chosen = ["--period", period] if period else []  # None: the latest complete period
    return run_measured([KPITOOLS, "report", cadence, "--data", str(folder), *chosen,
                         "--out", str(out), "--format", "html,pdf"])


def bench_job(folder) -> dict:
    """The quarterly review, a weekly review and the gate on ``folder`` (the bench layout),
    each with the hand-written SQL time for the same period measured in this run."""
    folder = Path(folder).resolve()
    label, start, end = QUARTER
    week, wstart, wend = WEEK
    out = Path(tempfile.mkdtemp(prefix="kpitools-bench-"))
    # The machine's speed drifts by tens of percent over minutes: the hand-written query runs
    # before, between and after the jobs, and the ratios use its best time (the strictest).
    quarter_runs, week_runs = [], []

    def baseline() -> None:
        quarter_runs.append(baseline_seconds(folder, start, end))
        week_runs.append(baseline_seconds(folder, wstart, wend))

    try:
        baseline()
        quarterly = _review(folder, "quarterly", label, out)
        baseline()
        weekly = _review(folder, "weekly", week, out)
        # The same job on the small demo data: what a review costs before the data's size
        # counts (Python, the gate's fixed part, the kernel, papermill, the charts, WeasyPrint).
        floor = _review(ROOT / "data" / "demo", "weekly", None, out)
        gate = run_measured([KPITOOLS, "validate", "--data", str(folder), "--period", label,
                             "--format", "json"])
        baseline()
    finally:
        shutil.rmtree(out, ignore_errors=True)
    verdict = json.loads(gate.pop("stdout"))
    base_q, base_w = min(quarter_runs), min(week_runs)
    result = {"data": str(folder), "baseline_quarter_s": round(base_q, 2),
              "baseline_quarter_runs_s": [round(t, 2) for t in quarter_runs],
              "baseline_week_s": round(base_w, 2)}
    for name, run in (("quarterly_review", quarterly), ("weekly_review", weekly)):
        run.pop("stdout")
        result.update({f"{name}_{k}": v for k, v in run.items()})
        # the measure: the job against the whole quarter's hand-written catalogue
        result[f"{name}_ratio"] = round(run["wall_s"] / base_q, 1)
    result["weekly_review_ratio_to_week_sql"] = round(weekly["wall_s"] / base_w, 1)
    result["demo_weekly_review_wall_s"] = floor["wall_s"]
    result["demo_weekly_review_ratio"] = round(floor["wall_s"] / base_q, 1)
    result.update({f"gate_{k}": v for k, v in gate.items()})
    result["gate_verdict"] = f"{verdict['verdict']} ({verdict['summary']['checks']} checks)"
    return result


def bench_spark_modes(folder, period: str = QUARTER[0], workers: int = 2,
                      worker_memory: str | None = None, local_memory: str | None = None,
                      driver_memory: str | None = None) -> dict:
    """The engine on Spark local mode and on a standalone cluster of ``workers`` workers (one
    core each), each in a fresh process (benchmarks/bench_spark.py), next to DuckDB's.

    Memory is bounded so that the 10M quarter fits a 24 GB machine shared with other work
    (each mode runs alone): local mode's single JVM gets ``local_memory``
    (``$BENCH_SPARK_MEMORY``, default 4g); on the cluster each executor gets ``worker_memory``
    (``$BENCH_SPARK_WORKER_MEMORY``, default 2g), the driver, which only plans and collects
    small results, ``driver_memory`` (default 1g), and the master and worker daemons 512m.
    Both modes spill to disk beyond that rather than grow. ``peak_watched_mb`` of the
    standalone run is the cluster's own processes (daemons and executors)."""
    from kpitools.spark_standalone import start_cluster

    folder = Path(folder).resolve()
    memory = worker_memory or os.environ.get("BENCH_SPARK_WORKER_MEMORY", "2g")
    local_memory = local_memory or os.environ.get("BENCH_SPARK_MEMORY", "4g")
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); "
            "from benchmarks.bench_spark import bench_spark; "
            "print(json.dumps(bench_spark(sys.argv[2], sys.argv[3])))")
    cmd = [sys.executable, "-c", code, str(ROOT), str(folder), period]
    results = {}
    local = run_measured(cmd, env={"KPITOOLS_SPARK_MASTER": f"local[{workers}]",
                                   "BENCH_SPARK_MEMORY": local_memory})
    results["local"] = {**json.loads(local.pop("stdout").strip().splitlines()[-1]), **local}
    print(f"Spark local: {results['local']}", file=sys.stderr, flush=True)  # long at 10M
    with tempfile.TemporaryDirectory(prefix="kpitools-spark-") as logs, \
            start_cluster(logs, workers=workers, cores=1, memory=memory,
                          conf={"spark.executor.memory": memory}) as cluster:
        remote = run_measured(cmd, env={"KPITOOLS_SPARK_MASTER": cluster.url,
                                        "SPARK_CONF_DIR": str(cluster.conf_dir),
                                        "BENCH_SPARK_MEMORY": driver_memory or "1g"},
                              watch=tuple(p.pid for p in cluster.procs))
    results["standalone"] = {**json.loads(remote.pop("stdout").strip().splitlines()[-1]), **remote}
    return results


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "data" / "bench" / "1M")
    for key, value in bench_job(target).items():
        print(f"{key:32s} {value}")
