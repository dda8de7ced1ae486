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
import hashlib
import stat
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .casts import canonical_select, run_checks
from .casts import cast_column as _cast_column
from .config import DEFAULTS, CenterConfig, dataset_settings
from .dialects import DUCKDB
from .errors import ConfigError, DataError, quote
from .periods import missing_days, parse_closed_days
from .registry import Registry
from .registry import registry as default_registry
from .schema import DUCKDB_TYPES, TABLES, UNIQUE_KEYS, Column, extra_columns  # noqa: F401 (gate)
from .sql import DAYS_WITH_CONTACTS, check_measure_columns
from .targets import Targets

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
    input_checks: list[dict] = field(default_factory=list)  # input_stamp of each file checked
    unique_columns: dict[str, str] = field(default_factory=dict)  # table -> key found unique
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


def cast_column(col: Column, source_type: str | None, tz_aware: bool = False):
    """The DuckDB spelling of :func:`kpitools.casts.cast_column` (``tz_aware`` is unused)."""
    return _cast_column(col, source_type, DUCKDB)


def _describe(con, src: SourceFile) -> dict[str, str]:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {src.reader}").fetchall()
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise DataError(f"{src.path}: cannot read this {src.format.upper()} file ({first_line})") from None
    return {r[0]: r[1] for r in rows}


