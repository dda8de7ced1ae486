"""Load a data folder (SPEC §2) into DuckDB, checking columns, types and basic values.

A data folder holds one file per table, ``<table>.parquet`` or ``<table>.csv``. Only
``interactions`` is required. Every column is cast to its canonical type; the first value
that does not fit is reported with its file, column, row and value, and nothing is loaded.
Raw files are only ever read.

>>> import kpitools
>>> data = kpitools.load("data/demo")            # doctest: +SKIP
>>> data.coverage                                 # doctest: +SKIP
(datetime.date(2024, 11, 4), datetime.date(2026, 11, 15))
"""

from __future__ import annotations

import datetime as dt
import errno
import stat
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .errors import DataError, quote
from .registry import Registry
from .registry import registry as default_registry
from .schema import ALLOWED_VALUES, DUCKDB_TYPES, TABLES, Column
from .targets import Targets

NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                 "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "REAL")
NON_NEGATIVE = {
    "interactions": ("talk_s", "hold_s", "acw_s"),
    "agent_activity": ("logged_in_s", "handling_s", "available_s", "paid_s"),
}
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class SourceFile:
    table: str
    path: Path
    format: str  # "csv" or "parquet"

    @property
    def reader(self) -> str:
        p = str(self.path).replace("'", "''")
        if self.format == "parquet":
            return f"read_parquet('{p}')"
        return f"read_csv('{p}', all_varchar = true, header = true)"


@dataclass
class Dataset:
    """A loaded data folder: a DuckDB connection with one view or table per input table.

    Attributes
    ----------
    path : the data folder
    con : the DuckDB connection (tables ``interactions``, ``surveys`` … as loaded)
    files : table name -> SourceFile for the tables present
    params : registry parameters with any overrides (thresholds, time zone …)
    targets : per-queue / per-channel target overrides
    """

    path: Path
    con: duckdb.DuckDBPyConnection
    files: dict[str, SourceFile]
    params: dict
    targets: Targets
    registry: Registry = field(default_factory=lambda: default_registry)
    _coverage: tuple | None = None

    @property
    def backend(self):
        """The engine backend that runs KPI SQL on this data (DuckDB here)."""
        from .engine import DuckDBBackend

        return DuckDBBackend(self.con)

    def has(self, table: str) -> bool:
        return table in self.files

    @property
    def tables(self) -> list[str]:
        return list(self.files)

    @property
    def coverage(self) -> tuple[dt.date | None, dt.date | None]:
        """First and last day with contacts (business time)."""
        if self._coverage is None:
            first, last = self.con.execute(
                "SELECT CAST(MIN(arrived_at) AS DATE), CAST(MAX(arrived_at) AS DATE) FROM interactions"
            ).fetchall()[0]
            self._coverage = (first, last)
        return self._coverage

    def sql(self, query: str):
        """Run SQL against the loaded tables and return a pandas DataFrame."""
        return self.con.execute(query).df()

    def close(self) -> None:
        self.con.close()

    def __repr__(self) -> str:
        first, last = self.coverage
        return f"<Dataset {self.path} tables={self.tables} coverage={first}..{last}>"


def find_files(path: Path) -> dict[str, SourceFile]:
    """The table files in a data folder (Parquet wins over CSV). DataError when the folder is
    missing, is not a folder, or a table's name is taken by something that is not a regular
    file (a folder, a pipe, a broken link or a symlink loop) — which would otherwise read as
    "no such table"."""
    if not path.exists():
        raise DataError(f"data folder {path} does not exist (generate one with `kpitools demo-data --out {path}`)")
    if not path.is_dir():
        raise DataError(f"data folder {path} is not a folder; pass the folder that holds interactions.csv")
    files = {}
    for name in TABLES:
        for fmt in ("parquet", "csv"):  # Parquet wins when both exist: it carries its types.
            candidate = path / f"{name}.{fmt}"
            kind = file_kind(candidate)
            if kind == "file":
                files[name] = SourceFile(name, candidate, fmt)
                break
            if kind != "missing":
                raise DataError(f"{candidate}: is {kind}, expected a regular {fmt.upper()} file "
                                f"holding the {name} table (or no {name}.{fmt} at all)")
    if "interactions" not in files:
        raise DataError(
            f"{path}: no interactions.csv or interactions.parquet; the interactions table is required"
        )
    return files


