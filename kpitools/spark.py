"""The Spark engine: the same KPI definitions, run by Spark SQL where the data lives.

Nothing about a KPI is written here. The measure queries come from :mod:`kpitools.sql`
(one portable SQL text per measure source, with the few engine-specific function names in
:mod:`kpitools.dialects`), KPIs are formed from the measures by :mod:`kpitools.formulas`,
and the columns, types and value rules of the input come from :mod:`kpitools.schema` and
:mod:`kpitools.loading`. This module only has to

* read the data folder with Spark and cast every column to its canonical type (timestamps
  become ``TIMESTAMP_NTZ`` in business-local time, the counterpart of DuckDB's naive
  ``TIMESTAMP``), raising the same :class:`~kpitools.errors.DataError` as the DuckDB loader;
* register the tables as temporary views (``interactions``, ``surveys`` …) and run SQL.

>>> import kpitools
>>> data = kpitools.load("data/demo", engine="spark")                        # doctest: +SKIP
>>> data = kpitools.load("s3-mounted/folder", engine="spark", spark=spark)   # doctest: +SKIP
>>> kpitools.kpis(data, "2026-W10", by="queue")                              # doctest: +SKIP

PySpark is an optional dependency: ``pip install 'kpitools[spark]'``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .config import DEFAULTS, CenterConfig, dataset_settings
from .dialects import SPARK
from .errors import ConfigError, DataError, quote
from .loading import (
    MAX_EXAMPLES,
    SourceFile,
    check_headers,
    check_required_columns,
    describe_problem,
    find_files,
    value_rules,
)
from .periods import missing_days, parse_closed_days
from .registry import Registry
from .registry import registry as default_registry
from .schema import TABLES, UNIQUE_KEYS, Column, extra_columns
from .sql import CALENDAR, DAYS_WITH_CONTACTS
from .targets import Targets

INSTALL_HINT = "the Spark engine needs PySpark: pip install 'kpitools[spark]'"
DEFAULT_MASTER = "local[*]"
MASTER_ENV = "KPITOOLS_SPARK_MASTER"
# Settings for a local session kpitools starts itself (never applied to a session you pass
# in, nor to a cluster): no web UI, few shuffle partitions for small data, errors-only logs.
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
}
LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
"""
# PySpark 4.x warns on import that pandas 3 is not fully supported; kpitools never converts
# between pandas and Spark DataFrames (results come back through collect()), so it is noise.
PANDAS_WARNING = "PySpark does not yet fully support pandas"
INTEGRAL = ("tinyint", "smallint", "int", "bigint")
FLOATING = ("float", "double")
RAW_PREFIX = "_kpi_raw_"


def _require_pyspark():
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=PANDAS_WARNING, category=FutureWarning)
            import pyspark  # noqa: F401
            from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return SparkSession


def _quiet_logging() -> str:
    """A log4j2 configuration that keeps Spark's driver log to errors (written once)."""
    path = Path(tempfile.gettempdir()) / "kpitools-spark-log4j2.properties"
    if not path.is_file() or path.read_text() != LOG4J2:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(LOG4J2)
        os.replace(tmp, path)
    return f"-Dlog4j2.configurationFile=file:{path}"


def spark_session(spark=None, master: str | None = None, conf: dict | None = None):
    """The Spark session kpitools works in.

    ``spark`` (an existing SparkSession) wins; otherwise the active session when no master
    is asked for; otherwise a new one on ``master`` (default: ``$KPITOOLS_SPARK_MASTER`` or
    ``local[*]``). ``conf`` adds Spark settings to a session started here.
    """
    SparkSession = _require_pyspark()
    if spark is not None:
        return spark
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    master = master or os.environ.get(MASTER_ENV) or DEFAULT_MASTER
    builder = SparkSession.builder.appName("kpitools").master(master)
    local = master.startswith("local")
    settings = {**LOCAL_CONF, "spark.driver.extraJavaOptions": _quiet_logging()} if local else {}
    for key, value in (conf or {}).items():
        if key == "spark.driver.extraJavaOptions" and key in settings:
            value = f"{settings[key]} {value}"
        settings[key] = value
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=PANDAS_WARNING, category=FutureWarning)
            session = builder.getOrCreate()
    except Exception as exc:  # no Java, bad master URL …: one clear line, no JVM trace
        raise ConfigError(f"cannot start Spark on {master!r}: {first_line(exc)}") from None
    if local:
        session.sparkContext.setLogLevel("ERROR")
    return session


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _python_value(v):
    if isinstance(v, decimal.Decimal):
        return float(v)
    return v


