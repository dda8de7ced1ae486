"""The frames the data-quality gate hands to Great Expectations (private).

DuckDB does the set work: it stages each table with a key column and, for typed columns,
the raw text of values that do not read as their type; it cuts the rows to the review's
scope; and it builds the derived frames that cross-table and plausibility expectations run
on (joins and aggregates GX cannot express on one table). GX then checks the frames.

Two ways in:

* a :class:`~kpitools.loading.Dataset` that :func:`kpitools.load` accepted — its values
  already passed the loader's type checks, so the ``<col>__unreadable`` columns are empty;
* a *lenient* staging of a folder the loader rejected: every column is cast the loader's
  way, bad values become empty and their raw text goes to ``<col>__unreadable``; no value
  checks stop it, so GX can report every problem with counts and examples.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from . import loading
from .config import check_timezone
from .errors import DataError
from .schema import EARLIEST_DATE, TABLES

TYPED = ("timestamp", "date", "number", "integer", "bool")
TRAILING_WEEKS = 8
MIN_HISTORY = 4  # same-weekday days / weeks needed before a trailing range means anything


@dataclass
class Staged:
    """Tables staged as ``_dq_<table>`` views on ``con``."""

    con: duckdb.DuckDBPyConnection
    present: dict[str, set[str]]          # table -> canonical columns found in its file
    unreadable: dict[str, list[str]] = field(default_factory=dict)  # table -> typed columns
    problems: list[tuple[str | None, str]] = field(default_factory=list)  # (table, message)

    def has(self, table: str) -> bool:
        return table in self.present


def _typed_present(table: str, present: set[str]) -> list[str]:
    return [c.name for c in TABLES[table].columns if c.type in TYPED and c.name in present]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def stage_dataset(data) -> Staged:
    """Stage the tables of a loaded Dataset (values already type-checked by the loader)."""
    con = data.con
    staged = Staged(con=con, present={})
    for table, src in data.files.items():
        try:
            present = set(loading._describe(con, src)) & set(TABLES[table].column_names)
        except DataError:  # the file went away since it was loaded: trust the loaded table
            present = set(TABLES[table].column_names)
        typed = _typed_present(table, present)
        extra = "".join(f", CAST(NULL AS VARCHAR) AS {_q(c + '__unreadable')}" for c in typed)
        con.execute(f"CREATE OR REPLACE TEMP VIEW _dq_{table} AS "
                    f"SELECT *, CAST(NULL AS BIGINT) AS _row{extra} FROM {table}")
        staged.present[table] = present
        staged.unreadable[table] = typed
    return staged


def stage_folder(path, timezone: str) -> Staged:
    """Stage a folder leniently: casts as the loader does, bad values kept aside as text."""
    from pathlib import Path

    timezone = check_timezone(timezone, "business time zone")  # only checked names reach SQL
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"SET TimeZone = '{timezone}'")
    except duckdb.Error:
        raise DataError(f"unknown time zone {timezone!r}") from None
    staged = Staged(con=con, present={})
    files = loading.find_files(Path(path))  # DataError when the folder or interactions is missing
    for table, src in files.items():
        try:
            columns = loading._describe(con, src)
        except DataError as exc:
            staged.problems.append((table, str(exc)))
            continue
        present = set(columns) & set(TABLES[table].column_names)
        selects = []
        for col in TABLES[table].columns:
            name = _q(col.name)
            ctype = loading.DUCKDB_TYPES[col.type]
            if col.name not in present:
                selects.append(f"CAST(NULL AS {ctype}) AS {name}")
                continue
            expr, bad, _ = loading.cast_column(col, columns[col.name], tz_aware=False)
            if bad == "TRUE":  # the whole column has a type that cannot hold these values
                selects.append(f"CAST(NULL AS {ctype}) AS {name}")
                bad = f"{name} IS NOT NULL"
            else:
                selects.append(f"{expr} AS {name}")
            if col.type in TYPED:
                raw = f"CAST({name} AS VARCHAR)"
                flag = f"CASE WHEN {bad} THEN {raw} END" if bad else "CAST(NULL AS VARCHAR)"
                selects.append(f"{flag} AS {_q(col.name + '__unreadable')}")
        try:
            con.execute(f"CREATE TABLE _raw_{table} AS SELECT {', '.join(selects)}, "
                        f"row_number() OVER () AS _row FROM {src.reader}")
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            staged.problems.append((table, f"{src.path}: cannot read this file ({first})"))
            continue
        con.execute(f"CREATE TEMP VIEW _dq_{table} AS SELECT * FROM _raw_{table}")
        staged.present[table] = present
        staged.unreadable[table] = _typed_present(table, present)
    return staged


def drop_views(staged: Staged) -> None:
    for table in TABLES:
        try:
            staged.con.execute(f"DROP VIEW IF EXISTS _dq_{table}")
        except duckdb.Error:
            pass


# -- scope ---------------------------------------------------------------------------------
def merge_ranges(ranges: list[tuple[dt.date, dt.date]]) -> list[tuple[dt.date, dt.date]]:
    """Sorted, non-overlapping, adjacent ranges joined."""
    out: list[list[dt.date]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1] + dt.timedelta(days=1):
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(s, e) for s, e in out]


def in_ranges(expr: str, ranges, kind: str = "TIMESTAMP") -> str:
    """SQL: ``expr`` falls in one of the inclusive day ranges (TRUE when unscoped)."""
    if ranges is None:
        return "TRUE"
    if not ranges:
        return "FALSE"
    parts = []
    for start, end in ranges:
        stop = end + dt.timedelta(days=1)
        parts.append(f"({expr} >= {kind} '{start.isoformat()}' AND {expr} < {kind} '{stop.isoformat()}')")
    return "(" + " OR ".join(parts) + ")"


def overlaps(start_expr: str, end_expr: str, ranges) -> str:
    if ranges is None:
        return "TRUE"
    if not ranges:
        return "FALSE"
    parts = [f"({start_expr} <= DATE '{e.isoformat()}' AND {end_expr} >= DATE '{s.isoformat()}')"
             for s, e in ranges]
    return "(" + " OR ".join(parts) + ")"


# -- frames --------------------------------------------------------------------------------
def _keep(frame: pd.DataFrame, table: str, staged: Staged, derived: list[str]) -> pd.DataFrame:
    """Only the columns the file has (so absent ones are visibly absent), plus derived ones."""
    present = staged.present[table]
    typed = staged.unreadable.get(table, [])
    cols = ["_key"] + [c for c in TABLES[table].column_names if c in present]
    cols += [f"{c}__unreadable" for c in typed] + [d for d in derived if d in frame.columns]
    return frame[cols]


def coverage(staged: Staged) -> tuple[dt.date | None, dt.date | None]:
    if not staged.has("interactions"):
        return None, None
    # Only plausible dates (the loader refuses others, and arrived_at_plausible reports them):
    # one contact dated 0001-01-01 must not stretch the daily-volume frame over 2,000 years.
    latest = dt.date.today() + dt.timedelta(days=366)
    first, last = staged.con.execute(
        "SELECT CAST(MIN(arrived_at) AS DATE), CAST(MAX(arrived_at) AS DATE) FROM _dq_interactions "
        f"WHERE arrived_at >= TIMESTAMP '{EARLIEST_DATE} 00:00:00' "
        f"AND arrived_at < TIMESTAMP '{latest.isoformat()} 00:00:00'"
    ).fetchall()[0]
    return first, last


def build_frames(staged: Staged, ranges, primary=None) -> dict[str, pd.DataFrame]:
    """Every frame the suites run on, cut to ``ranges`` (None: all rows).

    ``primary`` is the (start, end) of the period under review: all its days are checked for
    contacts, even beyond the data; comparison periods only where the data reaches.
    """
    con = staged.con
    frames: dict[str, pd.DataFrame] = {}
    has = staged.has
    roster = has("agents") and "agent_id" in staged.present["agents"]
    roster_join = ("LEFT JOIN (SELECT DISTINCT agent_id FROM _dq_agents WHERE agent_id IS NOT NULL) r "
                   "ON r.agent_id = t.agent_id")

    def fetch(sql: str) -> pd.DataFrame:
        return con.execute(sql).df()

    if has("interactions"):
        p = staged.present["interactions"]
        extra, join = "", ""
        if roster and "agent_id" in p:
            extra = (", CASE WHEN t.agent_id IS NOT NULL AND r.agent_id IS NULL "
                     "THEN t.agent_id END AS agent_id__not_in_roster")
            join = roster_join
        frame = fetch(f"""
            SELECT t.* EXCLUDE (_row), COALESCE(t.interaction_id, 'row ' || t._row) AS _key{extra}
            FROM _dq_interactions t {join}
            WHERE {in_ranges('t.arrived_at', ranges)} OR t.arrived_at IS NULL
            ORDER BY t._row, t.arrived_at, t.interaction_id""")
        frames["interactions"] = _keep(frame, "interactions", staged, ["agent_id__not_in_roster"])

    for table, when in (("surveys", "responded_at"), ("qa", "evaluated_at")):
        if not has(table):
            continue
        p = staged.present[table]
        if has("interactions") and "interaction_id" in p:
            contact = ("LEFT JOIN (SELECT interaction_id, MIN(arrived_at) AS arrived_at, TRUE AS found "
                       "FROM _dq_interactions WHERE interaction_id IS NOT NULL GROUP BY 1) i "
                       "ON i.interaction_id = t.interaction_id")
            extra = (", CASE WHEN t.interaction_id IS NOT NULL AND i.found IS NULL "
                     "THEN t.interaction_id END AS interaction_id__not_found, "
                     "i.arrived_at AS contact_arrived_at")
            placed = f"COALESCE(i.arrived_at, t.{when})" if when in p else "i.arrived_at"
        else:
            contact, extra, placed = "", "", f"t.{when}" if when in p else "NULL"
        frame = fetch(f"""
            SELECT t.* EXCLUDE (_row), COALESCE(t.interaction_id, 'row ' || t._row) AS _key{extra}
            FROM _dq_{table} t {contact}
            WHERE {in_ranges(placed, ranges)} OR {placed} IS NULL
            ORDER BY t._row, t.{when}, t.interaction_id""")
        derived = ["interaction_id__not_found"]
        if when in p:
            derived.append("contact_arrived_at")
        frames[table] = _keep(frame, table, staged, derived)

    if has("agent_activity"):
        p = staged.present["agent_activity"]
        extra, join = "", ""
        if {"logged_in_s", "handling_s", "available_s"} <= p:
            extra += ", t.logged_in_s - t.handling_s - t.available_s AS aux_s"
        if roster and "agent_id" in p:
            extra += (", CASE WHEN t.agent_id IS NOT NULL AND r.agent_id IS NULL "
                      "THEN t.agent_id END AS agent_id__not_in_roster")
            join = roster_join
        frame = fetch(f"""
            SELECT t.* EXCLUDE (_row),
                   COALESCE(t.agent_id || ' ' || CAST(t.date AS VARCHAR), 'row ' || t._row) AS _key{extra}
            FROM _dq_agent_activity t {join}
            WHERE {in_ranges('t.date', ranges, 'DATE')} OR t.date IS NULL
            ORDER BY t._row, t.date, t.agent_id""")
        frames["agent_activity"] = _keep(frame, "agent_activity", staged,
                                         ["aux_s", "agent_id__not_in_roster"])

    if has("agents"):
        frame = fetch("SELECT t.* EXCLUDE (_row), COALESCE(t.agent_id, 'row ' || t._row) AS _key "
                      "FROM _dq_agents t ORDER BY t._row, t.agent_id")
        frames["agents"] = _keep(frame, "agents", staged, [])

    if has("costs"):
        frame = fetch(f"""
            SELECT t.* EXCLUDE (_row),
                   COALESCE(CAST(t.period_start AS VARCHAR), '?') || '..' ||
                   COALESCE(CAST(t.period_end AS VARCHAR), '?') || COALESCE(' ' || t.queue, '') AS _key
            FROM _dq_costs t
            WHERE {overlaps('t.period_start', 't.period_end', ranges)}
               OR t.period_start IS NULL OR t.period_end IS NULL
            ORDER BY t._row, t.period_start, t.queue""")
        frames["costs"] = _keep(frame, "costs", staged, [])

    ip = staged.present.get("interactions", set())
    if has("interactions") and has("agent_activity") and {"agent_id", "arrived_at", "outcome"} <= ip \
            and {"agent_id", "date", "logged_in_s"} <= staged.present["agent_activity"]:
        frames["agent_days"] = fetch(f"""
            WITH h AS (
                SELECT agent_id, CAST(arrived_at AS DATE) AS date, COUNT(*) AS contacts,
                       SUM(COALESCE(talk_s, 0) + COALESCE(hold_s, 0) + COALESCE(acw_s, 0)) AS contact_handle_s
                FROM _dq_interactions
                WHERE outcome = 'handled' AND agent_id IS NOT NULL AND arrived_at IS NOT NULL
                  AND {in_ranges('arrived_at', ranges)}
                GROUP BY ALL),
            a AS (
                SELECT agent_id, date, SUM(logged_in_s) AS logged_in_s
                FROM _dq_agent_activity WHERE {in_ranges('date', ranges, 'DATE')}
                GROUP BY ALL)
            SELECT h.agent_id || ' ' || CAST(h.date AS VARCHAR) AS _key, h.agent_id, h.date,
                   h.contacts, h.contact_handle_s, a.logged_in_s
            FROM h LEFT JOIN a ON a.agent_id = h.agent_id AND a.date = h.date
            ORDER BY h.date, h.agent_id""")

    if has("interactions") and "arrived_at" in ip:
        first, last = coverage(staged)
        days = _days(ranges, first, last, primary)
        if days:
            frames["daily_volume"] = _daily_volume(con, days, first, last)
            if has("surveys") and {"interaction_id", "outcome"} <= ip \
                    and "interaction_id" in staged.present["surveys"]:
                frames["weekly_responses"] = _weekly_responses(con, days, first)
    return frames


def _days(ranges, first, last, primary=None) -> list[tuple[dt.date, dt.date]]:
    """The scope's days: the period under review whole, the others clipped to the data."""
    out = [primary] if primary else []
    if first is not None and last is not None:
        for s, e in ([(first, last)] if ranges is None else ranges):
            s, e = max(s, first), min(e, last)
            if s <= e:
                out.append((s, e))
    return merge_ranges(out)


