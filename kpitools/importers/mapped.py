"""Any CSV / Parquet export -> canonical interactions through a YAML mapping (SPEC §8).

A mapping file says which source column becomes which canonical column and how its values
read (docs/importers.md, "Mapped CSV / Parquet"). Shipped examples live in
``kpitools/importers/mappings/`` and can be named by their short name (``five9``,
``talkdesk``; see :func:`resolve_mapping`)::

    description: Five9 Call Log report
    timezone: America/New_York          # zone of naive times in the file
    null_values: ["", "[None]"]
    contact_key: CALL ID                # rows sharing it are legs of one contact
    drop_rows:
      - {column: CALL TYPE, in: [Internal], reason: internal call}
    constants: {channel: voice}
    columns:
      interaction_id: CALL ID
      arrived_at: {columns: [DATE, TIME], format: "%Y/%m/%d %H:%M:%S"}
      queue_wait: {column: QUEUE WAIT TIME, duration: hh:mm:ss, keep: false}
      answered_at: {add: [arrived_at, queue_wait]}
      direction: {column: CALL TYPE, values: {Inbound: inbound, Outbound: outbound}}
      customer_id: {column: ANI, pseudonym: true}

Every mapping problem is a :class:`~kpitools.errors.ConfigError` naming the mapping file, the
key and what is allowed; every bad cell a :class:`RecordError` naming the file, the CSV line
and the column.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ConfigError, DataError
from ..schema import ALLOWED_VALUES, TABLES
from .common import (
    ImportOptions,
    ImportResult,
    ImportSummary,
    RecordError,
    cap,
    pseudonym,
    pseudonym_key,
    read_mapping,
)

SOURCE = "mapped"
MAPPINGS_DIR = Path(__file__).parent / "mappings"
SHORT_NAMES = {"five9": "five9-call-log", "talkdesk": "talkdesk-contacts"}

TOP_KEYS = ("description", "format", "csv", "timezone", "null_values", "contact_key",
            "drop_rows", "constants", "columns")
COLUMN_KEYS = ("column", "columns", "add", "type", "format", "timezone", "duration", "values",
               "default", "true_values", "false_values", "nonzero", "pseudonym", "keep")
TYPES = ("string", "timestamp", "duration", "number", "bool")
DURATION_UNITS = ("hh:mm:ss", "seconds", "milliseconds", "minutes")
CSV_KEYS = ("delimiter", "encoding")
FILTER_KEYS = ("column", "equals", "in", "empty", "reason")
TRUE_WORDS = ("true", "yes", "y", "1", "t")
FALSE_WORDS = ("false", "no", "n", "0", "f")

INTERACTIONS = TABLES["interactions"]
CANONICAL = {c.name: c for c in INTERACTIONS.columns}
REQUIRED = [c.name for c in INTERACTIONS.columns if c.required]
DURATION_COLUMNS = ("talk_s", "hold_s", "acw_s")
BOOL_COLUMNS = ("transferred", "escalated", "resolved")


# --- the mapping file ----------------------------------------------------------------------

def resolve_mapping(name_or_path) -> Path:
    """The mapping file for ``--mapping``: an existing path, or a shipped mapping's name
    (``five9``, ``five9-call-log``, ``talkdesk``, ``talkdesk-contacts``; ``.yaml`` optional).
    The CLI calls this before reading the file."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    stem = SHORT_NAMES.get(str(name_or_path), str(name_or_path))
    stem = stem[:-5] if stem.endswith(".yaml") else stem
    shipped = MAPPINGS_DIR / f"{stem}.yaml"
    if "/" not in stem and shipped.is_file():
        return shipped
    names = sorted({*SHORT_NAMES, *(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))})
    raise ConfigError(f"--mapping {cap(name_or_path)}: no such file, and not a shipped mapping "
                      f"({', '.join(names)})")


@dataclass(frozen=True)
class ColumnSpec:
    """How one output column is made (from ``columns:`` or ``constants:``)."""

    name: str
    type: str
    column: str | None = None  # one source column
    columns: tuple[str, ...] = ()  # source columns joined with a space (e.g. DATE and TIME)
    add: tuple[str, ...] = ()  # a timestamp plus durations, by output column name
    constant: object = None
    format: str | None = None
    timezone: str | None = None
    duration: str = "seconds"
    values: dict | None = None
    default: object = None
    true_values: tuple[str, ...] = TRUE_WORDS
    false_values: tuple[str, ...] = FALSE_WORDS
    nonzero: bool = False
    pseudonym: bool = False
    keep: bool = True

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.column,) if self.column else self.columns


@dataclass(frozen=True)
class LegFilter:
    column: str
    values: tuple[str, ...] | None  # None: drop empty cells
    reason: str