def file_kind(path: Path) -> str:
    """``file``, ``missing``, or what else is at ``path`` in words (for error messages)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "a broken symbolic link" if path.is_symlink() else "missing"
    except OSError as exc:  # ELOOP, EACCES on a parent …
        if exc.errno == errno.ELOOP:
            return "a symbolic link loop"
        return f"unreadable ({exc.strerror})"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    return "not a regular file"


def _cast(col: Column, source_type: str | None, tz_aware: bool) -> tuple[str, str | None, str]:
    """(cast expression, condition that flags a bad value or None, what a good value is)."""
    name = f'"{col.name}"'
    target = DUCKDB_TYPES[col.type]
    if source_type is None:
        return f"CAST(NULL AS {target})", None, ""
    st = source_type.upper()
    is_text = st == "VARCHAR"
    if col.type == "string":
        return f"CAST({name} AS VARCHAR)", None, "text"
    if col.type == "timestamp":
        if is_text:
            return (
                f"CAST(TRY_CAST({name} AS TIMESTAMPTZ) AS TIMESTAMP)",
                f"{name} IS NOT NULL AND TRY_CAST({name} AS TIMESTAMPTZ) IS NULL",
                "an ISO 8601 timestamp such as 2026-03-02T09:15:00",
            )
        if st.startswith("TIMESTAMP") or st == "DATE":
            return f"CAST({name} AS TIMESTAMP)", None, ""
        return "", "TRUE", "a timestamp"
    if col.type == "date":
        if is_text:
            return (
                f"CAST(TRY_CAST(TRY_CAST({name} AS TIMESTAMP) AS DATE) AS DATE)",
                f"{name} IS NOT NULL AND TRY_CAST({name} AS TIMESTAMP) IS NULL",
                "an ISO 8601 date such as 2026-03-02",
            )
        if st.startswith("TIMESTAMP") or st == "DATE":
            return f"CAST({name} AS DATE)", None, ""
        return "", "TRUE", "a date"
    if col.type in ("number", "integer"):
        good = "a number" if col.type == "number" else "a whole number"
        if is_text or st.startswith(NUMERIC_TYPES) or st.startswith("DECIMAL"):
            as_double = f"TRY_CAST({name} AS DOUBLE)"
            bad = f"{name} IS NOT NULL AND ({as_double} IS NULL OR isnan({as_double}))"
            if col.type == "integer":
                bad = f"{name} IS NOT NULL AND ({as_double} IS NULL OR {as_double} <> round({as_double}))"
                return f"CAST({as_double} AS BIGINT)", bad, good
            if not is_text:
                bad = None if not st.startswith(("FLOAT", "DOUBLE", "REAL")) else f"isnan({name})"
            return f"{as_double}", bad, good
        return "", "TRUE", good
    if col.type == "bool":
        if st == "BOOLEAN":
            return name, None, ""
        if is_text or st.startswith(NUMERIC_TYPES):
            return (
                f"TRY_CAST({name} AS BOOLEAN)",
                f"{name} IS NOT NULL AND TRY_CAST({name} AS BOOLEAN) IS NULL",
                "true or false",
            )
        return "", "TRUE", "true or false"
    raise AssertionError(col.type)


def _describe(con, src: SourceFile) -> dict[str, str]:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {src.reader}").fetchall()
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise DataError(f"{src.path}: cannot read this {src.format.upper()} file ({first_line})") from None
    return {r[0]: r[1] for r in rows}


def _table_sql(con, src: SourceFile, unique: str | None = None) -> str:
    """SELECT that yields the canonical columns of one source file, after checking it."""
    table = TABLES[src.table]
    columns = _describe(con, src)
    check_required_columns(src, columns)
    selects, checks = [], []  # checks: (column, condition, what a good value is)
    for col in table.columns:
        expr, bad, good = _cast(col, columns.get(col.name), tz_aware=False)
        if bad == "TRUE":
            raise DataError(
                f"{src.path}: column {col.name} has type {columns[col.name]}, expected {good}"
            )
        selects.append(f"{expr} AS {col.name}")
        if bad:
            checks.append((col.name, bad, f"is not {good}"))
        if col.name in columns:
            checks += value_rules(src.table, col, f'"{col.name}"')
    _run_checks(con, src, checks, unique if unique in columns else None)
    return ", ".join(selects)


def check_required_columns(src: SourceFile, columns) -> None:
    """DataError naming the file when a required column of its table is missing."""
    missing = [c.name for c in TABLES[src.table].columns if c.required and c.name not in columns]
    if missing:
        raise DataError(
            f"{src.path}: missing required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (found: {', '.join(columns) or 'none'})"
        )


def value_rules(table: str, col: Column, ident: str) -> list[tuple[str, str, str]]:
    """Schema rules beyond the type, for a column present in the file: (column, SQL condition
    that flags a bad value, what is wrong). ``ident`` is the column as the engine quotes it;
    the conditions are plain SQL that DuckDB and Spark both run (kpitools/spark.py)."""
    rules = []
    if not col.nullable:
        rules.append((col.name, f"{ident} IS NULL", "is empty (a value is required)"))
    if col.name in NON_NEGATIVE.get(table, ()):
        rules.append((col.name, f"TRY_CAST({ident} AS DOUBLE) < 0", "is negative (durations are seconds >= 0)"))
    allowed = ALLOWED_VALUES.get((table, col.name))
    if allowed:
        listed = ", ".join(f"'{a}'" for a in allowed)
        rules.append((col.name, f"{ident} IS NOT NULL AND {ident} NOT IN ({listed})",
                      f"is not one of {', '.join(allowed)}"))
    return rules


def describe_problem(src: SourceFile, column: str, row: int, value, what: str, count: int) -> str:
    """One line of a DataError: file, column, row (and CSV line), the value, what is wrong."""
    where = f"row {row}" + (f" (line {row + 1})" if src.format == "csv" else "")
    more = f"; {count - 1} more row{'s' if count > 2 else ''} like it" if count > 1 else ""
    return f"{src.path}: column {column}, {where}: {quote(value)} {what}{more}"


def _run_checks(con, src: SourceFile, checks: list[tuple[str, str, str]],
                unique: str | None = None) -> None:
    """Count bad values per check (and repeated ``unique`` ids) in one pass; only when some
    exist, find the first row of each (a second pass with row numbers, which is slower, so
    clean files skip it)."""
    if not checks and not unique:
        return
    counts_sql = [f"COUNT(*) FILTER (WHERE {cond})" for _, cond, _ in checks]
    if unique:
        counts_sql.append(f'COUNT("{unique}") - COUNT(DISTINCT "{unique}")')
    try:
        counts = con.execute(f"SELECT {', '.join(counts_sql)} FROM {src.reader}").fetchall()[0]
    except duckdb.Error as exc:
        raise DataError(f"{src.path}: cannot read this file ({str(exc).splitlines()[0]})") from None
    failing = [(check, n) for check, n in zip(checks, counts, strict=False) if n]
    if not failing:
        if unique and counts[-1]:
            _check_unique_ids(con, src)
        return
    aggs = []
    for k, ((column, cond, _), _) in enumerate(failing):
        aggs.append(f"MIN(_row) FILTER (WHERE {cond}) AS r{k}")
        aggs.append(f'arg_min(CAST("{column}" AS VARCHAR), _row) FILTER (WHERE {cond}) AS v{k}')
    query = f"SELECT {', '.join(aggs)} FROM (SELECT *, row_number() OVER () AS _row FROM {src.reader})"
    result = con.execute(query).fetchall()[0]
    problems = []
    for k, ((column, _, what), count) in enumerate(failing):
        row, value = result[2 * k: 2 * k + 2]
        problems.append(describe_problem(src, column, row, value, what, count))
    raise DataError("\n".join(problems))


def _check_unique_ids(con, src: SourceFile) -> None:
    dup = con.execute(
        f"SELECT CAST(interaction_id AS VARCHAR), COUNT(*) FROM {src.reader} "
        "GROUP BY interaction_id HAVING COUNT(*) > 1 ORDER BY 2 DESC, 1 LIMIT 5"
    ).fetchall()
    if dup:
        examples = ", ".join(f"{quote(v)} x{n}" for v, n in dup)
        raise DataError(f"{src.path}: column interaction_id has duplicate values: {examples}")


def drop_relation(con, name: str) -> None:
    """Drop the table or view ``name`` if it exists. A warehouse file kept from an earlier
    run holds tables; ``DROP VIEW`` on a table is an error in DuckDB, so ask which it is."""
    kinds = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_name = ?", [name]).fetchall()
    for (kind,) in kinds:
        con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {name}")


def load(path, *, timezone: str | None = None, warehouse: str | Path | None = None,
         materialize: bool | None = None, targets: str | Path | None = None,
         params: dict | None = None, check_unique: bool = True,
         registry: Registry | None = None) -> Dataset:
    """Load a data folder into DuckDB.

    Parameters
    ----------
    path : folder with ``interactions.{csv,parquet}`` and optional other tables
    timezone : business time zone (default: the registry parameter, UTC). Naive timestamps
        are taken as business-local; offset-aware ones are converted to it.
    warehouse : a ``.duckdb`` file to keep the loaded tables in (persistent); default in-memory
    materialize : copy into DuckDB tables (default: yes for CSV, views over Parquet)
    targets : a targets YAML; default ``<path>/targets.yaml`` when present
    params : overrides of the registry parameters (e.g. ``{"short_abandon_s": 10}``)
    check_unique : check that interaction ids are unique (counted in the same pass as the
        other value checks)

    Examples
    --------
    >>> data = load("data/demo", timezone="Europe/London")   # doctest: +SKIP
    >>> data.has("surveys")                                     # doctest: +SKIP
    True
    """
    reg = registry or default_registry
    path = Path(path)
    files = find_files(path)
    merged = {**reg.parameters, **(params or {})}
    if timezone:
        merged["business_timezone"] = timezone
    con = duckdb.connect(str(warehouse) if warehouse else ":memory:")
    try:
        con.execute(f"SET TimeZone = '{merged.get('business_timezone', 'UTC')}'")
    except duckdb.Error:
        raise DataError(f"unknown time zone {merged.get('business_timezone')!r}") from None
    for name, src in files.items():
        select = _table_sql(con, src, "interaction_id" if name == "interactions" and check_unique else None)
        as_table = materialize if materialize is not None else (src.format == "csv" or warehouse)
        kind = "TABLE" if as_table else "VIEW"
        drop_relation(con, name)
        con.execute(f"CREATE {kind} {name} AS SELECT {select} FROM {src.reader}")
    targets_path = Path(targets) if targets else path / "targets.yaml"
    tgt = Targets.load(targets_path, reg) if targets or targets_path.exists() else Targets([], reg)
    return Dataset(path=path, con=con, files=files, params=merged, targets=tgt, registry=reg)
