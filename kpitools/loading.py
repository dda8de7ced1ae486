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

import csv
import datetime as dt
import errno
import stat
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .config import DEFAULTS, CenterConfig, dataset_settings
from .errors import ConfigError, DataError, quote
from .periods import missing_days, parse_closed_days
from .registry import Registry
from .registry import registry as default_registry
from .schema import (
    ALLOWED_VALUES,
    DUCKDB_TYPES,
    EARLIEST_DATE,
    SCALES,
    TABLES,
    UNDATED_COLUMNS,
    UNIQUE_KEYS,
    Column,
    extra_columns,
)
from .sql import DAYS_WITH_CONTACTS, check_measure_columns
from .targets import Targets

NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                 "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "REAL")
NON_NEGATIVE = {
    "interactions": ("talk_s", "hold_s", "acw_s"),
    "agent_activity": ("logged_in_s", "handling_s", "available_s", "paid_s"),
}
MAX_EXAMPLES = 5
MAX_DOUBLE = "1.7976931348623157E308"  # the largest finite double, as SQL both engines read
DEFAULT_MAX_DURATION_S = 86400.0
MAX_HEADER_CHARS = 1 << 20  # a header line longer than 1 MiB is read no further
ISOLATION_GAP_DAYS = 180


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
    config : the center configuration in force (``kpitools.yaml``; defaults when none)
    warnings : one line per thing the loader accepted but distrusts (a header spelled with
        other capitals, contacts answered before they arrived …); ``kpitools kpis`` prints them
    """

    path: Path
    con: duckdb.DuckDBPyConnection
    files: dict[str, SourceFile]
    params: dict
    targets: Targets
    registry: Registry = field(default_factory=lambda: default_registry)
    config: CenterConfig = DEFAULTS
    warnings: list[str] = field(default_factory=list)  # what the loader accepted but distrusts
    distrusted_days: frozenset = frozenset()  # days holding contacts with a negative wait
    _days: frozenset | None = None
    _source_columns: dict = field(default_factory=dict)

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

    def source_columns(self, table: str) -> list[str]:
        """The columns of the table's file as read (before canonical casting)."""
        if table not in self._source_columns:
            self._source_columns[table] = list(_describe(self.con, self.files[table]))
        return self._source_columns[table]

    @property
    def extra_columns(self) -> list[str]:
        """Columns of interactions beyond the canonical schema, kept as the data's own
        dimensions (usable in ``by=``)."""
        return extra_columns("interactions", self.source_columns("interactions"))

    @property
    def days_with_contacts(self) -> frozenset[dt.date]:
        """Days (business time) with at least one contact: one DISTINCT pass, cached."""
        if self._days is None:
            self._days = frozenset(r[0] for r in self.con.execute(DAYS_WITH_CONTACTS).fetchall()
                                   if r[0] is not None)
        return self._days

    @property
    def coverage(self) -> tuple[dt.date | None, dt.date | None]:
        """First and last day with contacts (business time)."""
        days = self.days_with_contacts
        return (min(days), max(days)) if days else (None, None)

    @property
    def gaps(self) -> tuple[dt.date, ...]:
        """Days inside the coverage without contacts (a missing export), except the
        ``closed_days`` parameter: the periods containing them are partial."""
        return missing_days(self.days_with_contacts, parse_closed_days(self.params.get("closed_days")))

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


def cast_column(col: Column, source_type: str | None, tz_aware: bool) -> tuple[str, str | None, str]:
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


def _table_sql(con, src: SourceFile, unique: str | None = None, params: dict | None = None) -> str:
    """SELECT that yields the canonical columns of one source file, after checking it."""
    table = TABLES[src.table]
    columns = _describe(con, src)
    check_required_columns(src, columns)
    selects, checks = [], []  # checks: (column, condition, what a good value is)
    for col in table.columns:
        expr, bad, good = cast_column(col, columns.get(col.name), tz_aware=False)
        if bad == "TRUE":
            raise DataError(
                f"{src.path}: column {col.name} has type {columns[col.name]}, expected {good}"
            )
        selects.append(f"{expr} AS {col.name}")
        if bad:
            checks.append((col.name, bad, f"is not {good}"))
        if col.name in columns:
            checks += value_rules(src.table, col, f'"{col.name}"', params)
    # The data's own columns (priority, segment …) are kept with their type (CSV: text).
    # extra_columns admits plain identifiers only, so quoting them is safe.
    selects += [f'"{name}" AS "{name}"' for name in extra_columns(src.table, columns)]
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