@dataclass
class Mapping:
    """A checked mapping file."""

    origin: str
    columns: dict[str, ColumnSpec]
    format: str | None = None
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    timezone: str | None = None
    null_values: tuple[str, ...] = ("",)
    contact_key: str | None = None
    drop_rows: list[LegFilter] = field(default_factory=list)

    @property
    def source_columns(self) -> set[str]:
        used = {s for spec in self.columns.values() for s in spec.sources}
        used |= {f.column for f in self.drop_rows}
        if self.contact_key:
            used.add(self.contact_key)
        return used


def _default_type(name: str, raw: dict) -> str:
    if name in CANONICAL:
        kind = CANONICAL[name].type
        if name in DURATION_COLUMNS:
            return "duration"
        return {"number": "number", "bool": "bool", "timestamp": "timestamp"}.get(kind, "string")
    if "add" in raw or "columns" in raw or "format" in raw:
        return "timestamp"
    if "duration" in raw:
        return "duration"
    if {"true_values", "false_values", "nonzero"} & set(raw):
        return "bool"
    return "string"


def _strings(value, bad) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in items):
        raise bad("a list of texts")
    return tuple(str(v) for v in items)


def parse_column(name: str, raw, origin: str) -> ColumnSpec:
    """One ``columns:`` entry: a source column name, or a dict of the keys in COLUMN_KEYS."""
    key = f"columns.{name}"

    def bad(what):
        return ConfigError(f"{origin}: {key}: {what}")

    if isinstance(raw, str):
        raw = {"column": raw}
    if not isinstance(raw, dict):
        raise bad(f"expected a source column name or a mapping of {', '.join(COLUMN_KEYS)}; "
                  f"got {cap(raw)!r}")
    unknown = [k for k in raw if k not in COLUMN_KEYS]
    if unknown:
        raise ConfigError(f"{origin}: {key}.{unknown[0]}: unknown key; allowed: "
                          f"{', '.join(COLUMN_KEYS)}")
    origins = [k for k in ("column", "columns", "add") if k in raw]
    if len(origins) != 1:
        raise bad("give exactly one of column (a source column), columns (source columns "
                  "joined with a space) or add (a timestamp plus durations)")
    kind = raw.get("type") or _default_type(name, raw)
    if kind not in TYPES:
        raise ConfigError(f"{origin}: {key}.type: {cap(kind)!r} is not one of {', '.join(TYPES)}")
    if name in CANONICAL:
        expected = _default_type(name, {})
        if kind != expected and not (expected == "duration" and kind == "number"):
            raise ConfigError(f"{origin}: {key}.type: {name} is a {expected} column, not {kind}")
    spec = {"name": name, "type": kind}
    if "column" in raw:
        if not isinstance(raw["column"], str) or not raw["column"]:
            raise ConfigError(f"{origin}: {key}.column: expected a source column name")
        spec["column"] = raw["column"]
    if "columns" in raw:
        cols = raw["columns"]
        if not isinstance(cols, list) or not cols or not all(isinstance(c, str) for c in cols):
            raise ConfigError(f"{origin}: {key}.columns: expected a list of source column names")
        spec["columns"] = tuple(cols)
    if "add" in raw:
        terms = raw["add"]
        if kind != "timestamp" or not isinstance(terms, list) or len(terms) < 2 \
                or not all(isinstance(t, str) for t in terms):
            raise ConfigError(f"{origin}: {key}.add: expected a list [a timestamp column, "
                              "duration columns...] of output column names")
        spec["add"] = tuple(terms)
    if "format" in raw:
        if kind != "timestamp" or not isinstance(raw["format"], str):
            raise ConfigError(f"{origin}: {key}.format: a strftime pattern such as "
                              "'%m/%d/%Y %I:%M:%S %p', for timestamp columns only")
        spec["format"] = raw["format"]
    if "timezone" in raw:
        spec["timezone"] = _timezone(raw["timezone"], f"{origin}: {key}.timezone")
    if "duration" in raw:
        if kind != "duration" or raw["duration"] not in DURATION_UNITS:
            raise ConfigError(f"{origin}: {key}.duration: {cap(raw['duration'])!r} is not one of "
                              f"{', '.join(DURATION_UNITS)} (duration columns only)")
        spec["duration"] = raw["duration"]
    if "values" in raw:
        values = raw["values"]
        if not isinstance(values, dict) or not values:
            raise ConfigError(f"{origin}: {key}.values: expected a map of source value -> value")
        allowed = ALLOWED_VALUES.get(("interactions", name))
        if kind == "bool":
            allowed = (True, False)
        for src, dst in values.items():
            if allowed and dst not in allowed:
                raise ConfigError(f"{origin}: {key}.values.{src}: {cap(dst)!r} is not one of "
                                  f"{', '.join(map(str, allowed))}")
        spec["values"] = {str(k): v for k, v in values.items()}
    if "default" in raw:
        allowed = ALLOWED_VALUES.get(("interactions", name))
        if allowed and raw["default"] not in allowed:
            raise ConfigError(f"{origin}: {key}.default: {cap(raw['default'])!r} is not one of "
                              f"{', '.join(allowed)}")
        spec["default"] = raw["default"]
    for words in ("true_values", "false_values"):
        if words in raw:
            if kind != "bool":
                raise ConfigError(f"{origin}: {key}.{words}: for bool columns only")
            spec[words] = tuple(w.lower() for w in _strings(
                raw[words], lambda what, w=words: ConfigError(f"{origin}: {key}.{w}: expected {what}")))
    for flag in ("nonzero", "pseudonym", "keep"):
        if flag in raw:
            if not isinstance(raw[flag], bool):
                raise ConfigError(f"{origin}: {key}.{flag}: expected true or false, "
                                  f"got {cap(raw[flag])!r}")
            spec[flag] = raw[flag]
    if spec.get("nonzero") and kind != "bool":
        raise ConfigError(f"{origin}: {key}.nonzero: for bool columns only")
    if spec.get("pseudonym") and kind != "string":
        raise ConfigError(f"{origin}: {key}.pseudonym: for text columns only")
    if name in CANONICAL and spec.get("keep") is False:
        raise ConfigError(f"{origin}: {key}.keep: canonical columns are always kept")
    return ColumnSpec(**spec)


