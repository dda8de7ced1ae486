"""The data-quality gate's tables staged in DuckDB (private).

Each table is staged as a ``_dq_<table>`` view with a row number and, for typed columns,
the raw text of values that do not read as their type. The frames cut to the review's scope
(:mod:`kpitools._validation_frames`) and the checks (:mod:`kpitools._expectations_sql`) are
SQL over these views, shared with the Spark gate.

Two ways in:

* a :class:`~kpitools.loading.Dataset` that :func:`kpitools.load` accepted — its values
  already passed the loader's type checks, so the ``<col>__unreadable`` columns are empty;
* a *lenient* staging of a folder the loader rejected: every column is cast the loader's
  way, bad values become empty and their raw text goes to ``<col>__unreadable``; no value
  checks stop it, so the gate can report every problem with counts and examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from . import loading
from ._validation_frames import TYPED, typed_present
from .config import check_timezone
from .dialects import DUCKDB
from .errors import DataError
from .schema import TABLES


@dataclass
class Staged:
    """Tables staged as ``_dq_<table>`` views on ``con``."""

    con: duckdb.DuckDBPyConnection
    present: dict[str, set[str]]          # table -> canonical columns found in its file
    unreadable: dict[str, list[str]] = field(default_factory=dict)  # table -> typed columns
    problems: list[tuple[str | None, str]] = field(default_factory=list)  # (table, message)
    views: list[str] = field(default_factory=list)  # frame views created on con
    tables: list[str] = field(default_factory=list)  # look-up tables created on con
    # table -> a column the loader found unique and never empty in the whole file: a frame of
    # that table's rows cannot repeat it, so its uniqueness check needs no distinct count
    unique: dict[str, str] = field(default_factory=dict)
    dialect = DUCKDB

    def has(self, table: str) -> bool:
        return table in self.present

    def rows(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def frame(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def create_view(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
        self.views.append(name)

    def create_table(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
        self.tables.append(name)

    def view_columns(self, name: str) -> list[str]:
        return [r[0] for r in self.con.execute(f"DESCRIBE SELECT * FROM {name}").fetchall()]

    def column_types(self, name: str) -> dict[str, str]:
        """Column name -> type name (upper case) of a view."""
        rows = self.con.execute(f"DESCRIBE SELECT * FROM {name}").fetchall()
        return {r[0]: str(r[1]).upper() for r in rows}


def stage_dataset(data) -> Staged:
    """Stage the tables of a loaded Dataset (values already type-checked by the loader)."""
    con = data.con
    staged = Staged(con=con, present={}, unique=dict(data.unique_columns))
    for table, src in data.files.items():
        try:
            present = set(loading._describe(con, src)) & set(TABLES[table].column_names)
        except DataError:  # the file went away since it was loaded: trust the loaded table
            present = set(TABLES[table].column_names)
        typed = typed_present(table, present)
        extra = "".join(f", CAST(NULL AS VARCHAR) AS {DUCKDB.quote(c + '__unreadable')}" for c in typed)
        con.execute(f"CREATE OR REPLACE TEMP VIEW _dq_{table} AS "
                    f"SELECT *, CAST(NULL AS BIGINT) AS _row{extra} FROM {table}")
        staged.present[table] = present
        staged.unreadable[table] = typed
    return staged


def stage_folder(path, timezone: str) -> Staged:
    """Stage a folder leniently: casts as the loader does, bad values kept aside as text."""
    from pathlib import Path

    timezone = check_timezone(timezone, "business time zone")  # only checked names reach SQL
    con = loading.connect(":memory:")
    try:
        con.execute(f"SET TimeZone = '{timezone}'")
    except duckdb.Error:
        raise DataError(f"unknown time zone {timezone!r}") from None
    staged = Staged(con=con, present={})
    files = loading.find_files(Path(path))  # DataError when the folder or interactions is missing
    for table, src in files.items():
        try:
            columns = loading._describe(con, src)
        except DataError as exc:
            staged.problems.append((table, str(exc)))
            continue
        present = set(columns) & set(TABLES[table].column_names)
        selects = []
        for col in TABLES[table].columns:
            name = DUCKDB.quote(col.name)
            ctype = loading.DUCKDB_TYPES[col.type]
            if col.name not in present:
                selects.append(f"CAST(NULL AS {ctype}) AS {name}")
                continue
            expr, bad, _ = loading.cast_column(col, columns[col.name], tz_aware=False)
            if bad == "TRUE":  # the whole column has a type that cannot hold these values
                selects.append(f"CAST(NULL AS {ctype}) AS {name}")
                bad = f"{name} IS NOT NULL"
            else:
                selects.append(f"{expr} AS {name}")
            if col.type in TYPED:
                raw = f"CAST({name} AS VARCHAR)"
                flag = f"CASE WHEN {bad} THEN {raw} END" if bad else "CAST(NULL AS VARCHAR)"
                selects.append(f"{flag} AS {DUCKDB.quote(col.name + '__unreadable')}")
        try:
            con.execute(f"CREATE TABLE _raw_{table} AS SELECT {', '.join(selects)}, "
                        f"row_number() OVER () AS _row FROM {src.reader}")
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            staged.problems.append((table, f"{src.path}: cannot read this file ({first})"))
            continue
        con.execute(f"CREATE TEMP VIEW _dq_{table} AS SELECT * FROM _raw_{table}")
        staged.present[table] = present
        staged.unreadable[table] = typed_present(table, present)
    return staged


def drop_views(staged: Staged) -> None:
    for view in [*staged.views, *(f"_dq_{t}" for t in TABLES)]:
        try:
            staged.con.execute(f"DROP VIEW IF EXISTS {view}")
        except duckdb.Error:
            pass
    for name in staged.tables:
        try:
            staged.con.execute(f"DROP TABLE IF EXISTS {name}")
        except duckdb.Error:
            pass
    staged.views.clear()
    staged.tables.clear()


