"""The only engine-specific SQL in kpitools.

Every query the engine runs is written in a plain subset both DuckDB and Spark SQL accept
(CASE, SUM, COUNT, CAST, joins, RANGE window frames on an integer key). The few functions
whose names differ between engines are spelled here, one entry per engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .schema import DUCKDB_TYPES


@dataclass(frozen=True)
class Dialect:
    name: str
    epoch_us: str  # integer microseconds since the epoch of a TIMESTAMP
    days_between: str  # whole days from {a} to {b}
    date_literal: str
    timestamp_literal: str
    iso_weekday: str  # 1 = Monday .. 7 = Sunday of a TIMESTAMP
    # Exact continuous quantile ({x} at fraction {q}), interpolating linearly between rows;
    # NULLs are ignored. DuckDB quantile_cont and Spark percentile give the same number.
    quantile_cont: str = "quantile_cont({x}, {q})"
    identifier_quote: str = '"'  # quotes a column name (Spark: backtick)
    # A common table expression computed once though read twice (DuckDB inlines a plain one
    # into each reference; Spark has no such hint and plans it per reference).
    materialized_cte: str = "{name} AS MATERIALIZED ({sql})"
    # The data-quality gate's frames (kpitools/_validation_frames.py):
    # one row per value from {start} to {stop} by {step} (dates: a DATE or TIMESTAMP column)
    series_rows: str = "SELECT unnest(generate_series({start}, {stop}, {step})) AS {name}"
    add_days_expr: str = "({d} + CAST({n} AS INTEGER))"  # a DATE {n} days later (n may be < 0)
    iso_week_label: str = "strftime({}, '%G-W%V')"  # 2026-W03 for a DATE in that ISO week
    # --- what the loader needs (kpitools.casts) ---
    # The engine type each logical type of the schema is loaded as.
    types: dict = field(default_factory=lambda: dict(DUCKDB_TYPES), hash=False, compare=False)
    # The type text is parsed as when it may carry a UTC offset (converted to the session
    # time zone, then cast to the naive ``types["timestamp"]``).
    instant_type: str = "TIMESTAMPTZ"
    # How the engine names the column types of a file it reads -> what they hold (text,
    # temporal, integral, floating, decimal, bool); lower case, a trailing * matches a prefix.
    source_types: tuple = (
        ("varchar", "text"), ("timestamp*", "temporal"), ("date", "temporal"),
        ("float*", "floating"), ("double*", "floating"), ("real*", "floating"),
        *((f"{t}*", "integral") for t in ("tinyint", "smallint", "integer", "bigint", "hugeint",
                                          "utinyint", "usmallint", "uinteger", "ubigint")),
        ("decimal*", "decimal"), ("boolean", "bool"),
    )
    # Numbers the rows of a relation read from a file in the file's order.
    file_row_number: str = "row_number() OVER ()"
    # A nanosecond Parquet timestamp the engine reads as an integer ({} is the column), as
    # an instant (shown in the session time zone) and as a naive wall clock; None where the
    # engine reads nanosecond timestamps as timestamps.
    nanos_instant: str | None = None
    nanos_naive: str | None = None

    def seconds_between(self, start: str, end: str) -> str:
        """Seconds from ``start`` to ``end`` (fractional), NULL when either is NULL."""
        return f"(({self.epoch_us.format(end)} - {self.epoch_us.format(start)}) / 1000000.0)"

    def micros(self, expr: str) -> str:
        return self.epoch_us.format(expr)

    def days(self, a: str, b: str) -> str:
        return self.days_between.format(a=a, b=b)

    def weekday(self, expr: str) -> str:
        return self.iso_weekday.format(expr)

    def quantile(self, expr: str, q: float) -> str:
        return self.quantile_cont.format(x=expr, q=repr(float(q)))

    def quote(self, name: str) -> str:
        """A column name as a quoted identifier (callers pass validated names only,
        :func:`kpitools.schema.is_identifier`; the quote character is doubled regardless)."""
        q = self.identifier_quote
        return q + name.replace(q, q + q) + q

    def series(self, start: str, stop: str, step: str, name: str) -> str:
        return self.series_rows.format(start=start, stop=stop, step=step, name=name)

    def add_days(self, expr: str, n) -> str:
        return self.add_days_expr.format(d=expr, n=n)

    def week_label(self, expr: str) -> str:
        return self.iso_week_label.format(expr)

    def date(self, value) -> str:
        return self.date_literal.format(value)

    def timestamp(self, value) -> str:
        return self.timestamp_literal.format(value)

    def source_kind(self, type_name: str) -> str:
        """What a file column of engine type ``type_name`` holds: ``text``, ``temporal``,
        ``integral``, ``floating``, ``decimal``, ``bool``, or ``other``."""
        name = type_name.lower()
        for pattern, kind in self.source_types:
            if name == pattern or (pattern.endswith("*") and name.startswith(pattern[:-1])):
                return kind
        return "other"


DUCKDB = Dialect(
    name="duckdb",
    epoch_us="epoch_us({})",
    days_between="date_diff('day', {a}, {b})",
    date_literal="DATE '{}'",
    timestamp_literal="TIMESTAMP '{}'",
    iso_weekday="isodow({})",
    quantile_cont="quantile_cont({x}, {q})",
)

SPARK = Dialect(
    name="spark",
    epoch_us="unix_micros({})",
    days_between="datediff({b}, {a})",
    date_literal="DATE '{}'",
    # Loaded timestamps are TIMESTAMP_NTZ (business-local wall clock, like DuckDB's naive
    # TIMESTAMP); an NTZ literal compares with them without a time-zone conversion, and
    # unix_micros() of an NTZ value counts wall-clock micros exactly as DuckDB's epoch_us.
    timestamp_literal="TIMESTAMP_NTZ '{}'",
    iso_weekday="(((dayofweek({}) + 5) % 7) + 1)",
    quantile_cont="percentile({x}, {q})",  # exact; percentile_approx would not match DuckDB
    identifier_quote="`",
    materialized_cte="{name} AS ({sql})",
    series_rows="SELECT explode(sequence({start}, {stop}, {step})) AS {name}",
    add_days_expr="date_add({d}, {n})",
    iso_week_label=("concat(CAST(extract(YEAROFWEEK FROM {0}) AS STRING), '-W', "
                    "lpad(CAST(weekofyear({0}) AS STRING), 2, '0'))"),
    types={"string": "STRING", "timestamp": "TIMESTAMP_NTZ", "date": "DATE", "number": "DOUBLE",
           "integer": "BIGINT", "bool": "BOOLEAN"},
    # Spark's TIMESTAMP is an instant shown in the session time zone; TIMESTAMP_NTZ is naive.
    instant_type="TIMESTAMP",
    source_types=(
        ("string", "text"), ("timestamp*", "temporal"), ("date", "temporal"),
        ("float", "floating"), ("double", "floating"),
        *((t, "integral") for t in ("tinyint", "smallint", "int", "bigint")),
        ("decimal*", "decimal"), ("boolean", "bool"),
    ),
    # Spark keeps no file order of its own: the id grows with partition and row.
    file_row_number="row_number() OVER (ORDER BY monotonically_increasing_id())",
    # Spark reads TIMESTAMP(NANOS) as integers (spark.sql.legacy.parquet.nanosAsLong).
    nanos_instant="CAST(timestamp_micros({} div 1000) AS TIMESTAMP_NTZ)",
    nanos_naive="timestampadd(MICROSECOND, {} div 1000, TIMESTAMP_NTZ '1970-01-01 00:00:00')",
)

DIALECTS = {d.name: d for d in (DUCKDB, SPARK)}