def _timezone(value, where: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: {cap(value)!r} is not a time zone name such as "
                          "America/New_York or UTC") from None
    return str(value)


def parse_mapping(raw, origin: str = "--mapping") -> Mapping:
    """Check a parsed mapping file and return it as a :class:`Mapping`; ConfigError naming
    ``origin`` (the mapping file), the key and what is allowed."""
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"{origin}: the mapped importer needs a mapping file with columns: "
                          "(see docs/importers.md or the shipped mappings: "
                          f"{', '.join(sorted(SHORT_NAMES))})")
    unknown = [k for k in raw if k not in TOP_KEYS]
    if unknown:
        raise ConfigError(f"{origin}: {cap(unknown[0])}: unknown key; allowed: {', '.join(TOP_KEYS)}")
    cols = raw.get("columns")
    if not isinstance(cols, dict) or not cols:
        raise ConfigError(f"{origin}: columns: expected a map of output column -> source "
                          "column or column spec")
    specs = {str(name): parse_column(str(name), spec, origin) for name, spec in cols.items()}
    constants = raw.get("constants") or {}
    if not isinstance(constants, dict):
        raise ConfigError(f"{origin}: constants: expected a map of column -> value")
    for name, value in constants.items():
        if name in specs:
            raise ConfigError(f"{origin}: constants.{name}: also under columns; give it once")
        allowed = ALLOWED_VALUES.get(("interactions", name))
        if allowed and value not in allowed:
            raise ConfigError(f"{origin}: constants.{name}: {cap(value)!r} is not one of "
                              f"{', '.join(allowed)}")
        specs[str(name)] = ColumnSpec(str(name), _default_type(str(name), {}), constant=value)
    missing = [c for c in REQUIRED if c not in specs]
    if missing:
        raise ConfigError(f"{origin}: columns: required column{'s' if len(missing) > 1 else ''} "
                          f"{', '.join(missing)} not mapped (map them under columns: or give a "
                          "value under constants:)")
    _check_add(specs, origin)
    fmt = raw.get("format")
    if fmt is not None and fmt not in ("csv", "parquet"):
        raise ConfigError(f"{origin}: format: {cap(fmt)!r} is not csv or parquet")
    csv_opts = raw.get("csv") or {}
    if not isinstance(csv_opts, dict) or any(k not in CSV_KEYS for k in csv_opts):
        raise ConfigError(f"{origin}: csv: allowed keys are {', '.join(CSV_KEYS)}")
    delimiter = csv_opts.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ConfigError(f"{origin}: csv.delimiter: expected one character, got {cap(delimiter)!r}")
    encoding = csv_opts.get("encoding", "utf-8-sig")
    try:
        "".encode(str(encoding))
    except LookupError:
        raise ConfigError(f"{origin}: csv.encoding: {cap(encoding)!r} is not a known encoding") from None
    timezone = _timezone(raw["timezone"], f"{origin}: timezone") if raw.get("timezone") else None
    nulls = raw.get("null_values", [""])
    nulls = _strings(nulls, lambda what: ConfigError(f"{origin}: null_values: expected {what}"))
    key = raw.get("contact_key")
    if key is not None and (not isinstance(key, str) or not key):
        raise ConfigError(f"{origin}: contact_key: expected a source column name")
    return Mapping(origin=origin, columns=specs, format=fmt, delimiter=delimiter,
                   encoding=("utf-8-sig" if str(encoding).lower() in ("utf-8", "utf8")
                             else str(encoding)),
                   timezone=timezone, null_values=nulls, contact_key=key,
                   drop_rows=_parse_filters(raw.get("drop_rows") or [], origin))


