"""How long the data-quality gate takes: one week and one quarter of the demo data.

Each timing is a fresh `kpitools validate --data DIR --period LABEL --format json` process,
so Python start-up, the kpitools import, loading, the frames and the checks (SQL in the
engine, kpitools/_expectations_sql.py) all count — what an analyst waits for. Best and median of BENCH_REPEAT runs
(default 3), plus the process's CPU time (user + system), which a busy machine inflates far
less than the wall clock. The breakdown comes from the report's own ``timings_s``.

    .venv/bin/python -c "from benchmarks.bench_validation import bench_validation as b; print(b('data/demo'))"
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_WEEK_S = 5.0


def _kpitools() -> list[str]:
    exe = Path(sys.executable).with_name("kpitools")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "kpitools"]


def _latest_periods(data_dir: Path) -> tuple[str, str]:
    import duckdb

    from kpitools.loading import find_files
    from kpitools.periods import latest_complete

    src = find_files(Path(data_dir))["interactions"]
    con = duckdb.connect()
    first, last = con.execute(
        f"SELECT CAST(MIN(CAST(arrived_at AS TIMESTAMP)) AS DATE), "
        f"CAST(MAX(CAST(arrived_at AS TIMESTAMP)) AS DATE) FROM {src.reader}").fetchall()[0]
    con.close()
    return latest_complete(first, last, "week").label, latest_complete(first, last, "quarter").label


def _cpu_children() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def _gate(data_dir: Path, label: str) -> tuple[float, float, dict]:
    cmd = [*_kpitools(), "validate", "--data", str(data_dir), "--period", label, "--format", "json"]
    cpu0, t0 = _cpu_children(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ})
    wall, cpu = time.perf_counter() - t0, _cpu_children() - cpu0
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"`{' '.join(cmd)}` failed: {proc.stderr.strip()[-500:]}")
    return wall, cpu, json.loads(proc.stdout)


def bench_validation(data_dir) -> dict:
    """Seconds for a weekly and a quarterly gate in fresh processes (start-up included)."""
    data_dir = Path(data_dir)
    repeat = int(os.environ.get("BENCH_REPEAT", "3"))
    week, quarter = _latest_periods(data_dir)
    out: dict = {}
    for name, label in (("week", week), ("quarter", quarter)):
        walls, cpus, last = [], [], {}
        for _ in range(repeat):
            wall, cpu, last = _gate(data_dir, label)
            walls.append(wall)
            cpus.append(cpu)
        t = last.get("timings_s", {})
        out[f"{name} period"] = label
        out[f"{name} gate, best (s)"] = min(walls)
        out[f"{name} gate, median (s)"] = statistics.median(walls)
        # CPU seconds (user + system, all threads) hardly depend on what else the machine runs
        out[f"{name} gate CPU, best (s)"] = min(cpus)
        out[f"{name} rows (interactions)"] = last.get("rows_checked", {}).get("interactions", 0)
        out[f"{name} load + frames (s)"] = float(t.get("prepare", 0.0))
        out[f"{name} checks (s)"] = float(t.get("checks", 0.0))
        out[f"{name} verdict"] = f"{last.get('verdict')} ({last.get('summary', {}).get('checks')} checks)"
    out["weekly target (s)"] = TARGET_WEEK_S
    out["weekly gate within target"] = "yes" if out["week gate, best (s)"] <= TARGET_WEEK_S else "NO"
    return out


if __name__ == "__main__":
    folder = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "data" / "demo")
    for key, value in bench_validation(folder).items():
        print(f"{key:34s}: {value:.2f}" if isinstance(value, float) else f"{key:34s}: {value}")