def collect_frame(df) -> pd.DataFrame:
    """A (small) Spark result as a pandas DataFrame, via ``collect()`` — no Arrow/pandas
    conversion path, which PySpark does not fully support on pandas 3. Numeric columns come
    back as float64 (NULL -> NaN), text as pandas strings, like DuckDB's ``.df()``."""
    rows = df.collect()
    data = {}
    for k, fld in enumerate(df.schema.fields):
        values = [_python_value(r[k]) for r in rows]
        kind = fld.dataType.typeName()
        if kind in ("double", "float", "decimal"):
            data[fld.name] = pd.Series(values, dtype="float64")
        elif kind in ("long", "integer", "short", "byte"):
            has_null = any(v is None for v in values)
            data[fld.name] = pd.Series(values, dtype="float64" if has_null else "int64")
        else:
            data[fld.name] = pd.Series(values, dtype=object if all(v is None for v in values) else None)
    return pd.DataFrame(data, columns=[f.name for f in df.schema.fields])


class SparkBackend:
    """Runs engine SQL in a Spark session holding the dataset's temporary views."""

    name = "spark"
    dialect = SPARK

    def __init__(self, spark):
        self.spark = spark

    def set_calendar(self, calendar: pd.DataFrame) -> None:
        """``kpi_calendar(day DATE, bucket STRING)`` as an inline VALUES table: built in the
        JVM (no Python worker, no pandas conversion), a few hundred rows at most."""
        rows = ", ".join(
            f"({SPARK.date(_as_date(d).isoformat())}, '{str(b).replace(chr(39), chr(39) * 2)}')"
            for d, b in zip(calendar["day"], calendar["bucket"], strict=True))
        if not rows:
            rows = "(CAST(NULL AS DATE), CAST(NULL AS STRING))"
        self.spark.sql(
            f"SELECT CAST(day AS DATE) AS day, CAST(bucket AS STRING) AS bucket "
            f"FROM VALUES {rows} AS cal(day, bucket)"
            + (" WHERE day IS NOT NULL" if not len(calendar) else "")
        ).createOrReplaceTempView(CALENDAR)

    def run(self, sql: str) -> pd.DataFrame:
        return collect_frame(self.spark.sql(sql))


def _as_date(value) -> dt.date:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    return value


