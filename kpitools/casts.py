"""The loader's casts and value checks: one definition for both engines.

Every column of an input file is cast to its canonical type (:mod:`kpitools.schema`) and its
values checked against the schema's rules; the first bad value of each rule is reported with
its file, column, row and value, and nothing is loaded. The rules are written once here, in
SQL both DuckDB and Spark run; the few spellings that differ (type names, how a file's rows
are numbered, how a file's column types are named) come from :mod:`kpitools.dialects`.
:mod:`kpitools.loading` (DuckDB) and :mod:`kpitools.spark` only read the files and run the SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from .dialects import Dialect
from .errors import DataError, quote
from .registry import registry as default_registry
from .schema import (
    ALLOWED_VALUES,
    EARLIEST_DATE,
    SCALES,
    TABLES,
    UNDATED_COLUMNS,
    Column,
    extra_columns,
)

NON_NEGATIVE = {
    "interactions": ("talk_s", "hold_s", "acw_s"),
    "agent_activity": ("logged_in_s", "handling_s", "available_s", "paid_s"),
}
MAX_EXAMPLES = 5
MAX_DOUBLE = "1.7976931348623157E308"  # the largest finite double, as SQL both engines read
DEFAULT_MAX_DURATION_S = 86400.0
GOOD = {"timestamp": "a timestamp", "date": "a date", "number": "a number",
        "integer": "a whole number", "bool": "true or false"}
GOOD_TEXT = {"timestamp": "an ISO 8601 timestamp such as 2026-03-02T09:15:00",
             "date": "an ISO 8601 date such as 2026-03-02"}


def cast_column(col: Column, source_type: str | None, dialect: Dialect,
                nanos_tz=False) -> tuple[str, str | None, str]:
    """How one column of a file becomes its canonical type.

    Parameters
    ----------
    col : the schema column
    source_type : its type as the engine reads the file (None: the column is absent)
    dialect : the engine's spellings
    nanos_tz : for a Parquet nanosecond timestamp the engine reads as an integer
        (``dialect.nanos_instant``), its time zone (None: naive); False otherwise

    Returns
    -------
    (cast expression, condition flagging a bad value or None, what a good value is). The
    condition is ``"TRUE"`` when the column's type cannot hold the values at all.
    """
    if source_type is None:
        return f"CAST(NULL AS {dialect.types[col.type]})", None, ""
    name = dialect.quote(col.name)
    kind = dialect.source_kind(source_type)
    if col.type == "string":
        return f"CAST({name} AS {dialect.types['string']})", None, "text"
    local = dialect.types["timestamp"]  # naive, business-local wall clock
    if col.type in ("timestamp", "date") and kind == "text":
        # Text with an offset is converted to the session (business) time zone; naive text
        # is business-local already. A date is the day of the (naive) timestamp.
        parsed = f"TRY_CAST({name} AS {dialect.instant_type if col.type == 'timestamp' else local})"
        expr = f"CAST({parsed} AS {local if col.type == 'timestamp' else 'DATE'})"
        return expr, f"{name} IS NOT NULL AND {parsed} IS NULL", GOOD_TEXT[col.type]
    if col.type == "timestamp" and nanos_tz is not False:
        return (dialect.nanos_instant if nanos_tz else dialect.nanos_naive).format(name), None, ""
    if col.type in ("timestamp", "date"):
        if kind == "temporal":
            return f"CAST({name} AS {dialect.types[col.type]})", None, ""
        return "", "TRUE", GOOD[col.type]
    numeric = kind in ("integral", "floating", "decimal")
    if col.type in ("number", "integer") and (kind == "text" or numeric):
        as_double = f"TRY_CAST({name} AS DOUBLE)"
        if col.type == "integer":
            bad = f"{name} IS NOT NULL AND ({as_double} IS NULL OR {as_double} <> round({as_double}))"
            return f"CAST({as_double} AS BIGINT)", bad, GOOD[col.type]
        if kind == "text":
            bad = f"{name} IS NOT NULL AND ({as_double} IS NULL OR isnan({as_double}))"
        else:
            bad = f"isnan({name})" if kind == "floating" else None
        return as_double, bad, GOOD[col.type]
    if col.type == "bool" and kind == "bool":
        return name, None, ""
    if col.type == "bool" and (kind == "text" or numeric):
        as_bool = f"TRY_CAST({name} AS BOOLEAN)"
        return as_bool, f"{name} IS NOT NULL AND {as_bool} IS NULL", GOOD[col.type]
    return "", "TRUE", GOOD[col.type]


def check_required_columns(src, columns) -> None:
    """DataError naming the file when a required column of its table is missing."""
    missing = [c.name for c in TABLES[src.table].columns if c.required and c.name not in columns]
    if missing:
        raise DataError(
            f"{src.path}: missing required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (found: {', '.join(columns) or 'none'})"
        )


def value_rules(table: str, col: Column, ident: str, params: dict | None = None,
                today: dt.date | None = None) -> list[tuple[str, str, str]]:
    """Schema rules beyond the type, for a column present in the file: (column, SQL condition
    that flags a bad value, what is wrong). ``ident`` is the column as the engine quotes it;
    the conditions are plain SQL that DuckDB and Spark both run.

    Besides required values and allowed sets, these refuse values that cannot be real:
    non-finite numbers, durations above ``params["max_duration_s"]`` (default 24 h), dates
    before 2000 or more than a year after ``today``, scores off their scale and cost periods
    that end before they start.
    """
    params = {**default_registry.parameters, **(params or {})}
    rules = []
    number = f"TRY_CAST({ident} AS DOUBLE)"
    if not col.nullable:
        rules.append((col.name, f"{ident} IS NULL", "is empty (a value is required)"))
    if col.type == "number":
        # NaN compares above every number in both engines, so this catches NaN, inf and -inf.
        rules.append((col.name, f"ABS({number}) > {MAX_DOUBLE}",
                      "is not a finite number (inf or nan)"))
    if col.name in NON_NEGATIVE.get(table, ()):
        rules.append((col.name, f"{number} < 0", "is negative (durations are seconds >= 0)"))
        ceiling = float(params.get("max_duration_s", DEFAULT_MAX_DURATION_S))
        rules.append((col.name, f"{number} > {ceiling!r} AND {number} <= {MAX_DOUBLE}",
                      f"is longer than {ceiling:,.0f} s ({ceiling / 3600:g} h), the longest "
                      "believable duration (parameter max_duration_s)"))
    scale = SCALES.get((table, col.name))
    if scale:
        low, high = scale
        rules.append((col.name, f"{number} < {low} OR {number} > {high}",
                      f"is off the {col.name} scale ({low} to {high})"))
    if col.type in ("timestamp", "date") and (table, col.name) not in UNDATED_COLUMNS:
        latest = (today or dt.date.today()) + dt.timedelta(days=366)
        stamp = f"TRY_CAST({ident} AS TIMESTAMP)"
        rules.append((col.name, f"{stamp} < TIMESTAMP '{EARLIEST_DATE} 00:00:00' "
                                f"OR {stamp} >= TIMESTAMP '{latest.isoformat()} 00:00:00'",
                      f"is not a plausible date (expected {EARLIEST_DATE} to "
                      f"{(latest - dt.timedelta(days=1)).isoformat()})"))
    if (table, col.name) == ("costs", "period_end"):
        end, start = (f"TRY_CAST(TRY_CAST({c} AS TIMESTAMP) AS DATE)"
                      for c in (ident, ident.replace("period_end", "period_start")))
        rules.append((col.name, f"{end} < {start}",
                      "is before period_start (a cost period ends on or after its first day)"))
    allowed = ALLOWED_VALUES.get((table, col.name))
    if allowed:
        listed = ", ".join(f"'{a}'" for a in allowed)
        rules.append((col.name, f"{ident} IS NOT NULL AND {ident} NOT IN ({listed})",
                      f"is not one of {', '.join(allowed)}"))
    return rules


def canonical_select(src, columns: dict[str, str], dialect: Dialect, params: dict | None = None,
                     nanos: dict | None = None) -> tuple[str, list[tuple[str, str, str]]]:
    """The SELECT list that yields the canonical columns of one file, and the checks its
    values must pass (column, condition flagging a bad value, what is wrong).

    ``columns`` maps the file's columns to their engine types; ``nanos`` names the Parquet
    nanosecond timestamps the engine reads as integers (:func:`cast_column`). DataError when
    a required column is missing or a column's type cannot hold its values.
    """
    check_required_columns(src, columns)
    selects, checks = [], []
    for col in TABLES[src.table].columns:
        source_type = columns.get(col.name)
        expr, bad, good = cast_column(col, source_type, dialect, (nanos or {}).get(col.name, False))
        if bad == "TRUE":
            raise DataError(f"{src.path}: column {col.name} has type {source_type}, expected {good}")
        selects.append(f"{expr} AS {col.name}")
        if bad:
            checks.append((col.name, bad, f"is not {good}"))
        if source_type is not None:
            checks += value_rules(src.table, col, dialect.quote(col.name), params)
    # The data's own columns (priority, segment …) are kept with their type (CSV: text).
    # extra_columns admits plain identifiers only, so quoting them is safe.
    selects += [f"{dialect.quote(n)} AS {dialect.quote(n)}" for n in extra_columns(src.table, columns)]
    return ", ".join(selects), checks


def describe_problem(src, column: str, row: int, value, what: str, count: int) -> str:
    """One line of a DataError: file, column, row (and CSV line), the value, what is wrong."""
    where = f"row {row}" + (f" (line {row + 1})" if src.format == "csv" else "")
    more = f"; {count - 1} more row{'s' if count > 2 else ''} like it" if count > 1 else ""
    return f"{src.path}: column {column}, {where}: {quote(value)} {what}{more}"


def run_checks(src, relation: str, checks: list[tuple[str, str, str]], unique: str | None,
               dialect: Dialect, fetch: Callable[[str], list], errors: tuple = (Exception,)) -> None:
    """Raise DataError when a value of the file fails a check or the ``unique`` column repeats.

    One pass counts the bad values of every check (and the repeated ``unique`` values); only
    when some exist does a second pass, with row numbers in file order (slower, so clean
    files skip it), find the first bad row of each check.

    Parameters
    ----------
    relation : the file as SQL can read it (a table function or a view over the raw file)
    fetch : runs a query on the engine and returns its rows as tuples
    errors : the engine's exceptions meaning the file cannot be read
    """
    # COUNT(CASE …) rather than COUNT(*) FILTER (…): a third of the time for ~20 counts on
    # DuckDB (0.5 vs 1.5 s at 10M contacts), and the same on Spark.
    counts_sql = [f"COUNT(CASE WHEN {cond} THEN 1 END)" for _, cond, _ in checks]
    key = dialect.quote(unique) if unique else None
    if key:
        counts_sql.append(f"COUNT({key}) - COUNT(DISTINCT {key})")
    if not counts_sql:
        return
    try:
        counts = fetch(f"SELECT {', '.join(counts_sql)} FROM {relation}")[0]
    except errors as exc:
        text = str(exc).strip()
        raise DataError(f"{src.path}: cannot read this file "
                        f"({text.splitlines()[0] if text else type(exc).__name__})") from None
    failing = [(check, int(n)) for check, n in zip(checks, counts, strict=False) if n]
    text_type = dialect.types["string"]
    if failing:
        aggs = []
        for k, ((column, cond, _), _) in enumerate(failing):
            aggs.append(f"MIN(_row) FILTER (WHERE {cond}) AS r{k}")
            aggs.append(f"min_by(CAST({dialect.quote(column)} AS {text_type}), _row) "
                        f"FILTER (WHERE {cond}) AS v{k}")
        numbered = f"SELECT *, {dialect.file_row_number} AS _row FROM {relation}"
        result = fetch(f"SELECT {', '.join(aggs)} FROM ({numbered})")[0]
        raise DataError("\n".join(
            describe_problem(src, column, result[2 * k], result[2 * k + 1], what, count)
            for k, ((column, _, what), count) in enumerate(failing)))
    if key and counts[-1]:
        dup = fetch(f"SELECT CAST({key} AS {text_type}), COUNT(*) FROM {relation} GROUP BY {key} "
                    f"HAVING COUNT(*) > 1 ORDER BY 2 DESC, 1 LIMIT {MAX_EXAMPLES}")
        examples = ", ".join(f"{quote(v)} x{n}" for v, n in dup)
        raise DataError(f"{src.path}: column {unique} has duplicate values: {examples}")