def _series(days) -> str:
    return " UNION ALL ".join(
        f"SELECT CAST(unnest(generate_series(DATE '{s}', DATE '{e}', INTERVAL 1 DAY)) AS DATE) AS d"
        for s, e in days)


def _daily_volume(con, days, first: dt.date | None, last: dt.date | None) -> pd.DataFrame:
    lo = min(s for s, _ in days) - dt.timedelta(weeks=TRAILING_WEEKS)
    hi = max(e for _, e in days) + dt.timedelta(days=1)
    return con.execute(f"""
        WITH counts AS (
            SELECT CAST(arrived_at AS DATE) AS d, COUNT(*) AS n FROM _dq_interactions
            WHERE arrived_at >= TIMESTAMP '{lo}' AND arrived_at < TIMESTAMP '{hi}' GROUP BY 1),
        days AS ({_series(days)}),
        hist AS (
            SELECT days.d, COUNT(*) AS hist_days, MIN(COALESCE(c.n, 0)) AS hist_min,
                   MAX(COALESCE(c.n, 0)) AS hist_max
            FROM days CROSS JOIN range(1, {TRAILING_WEEKS + 1}) AS k(k)
            LEFT JOIN counts c ON c.d = days.d - CAST(7 * k.k AS INTEGER)
            WHERE days.d - CAST(7 * k.k AS INTEGER) BETWEEN DATE '{first or dt.date.max}'
                                                        AND DATE '{last or dt.date.min}'
            GROUP BY days.d)
        SELECT CAST(days.d AS VARCHAR) AS _key, days.d AS date, COALESCE(c.n, 0) AS contacts,
               COALESCE(h.hist_days, 0) AS trailing_days, h.hist_min AS trailing_min,
               h.hist_max AS trailing_max,
               (COALESCE(h.hist_days, 0) = 0 OR h.hist_max > 0) AS expected_open,
               CASE WHEN COALESCE(c.n, 0) = 0 OR COALESCE(h.hist_days, 0) < {MIN_HISTORY} THEN NULL
                    WHEN c.n > h.hist_max AND h.hist_max > 0 THEN c.n / h.hist_max
                    WHEN c.n > h.hist_max THEN NULL
                    WHEN c.n < h.hist_min THEN c.n / h.hist_min
                    ELSE 1.0 END AS volume_vs_trailing
        FROM days LEFT JOIN counts c ON c.d = days.d LEFT JOIN hist h ON h.d = days.d
        ORDER BY days.d""").df()