@dataclass
class SparkDataset:
    """A loaded data folder on Spark: one temporary view per input table, canonical types.

    Same attributes as :class:`kpitools.loading.Dataset` except ``con``: ``spark`` is the
    session holding the views (a child of the session you gave, so its views and time-zone
    setting never touch yours). ``frame(table)`` returns a table as a Spark DataFrame.
    """

    path: Path
    spark: object
    files: dict[str, SourceFile]
    params: dict
    targets: Targets
    registry: Registry = field(default_factory=lambda: default_registry)
    cached: list = field(default_factory=list)
    config: CenterConfig = DEFAULTS
    warnings: list[str] = field(default_factory=list)  # as Dataset.warnings (header spellings)
    _days: frozenset | None = None

    engine = "spark"

    @property
    def backend(self) -> SparkBackend:
        return SparkBackend(self.spark)

    def has(self, table: str) -> bool:
        return table in self.files

    @property
    def tables(self) -> list[str]:
        return list(self.files)

    def frame(self, table: str):
        """The canonical table as a Spark DataFrame."""
        if table not in self.files:
            raise DataError(f"{self.path}: no {table} table in the data")
        return self.spark.table(table)

    def source_columns(self, table: str) -> list[str]:
        """The columns of the table's file as read (before canonical casting)."""
        return list(self.spark.table(RAW_PREFIX + table).columns)

    @property
    def extra_columns(self) -> list[str]:
        """Columns of interactions beyond the canonical schema, kept as the data's own
        dimensions (as :attr:`kpitools.loading.Dataset.extra_columns`)."""
        return extra_columns("interactions", self.source_columns("interactions"))

    @property
    def days_with_contacts(self) -> frozenset[dt.date]:
        """Days (business time) with at least one contact: one DISTINCT pass, cached."""
        if self._days is None:
            self._days = frozenset(r[0] for r in self.spark.sql(DAYS_WITH_CONTACTS).collect()
                                   if r[0] is not None)
        return self._days

    @property
    def coverage(self) -> tuple[dt.date | None, dt.date | None]:
        """First and last day with contacts (business time)."""
        days = self.days_with_contacts
        return (min(days), max(days)) if days else (None, None)

    @property
    def gaps(self) -> tuple[dt.date, ...]:
        """Days inside the coverage without contacts, except ``closed_days`` (as
        :attr:`kpitools.loading.Dataset.gaps`)."""
        return missing_days(self.days_with_contacts, parse_closed_days(self.params.get("closed_days")))

    def sql(self, query: str) -> pd.DataFrame:
        """Run Spark SQL against the loaded tables; the (small) result as a pandas DataFrame."""
        return collect_frame(self.spark.sql(query))

    def close(self) -> None:
        """Drop this dataset's views and cached data (the Spark session keeps running)."""
        for df in self.cached:
            df.unpersist()
        self.cached.clear()
        for name in [*self.files, CALENDAR, *(RAW_PREFIX + t for t in self.files)]:
            self.spark.catalog.dropTempView(name)

    def __repr__(self) -> str:
        first, last = self.coverage
        return f"<SparkDataset {self.path} tables={self.tables} coverage={first}..{last}>"


# --- reading and checking the files -------------------------------------------------------


