"""The same KPI pass on Spark (local mode) and on DuckDB, on the same folder.

Optional: needs ``pip install 'kpitools[spark]'`` and a Java runtime. Timings are in-process
wall-clock seconds; the Spark session start (a JVM) is reported on its own, since a cluster
driver pays it once, not per query. Spark runs on ``$KPITOOLS_SPARK_MASTER`` (default
``local[*]``) with ``BENCH_SPARK_MEMORY`` driver memory (default 4g). The values of both
engines are compared (relative 1e-9), like tests/test_spark_parity.py does on small data.

    .venv/bin/python -c "from benchmarks.bench_spark import bench_spark as b; print(b('data/bench/1M', '2026-Q1'))"
    .venv/bin/python benchmarks/bench_spark.py data/bench/1M 2026-Q1
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REL = 1e-9


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _mismatches(got, want) -> list[str]:
    keys = [c for c in want.columns if c in ("period", "queue")] + ["kpi"]
    g = {tuple(r[k] for k in keys): r["value"] for r in got.to_dict("records")}
    out = []
    for r in want.to_dict("records"):
        key = tuple(r[k] for k in keys)
        a, b = g.get(key, "missing"), r["value"]
        if isinstance(a, str):
            out.append(f"{key}: missing on Spark")
        elif (a != a) != (b != b) or (a == a and not math.isclose(a, b, rel_tol=REL, abs_tol=1e-12)):
            out.append(f"{key}: spark {a} vs duckdb {b}")
    return out


def bench_spark(folder, period: str) -> dict:
    """Seconds for Spark start, load (with the input checks), the full catalogue for
    ``period`` and the same by queue — next to DuckDB's — and whether the values agree."""
    import kpitools
    from kpitools.spark import spark_session

    folder = Path(folder)
    master = os.environ.get("KPITOOLS_SPARK_MASTER", "local[*]")
    memory = os.environ.get("BENCH_SPARK_MEMORY", "4g")
    spark, start_s = _timed(lambda: spark_session(master=master, conf={"spark.driver.memory": memory}))
    data, load_s = _timed(lambda: kpitools.load(folder, engine="spark", spark=spark))
    got, kpis_s = _timed(lambda: kpitools.kpis(data, period))
    got_q, by_queue_s = _timed(lambda: kpitools.kpis(data, period, by="queue"))
    duck, duck_load_s = _timed(lambda: kpitools.load(folder))
    want, duck_kpis_s = _timed(lambda: kpitools.kpis(duck, period))
    want_q, duck_by_queue_s = _timed(lambda: kpitools.kpis(duck, period, by="queue"))
    mismatches = _mismatches(got, want) + _mismatches(got_q, want_q)
    contacts = want.set_index("kpi").loc["contact_volume", "value"]
    data.close()
    duck.close()
    return {
        "data": str(folder),
        "period": period,
        "contacts_in_period": int(contacts) if contacts == contacts else 0,
        "spark_master": master,
        "spark_start_s": round(start_s, 2),
        "spark_load_s": round(load_s, 2),
        "spark_kpis_s": round(kpis_s, 2),
        "spark_by_queue_s": round(by_queue_s, 2),
        "duckdb_load_s": round(duck_load_s, 2),
        "duckdb_kpis_s": round(duck_kpis_s, 2),
        "duckdb_by_queue_s": round(duck_by_queue_s, 2),
        "values_match": not mismatches,
        "mismatches": mismatches[:10],
    }


if __name__ == "__main__":
    folder = sys.argv[1] if len(sys.argv) > 1 else "data/bench/1M"
    period = sys.argv[2] if len(sys.argv) > 2 else "2026-Q1"
    for key, value in bench_spark(folder, period).items():
        print(f"{key:20s} {value}")
