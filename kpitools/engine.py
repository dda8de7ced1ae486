"""The engine: base measures per period bucket and dimension, computed in SQL.

Measures are additive sums and counts (kpitools/catalogue.yaml); KPIs are formed from them
afterwards (kpitools/formulas.py). This split is what makes a total equal the ratio of its
summed parts, and what lets the same definitions run on another SQL engine: a backend only
has to run the generated SQL (kpitools/sql.py) and hold the small calendar relation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .dialects import DUCKDB, Dialect
from .errors import DataError, KpitoolsError, quote
from .periods import Period
from .registry import SOURCE_TABLE, Registry
from .sql import CALENDAR, DIMENSIONS, QUERIES, SOURCE_DIMENSIONS, TIME_DIMENSIONS, Scope


class DuckDBBackend:
    """Runs engine SQL on a :class:`kpitools.loading.Dataset`'s DuckDB connection."""

    name = "duckdb"
    dialect: Dialect = DUCKDB

    def __init__(self, con):
        self.con = con

    def set_calendar(self, calendar: pd.DataFrame) -> None:
        self.con.register("_kpi_calendar_frame", calendar)
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {CALENDAR} AS "
            "SELECT CAST(day AS DATE) AS day, CAST(bucket AS VARCHAR) AS bucket FROM _kpi_calendar_frame"
        )
        self.con.unregister("_kpi_calendar_frame")

    def run(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()


def calendar_for(periods: list[Period]) -> pd.DataFrame:
    rows = []
    for p in periods:
        rows += [(p.start + pd.Timedelta(days=k).to_pytimedelta(), p.label) for k in range(p.days)]
    return pd.DataFrame(rows, columns=["day", "bucket"])


@dataclass
class Measures:
    """Measure values per (period, dims…) row, and why some sources are unavailable."""

    frame: pd.DataFrame
    by: tuple[str, ...]
    unavailable: dict[str, str] = field(default_factory=dict)  # source -> reason


def check_by(by) -> tuple[str, ...]:
    if by is None:
        return ()
    if isinstance(by, str):
        by = [b for b in by.split(",") if b.strip()]
    by = tuple(b.strip() for b in by)
    for b in by:
        if b not in DIMENSIONS + TIME_DIMENSIONS:
            raise KpitoolsError(
                f"cannot group by {quote(b)}; choose from {', '.join(DIMENSIONS + TIME_DIMENSIONS)}")
    if len(set(by)) != len(by):
        raise KpitoolsError(f"a dimension is repeated in --by {quote(','.join(by))}")
    return by


def compute_measures(data, periods: list[Period], by=(), backend=None,
                     registry: Registry | None = None) -> Measures:
    """Every base measure for each period in ``periods`` (one grain), grouped by ``by``."""
    reg = registry or data.registry
    by = check_by(by)
    if "team" in by and not data.has("agents"):
        raise DataError(f"{data.path}: grouping by team needs the agents table (agents.csv or agents.parquet)")
    backend = backend or data.backend
    periods = sorted(set(periods))
    scope = Scope(periods[0].start, periods[-1].end, by)
    backend.set_calendar(calendar_for(periods))
    keys = ["bucket", *by]
    frames, unavailable = [], {}
    for source, build in QUERIES.items():
        table = SOURCE_TABLE[source]
        if not data.has(table):
            unavailable[source] = f"needs the {table} table, which is not in the data"
            continue
        unsupported = [d for d in by if d not in SOURCE_DIMENSIONS[source]]
        if unsupported:
            unavailable[source] = f"{table} cannot be broken down by {', '.join(unsupported)}"
            continue
        frame = backend.run(build(reg, scope, data.params, backend.dialect))
        frames.append((source, frame))
    merged = pd.DataFrame({"bucket": [p.label for p in periods]}) if not by else None
    for _, frame in frames:
        merged = frame if merged is None else merged.merge(frame, on=keys, how="outer")
    if merged is None:
        merged = pd.DataFrame(columns=keys)
    for source, _ in frames:
        cols = [m.name for m in reg.measures.values() if m.source == source]
        merged[cols] = merged[cols].fillna(0.0)
    for source in unavailable:
        for m in reg.measures.values():
            if m.source == source:
                merged[m.name] = float("nan")
    if "queue" in by and "costs" not in unavailable:
        merged = _allocate_shared_costs(merged)
    merged = merged.rename(columns={"bucket": "period"})
    if "interval" in by:  # slot index -> the slot's start (business time)
        width_s = float(data.params.get("interval_minutes", 30)) * 60
        merged["interval"] = pd.to_datetime(merged["interval"].astype("int64") * int(width_s), unit="s")
    order = {p.label: k for k, p in enumerate(periods)}
    merged = merged.sort_values(
        ["period", *by], key=lambda s: s.map(order) if s.name == "period" else s, na_position="last"
    ).reset_index(drop=True)
    return Measures(merged, by, unavailable)


def _allocate_shared_costs(frame: pd.DataFrame) -> pd.DataFrame:
    """Costs without a queue are shared out to queues by their share of handled contacts,
    so the queues' costs still add up to the total."""
    shared_rows = frame["queue"].isna() & (frame["handled"] == 0)
    shared = frame[frame["queue"].isna()].groupby("bucket")["cost_amount"].sum()
    frame = frame.copy()
    handled_total = frame.groupby("bucket")["handled"].transform("sum")
    share = (frame["handled"] / handled_total.where(handled_total > 0)).fillna(0.0)
    pool = frame["bucket"].map(shared).fillna(0.0)
    own = frame["cost_amount"].where(frame["queue"].notna(), 0.0)
    frame["cost_amount"] = own + pool * share
    # A null-queue row that only carried shared cost has now given it away.
    return frame[~shared_rows | (frame["contacts"] > 0)]
