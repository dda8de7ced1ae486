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
from .registry import SOURCE_TABLE, Registry, needs_columns_reason
from .sql import (
    BUILT_IN_DIMENSIONS,
    CALENDAR,
    QUERIES,
    RESERVED_NAMES,
    TIME_DIMENSIONS,
    Scope,
    grouping_code,
    supports,
)


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
    """Measure values per (period, dims…) row, and which measures are missing or incomplete.

    ``unavailable`` maps a measure name to why it cannot be computed (its table or an input
    column it needs is not in the data, or its table cannot be broken down by ``by``);
    those measures are NaN in ``frame``, never 0. ``notes`` maps a measure name to what it
    leaves out (an optional column it adds up is absent, e.g. AHT without ACW).
    """

    frame: pd.DataFrame
    by: tuple[str, ...]
    unavailable: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


# The machine contract of `kpitools kpis --format json` (README): the keys of every record,
# with one key per --by dimension after "period". Declared here, below the CLI, because an
# extra column of interactions must not take one of these names as a dimension.
RECORD_KEYS = ["period", "kpi", "value", "label", "unit", "variant", "numerator", "denominator",
               "n", "target", "status", "ci_low", "ci_high", "small_sample", "partial", "reason",
               "note"]
# Every column name of the KPI and comparison frames (the records' keys, the thresholds and
# internals, and the comparison's change columns; "compare_*" is checked by prefix): an extra
# column with one of these names cannot be a dimension (its key would collide with them).
FRAME_COLUMNS = frozenset({
    *RECORD_KEYS, "warning", "critical", "direction", "currency", "se", "input_note",
    "change", "change_low", "change_high", "significant", "change_note", "against",
})


def _unusable_reason(name: str, registry: Registry | None) -> str | None:
    low = name.lower()
    if low in RESERVED_NAMES or low in FRAME_COLUMNS or low.startswith("compare_"):
        return "kpitools uses that name for its own columns"
    if registry is not None and low in {m.lower() for m in registry.measures}:
        return "it is the name of a measure in the catalogue"
    return None


def dimensions(data=None) -> list[str]:
    """Every dimension ``by=`` accepts: the built-in ones, then the data's own extra columns
    of interactions (``data.extra_columns``) whose names kpitools can use."""
    if data is None:
        return list(BUILT_IN_DIMENSIONS)
    usable = [c for c in data.extra_columns if _unusable_reason(c, data.registry) is None]
    return [*BUILT_IN_DIMENSIONS, *usable]


def check_by(by, data=None, *, extra=()) -> tuple[str, ...]:
    """``by`` as a tuple of dimension names, each checked against :func:`dimensions` (with a
    ``data`` set, its extra columns of interactions are allowed too; ``extra`` allows more
    names, e.g. the group columns of frames already computed)."""
    if by is None:
        return ()
    if isinstance(by, str):
        by = [b for b in by.split(",") if b.strip()]
    by = tuple(str(b).strip() for b in by)
    allowed = dimensions(data)
    allowed += [e for e in extra if e not in allowed and _unusable_reason(e, None) is None]
    for b in by:
        if b in allowed:
            continue
        if data is not None and b in data.extra_columns:
            why = _unusable_reason(b, data.registry)
            raise KpitoolsError(f"cannot group by {quote(b)}: the interactions column has a "
                                f"name {why}; rename it in the data")
        hint = "" if data is not None else " or an extra column of interactions"
        raise KpitoolsError(f"cannot group by {quote(b)}; choose from {', '.join(allowed)}{hint}")
    if len(set(by)) != len(by):
        raise KpitoolsError(f"a dimension is repeated in --by {quote(','.join(by))}")
    return by


def missing_inputs(data, registry: Registry) -> tuple[dict[str, str], dict[str, str]]:
    """(unavailable, notes) per measure from the optional input columns absent from the data:
    a measure that ``needs`` an absent column is unavailable ("needs the transferred column,
    which interactions does not have"); one that is ``partial_without`` it gets a note."""
    unavailable, notes = {}, {}
    present: dict[str, set[str]] = {}
    for m in registry.measures.values():
        table = SOURCE_TABLE.get(m.source)
        if table is None or not data.has(table):
            continue
        if table not in present:
            present[table] = set(data.source_columns(table))
        have = present[table]
        lacking = [c for c in m.required_columns if c not in have]
        if m.source == "repeats" and data.params.get("repeat_scope") == "any_issue":
            # Any later contact of the customer is a repeat: the issue type is not read.
            lacking = [c for c in lacking if c != "issue_type"]
        if lacking:
            unavailable[m.name] = needs_columns_reason(table, lacking)
            continue
        left_out = [c for c in m.partial_without if c not in have]
        if left_out:
            notes[m.name] = (f"leaves out {' and '.join(left_out)} ({table} has no such "
                             f"column{'s' if len(left_out) > 1 else ''}); not compared with "
                             "the target")
    return unavailable, notes


def sources_for(registry: Registry, kpis, by=()) -> frozenset[str] | None:
    """The measure sources a pass must run to form ``kpis`` grouped by ``by`` exactly as a
    pass over every source would: the sources of each KPI's measures (every variant, and the
    sums of squares of its interval), plus, when grouping, the sources that decide which
    groups exist. Contacts decide them (repeats, surveys and QA rows belong to contacts in
    scope, so their groups are a subset), but activity rows (agents) and cost rows (queues)
    can hold groups without contacts. None (every source) when ``kpis`` is None."""
    if kpis is None:
        return None
    needed = set()
    for kpi in registry.select(kpis):
        names = [m for f in kpi.formulas.values() for m in f.measures]
        names += [kpi.ci_squares] if kpi.ci_squares else []
        needed |= {registry.measures[m].source for m in names if m in registry.measures}
    if by:
        needed |= {"interactions", "agent_activity", "costs"}
    return frozenset(needed)