def _check_add(specs: dict[str, ColumnSpec], origin: str) -> None:
    """Every ``add`` term is a mapped column of the right type, without cycles."""
    for spec in specs.values():
        for i, term in enumerate(spec.add):
            if term not in specs:
                raise ConfigError(f"{origin}: columns.{spec.name}.add: {cap(term)!r} is not a "
                                  "column of this mapping")
            want = ("timestamp",) if i == 0 else ("duration", "number")
            if specs[term].type not in want:
                raise ConfigError(f"{origin}: columns.{spec.name}.add: {term} is a "
                                  f"{specs[term].type}; the first term must be a timestamp, "
                                  "the others durations")
    order = evaluation_order(specs)
    if order is None:
        raise ConfigError(f"{origin}: columns: the add: terms refer to each other in a circle")


def evaluation_order(specs: dict[str, ColumnSpec]) -> list[str] | None:
    """Column names with every ``add`` after its terms; None when they form a cycle."""
    order, done, active = [], set(), set()

    def visit(name) -> bool:
        if name in done:
            return True
        if name in active:
            return False
        active.add(name)
        if not all(visit(t) for t in specs[name].add):
            return False
        active.discard(name)
        done.add(name)
        order.append(name)
        return True

    return order if all(visit(n) for n in specs) else None


def _parse_filters(raw, origin: str) -> list[LegFilter]:
    if not isinstance(raw, list):
        raise ConfigError(f"{origin}: drop_rows: expected a list of {{column, in|equals|empty, reason}}")
    out = []
    for i, item in enumerate(raw):
        key = f"drop_rows[{i}]"
        if not isinstance(item, dict) or any(k not in FILTER_KEYS for k in item):
            raise ConfigError(f"{origin}: {key}: allowed keys are {', '.join(FILTER_KEYS)}")
        if not isinstance(item.get("column"), str):
            raise ConfigError(f"{origin}: {key}.column: expected a source column name")
        tests = [k for k in ("equals", "in", "empty") if k in item]
        if len(tests) != 1:
            raise ConfigError(f"{origin}: {key}: give exactly one of equals, in, empty: true")
        if "empty" in item:
            if item["empty"] is not True:
                raise ConfigError(f"{origin}: {key}.empty: only `empty: true` is allowed")
            values = None
        else:
            values = _strings(item.get("in", item.get("equals")),
                              lambda what, k=key: ConfigError(f"{origin}: {k}: expected {what}"))
        reason = item.get("reason") or (
            f"{item['column']} empty" if values is None
            else f"{item['column']} in {', '.join(values)}")
        out.append(LegFilter(item["column"], values, f"dropped by mapping: {reason}"))
    return out


# --- reading the source file ---------------------------------------------------------------

def read_source(path: Path, mapping: Mapping) -> tuple[pd.DataFrame, bool]:
    """The source rows, indexed by record number from 0, as text cells (CSV) or native values
    (Parquet); and whether it is a CSV (whose line numbers :func:`csv_lines` finds)."""
    fmt = mapping.format or ("parquet" if path.suffix.lower() == ".parquet" else "csv")
    if fmt == "parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several unrelated types for a bad file
            raise DataError(f"{path}: cannot read this Parquet file ({cap(exc, 120)})") from None
        return frame.reset_index(drop=True), False
    header = _csv_header(path, mapping)
    try:  # the C parser; the csv module below only runs to explain a problem
        frame = pd.read_csv(path, sep=mapping.delimiter, encoding=mapping.encoding, dtype=str,
                            keep_default_na=False, na_filter=False, skip_blank_lines=True)
    except pd.errors.ParserError as exc:
        csv_lines(path, mapping)  # raises the RecordError naming the line
        raise DataError(f"{path}: not readable as CSV ({cap(str(exc).strip(), 120)})") from None
    except UnicodeDecodeError as exc:
        raise _not_text(path, mapping, exc) from None
    if len(frame.columns) != len(header) or frame.isna().to_numpy().any():
        csv_lines(path, mapping)  # a short row: raises the RecordError naming its line
    frame.columns = header
    return frame, True


def _not_text(path: Path, mapping: Mapping, exc: UnicodeDecodeError) -> DataError:
    encoding = mapping.encoding.removesuffix("-sig")
    return DataError(f"{path}: not {encoding} text (byte {exc.start}); set csv.encoding in "
                     "the mapping")


def _csv_header(path: Path, mapping: Mapping) -> list[str]:
    try:
        with open(path, newline="", encoding=mapping.encoding) as fh:
            header = next(csv.reader(fh, delimiter=mapping.delimiter), None)
    except UnicodeDecodeError as exc:
        raise _not_text(path, mapping, exc) from None
    except csv.Error as exc:
        raise DataError(f"{path}: not readable as CSV ({cap(exc)})") from None
    if not header:
        raise DataError(f"{path}: empty file (expected a header line)")
    header = [h.strip() for h in header]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise DataError(f"{path}: the header repeats column {cap(repeated[0])!r}")
    return header


