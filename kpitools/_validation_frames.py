"""The frames the data-quality gate checks, defined once for DuckDB and Spark (private).

A frame is a view in the engine that holds the data: each table cut to the review's scope
with a row key (``_key``) and the columns checks read, and the derived frames cross-table and
plausibility expectations run on (``agent_days``, ``daily_volume``, ``weekly_responses``:
joins and aggregates one table cannot express). Nothing is fetched: the checks
(:mod:`kpitools._expectations_sql`) run where the rows are.

Each frame is one SQL text in the subset both engines accept; the few spellings that differ
come from :mod:`kpitools.dialects`. The engine behind it is a *staged* object (DuckDB:
:class:`kpitools._validation_data.Staged`, Spark: :class:`kpitools._validation_spark.SparkStaged`)
with the tables staged as ``_dq_<table>`` views and these methods: ``dialect``, ``has``,
``present``, ``unreadable``, ``rows(sql)`` (a list of tuples), ``frame(sql)`` (a small pandas
frame), ``create_view(name, sql)``, ``create_table(name, sql)`` (kept for the run: small
look-ups only), ``view_columns(name)`` and ``column_types(name)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .schema import EARLIEST_DATE, TABLES

TYPED = ("timestamp", "date", "number", "integer", "bool")
TRAILING_WEEKS = 8
MIN_HISTORY = 4  # same-weekday days / weeks needed before a trailing range means anything
VIEW_PREFIX = "_dq_frame_"


@dataclass(frozen=True)
class Frame:
    """One frame as an engine view.

    ``columns`` are what the checks may read (absent file columns stay absent, so a check
    on one is skipped with a reason); ``order`` names the columns that give the rows their
    order, which picks the first unexpected rows shown as examples.
    """

    name: str
    view: str
    columns: list[str]
    order: list[str]


def typed_present(table: str, present: set[str]) -> list[str]:
    """The typed columns of ``table`` found in its file (each gets ``<col>__unreadable``)."""
    return [c.name for c in TABLES[table].columns if c.type in TYPED and c.name in present]


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


def in_ranges(d, expr: str, ranges, dates: bool = False) -> str:
    """SQL: ``expr`` (a TIMESTAMP, or a DATE with ``dates``) falls in one of the inclusive day
    ranges (TRUE when unscoped)."""
    if ranges is None:
        return "TRUE"
    if not ranges:
        return "FALSE"
    literal = d.date if dates else d.timestamp
    parts = [f"({expr} >= {literal(s.isoformat())} AND "
             f"{expr} < {literal((e + dt.timedelta(days=1)).isoformat())})" for s, e in ranges]
    return "(" + " OR ".join(parts) + ")"


def overlaps(d, start_expr: str, end_expr: str, ranges) -> str:
    """SQL: the day range from ``start_expr`` to ``end_expr`` meets one of ``ranges``."""
    if ranges is None:
        return "TRUE"
    if not ranges:
        return "FALSE"
    parts = [f"({start_expr} <= {d.date(e.isoformat())} AND {end_expr} >= {d.date(s.isoformat())})"
             for s, e in ranges]
    return "(" + " OR ".join(parts) + ")"


def coverage(staged) -> tuple[dt.date | None, dt.date | None]:
    """First and last day with contacts, counting only plausible dates.

    The loader refuses other dates (and ``arrived_at_plausible`` reports them): one contact
    dated 0001-01-01 must not stretch the daily-volume frame over 2,000 years."""
    if not staged.has("interactions"):
        return None, None
    d = staged.dialect
    latest = dt.date.today() + dt.timedelta(days=366)
    first, last = staged.rows(
        "SELECT CAST(MIN(arrived_at) AS DATE), CAST(MAX(arrived_at) AS DATE) FROM _dq_interactions "
        f"WHERE arrived_at >= {d.timestamp(EARLIEST_DATE)} "
        f"AND arrived_at < {d.timestamp(latest.isoformat())}")[0]
    return first, last


# -- frames --------------------------------------------------------------------------------
def build_frames(staged, ranges, primary=None) -> dict[str, Frame]:
    """Create every frame the suites run on, cut to ``ranges`` (None: all rows).

    ``primary`` is the (start, end) of the period under review: all its days are checked for
    contacts, even beyond the data; comparison periods only where the data reaches.
    """
    d = staged.dialect
    frames: dict[str, Frame] = {}
    has = staged.has
    roster = has("agents") and "agent_id" in staged.present["agents"]
    roster_join = ("LEFT JOIN (SELECT DISTINCT agent_id FROM _dq_agents WHERE agent_id IS NOT NULL) r "
                   "ON r.agent_id = t.agent_id")
    not_in_roster = ("CASE WHEN t.agent_id IS NOT NULL AND r.agent_id IS NULL "
                     "THEN t.agent_id END AS agent_id__not_in_roster")
    row_key = "'row ' || CAST(t._row AS STRING)"

    def table_frame(table: str, sql: str, derived: list[str], order: list[str]) -> None:
        present = staged.present[table]
        cols = ["_key"] + [c for c in TABLES[table].column_names if c in present]
        cols += [f"{c}__unreadable" for c in staged.unreadable.get(table, [])]
        cols += derived
        # the row number and order columns ride along unlisted: a column the file lacks is
        # still in the staged table (empty), so the order stays the same
        hidden = [c for c in dict.fromkeys(["_row", *order]) if c not in cols]
        frames[table] = _create(staged, table, sql, cols, order, hidden)

    if has("interactions"):
        p = staged.present["interactions"]
        extra, join = "", ""
        if roster and "agent_id" in p:
            extra, join = f", {not_in_roster}", roster_join
        table_frame("interactions", f"""
            SELECT t.*, COALESCE(t.interaction_id, {row_key}) AS _key{extra}
            FROM _dq_interactions t {join}
            WHERE {in_ranges(d, 't.arrived_at', ranges)} OR t.arrived_at IS NULL""",
                    ["agent_id__not_in_roster"] if join else [],
                    ["_row", "arrived_at", "interaction_id"])

    answers = [t for t in ("surveys", "qa")
               if has(t) and has("interactions") and "interaction_id" in staged.present[t]]
    if answers:
        # The contacts surveys and QA refer to, looked up once (every scan of the surveys or
        # QA frame would otherwise group all contacts again): at most one row per answer.
        ids = " UNION ".join(f"SELECT interaction_id FROM _dq_{t}" for t in answers)
        staged.create_table("_dq_contacts", f"""
            SELECT interaction_id, MIN(arrived_at) AS arrived_at, TRUE AS found
            FROM _dq_interactions
            WHERE interaction_id IS NOT NULL AND interaction_id IN ({ids})
            GROUP BY interaction_id""")
    for table, when in (("surveys", "responded_at"), ("qa", "evaluated_at")):
        if not has(table):
            continue
        p = staged.present[table]
        if table in answers:
            contact = "LEFT JOIN _dq_contacts i ON i.interaction_id = t.interaction_id"
            extra = (", CASE WHEN t.interaction_id IS NOT NULL AND i.found IS NULL "
                     "THEN t.interaction_id END AS interaction_id__not_found, "
                     "i.arrived_at AS contact_arrived_at")
            placed = f"COALESCE(i.arrived_at, t.{when})" if when in p else "i.arrived_at"
        else:
            contact, extra, placed = "", "", f"t.{when}" if when in p else "NULL"
        derived = (["interaction_id__not_found"] + (["contact_arrived_at"] if when in p else [])
                   if contact else [])
        table_frame(table, f"""
            SELECT t.*, COALESCE(t.interaction_id, {row_key}) AS _key{extra}
            FROM _dq_{table} t {contact}
            WHERE {in_ranges(d, placed, ranges)} OR {placed} IS NULL""",
                    derived, ["_row", when, "interaction_id"])

    if has("agent_activity"):
        p = staged.present["agent_activity"]
        extra, join, derived = "", "", []
        if {"logged_in_s", "handling_s", "available_s"} <= p:
            extra += ", t.logged_in_s - t.handling_s - t.available_s AS aux_s"
            derived.append("aux_s")
        if roster and "agent_id" in p:
            extra, join = extra + f", {not_in_roster}", roster_join
            derived.append("agent_id__not_in_roster")
        table_frame("agent_activity", f"""
            SELECT t.*,
                   COALESCE(t.agent_id || ' ' || CAST(t.date AS STRING), {row_key}) AS _key{extra}
            FROM _dq_agent_activity t {join}
            WHERE {in_ranges(d, 't.date', ranges, dates=True)} OR t.date IS NULL""",
                    derived, ["_row", "date", "agent_id"])

    if has("agents"):
        table_frame("agents", f"SELECT t.*, COALESCE(t.agent_id, {row_key}) AS _key FROM _dq_agents t",
                    [], ["_row", "agent_id"])

    if has("costs"):
        table_frame("costs", f"""
            SELECT t.*,
                   COALESCE(CAST(t.period_start AS STRING), '?') || '..' ||
                   COALESCE(CAST(t.period_end AS STRING), '?') || COALESCE(' ' || t.queue, '') AS _key
            FROM _dq_costs t
            WHERE {overlaps(d, 't.period_start', 't.period_end', ranges)}
               OR t.period_start IS NULL OR t.period_end IS NULL""",
                    [], ["_row", "period_start", "queue"])

    ip = staged.present.get("interactions", set())
    if has("interactions") and has("agent_activity") and {"agent_id", "arrived_at", "outcome"} <= ip \
            and {"agent_id", "date", "logged_in_s"} <= staged.present["agent_activity"]:
        frames["agent_days"] = _create(staged, "agent_days", f"""
            WITH h AS (
                SELECT agent_id, CAST(arrived_at AS DATE) AS date, COUNT(*) AS contacts,
                       SUM(COALESCE(talk_s, 0) + COALESCE(hold_s, 0) + COALESCE(acw_s, 0))
                           AS contact_handle_s
                FROM _dq_interactions
                WHERE outcome = 'handled' AND agent_id IS NOT NULL AND arrived_at IS NOT NULL
                  AND {in_ranges(d, 'arrived_at', ranges)}
                GROUP BY agent_id, CAST(arrived_at AS DATE)),
            a AS (
                SELECT agent_id, date, SUM(logged_in_s) AS logged_in_s
                FROM _dq_agent_activity WHERE {in_ranges(d, 'date', ranges, dates=True)}
                GROUP BY agent_id, date)
            SELECT h.agent_id || ' ' || CAST(h.date AS STRING) AS _key, h.agent_id, h.date,
                   h.contacts, h.contact_handle_s, a.logged_in_s
            FROM h LEFT JOIN a ON a.agent_id = h.agent_id AND a.date = h.date""",
                                       None, ["date", "agent_id"])

    if has("interactions") and "arrived_at" in ip:
        first, last = coverage(staged)
        days = scope_days(ranges, first, last, primary)
        if days:
            frames["daily_volume"] = _create(staged, "daily_volume",
                                             _daily_volume(d, days, first, last), None, ["date"])
            if has("surveys") and {"interaction_id", "outcome"} <= ip \
                    and "interaction_id" in staged.present["surveys"]:
                frames["weekly_responses"] = _create(staged, "weekly_responses",
                                                     _weekly_responses(d, days, first), None,
                                                     ["week_start"])
    return frames


def _create(staged, name: str, sql: str, columns: list[str] | None, order: list[str],
            hidden: tuple | list = ()) -> Frame:
    """The frame as a view: ``columns`` (None: all the query's) and ``hidden`` ones that
    only order the rows."""
    q = staged.dialect.quote
    view = VIEW_PREFIX + name
    if columns is None:
        staged.create_view(view, sql)
        columns = staged.view_columns(view)
    else:
        listed = ", ".join(q(c) for c in [*columns, *hidden])
        staged.create_view(view, f"SELECT {listed} FROM ({sql}) f")
    return Frame(name=name, view=view, columns=list(columns), order=list(order))


def fetch(staged, frame: Frame):
    """A frame's rows as pandas, in frame order (the GX reference and tests; small data)."""
    q = staged.dialect.quote
    order = ", ".join(f"{q(c)} NULLS LAST" for c in frame.order)
    return staged.frame(f"SELECT {', '.join(q(c) for c in frame.columns)} FROM {frame.view} "
                        f"ORDER BY {order}")


def scope_days(ranges, first, last, primary=None) -> list[tuple[dt.date, dt.date]]:
    """The scope's days: the period under review whole, the others clipped to the data."""
    out = [primary] if primary else []
    if first is not None and last is not None:
        for s, e in ([(first, last)] if ranges is None else ranges):
            s, e = max(s, first), min(e, last)
            if s <= e:
                out.append((s, e))
    return merge_ranges(out)


def _day_series(d, days) -> str:
    return " UNION ALL ".join(
        f"SELECT CAST(s.d AS DATE) AS d FROM "
        f"({d.series(d.date(s), d.date(e), 'INTERVAL 1 DAY', 'd')}) s" for s, e in days)


def _daily_volume(d, days, first: dt.date | None, last: dt.date | None) -> str:
    lo = min(s for s, _ in days) - dt.timedelta(weeks=TRAILING_WEEKS)
    hi = max(e for _, e in days) + dt.timedelta(days=1)
    back = d.add_days("days.d", "-7 * kk.k")
    return f"""
        WITH counts AS (
            SELECT CAST(arrived_at AS DATE) AS d, COUNT(*) AS n FROM _dq_interactions
            WHERE arrived_at >= {d.timestamp(lo)} AND arrived_at < {d.timestamp(hi)}
            GROUP BY CAST(arrived_at AS DATE)),
        days AS ({_day_series(d, days)}),
        weeks_back AS ({d.series('1', str(TRAILING_WEEKS), '1', 'k')}),
        hist AS (
            SELECT days.d, COUNT(*) AS hist_days, MIN(COALESCE(c.n, 0)) AS hist_min,
                   MAX(COALESCE(c.n, 0)) AS hist_max
            FROM days CROSS JOIN weeks_back kk
            LEFT JOIN counts c ON c.d = {back}
            WHERE {back} BETWEEN {d.date(first or dt.date.max)} AND {d.date(last or dt.date.min)}
            GROUP BY days.d)
        SELECT CAST(days.d AS STRING) AS _key, days.d AS date, COALESCE(c.n, 0) AS contacts,
               COALESCE(h.hist_days, 0) AS trailing_days, h.hist_min AS trailing_min,
               h.hist_max AS trailing_max,
               (COALESCE(h.hist_days, 0) = 0 OR h.hist_max > 0) AS expected_open,
               CASE WHEN COALESCE(c.n, 0) = 0 OR COALESCE(h.hist_days, 0) < {MIN_HISTORY} THEN NULL
                    WHEN c.n > h.hist_max AND h.hist_max > 0 THEN c.n / h.hist_max
                    WHEN c.n > h.hist_max THEN NULL
                    WHEN c.n < h.hist_min THEN c.n / h.hist_min
                    ELSE 1.0 END AS volume_vs_trailing
        FROM days LEFT JOIN counts c ON c.d = days.d LEFT JOIN hist h ON h.d = days.d"""


def _weekly_responses(d, days, first: dt.date | None) -> str:
    first = first or min(s for s, _ in days)
    weeks = sorted({day - dt.timedelta(days=day.weekday()) for s, e in days
                    for day in _each_day(s, e)})
    lo = weeks[0] - dt.timedelta(weeks=TRAILING_WEEKS)
    hi = weeks[-1] + dt.timedelta(days=7)
    listed = " UNION ALL ".join(f"SELECT {d.date(w)} AS week_start" for w in weeks)
    return f"""
        WITH resp AS (
            SELECT interaction_id, COUNT(*) AS n FROM _dq_surveys
            WHERE interaction_id IS NOT NULL GROUP BY interaction_id),
        wk AS (
            SELECT CAST(date_trunc('week', i.arrived_at) AS DATE) AS week_start,
                   SUM(CASE WHEN i.outcome = 'handled' THEN 1 ELSE 0 END) AS handled,
                   COALESCE(SUM(r.n), 0) AS responses
            FROM _dq_interactions i LEFT JOIN resp r ON r.interaction_id = i.interaction_id
            WHERE i.arrived_at >= {d.timestamp(lo)} AND i.arrived_at < {d.timestamp(hi)}
            GROUP BY CAST(date_trunc('week', i.arrived_at) AS DATE)),
        rates AS (
            SELECT week_start, handled, responses,
                   CASE WHEN handled > 0 THEN responses / handled END AS response_rate
            FROM wk),
        scope AS ({listed}),
        trail AS (
            SELECT s.week_start, COUNT(r.response_rate) AS trailing_weeks,
                   median(r.response_rate) AS trailing_median
            FROM scope s JOIN rates r
              ON r.week_start < s.week_start
             AND r.week_start >= {d.add_days('s.week_start', -7 * TRAILING_WEEKS)}
             AND r.week_start >= {d.add_days(d.date(first), -6)}
            GROUP BY s.week_start)
        SELECT {d.week_label('s.week_start')} AS _key, s.week_start,
               COALESCE(r.handled, 0) AS handled, COALESCE(r.responses, 0) AS responses,
               r.response_rate, t.trailing_weeks, t.trailing_median,
               CASE WHEN t.trailing_weeks >= {MIN_HISTORY} AND t.trailing_median > 0
                         AND r.response_rate IS NOT NULL
                    THEN r.response_rate / t.trailing_median END AS response_rate_vs_trailing
        FROM scope s LEFT JOIN rates r ON r.week_start = s.week_start
        LEFT JOIN trail t ON t.week_start = s.week_start"""


def _each_day(start: dt.date, end: dt.date):
    d = start
    while d <= end:
        yield d
        d += dt.timedelta(days=1)