def input_stamp(src: SourceFile, checks, unique: str | None) -> dict:
    """What a passed check of one file vouches for: the file as it was (path, size,
    modification time) and the checks run on it (a digest of their SQL)."""
    st = src.path.stat()
    digest = hashlib.sha256(repr((checks, unique)).encode()).hexdigest()[:16]
    return {"file": str(src.path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "checks": digest}


def _table_sql(con, src: SourceFile, unique: str | None = None, params: dict | None = None,
               checked=()) -> tuple[str, dict, str | None]:
    """SELECT that yields the canonical columns of one source file, after checking it; the
    file's stamp; the ``unique`` column if the file has it (then checked unique and, as a
    key, never empty). The checks are skipped when ``checked`` holds the same stamp."""
    columns = _describe(con, src)
    select, checks = canonical_select(src, columns, DUCKDB, params)
    unique = unique if unique in columns else None
    stamp = input_stamp(src, checks, unique)
    if stamp not in checked:
        run_checks(src, src.reader, checks, unique, DUCKDB,
                   lambda query: con.execute(query).fetchall(), errors=(duckdb.Error,))
    return select, stamp, unique


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


def check_arrivals(data, columns, fetch=None) -> list[str]:
    """After loading: refuse contacts dated far from the rest of the data, and list contacts
    with a negative wait (answered or abandoned before they arrived) as distrusted.

    A lone contact dated 0001-01-01 passes no plausibility range only because the range is
    wide; one isolated by more than ``ISOLATION_GAP_DAYS`` from the bulk, holding under 1 % of
    the contacts, would make a review compare with an empty period years away.

    Sets ``data._days`` and ``data.distrusted_days``; returns the warnings. ``columns`` are
    the loaded interactions' columns; ``fetch`` runs a query and returns its rows (default:
    on the DuckDB connection); the Spark loader passes its own, so both engines share the rule.
    """
    if fetch is None:
        fetch = lambda query: data.con.execute(query).fetchall()  # noqa: E731
    negative = ("(outcome = 'handled' AND answered_at < arrived_at) OR "
                "(outcome = 'abandoned' AND ended_at < arrived_at)")
    if "ended_at" not in columns:
        negative = "outcome = 'handled' AND answered_at < arrived_at"
    # One pass per day counts the contacts and those with a negative wait (0.22 s at 10M
    # contacts, against 0.42 s for two passes); the same days serve coverage and gaps
    # (Dataset.days_with_contacts).
    per_day = [tuple(r) for r in fetch(
        f"SELECT CAST(arrived_at AS DATE), COUNT(*), COUNT(CASE WHEN {negative} THEN 1 END) "
        "FROM interactions GROUP BY CAST(arrived_at AS DATE)") if r[0] is not None]
    per_day.sort()
    data._days = frozenset(day for day, _, _ in per_day)
    clusters: list[list] = []
    for day, n, _ in per_day:
        if clusters and (day - clusters[-1][1]).days <= ISOLATION_GAP_DAYS:
            clusters[-1][1], clusters[-1][2] = day, clusters[-1][2] + n
        else:
            clusters.append([day, day, n])
    total = sum(c[2] for c in clusters)
    main = max(clusters, key=lambda c: c[2]) if clusters else None
    stray = [c for c in clusters if c is not main and c[2] < 0.01 * total]
    if stray:
        first, last, n = stray[0]
        example = fetch(
            "SELECT interaction_id, arrived_at FROM interactions WHERE CAST(arrived_at AS DATE) "
            f"BETWEEN DATE '{first}' AND DATE '{last}' ORDER BY arrived_at, interaction_id LIMIT 1")[0]
        src = data.files["interactions"]
        raise DataError(
            f"{src.path}: column arrived_at: {n} contact{'s' if n != 1 else ''} dated {first}"
            f"{'' if first == last else f' to {last}'} (e.g. interaction_id {quote(example[0])} at "
            f"{example[1]}) lie{'s' if n == 1 else ''} more than {ISOLATION_GAP_DAYS} days from "
            f"the rest of the data ({main[0]} to {main[1]}); correct or remove "
            f"{'it' if n == 1 else 'them'}")
    data.distrusted_days = frozenset(day for day, _, bad in per_day if bad)
    count = sum(bad for _, _, bad in per_day)
    if not count:
        return []
    # ids break ties in time, so both engines name the same examples
    ids = [r[0] for r in fetch(f"SELECT interaction_id FROM interactions WHERE {negative} "
                               "ORDER BY arrived_at, interaction_id LIMIT 3")]
    shown = ", ".join(quote(i) for i in ids)
    return [f"interactions: {count:,} contact{'s' if count != 1 else ''} answered or abandoned "
            f"before {'they' if count != 1 else 'it'} arrived (negative wait; e.g. {shown}); "
            f"KPIs built on waits ({', '.join(wait_kpis(data.registry))}) get no status for "
            "the periods holding them"]


def connect(database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that draws no progress bars (in logs and the CLI's output)."""
    con = duckdb.connect(database)
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.Error:  # in a Jupyter kernel without ipywidgets DuckDB refuses the setting
        pass
    return con


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
         registry: Registry | None = None, config=None, checked=()) -> Dataset:
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
    checked : stamps (``Dataset.input_checks``) of files an earlier load in this job checked;
        a file whose path, size, modification time and checks are unchanged is not checked
        again. ``kpitools report`` passes its load's stamps to the notebook kernel, which
        loads the same files seconds later (at 10M contacts the checks take 2-4 s).

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
    con = connect(str(warehouse) if warehouse else ":memory:")
    try:  # the zone name was checked against the zone database (config.check_timezone)
        con.execute(f"SET TimeZone = '{merged['business_timezone']}'")
    except duckdb.Error:
        con.close()
        raise ConfigError(f"DuckDB does not know the time zone {merged['business_timezone']!r}") from None
    warnings: list[str] = []
    stamps: list[dict] = []
    unique_columns: dict[str, str] = {}
    for name, src in files.items():
        warnings += check_headers(src)
        unique = UNIQUE_KEYS.get(name) if check_unique or name != "interactions" else None
        select, stamp, unique = _table_sql(con, src, unique, merged, checked)
        stamps.append(stamp)
        if unique:
            unique_columns[name] = unique
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
                   registry=reg, config=settings.config, input_checks=stamps,
                   unique_columns=unique_columns)
    data.warnings = warnings + check_arrivals(data, set(columns["interactions"]))
    return data