def arrow_nanos(src: SourceFile) -> dict[str, str | None]:
    """Parquet columns stored as nanosecond timestamps -> their time zone (None = naive).
    Spark cannot read TIMESTAMP(NANOS) as a timestamp; it reads them as integers
    (``spark.sql.legacy.parquet.nanosAsLong``) and the footer says what they mean."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(src.path)
    except Exception as exc:
        raise DataError(f"{src.path}: cannot read this PARQUET file ({first_line(exc)})") from None
    return {f.name: f.type.tz for f in schema
            if pa.types.is_timestamp(f.type) and f.type.unit == "ns"}


def read_source(spark, src: SourceFile):
    try:
        if src.format == "parquet":
            df = spark.read.parquet(str(src.path))
        else:
            # RFC 4180 quoting (a quote inside a field is doubled), every column as text,
            # exactly like DuckDB's read_csv(all_varchar = true).
            df = (spark.read.option("header", True).option("inferSchema", False)
                  .option("escape", '"').option("mode", "FAILFAST")
                  .csv(str(src.path)))
        columns = {f.name: f.dataType.simpleString() for f in df.schema.fields}
    except Exception as exc:
        raise DataError(f"{src.path}: cannot read this {src.format.upper()} file ({first_line(exc)})") from None
    return df, columns


def cast_column(col: Column, source_type: str | None, nanos_tz) -> tuple[str, str | None, str]:
    """(Spark cast expression, condition that flags a bad value or None, what a good value
    is) — the Spark spelling of :func:`kpitools.loading.cast_column`, rule for rule."""
    name = _ident(col.name)
    if source_type is None:
        target = {"string": "STRING", "timestamp": "TIMESTAMP_NTZ", "date": "DATE",
                  "number": "DOUBLE", "integer": "BIGINT", "bool": "BOOLEAN"}[col.type]
        return f"CAST(NULL AS {target})", None, ""
    st = source_type.lower()
    is_text = st == "string"
    if col.type == "string":
        return f"CAST({name} AS STRING)", None, "text"
    if col.type == "timestamp":
        if nanos_tz is not False:  # a nanosecond Parquet timestamp read as an integer
            if nanos_tz:  # an instant: show it in business time
                return f"CAST(timestamp_micros({name} div 1000) AS TIMESTAMP_NTZ)", None, ""
            return f"timestampadd(MICROSECOND, {name} div 1000, TIMESTAMP_NTZ '1970-01-01 00:00:00')", None, ""
        if is_text:
            # Offsets are honoured and converted to the session (business) time zone;
            # naive text is business-local already.
            return (
                f"CAST(TRY_CAST({name} AS TIMESTAMP) AS TIMESTAMP_NTZ)",
                f"{name} IS NOT NULL AND TRY_CAST({name} AS TIMESTAMP) IS NULL",
                "an ISO 8601 timestamp such as 2026-03-02T09:15:00",
            )
        if st.startswith("timestamp") or st == "date":
            return f"CAST({name} AS TIMESTAMP_NTZ)", None, ""
        return "", "TRUE", "a timestamp"
    if col.type == "date":
        if is_text:
            return (
                f"CAST(TRY_CAST({name} AS TIMESTAMP_NTZ) AS DATE)",
                f"{name} IS NOT NULL AND TRY_CAST({name} AS TIMESTAMP_NTZ) IS NULL",
                "an ISO 8601 date such as 2026-03-02",
            )
        if st.startswith("timestamp") or st == "date":
            return f"CAST({name} AS DATE)", None, ""
        return "", "TRUE", "a date"
    if col.type in ("number", "integer"):
        good = "a number" if col.type == "number" else "a whole number"
        numeric = st in INTEGRAL or st in FLOATING or st.startswith("decimal")
        if is_text or numeric:
            as_double = f"TRY_CAST({name} AS DOUBLE)"
            bad = f"{name} IS NOT NULL AND ({as_double} IS NULL OR isnan({as_double}))"
            if col.type == "integer":
                bad = f"{name} IS NOT NULL AND ({as_double} IS NULL OR {as_double} <> round({as_double}))"
                return f"CAST({as_double} AS BIGINT)", bad, good
            if not is_text:
                bad = f"isnan({name})" if st in FLOATING else None
            return as_double, bad, good
        return "", "TRUE", good
    if col.type == "bool":
        if st == "boolean":
            return name, None, ""
        if is_text or st in INTEGRAL or st in FLOATING or st.startswith("decimal"):
            return (
                f"TRY_CAST({name} AS BOOLEAN)",
                f"{name} IS NOT NULL AND TRY_CAST({name} AS BOOLEAN) IS NULL",
                "true or false",
            )
        return "", "TRUE", "true or false"
    raise AssertionError(col.type)


def _canonical_select(spark, src: SourceFile, raw_view: str, columns: dict[str, str],
                      unique: str | None = None, params: dict | None = None) -> str:
    """SELECT list of the canonical columns of one file, after checking every value (and
    that the ``unique`` column has no duplicates)."""
    check_required_columns(src, columns)
    nanos = arrow_nanos(src) if src.format == "parquet" else {}
    selects, checks = [], []
    for col in TABLES[src.table].columns:
        source_type = columns.get(col.name)
        nanos_tz = nanos.get(col.name, False)  # False: not nanoseconds; None: naive; else a zone
        expr, bad, good = cast_column(col, source_type, nanos_tz)
        if bad == "TRUE":
            raise DataError(f"{src.path}: column {col.name} has type {source_type}, expected {good}")
        selects.append(f"{expr} AS {col.name}")
        if bad:
            checks.append((col.name, bad, f"is not {good}"))
        if source_type is not None:
            checks += value_rules(src.table, col, _ident(col.name), params)
    # The data's own columns (priority, segment …), kept with their type (CSV: text).
    selects += [f"{_ident(name)} AS {_ident(name)}" for name in extra_columns(src.table, columns)]
    duplicates = _run_checks(spark, src, raw_view, checks, unique)
    if duplicates:
        _report_duplicates(spark, src, raw_view, unique)
    return ", ".join(selects)


def _run_checks(spark, src: SourceFile, raw_view: str, checks, unique: str | None) -> int:
    """One pass counting bad values per check (and repeated values of ``unique``, returned);
    only when some bad value exists, a second pass finds the first row of each check (row
    numbers follow the file's order) and raises."""
    counts_sql = [f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)" for _, cond, _ in checks]
    if unique:
        counts_sql.append(f"COUNT({_ident(unique)}) - COUNT(DISTINCT {_ident(unique)})")
    if not counts_sql:
        return 0
    try:
        counts = spark.sql(f"SELECT {', '.join(counts_sql)} FROM {raw_view}").collect()[0]
    except Exception as exc:
        raise DataError(f"{src.path}: cannot read this file ({first_line(exc)})") from None
    failing = [(check, int(n)) for check, n in zip(checks, counts, strict=False) if n]
    if not failing:
        return int(counts[-1]) if unique else 0
    aggs = []
    for k, ((column, cond, _), _) in enumerate(failing):
        aggs.append(f"MIN(CASE WHEN {cond} THEN _row END) AS r{k}")
        aggs.append(f"min_by(CAST({_ident(column)} AS STRING), CASE WHEN {cond} THEN _row END) AS v{k}")
    numbered = (f"SELECT *, row_number() OVER (ORDER BY monotonically_increasing_id()) AS _row "
                f"FROM {raw_view}")
    result = spark.sql(f"SELECT {', '.join(aggs)} FROM ({numbered})").collect()[0]
    problems = []
    for k, ((column, _, what), count) in enumerate(failing):
        row, value = result[2 * k], result[2 * k + 1]
        problems.append(describe_problem(src, column, row, value, what, count))
    raise DataError("\n".join(problems))


def _report_duplicates(spark, src: SourceFile, raw_view: str, column: str) -> None:
    col = _ident(column)
    dup = spark.sql(
        f"SELECT CAST({col} AS STRING), COUNT(*) FROM {raw_view} "
        f"GROUP BY {col} HAVING COUNT(*) > 1 ORDER BY 2 DESC, 1 LIMIT {MAX_EXAMPLES}"
    ).collect()
    examples = ", ".join(f"{quote(v)} x{n}" for v, n in dup)
    raise DataError(f"{src.path}: column {column} has duplicate values: {examples}")


def load_spark(path, *, timezone: str | None = None, targets: str | Path | None = None,
               params: dict | None = None, check_unique: bool = True,
               registry: Registry | None = None, spark=None, spark_master: str | None = None,
               materialize: bool | None = None, config=None) -> SparkDataset:
    """Load a data folder into Spark (temporary views with canonical types).

    Parameters are those of :func:`kpitools.loading.load`, plus
    spark : an existing SparkSession (e.g. on a cluster); default: the active session, or a
        new one on ``spark_master``
    spark_master : master URL for a session started here (``local[4]``, ``spark://host:7077``,
        ``yarn`` …); default ``$KPITOOLS_SPARK_MASTER`` or ``local[*]``
    materialize : cache the canonical tables in Spark memory (default: yes for CSV, which
        would otherwise be parsed again by every query)

    The folder must be visible to the Spark driver and executors under the same path (a
    shared or mounted file system). The dataset works in a child session
    (``spark.newSession()``): its temporary views and its ``spark.sql.session.timeZone``
    (set to the business time zone) leave your session untouched.
    """
    path = Path(path)
    files = find_files(path)
    settings = dataset_settings(path, config=config, registry=registry, timezone=timezone,
                                params=params, targets=targets)
    reg, merged = settings.registry, settings.params
    tz = merged["business_timezone"]  # checked against the zone database
    session = spark_session(spark, spark_master).newSession()
    session.conf.set("spark.sql.session.timeZone", tz)
    session.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
    cached = []
    warnings: list[str] = []
    for name, src in files.items():
        warnings += check_headers(src)
        raw, columns = read_source(session, src)
        raw_view = RAW_PREFIX + name
        raw.createOrReplaceTempView(raw_view)
        unique = UNIQUE_KEYS.get(name) if check_unique or name != "interactions" else None
        select = _canonical_select(session, src, raw_view, columns, unique, merged)
        table = session.sql(f"SELECT {select} FROM {raw_view}")
        if materialize if materialize is not None else src.format == "csv":
            table = table.cache()
            cached.append(table)
        table.createOrReplaceTempView(name)
    return SparkDataset(path=path, spark=session, files=files, params=merged,
                        targets=settings.targets, registry=reg, cached=cached,
                        config=settings.config, warnings=warnings)