def csv_lines(path: Path, mapping: Mapping) -> np.ndarray:
    """The line where each record of a CSV starts (quoted newlines counted; blank lines
    skipped); RecordError naming the line of a record with the wrong number of fields."""
    try:
        with open(path, newline="", encoding=mapping.encoding) as fh:
            reader = csv.reader(fh, delimiter=mapping.delimiter)
            width = len(next(reader, None) or [])
            lines, last = [], reader.line_num
            for row in reader:
                start, last = last + 1, reader.line_num
                if not row:
                    continue
                if len(row) != width:
                    raise RecordError(path, start, None, None,
                                      f"has {len(row)} fields where the header has {width}")
                lines.append(start)
    except UnicodeDecodeError as exc:
        raise _not_text(path, mapping, exc) from None
    except csv.Error as exc:
        raise DataError(f"{path}: not readable as CSV ({cap(exc)})") from None
    return np.asarray(lines, dtype=np.int64)


def _arrow(text: pd.Series) -> pa.Array:
    return pa.array(text.to_numpy(dtype=object, na_value=None), type=pa.string())


NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"


def parse_numbers(text: pd.Series) -> pd.Series:
    """Text -> float64 (NaN where empty or not a number), in Arrow's compute kernels."""
    arr = _arrow(text)
    valid = pc.fill_null(pc.match_substring_regex(arr, NUMBER), False)
    numbers = pc.cast(pc.if_else(valid, arr, pa.scalar(None, pa.string())), pa.float64())
    return pd.Series(numbers.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")


HMS_NAMED = r"^(?:(?P<h>\d+):)?(?P<m>\d{1,2}):(?P<s>\d{1,2}(?:\.\d+)?)$"


def parse_hms(text: pd.Series) -> pd.Series:
    """``[h:]mm:ss`` text -> seconds (NaN where empty or malformed; minutes and seconds must
    be below 60)."""
    parts = pc.extract_regex(_arrow(text), HMS_NAMED)

    def part(name):
        field = pc.struct_field(parts, name)
        field = pc.if_else(pc.equal(field, ""), "0", field)
        return pc.cast(field, pa.float64()).to_numpy(zero_copy_only=False)

    h, m, sec = part("h"), part("m"), part("s")
    seconds = h * 3600 + m * 60 + sec
    seconds[(m >= 60) | (sec >= 60)] = np.nan
    return pd.Series(seconds, index=text.index, dtype="float64")


class Cells:
    """A source file's cells, with what is needed to name a bad one."""

    def __init__(self, path: Path, frame: pd.DataFrame, mapping: Mapping, is_csv: bool):
        self.path, self.frame, self.mapping, self.is_csv = path, frame, mapping, is_csv
        self.nulls = list(mapping.null_values)
        self.bad = pd.Series(False, index=frame.index)  # rows with a bad cell (--skip-bad)
        self.bad_reasons: dict[str, int] = {}
        self.errors: list[RecordError] = []
        self._lines = None

    def subset(self, keep: pd.Series) -> Cells:
        """The same file, only the rows of ``keep`` (record numbers stay the file's)."""
        out = Cells(self.path, self.frame[keep], self.mapping, self.is_csv)
        out._lines = self._lines
        return out

    def text(self, column: str) -> pd.Series:
        """A source column as stripped text (Arrow strings), the null values as NA."""
        arr = pc.utf8_trim_whitespace(_arrow(self.frame[column].astype("string")))
        arr = pc.if_else(pc.is_in(arr, value_set=pa.array(self.nulls, pa.string())),
                         pa.scalar(None, pa.string()), arr)
        return pd.Series(pd.arrays.ArrowStringArray(arr), index=self.frame.index)

    def where(self, row) -> tuple[int | None, str]:
        """(CSV line, "") or (None, " (row N)") for Parquet, N counted from 1 in the file."""
        if not self.is_csv:
            return None, f" (row {int(row) + 1})"
        if self._lines is None:  # only when a cell is bad: one more pass over the file
            self._lines = csv_lines(self.path, self.mapping)
        return int(self._lines[int(row)]), ""

    def flag(self, mask: pd.Series, column: str, values: pd.Series, what: str) -> None:
        """Record the rows of ``mask`` as bad cells of ``column``. A row already flagged
        keeps its first problem (a bad cell also leaves later checks an empty value)."""
        mask = mask.fillna(False).astype(bool) & ~self.bad
        if not mask.any():
            return
        first = mask[mask].index[0]
        line, row_note = self.where(first)
        self.errors.append(RecordError(self.path, line, f"{column}{row_note}", values.loc[first], what))
        self.bad |= mask
        reason = f"malformed cell ({column})"
        self.bad_reasons[reason] = self.bad_reasons.get(reason, 0) + int(mask.sum())

    def first_error(self) -> RecordError | None:
        """The bad cell that comes first in the file."""
        def position(err):
            return (err.line or 0, str(err.field_name))
        return min(self.errors, key=position) if self.errors else None


def _localize(stamps: pd.Series, tz: str | None, cells: Cells, column: str,
              source: pd.Series) -> pd.Series:
    """Naive times become aware in ``tz`` (then UTC); aware ones are converted to UTC.

    In the autumn DST overlap an ambiguous wall time is taken as the first (summer-time)
    occurrence; a wall time in the spring gap does not exist and is a bad cell."""
    if stamps.dt.tz is not None:
        return stamps.dt.tz_convert("UTC")
    if not tz:
        return stamps
    aware = stamps.dt.tz_localize(tz, ambiguous=np.ones(len(stamps), dtype=bool),
                                  nonexistent="NaT")
    cells.flag(stamps.notna() & aware.isna(), column, source,
               f"does not exist in {tz} (the clocks skip it when summer time starts)")
    return aware.dt.tz_convert("UTC")


def convert(spec: ColumnSpec, cells: Cells, done: dict[str, pd.Series],
            mapping: Mapping, key: bytes | None) -> pd.Series:
    """One output column as a Series over the source rows (bad cells flagged, left NA)."""
    index = cells.frame.index
    if spec.constant is not None:
        return pd.Series([spec.constant] * len(index), index=index, dtype=object)
    if spec.add:
        base = done[spec.add[0]]
        total = pd.Series(0.0, index=index)
        for term in spec.add[1:]:
            total = total + pd.to_numeric(done[term], errors="coerce").fillna(0.0)
        return base + pd.to_timedelta(total, unit="s")
    missing = [c for c in spec.sources if c not in cells.frame.columns]
    if missing:
        raise ConfigError(f"{mapping.origin}: columns.{spec.name}: source column "
                          f"{cap(missing[0])!r} is not in {cells.path.name} (its columns: "
                          f"{cap(', '.join(map(str, cells.frame.columns)), 200)})")
    label = spec.column or "+".join(spec.columns)
    if spec.columns:
        parts = [cells.text(c) for c in spec.columns]
        text = parts[0]
        for part in parts[1:]:
            text = text + " " + part  # NA when any part is empty
    else:
        raw = cells.frame[spec.column]
        if spec.type == "timestamp" and pd.api.types.is_datetime64_any_dtype(raw):
            return _localize(pd.to_datetime(raw), spec.timezone or mapping.timezone, cells,
                             label, raw)
        if spec.type in ("duration", "number") and pd.api.types.is_numeric_dtype(raw) \
                and not pd.api.types.is_bool_dtype(raw):
            text = raw.astype("Float64").astype("string")
        else:
            text = cells.text(spec.column)
    if spec.values is not None:
        mapped = text.map(spec.values, na_action="ignore")
        unmapped = text.notna() & mapped.isna()
        shown = ", ".join(map(str, spec.values))
        cells.flag(unmapped, label, text, f"is not in the mapping's values ({cap(shown, 120)})")
        mapped = mapped.astype(object).where(text.notna(), spec.default)
        return mapped.where(~unmapped, None)
    if spec.default is not None:
        text = text.fillna(str(spec.default))
    if spec.type == "string":
        if spec.pseudonym:
            uniques = {v: pseudonym(v, key) for v in text.dropna().unique()}
            return text.map(uniques, na_action="ignore").astype(object).where(text.notna(), None)
        return text.astype(object).where(text.notna(), None)
    if spec.type == "timestamp":
        fmt = spec.format or "ISO8601"
        # Times with an offset (or Z) are read as instants; naive ones stay wall times.
        aware = "%z" in fmt or (fmt == "ISO8601" and bool(
            text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", na=False).any()))
        stamps = pd.to_datetime(text, format=fmt, errors="coerce", utc=aware)
        good = f"a time in the format {spec.format}" if spec.format else "an ISO 8601 timestamp"
        cells.flag(text.notna() & stamps.isna(), label, text, f"is not {good}")
        return _localize(stamps, spec.timezone or mapping.timezone, cells, label, text)
    if spec.type == "duration" and spec.duration == "hh:mm:ss":
        seconds = parse_hms(text)
        cells.flag(text.notna() & seconds.isna(), label, text,
                   "is not a duration hh:mm:ss (e.g. 00:04:05)")
        return seconds
    if spec.type in ("duration", "number"):
        numbers = parse_numbers(text)
        bad = text.notna() & numbers.isna()
        unit = spec.duration if spec.type == "duration" else "number"
        cells.flag(bad, label, text, f"is not a number ({unit})")
        if spec.type == "duration":
            cells.flag(numbers < 0, label, text, "is negative (durations are >= 0)")
            numbers = numbers * {"seconds": 1, "milliseconds": 0.001, "minutes": 60}[spec.duration]
        return numbers.astype("float64")
    if spec.type == "bool":
        if spec.nonzero:
            numbers = parse_numbers(text)
            cells.flag(text.notna() & numbers.isna(), label, text, "is not a number (count)")
            return (numbers > 0).astype(object).where(numbers.notna(), None)
        folded = text.str.lower()
        truthy, falsy = folded.isin(spec.true_values), folded.isin(spec.false_values)
        cells.flag(text.notna() & ~truthy & ~falsy, label, text,
                   f"is not one of {', '.join(spec.true_values + spec.false_values)}")
        return pd.Series(np.where(truthy, True, np.where(falsy, False, None)), index=index,
                         dtype=object)
    raise AssertionError(spec.type)


def apply_mapping(cells: Cells, mapping: Mapping, key: bytes | None) -> pd.DataFrame:
    """Every output column of the mapping over the source rows (one row per source row)."""
    done: dict[str, pd.Series] = {}
    for name in evaluation_order(mapping.columns):
        done[name] = convert(mapping.columns[name], cells, done, mapping, key)
    frame = pd.DataFrame(done, index=cells.frame.index)
    for name in ("channel", "direction", "outcome"):
        allowed = ALLOWED_VALUES[("interactions", name)]
        values = frame[name]
        cells.flag(values.notna() & ~values.isin(allowed), _label(mapping, name), values,
                   f"is not one of {', '.join(allowed)} (map it with values:)")
    for name in ("interaction_id", "channel", "direction", "outcome", "arrived_at"):
        if mapping.columns[name].constant is None:
            cells.flag(frame[name].isna(), _label(mapping, name), frame[name],
                       f"is empty ({name} is required)")
    return frame


def _label(mapping: Mapping, name: str) -> str:
    spec = mapping.columns[name]
    return spec.column or "+".join(spec.columns) or name


# --- legs -> contacts ----------------------------------------------------------------------

def collapse_legs(frame: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    """One row per contact key: first arrival, first answer (and its agent), last end,
    handle times summed, handled when any leg was, transferred when any leg says so or more
    than one leg was answered, the last disposition; other columns from the first leg (or the
    next leg that has a value)."""
    repeated = keys.duplicated(keep=False).to_numpy()
    if not repeated.any():
        return frame
    # Only the contacts with several legs go through the (slower) group-by.
    single = frame[~repeated]
    frame = frame[repeated].assign(_key=keys.to_numpy()[repeated])
    frame = frame.sort_values(["_key", "arrived_at"], kind="stable")
    groups = frame.groupby("_key", sort=False)
    first = groups.first()  # per column, the first leg's value (or the next leg's when empty)
    out = first.copy()
    out["arrived_at"] = groups["arrived_at"].min()
    if "ended_at" in frame:
        out["ended_at"] = groups["ended_at"].max()
    answered = frame[frame["answered_at"].notna()] if "answered_at" in frame else frame.iloc[:0]
    if "answered_at" in frame:
        first_answer = answered.sort_values("answered_at", kind="stable").groupby("_key").head(1)
        first_answer = first_answer.set_index("_key")
        out["answered_at"] = first_answer["answered_at"].reindex(out.index)
        if "agent_id" in frame:  # the agent who answered first
            out["agent_id"] = first_answer["agent_id"].reindex(out.index).where(
                out["answered_at"].notna(), first["agent_id"])
    for col in DURATION_COLUMNS:
        if col in frame:
            out[col] = groups[col].sum(min_count=1)
    handled = (frame["outcome"] == "handled").groupby(frame["_key"], sort=False).any()
    out["outcome"] = handled.map({True: "handled", False: "abandoned"})
    for col in ("issue_type", "resolved"):
        if col in frame:
            out[col] = groups[col].last()  # the final disposition
    def any_true(col):
        return frame[col].fillna(False).astype(bool).groupby(frame["_key"], sort=False).any()

    if "escalated" in frame:
        out["escalated"] = any_true("escalated")
    if "transferred" in frame:
        answered_legs = answered.groupby("_key").size().reindex(out.index, fill_value=0)
        out["transferred"] = any_true("transferred") | (answered_legs > 1)
    return pd.concat([single, out.reset_index(drop=True)[list(single.columns)]],
                     ignore_index=True)


def normalise_abandons(frame: pd.DataFrame) -> pd.DataFrame:
    """An abandoned contact was never answered (SPEC §2): no answer time, no agent, no
    handle time, whatever the export's cells say (e.g. a computed arrival + queue wait)."""
    abandoned = frame["outcome"] == "abandoned"
    if "answered_at" in frame:
        frame.loc[abandoned, "answered_at"] = pd.NaT
    if "agent_id" in frame:
        frame.loc[abandoned, "agent_id"] = None
    for col in DURATION_COLUMNS:
        if col in frame:
            frame.loc[abandoned, col] = 0.0
    return frame


def canonical_frame(frame: pd.DataFrame, mapping: Mapping) -> pd.DataFrame:
    """Canonical columns in schema order, then kept extra columns; typed for the writer."""
    keep = [c for c in INTERACTIONS.column_names if c in frame]
    extras = [n for n, s in mapping.columns.items()
              if n not in CANONICAL and s.keep and n in frame]
    frame = frame[keep + extras].copy()
    for col in keep:
        kind = CANONICAL[col].type
        if kind == "timestamp":
            frame[col] = pd.to_datetime(frame[col])
        elif kind == "number":
            frame[col] = pd.to_numeric(frame[col]).astype("float64")
        elif kind == "bool":
            frame[col] = frame[col].astype("boolean")
        else:
            frame[col] = frame[col].astype("string")
    return frame.sort_values(["arrived_at", "interaction_id"], kind="stable").reset_index(drop=True)


def single_file(source: Path) -> Path:
    """``--from`` is a file, or a folder holding exactly one CSV or Parquet file."""
    if not source.is_dir():
        return source
    files = sorted(p for p in source.iterdir() if p.suffix.lower() in (".csv", ".parquet"))
    if len(files) != 1:
        raise ConfigError(f"--from {source}: give one CSV or Parquet file (the folder holds "
                          f"{len(files)})")
    return files[0]


def rows_to_keep(cells: Cells, mapping: Mapping, summary: ImportSummary) -> pd.Series:
    """False for exact duplicate rows (counted as duplicates) and for rows a ``drop_rows``
    rule matches (counted under its reason)."""
    table = cells.frame.astype("string")
    # Hash every row, then compare the cells of the rows whose hashes repeat.
    hashes = pd.util.hash_pandas_object(table, index=False)
    duplicated = pd.Series(False, index=table.index)
    candidates = hashes.duplicated(keep=False)
    if candidates.any():
        duplicated[candidates] = table[candidates].duplicated()
    summary.duplicates_dropped = int(duplicated.sum())
    keep = ~duplicated
    for rule in mapping.drop_rows:
        text = cells.text(rule.column)
        hit = (text.isna() if rule.values is None else text.isin(rule.values)) & keep
        if hit.any():
            summary.skip(rule.reason, int(hit.sum()))
        keep &= ~hit
    return keep


def read(source: Path, options: ImportOptions) -> ImportResult:
    """Read one CSV/Parquet export through the ``--mapping`` into canonical tables.

    ``options.mapping`` is the parsed mapping (a dict), or a path / shipped name
    (:func:`resolve_mapping`), which lets errors name the mapping file.
    """
    raw, origin = options.mapping, "--mapping"
    if isinstance(raw, str | Path):
        path = resolve_mapping(raw)
        raw, origin = read_mapping(path), str(path)
    mapping = parse_mapping(raw, origin)
    source = single_file(Path(source))
    summary = ImportSummary(SOURCE)
    table, is_csv = read_source(source, mapping)
    summary.records_read = len(table)
    missing = sorted(c for c in mapping.source_columns if c not in table.columns)
    if missing:
        raise ConfigError(f"{mapping.origin}: source column {cap(missing[0])!r} is not in "
                          f"{source.name} (its columns: {cap(', '.join(map(str, table.columns)), 200)})")
    cells = Cells(source, table, mapping, is_csv)
    cells = cells.subset(rows_to_keep(cells, mapping, summary))

    key = pseudonym_key(options.pseudonym_key) if any(
        s.pseudonym for s in mapping.columns.values()) else None
    frame = apply_mapping(cells, mapping, key)
    error = cells.first_error()
    if error is not None:
        if not options.skip_bad:
            raise error
        for reason, count in cells.bad_reasons.items():
            summary.skip(reason, count)
        frame = frame[~cells.bad]
        cells.frame = cells.frame[~cells.bad]
    contact_keys = (cells.text(mapping.contact_key) if mapping.contact_key
                    else frame["interaction_id"])
    contact_keys = contact_keys.fillna(frame["interaction_id"])
    legs = len(frame)
    frame = normalise_abandons(collapse_legs(frame, contact_keys))
    if len(frame) < legs:
        extra = legs - len(frame)
        summary.notes.append(f"{extra:,} row{'s' if extra != 1 else ''} joined as further "
                             "legs of a contact (same contact key)")
    out = canonical_frame(frame, mapping)
    repeated = out["interaction_id"][out["interaction_id"].duplicated()]
    if len(repeated):
        raise DataError(f"{source}: interaction_id {cap(repeated.iloc[0])!r} belongs to more "
                        "than one contact; set contact_key in the mapping to the column that "
                        "groups a contact's rows")
    summary.contacts_written = len(out)
    left_out = [c for c in ("transferred", "escalated", "resolved", "customer_id", "issue_type")
                if c not in out]
    if left_out:
        summary.notes.append(f"not in the mapping, left out: {', '.join(left_out)}")
    return ImportResult({"interactions": out}, summary)
