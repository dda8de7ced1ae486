"""The Spark engine: the same KPI definitions, run by Spark SQL where the data lives.

Nothing about a KPI is written here. The measure queries come from :mod:`kpitools.sql`
(one portable SQL text per measure source, with the few engine-specific function names in
:mod:`kpitools.dialects`), KPIs are formed from the measures by :mod:`kpitools.formulas`,
and the columns, types, casts and value rules of the input come from :mod:`kpitools.schema`
and :mod:`kpitools.casts`. This module only has to

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

from .casts import canonical_select, run_checks
from .casts import cast_column as _cast_column
from .config import DEFAULTS, CenterConfig, dataset_settings
from .dialects import SPARK
from .errors import ConfigError, DataError
from .loading import SourceFile, check_arrivals, check_headers, find_files
from .periods import missing_days, parse_closed_days
from .registry import Registry
from .registry import registry as default_registry
from .schema import UNIQUE_KEYS, Column, extra_columns
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
    warnings: list[str] = field(default_factory=list)  # as Dataset.warnings
    distrusted_days: frozenset = frozenset()  # as Dataset.distrusted_days (negative waits)
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


def cast_column(col: Column, source_type: str | None, nanos_tz=False):
    """The Spark spelling of :func:`kpitools.casts.cast_column`."""
    return _cast_column(col, source_type, SPARK, nanos_tz)


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
        nanos = arrow_nanos(src) if src.format == "parquet" else {}
        select, checks = canonical_select(src, columns, SPARK, merged, nanos)
        run_checks(src, raw_view, checks, unique, SPARK, lambda query: session.sql(query).collect())
        table = session.sql(f"SELECT {select} FROM {raw_view}")
        if materialize if materialize is not None else src.format == "csv":
            table = table.cache()
            cached.append(table)
        table.createOrReplaceTempView(name)
    data = SparkDataset(path=path, spark=session, files=files, params=merged,
                        targets=settings.targets, registry=reg, cached=cached,
                        config=settings.config, warnings=warnings)
    # the loader's rules on arrival dates and negative waits, as on DuckDB
    try:
        data.warnings += check_arrivals(data, set(session.table("interactions").columns),
                                        lambda query: session.sql(query).collect())
    except DataError:
        data.close()
        raise
    return data
