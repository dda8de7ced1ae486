"""The data-quality gate's tables staged in Spark (private; see :mod:`kpitools.validation`).

The Spark twin of :mod:`kpitools._validation_data`: each table of a
:class:`~kpitools.spark.SparkDataset` (or of a lenient Spark read of a folder the loader
rejected) becomes a ``_dq_<table>`` temporary view with a row number and the raw text of
unreadable values. The frames (:mod:`kpitools._validation_frames`) and the checks
(:mod:`kpitools._expectations_sql`) are the DuckDB gate's own SQL, spelled for Spark by
:data:`kpitools.dialects.SPARK`, so the rows stay in Spark.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ._validation_frames import TYPED, typed_present
from .dialects import SPARK
from .errors import DataError
from .schema import TABLES

SPARK_TYPES = {"string": "STRING", "timestamp": "TIMESTAMP_NTZ", "date": "DATE",
               "number": "DOUBLE", "integer": "BIGINT", "bool": "BOOLEAN"}


@dataclass
class SparkStaged:
    """Tables staged as ``_dq_<table>`` temporary views in ``spark`` (a child session)."""

    spark: object
    present: dict[str, set[str]]
    unreadable: dict[str, list[str]] = field(default_factory=dict)
    problems: list[tuple[str | None, str]] = field(default_factory=list)
    dataset: object = None
    own_dataset: bool = False
    cached: list = field(default_factory=list)  # DataFrames of a lenient read, kept in memory
    views: list[str] = field(default_factory=list)  # frame views created
    unique: dict[str, str] = field(default_factory=dict)  # as Staged.unique (none here)
    dialect = SPARK

    def has(self, table: str) -> bool:
        return table in self.present

    def rows(self, sql: str) -> list[tuple]:
        return [tuple(r) for r in self.spark.sql(sql).collect()]

    def frame(self, sql: str):
        from .spark import collect_frame

        return collect_frame(self.spark.sql(sql))

    def create_view(self, name: str, sql: str) -> None:
        self.spark.sql(sql).createOrReplaceTempView(name)
        self.views.append(name)

    def create_table(self, name: str, sql: str) -> None:
        df = self.spark.sql(sql).cache()
        df.createOrReplaceTempView(name)
        self.cached.append(df)
        self.views.append(name)

    def view_columns(self, name: str) -> list[str]:
        return list(self.spark.table(name).columns)

    def column_types(self, name: str) -> dict[str, str]:
        return {n: t.upper() for n, t in self.spark.table(name).dtypes}

    def close(self) -> None:
        for df in self.cached:
            df.unpersist()
        for view in [*self.views, *(f"_dq_{t}" for t in TABLES)]:
            self.spark.catalog.dropTempView(view)
        if self.own_dataset and self.dataset is not None:
            self.dataset.close()


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
        typed = typed_present(table, present)
        extra = "".join(f", CAST(NULL AS STRING) AS {SPARK.quote(c + '__unreadable')}" for c in typed)
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
            name = SPARK.quote(col.name)
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
                selects.append(f"{flag} AS {SPARK.quote(col.name + '__unreadable')}")
        raw_view = RAW_PREFIX + table
        raw.createOrReplaceTempView(raw_view)
        try:
            frame = session.sql(
                f"SELECT {', '.join(selects)}, "
                f"row_number() OVER (ORDER BY monotonically_increasing_id()) AS _row FROM {raw_view}")
            frame = frame.cache()
            frame.count()  # a file Spark cannot parse fails here, not inside a check
        except Exception as exc:  # noqa: BLE001 - any read failure becomes a record
            from .spark import first_line

            staged.problems.append((table, f"{src.path}: cannot read this file ({first_line(exc)})"))
            continue
        frame.createOrReplaceTempView(f"_dq_{table}")
        staged.cached.append(frame)
        staged.present[table] = present
        staged.unreadable[table] = typed_present(table, present)
    return staged