def value_rules(table: str, col: Column, ident: str, params: dict | None = None,
                today: dt.date | None = None) -> list[tuple[str, str, str]]:
    """Schema rules beyond the type, for a column present in the file: (column, SQL condition
    that flags a bad value, what is wrong). ``ident`` is the column as the engine quotes it;
    the conditions are plain SQL that DuckDB and Spark both run (kpitools/spark.py).

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
            _check_unique_ids(con, src, unique)
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


def _check_unique_ids(con, src: SourceFile, column: str = "interaction_id") -> None:
    ident = f'"{column}"'
    dup = con.execute(
        f"SELECT CAST({ident} AS VARCHAR), COUNT(*) FROM {src.reader} "
        f"GROUP BY {ident} HAVING COUNT(*) > 1 ORDER BY 2 DESC, 1 LIMIT 5"
    ).fetchall()
    if dup:
        examples = ", ".join(f"{quote(v)} x{n}" for v, n in dup)
        raise DataError(f"{src.path}: column {column} has duplicate values: {examples}")


def read_header(src: SourceFile) -> list[str] | None:
    """The column names exactly as the file spells them (duplicates kept), or None when the
    file cannot be read here (the DuckDB read that follows then reports why). DuckDB renames
    a second ``x`` to ``x_1``, so duplicates are only visible in the raw header."""
    try:
        if src.format == "parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(src.path).names)
        with open(src.path, encoding="utf-8-sig", errors="replace", newline="") as fh:
            line = fh.readline(MAX_HEADER_CHARS)
        return next(csv.reader([line]), [])
    except Exception:  # noqa: BLE001 - unreadable here is reported by the DuckDB read
        return None


def check_headers(src: SourceFile) -> list[str]:
    """Refuse a header that names a column twice, or spells a canonical column with other
    capitals or spaces (``Resolved`` for ``resolved``) when the exact name is absent — either
    would otherwise load silently wrong (first copy used; FCR null "denominator is 0").
    Returns warnings for near-miss names that sit beside the exact one."""
    names = read_header(src)
    if not names:
        return []
    seen: dict[str, list[int]] = {}
    for k, name in enumerate(names, start=1):
        seen.setdefault(name, []).append(k)
    for name, places in seen.items():
        if len(places) > 1 and name.strip():
            at = ", ".join(str(k) for k in places[:5])
            raise DataError(f"{src.path}: column {quote(name)} appears {len(places)} times in the "
                            f"header (columns {at}); each column must appear once — rename or "
                            "remove the extra copies")
    warnings = []
    for canonical in TABLES[src.table].column_names:
        near = [n for n in seen if n != canonical and n.strip().lower() == canonical]
        if not near:
            continue
        if canonical in seen:
            warnings.append(f"{src.path}: column {quote(near[0])} is ignored; the column read is "
                            f"{canonical!r} (names are case-sensitive)")
        else:
            raise DataError(f"{src.path}: column {quote(near[0])} should be spelled {canonical!r} "
                            "(column names are case-sensitive); rename it in the header")
    return warnings


def wait_kpis(reg: Registry) -> list[str]:
    """KPIs computed from wait times (any variant): they cannot be trusted on rows whose wait
    is negative."""
    measures = {m.name for m in reg.measures.values()
                if "wait_s" in f"{m.when or ''} {m.value or ''}"}
    return [k.id for k in reg.kpis.values()
            if any(set(f.measures) & measures for f in k.formulas.values())]


def check_arrivals(data: Dataset) -> list[str]:
    """After loading: refuse contacts dated far from the rest of the data, and list contacts
    with a negative wait (answered or abandoned before they arrived) as distrusted.

    A lone contact dated 0001-01-01 passes no plausibility range only because the range is
    wide; one isolated by more than ``ISOLATION_GAP_DAYS`` from the bulk, holding under 1 % of
    the contacts, would make a review compare with an empty period years away.
    """
    con = data.con
    days = con.execute("SELECT CAST(arrived_at AS DATE), COUNT(*) FROM interactions "
                       "GROUP BY 1 ORDER BY 1").fetchall()
    # The same days serve coverage and gaps (Dataset.days_with_contacts): no second pass.
    data._days = frozenset(day for day, _ in days if day is not None)
    clusters: list[list] = []
    for day, n in days:
        if clusters and (day - clusters[-1][1]).days <= ISOLATION_GAP_DAYS:
            clusters[-1][1], clusters[-1][2] = day, clusters[-1][2] + n
        else:
            clusters.append([day, day, n])
    total = sum(c[2] for c in clusters)
    main = max(clusters, key=lambda c: c[2]) if clusters else None
    stray = [c for c in clusters if c is not main and c[2] < 0.01 * total]
    if stray:
        first, last, n = stray[0]
        example = con.execute(
            "SELECT interaction_id, arrived_at FROM interactions WHERE CAST(arrived_at AS DATE) "
            "BETWEEN ? AND ? ORDER BY arrived_at LIMIT 1", [first, last]).fetchall()[0]
        src = data.files["interactions"]
        raise DataError(
            f"{src.path}: column arrived_at: {n} contact{'s' if n != 1 else ''} dated {first}"
            f"{'' if first == last else f' to {last}'} (e.g. interaction_id {quote(example[0])} at "
            f"{example[1]}) lie{'s' if n == 1 else ''} more than {ISOLATION_GAP_DAYS} days from "
            f"the rest of the data ({main[0]} to {main[1]}); correct or remove "
            f"{'it' if n == 1 else 'them'}")
    negative = ("(outcome = 'handled' AND answered_at < arrived_at) OR "
                "(outcome = 'abandoned' AND ended_at < arrived_at)")
    has_ended = "ended_at" in _columns_of(con, "interactions")
    if not has_ended:
        negative = "outcome = 'handled' AND answered_at < arrived_at"
    count, ids, day_list = con.execute(
        f"SELECT COUNT(*), list(interaction_id ORDER BY arrived_at)[1:3], "
        f"list(DISTINCT CAST(arrived_at AS DATE)) FROM interactions WHERE {negative}").fetchall()[0]
    data.distrusted_days = frozenset(day_list or ())
    if not count:
        return []
    shown = ", ".join(quote(i) for i in ids)
    return [f"interactions: {count:,} contact{'s' if count != 1 else ''} answered or abandoned "
            f"before {'they' if count != 1 else 'it'} arrived (negative wait; e.g. {shown}); "
            f"KPIs built on waits ({', '.join(wait_kpis(data.registry))}) get no status for "
            "the periods holding them"]


def _columns_of(con, table: str) -> set[str]:
    return {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}


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
         registry: Registry | None = None, config=None) -> Dataset:
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
    config : the center configuration: a ``kpitools.yaml`` path, a CenterConfig or a mapping;
        default ``<path>/kpitools.yaml`` when present (docs/configuration.md). ``timezone``,
        ``targets`` and ``params`` win over it.
    check_unique : check that interaction ids are unique (counted in the same pass as the
        other value checks)

    Examples
    --------
    >>> data = load("data/demo", timezone="Europe/London")   # doctest: +SKIP
    >>> data.has("surveys")                                     # doctest: +SKIP
    True
    """
    path = Path(path)
    files = find_files(path)
    settings = dataset_settings(path, config=config, registry=registry, timezone=timezone,
                                params=params, targets=targets)
    reg, merged = settings.registry, settings.params
    con = duckdb.connect(str(warehouse) if warehouse else ":memory:")
    try:  # the zone name was checked against the zone database (config.check_timezone)
        con.execute(f"SET TimeZone = '{merged['business_timezone']}'")
    except duckdb.Error:
        con.close()
        raise ConfigError(f"DuckDB does not know the time zone {merged['business_timezone']!r}") from None
    warnings: list[str] = []
    for name, src in files.items():
        warnings += check_headers(src)
        unique = UNIQUE_KEYS.get(name) if check_unique or name != "interactions" else None
        select = _table_sql(con, src, unique, merged)
        as_table = materialize if materialize is not None else (src.format == "csv" or warehouse)
        kind = "TABLE" if as_table else "VIEW"
        drop_relation(con, name)
        con.execute(f"CREATE {kind} {name} AS SELECT {select} FROM {src.reader}")
    columns = {name: [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()] for name in files}
    problems = check_measure_columns(reg, columns)
    if problems:
        con.close()
        raise ConfigError(f"{settings.config.name}: " + "; ".join(problems))
    data = Dataset(path=path, con=con, files=files, params=merged, targets=settings.targets,
                   registry=reg, config=settings.config)
    data.warnings = warnings + check_arrivals(data)
    return data