def _weekly_responses(con, days, first: dt.date) -> pd.DataFrame:
    first = first or min(s for s, _ in days)
    weeks = sorted({d - dt.timedelta(days=d.weekday()) for s, e in days for d in _each_day(s, e)})
    lo = weeks[0] - dt.timedelta(weeks=TRAILING_WEEKS)
    hi = weeks[-1] + dt.timedelta(days=7)
    listed = ", ".join(f"(DATE '{w}')" for w in weeks)
    return con.execute(f"""
        WITH resp AS (
            SELECT interaction_id, COUNT(*) AS n FROM _dq_surveys
            WHERE interaction_id IS NOT NULL GROUP BY 1),
        wk AS (
            SELECT CAST(date_trunc('week', i.arrived_at) AS DATE) AS week_start,
                   COUNT(*) FILTER (WHERE i.outcome = 'handled') AS handled,
                   COALESCE(SUM(r.n), 0) AS responses
            FROM _dq_interactions i LEFT JOIN resp r ON r.interaction_id = i.interaction_id
            WHERE i.arrived_at >= TIMESTAMP '{lo}' AND i.arrived_at < TIMESTAMP '{hi}'
            GROUP BY 1),
        rates AS (
            SELECT week_start, handled, responses,
                   CASE WHEN handled > 0 THEN responses / handled END AS response_rate
            FROM wk),
        scope(week_start) AS (VALUES {listed}),
        trail AS (
            SELECT s.week_start, COUNT(r.response_rate) AS trailing_weeks,
                   MEDIAN(r.response_rate) AS trailing_median
            FROM scope s JOIN rates r
              ON r.week_start < s.week_start
             AND r.week_start >= s.week_start - INTERVAL {TRAILING_WEEKS} WEEK
             AND r.week_start >= DATE '{first}' - INTERVAL 6 DAY
            GROUP BY 1)
        SELECT strftime(s.week_start, '%G-W%V') AS _key, s.week_start,
               COALESCE(r.handled, 0) AS handled, COALESCE(r.responses, 0) AS responses,
               r.response_rate, t.trailing_weeks, t.trailing_median,
               CASE WHEN t.trailing_weeks >= {MIN_HISTORY} AND t.trailing_median > 0
                         AND r.response_rate IS NOT NULL
                    THEN r.response_rate / t.trailing_median END AS response_rate_vs_trailing
        FROM scope s LEFT JOIN rates r USING (week_start) LEFT JOIN trail t USING (week_start)
        ORDER BY s.week_start""").df()


def _each_day(start: dt.date, end: dt.date):
    d = start
    while d <= end:
        yield d
        d += dt.timedelta(days=1)