def compute_measures(data, periods: list[Period], by=(), backend=None,
                     registry: Registry | None = None, sources=None) -> Measures:
    """Every base measure for each period in ``periods`` (one grain), grouped by ``by``.

    ``sources``: run only these measure sources (see :func:`sources_for`); the measures of the
    others are left out of the frame. None runs every source.
    """
    by = check_by(by, data)
    return compute_measure_sets(data, periods, [by], backend, registry, sources)[by]


def compute_measure_sets(data, periods: list[Period], sets, backend=None,
                         registry: Registry | None = None, sources=None) -> dict[tuple, Measures]:
    """:func:`compute_measures` grouped several ways at once, keyed by each ``by`` tuple of
    ``sets``: one query per source for all the groupings it supports (``GROUPING SETS``), so
    the rows are read, and repeats flagged, once rather than once per grouping. Each result
    is the same as :func:`compute_measures` with that ``by``."""
    reg = registry or data.registry
    sets = list(dict.fromkeys(check_by(b, data) for b in sets))
    if any("team" in b for b in sets) and not data.has("agents"):
        raise DataError(f"{data.path}: grouping by team needs the agents table (agents.csv or agents.parquet)")
    backend = backend or data.backend
    periods = sorted(set(periods))
    backend.set_calendar(calendar_for(periods))
    frames: dict[tuple, list] = {b: [] for b in sets}
    skipped: dict[tuple, dict] = {b: {} for b in sets}  # source -> why none of its measures is computed
    for source, build in QUERIES.items():
        if sources is not None and source not in sources:
            continue
        table = SOURCE_TABLE[source]
        if not data.has(table):
            for b in sets:
                skipped[b][source] = f"needs the {table} table, which is not in the data"
            continue
        groupings = []
        for b in sets:
            unsupported = [d for d in b if not supports(source, d)]
            if unsupported:
                skipped[b][source] = f"{table} cannot be broken down by {', '.join(unsupported)}"
            else:
                groupings.append(b)
        if len(groupings) == 1:
            scope = Scope(periods[0].start, periods[-1].end, groupings[0])
            frames[groupings[0]].append((source, backend.run(build(reg, scope, data.params,
                                                                   backend.dialect))))
        elif groupings:
            dims = tuple(dict.fromkeys(d for b in groupings for d in b))
            scope = Scope(periods[0].start, periods[-1].end, dims, tuple(groupings))
            frame = backend.run(build(reg, scope, data.params, backend.dialect))
            for b in groupings:
                frames[b].append((source, _grouping_rows(frame, dims, b)))
    inputs = missing_inputs(data, reg)
    return {b: _assemble(data, reg, periods, b, frames[b], skipped[b], inputs) for b in sets}


def _grouping_rows(frame: pd.DataFrame, dims: tuple[str, ...], by: tuple[str, ...]) -> pd.DataFrame:
    """The rows of one grouping of a ``GROUPING SETS`` result, shaped like a plain
    ``GROUP BY bucket, <by>`` result (the rolled-up columns dropped; an integer dimension
    without nulls back to plain int64, as a query of that grouping alone returns it)."""
    rows = frame[frame["grouping_set"] == grouping_code(dims, by)]
    rows = rows.drop(columns=["grouping_set", *(d for d in dims if d not in by)])
    rows = rows.reset_index(drop=True)
    for d in by:
        # NULLs of the rolled-up rows made the column nullable (DuckDB: Int64; Spark: the
        # integer time dimensions come back as float64).
        nullable_int = isinstance(rows[d].dtype, pd.Int64Dtype) or (
            d in TIME_DIMENSIONS and rows[d].dtype == "float64")
        if nullable_int and not rows[d].isna().any():
            rows[d] = rows[d].astype("int64")
    return rows


def _assemble(data, reg: Registry, periods: list[Period], by: tuple[str, ...], frames: list,
              skipped: dict[str, str], inputs: tuple[dict, dict]) -> Measures:
    """One grouping's measures from its sources' query results."""
    keys = ["bucket", *by]
    merged = pd.DataFrame({"bucket": [p.label for p in periods]}) if not by else None
    for _, frame in frames:
        merged = frame if merged is None else merged.merge(frame, on=keys, how="outer")
    if merged is None:
        merged = pd.DataFrame(columns=keys)
    for source, _ in frames:
        # A group without rows has counts and sums of 0; its percentiles and maxima stay NaN.
        cols = [m.name for m in reg.measures.values() if m.source == source and m.additive]
        merged[cols] = merged[cols].fillna(0.0)
    unavailable, notes = dict(inputs[0]), inputs[1]
    for m in reg.measures.values():
        if m.source in skipped:
            unavailable[m.name] = skipped[m.source]
    for name in unavailable:  # NaN, never 0: formulas turn it into a null KPI with the reason
        merged[name] = float("nan")
    if "queue" in by and any(source == "costs" for source, _ in frames):
        merged = _allocate_shared_costs(merged)
    merged = merged.rename(columns={"bucket": "period"})
    if "interval" in by:  # slot index -> the slot's start (business time)
        width_s = float(data.params.get("interval_minutes", 30)) * 60
        merged["interval"] = pd.to_datetime(merged["interval"].astype("int64") * int(width_s), unit="s")
    order = {p.label: k for k, p in enumerate(periods)}
    merged = merged.sort_values(
        ["period", *by], key=lambda s: s.map(order) if s.name == "period" else s, na_position="last"
    ).reset_index(drop=True)
    return Measures(merged, by, unavailable, {k: v for k, v in notes.items() if k not in unavailable})


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
