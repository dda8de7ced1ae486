"""The data-quality gate on Spark (private; see :mod:`kpitools.validation`).

The frames the stored Great Expectations suites run on, built as **Spark DataFrames** from a
:class:`~kpitools.spark.SparkDataset` (or a lenient Spark read of a folder the loader
rejected), so GX's Spark engine checks the rows where they are. They are the frames of
:mod:`kpitools._validation_data` — same rows, columns, keys and order — written in Spark
SQL; ``tests/test_spark_parity.py`` compares the two builders frame by frame, so a change to
one that the other lacks fails the tests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from . import _validation_data as vd
from .errors import DataError
from .schema import TABLES

TYPED = vd.TYPED
TRAILING_WEEKS = vd.TRAILING_WEEKS
MIN_HISTORY = vd.MIN_HISTORY
SPARK_TYPES = {"string": "STRING", "timestamp": "TIMESTAMP_NTZ", "date": "DATE",
               "number": "DOUBLE", "integer": "BIGINT", "bool": "BOOLEAN"}


class SparkFrame:
    """A Spark DataFrame with what the gate reads of a frame: ``columns`` and ``len()``
    (counted once). GX receives ``.df``."""

    def __init__(self, df):
        self.df = df
        self.columns = list(df.columns)
        self._rows: int | None = None

    def __len__(self) -> int:
        if self._rows is None:
            self._rows = self.df.count()
        return self._rows


@dataclass
class SparkStaged:
    """Tables staged as ``_dq_<table>`` temporary views in ``spark`` (a child session)."""

    spark: object
    present: dict[str, set[str]]
    unreadable: dict[str, list[str]] = field(default_factory=dict)
    problems: list[tuple[str | None, str]] = field(default_factory=list)
    dataset: object = None
    own_dataset: bool = False
    frames: list = field(default_factory=list)

    def has(self, table: str) -> bool:
        return table in self.present

    def close(self) -> None:
        for frame in self.frames:
            frame.df.unpersist()  # GX may have persisted it
        for table in TABLES:
            self.spark.catalog.dropTempView(f"_dq_{table}")
        if self.own_dataset and self.dataset is not None:
            self.dataset.close()


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def stage(data, *, timezone: str | None = None, spark=None, spark_master=None, config=None):
    """(staged tables, the loader's error or None) for a SparkDataset or a folder.

    A folder the Spark loader accepts is staged from its canonical views; one it rejects is
    read leniently (bad values set aside as text) so every problem becomes a failed
    expectation. Raises DataError when the folder itself cannot be used."""
    from .errors import ConfigError
    from .spark import SparkDataset, load_spark, spark_session

    if isinstance(data, SparkDataset):
        return stage_dataset(data), None
    spark = spark_session(spark, spark_master)  # a Spark that cannot start is not bad data
    try:
        dataset = load_spark(data, timezone=timezone, spark=spark, config=config)
    except (DataError, ConfigError) as exc:  # bad values, or e.g. a broken targets.yaml
        from .registry import registry as default_registry

        tz = (timezone or getattr(config, "timezone", None)
              or default_registry.parameters.get("business_timezone", "UTC"))
        return stage_folder(data, tz, spark=spark), str(exc)
    staged = stage_dataset(dataset)
    staged.own_dataset = True
    return staged, None


def stage_dataset(data) -> SparkStaged:
    """Stage a loaded SparkDataset (values already type-checked by the loader)."""
    session = data.spark
    staged = SparkStaged(spark=session, present={}, dataset=data)
    for table in data.files:
        present = set(data.source_columns(table)) & set(TABLES[table].column_names)
        typed = vd._typed_present(table, present)
        extra = "".join(f", CAST(NULL AS STRING) AS {_q(c + '__unreadable')}" for c in typed)
        session.sql(f"SELECT *, CAST(NULL AS BIGINT) AS _row{extra} FROM {table}") \
            .createOrReplaceTempView(f"_dq_{table}")
        staged.present[table] = present
        staged.unreadable[table] = typed
    return staged


def stage_folder(path, timezone: str, *, spark=None, spark_master=None) -> SparkStaged:
    """Stage a folder leniently: casts as the loader does, bad values kept aside as text."""
    import zoneinfo

    from . import loading
    from .spark import RAW_PREFIX, arrow_nanos, cast_column, read_source, spark_session

    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DataError(f"unknown time zone {timezone!r}") from None
    files = loading.find_files(Path(path))  # DataError when the folder or interactions is missing
    session = spark_session(spark, spark_master).newSession()
    session.conf.set("spark.sql.session.timeZone", timezone)
    session.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
    staged = SparkStaged(spark=session, present={})
    for table, src in files.items():
        try:
            raw, columns = read_source(session, src)
            nanos = arrow_nanos(src) if src.format == "parquet" else {}
        except DataError as exc:
            staged.problems.append((table, str(exc)))
            continue
        present = set(columns) & set(TABLES[table].column_names)
        selects = []
        for col in TABLES[table].columns:
            name = _q(col.name)
            if col.name not in present:
                selects.append(f"CAST(NULL AS {SPARK_TYPES[col.type]}) AS {name}")
                continue
            expr, bad, _ = cast_column(col, columns[col.name], nanos.get(col.name, False))
            if bad == "TRUE":  # the whole column has a type that cannot hold these values
                selects.append(f"CAST(NULL AS {SPARK_TYPES[col.type]}) AS {name}")
                bad = f"{name} IS NOT NULL"
            else:
                selects.append(f"{expr} AS {name}")
            if col.type in TYPED:
                flag = f"CASE WHEN {bad} THEN CAST({name} AS STRING) END" if bad else "CAST(NULL AS STRING)"
                selects.append(f"{flag} AS {_q(col.name + '__unreadable')}")
        raw_view = RAW_PREFIX + table
        raw.createOrReplaceTempView(raw_view)
        try:
            frame = session.sql(
                f"SELECT {', '.join(selects)}, "
                f"row_number() OVER (ORDER BY monotonically_increasing_id()) AS _row FROM {raw_view}")
            frame = frame.cache()
            frame.count()  # a file Spark cannot parse fails here, not inside GX
        except Exception as exc:  # noqa: BLE001 - any read failure becomes a record
            from .spark import first_line

            staged.problems.append((table, f"{src.path}: cannot read this file ({first_line(exc)})"))
            continue
        frame.createOrReplaceTempView(f"_dq_{table}")
        staged.frames.append(SparkFrame(frame))
        staged.present[table] = present
        staged.unreadable[table] = vd._typed_present(table, present)
    return staged


# -- frames --------------------------------------------------------------------------------
def _keep(df, table: str, staged: SparkStaged, derived: list[str]) -> SparkFrame:
    """Only the columns the file has (so absent ones are visibly absent), plus derived ones
    — the selection :func:`kpitools._validation_data._keep` makes."""
    present = staged.present[table]
    cols = ["_key"] + [c for c in TABLES[table].column_names if c in present]
    cols += [f"{c}__unreadable" for c in staged.unreadable.get(table, [])]
    cols += [d for d in derived if d in df.columns]
    frame = SparkFrame(df.select(*[_q(c) for c in cols]))
    staged.frames.append(frame)
    return frame


def _in(expr: str, ranges, kind: str = "TIMESTAMP_NTZ") -> str:
    return vd.in_ranges(expr, ranges, kind)


def _last(*columns: str) -> str:
    """ORDER BY list with DuckDB's default null order (nulls last)."""
    return ", ".join(f"{c} NULLS LAST" for c in columns)


def coverage(staged: SparkStaged) -> tuple[dt.date | None, dt.date | None]:
    if not staged.has("interactions"):
        return None, None
    row = staged.spark.sql("SELECT CAST(MIN(arrived_at) AS DATE), CAST(MAX(arrived_at) AS DATE) "
                           "FROM _dq_interactions").collect()[0]
    return row[0], row[1]


def build_frames(staged: SparkStaged, ranges, primary=None) -> dict[str, SparkFrame]:
    """Every frame the suites run on, cut to ``ranges`` (None: all rows), as Spark DataFrames."""
    sql = staged.spark.sql
    frames: dict[str, SparkFrame] = {}
    has = staged.has
    roster = has("agents") and "agent_id" in staged.present["agents"]
    roster_join = ("LEFT JOIN (SELECT DISTINCT agent_id FROM _dq_agents WHERE agent_id IS NOT NULL) r "
                   "ON r.agent_id = t.agent_id")
    row_key = "'row ' || CAST(t._row AS STRING)"

    if has("interactions"):
        p = staged.present["interactions"]
        extra, join = "", ""
        if roster and "agent_id" in p:
            extra = (", CASE WHEN t.agent_id IS NOT NULL AND r.agent_id IS NULL "
                     "THEN t.agent_id END AS agent_id__not_in_roster")
            join = roster_join
        df = sql(f"""
            SELECT t.*, COALESCE(t.interaction_id, {row_key}) AS _key{extra}
            FROM _dq_interactions t {join}
            WHERE {_in('t.arrived_at', ranges)} OR t.arrived_at IS NULL
            ORDER BY {_last('t._row', 't.arrived_at', 't.interaction_id')}""")
        frames["interactions"] = _keep(df, "interactions", staged, ["agent_id__not_in_roster"])

    for table, when in (("surveys", "responded_at"), ("qa", "evaluated_at")):
        if not has(table):
            continue
        p = staged.present[table]
        if has("interactions") and "interaction_id" in p:
            contact = ("LEFT JOIN (SELECT interaction_id, MIN(arrived_at) AS arrived_at, TRUE AS found "
                       "FROM _dq_interactions WHERE interaction_id IS NOT NULL GROUP BY interaction_id) i "
                       "ON i.interaction_id = t.interaction_id")
            extra = (", CASE WHEN t.interaction_id IS NOT NULL AND i.found IS NULL "
                     "THEN t.interaction_id END AS interaction_id__not_found, "
                     "i.arrived_at AS contact_arrived_at")
            placed = f"COALESCE(i.arrived_at, t.{when})" if when in p else "i.arrived_at"
        else:
            contact, extra, placed = "", "", f"t.{when}" if when in p else "NULL"
        df = sql(f"""
            SELECT t.*, COALESCE(t.interaction_id, {row_key}) AS _key{extra}
            FROM _dq_{table} t {contact}
            WHERE {_in(placed, ranges)} OR {placed} IS NULL
            ORDER BY {_last('t._row', f't.{when}', 't.interaction_id')}""")
        derived = ["interaction_id__not_found"]
        if when in p:
            derived.append("contact_arrived_at")
        frames[table] = _keep(df, table, staged, derived)

    if has("agent_activity"):
        p = staged.present["agent_activity"]
        extra, join = "", ""
        if {"logged_in_s", "handling_s", "available_s"} <= p:
            extra += ", t.logged_in_s - t.handling_s - t.available_s AS aux_s"
        if roster and "agent_id" in p:
            extra += (", CASE WHEN t.agent_id IS NOT NULL AND r.agent_id IS NULL "
                      "THEN t.agent_id END AS agent_id__not_in_roster")
            join = roster_join
        df = sql(f"""
            SELECT t.*,
                   COALESCE(t.agent_id || ' ' || CAST(t.date AS STRING), {row_key}) AS _key{extra}
            FROM _dq_agent_activity t {join}
            WHERE {_in('t.date', ranges, 'DATE')} OR t.date IS NULL
            ORDER BY {_last('t._row', 't.date', 't.agent_id')}""")
        frames["agent_activity"] = _keep(df, "agent_activity", staged,
                                         ["aux_s", "agent_id__not_in_roster"])

    if has("agents"):
        df = sql(f"SELECT t.*, COALESCE(t.agent_id, {row_key}) AS _key FROM _dq_agents t "
                 f"ORDER BY {_last('t._row', 't.agent_id')}")
        frames["agents"] = _keep(df, "agents", staged, [])

    if has("costs"):
        df = sql(f"""
            SELECT t.*,
                   COALESCE(CAST(t.period_start AS STRING), '?') || '..' ||
                   COALESCE(CAST(t.period_end AS STRING), '?') || COALESCE(' ' || t.queue, '') AS _key
            FROM _dq_costs t
            WHERE {vd.overlaps('t.period_start', 't.period_end', ranges)}
               OR t.period_start IS NULL OR t.period_end IS NULL
            ORDER BY {_last('t._row', 't.period_start', 't.queue')}""")
        frames["costs"] = _keep(df, "costs", staged, [])

    ip = staged.present.get("interactions", set())
    if has("interactions") and has("agent_activity") and {"agent_id", "arrived_at", "outcome"} <= ip \
            and {"agent_id", "date", "logged_in_s"} <= staged.present["agent_activity"]:
        frames["agent_days"] = _frame(staged, sql(f"""
            WITH h AS (
                SELECT agent_id, CAST(arrived_at AS DATE) AS date, COUNT(*) AS contacts,
                       SUM(COALESCE(talk_s, 0) + COALESCE(hold_s, 0) + COALESCE(acw_s, 0)) AS contact_handle_s
                FROM _dq_interactions
                WHERE outcome = 'handled' AND agent_id IS NOT NULL AND arrived_at IS NOT NULL
                  AND {_in('arrived_at', ranges)}
                GROUP BY agent_id, CAST(arrived_at AS DATE)),
            a AS (
                SELECT agent_id, date, SUM(logged_in_s) AS logged_in_s
                FROM _dq_agent_activity WHERE {_in('date', ranges, 'DATE')}
                GROUP BY agent_id, date)
            SELECT h.agent_id || ' ' || CAST(h.date AS STRING) AS _key, h.agent_id, h.date,
                   h.contacts, h.contact_handle_s, a.logged_in_s
            FROM h LEFT JOIN a ON a.agent_id = h.agent_id AND a.date = h.date
            ORDER BY {_last('h.date', 'h.agent_id')}"""))

    if has("interactions") and "arrived_at" in ip:
        first, last = coverage(staged)
        days = vd._days(ranges, first, last, primary)
        if days:
            frames["daily_volume"] = _frame(staged, _daily_volume(sql, days, first, last))
            if has("surveys") and {"interaction_id", "outcome"} <= ip \
                    and "interaction_id" in staged.present["surveys"]:
                frames["weekly_responses"] = _frame(staged, _weekly_responses(sql, days, first))
    return frames


def _frame(staged: SparkStaged, df) -> SparkFrame:
    frame = SparkFrame(df)
    staged.frames.append(frame)
    return frame


def _series(days) -> str:
    return " UNION ALL ".join(
        f"SELECT explode(sequence(DATE '{s}', DATE '{e}', INTERVAL 1 DAY)) AS d" for s, e in days)


def _daily_volume(sql, days, first: dt.date | None, last: dt.date | None):
    lo = min(s for s, _ in days) - dt.timedelta(weeks=TRAILING_WEEKS)
    hi = max(e for _, e in days) + dt.timedelta(days=1)
    return sql(f"""
        WITH counts AS (
            SELECT CAST(arrived_at AS DATE) AS d, COUNT(*) AS n FROM _dq_interactions
            WHERE arrived_at >= TIMESTAMP_NTZ '{lo}' AND arrived_at < TIMESTAMP_NTZ '{hi}'
            GROUP BY CAST(arrived_at AS DATE)),
        days AS ({_series(days)}),
        weeks_back AS (SELECT explode(sequence(1, {TRAILING_WEEKS})) AS k),
        hist AS (
            SELECT days.d, COUNT(*) AS hist_days, MIN(COALESCE(c.n, 0)) AS hist_min,
                   MAX(COALESCE(c.n, 0)) AS hist_max
            FROM days CROSS JOIN weeks_back kk
            LEFT JOIN counts c ON c.d = date_sub(days.d, 7 * kk.k)
            WHERE date_sub(days.d, 7 * kk.k) BETWEEN DATE '{first or dt.date.max}'
                                                 AND DATE '{last or dt.date.min}'
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
        FROM days LEFT JOIN counts c ON c.d = days.d LEFT JOIN hist h ON h.d = days.d
        ORDER BY days.d""")


def _weekly_responses(sql, days, first: dt.date | None):
    first = first or min(s for s, _ in days)
    weeks = sorted({d - dt.timedelta(days=d.weekday()) for s, e in days for d in vd._each_day(s, e)})
    lo = weeks[0] - dt.timedelta(weeks=TRAILING_WEEKS)
    hi = weeks[-1] + dt.timedelta(days=7)
    listed = ", ".join(f"(DATE '{w}')" for w in weeks)
    return sql(f"""
        WITH resp AS (
            SELECT interaction_id, COUNT(*) AS n FROM _dq_surveys
            WHERE interaction_id IS NOT NULL GROUP BY interaction_id),
        wk AS (
            SELECT CAST(date_trunc('week', i.arrived_at) AS DATE) AS week_start,
                   COUNT(*) FILTER (WHERE i.outcome = 'handled') AS handled,
                   COALESCE(SUM(r.n), 0) AS responses
            FROM _dq_interactions i LEFT JOIN resp r ON r.interaction_id = i.interaction_id
            WHERE i.arrived_at >= TIMESTAMP_NTZ '{lo}' AND i.arrived_at < TIMESTAMP_NTZ '{hi}'
            GROUP BY CAST(date_trunc('week', i.arrived_at) AS DATE)),
        rates AS (
            SELECT week_start, handled, responses,
                   CASE WHEN handled > 0 THEN responses / handled END AS response_rate
            FROM wk),
        scope AS (SELECT * FROM VALUES {listed} AS v(week_start)),
        trail AS (
            SELECT s.week_start, COUNT(r.response_rate) AS trailing_weeks,
                   median(r.response_rate) AS trailing_median
            FROM scope s JOIN rates r
              ON r.week_start < s.week_start
             AND r.week_start >= date_sub(s.week_start, {7 * TRAILING_WEEKS})
             AND r.week_start >= date_sub(DATE '{first}', 6)
            GROUP BY s.week_start)
        SELECT concat(CAST(extract(YEAROFWEEK FROM s.week_start) AS STRING), '-W',
                      lpad(CAST(weekofyear(s.week_start) AS STRING), 2, '0')) AS _key,
               s.week_start,
               COALESCE(r.handled, 0) AS handled, COALESCE(r.responses, 0) AS responses,
               r.response_rate, t.trailing_weeks, t.trailing_median,
               CASE WHEN t.trailing_weeks >= {MIN_HISTORY} AND t.trailing_median > 0
                         AND r.response_rate IS NOT NULL
                    THEN r.response_rate / t.trailing_median END AS response_rate_vs_trailing
        FROM scope s LEFT JOIN rates r USING (week_start) LEFT JOIN trail t USING (week_start)
        ORDER BY s.week_start""")
