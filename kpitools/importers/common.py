"""What every importer shares: options, the summary, record errors, JSON record reading,
customer pseudonyms and the canonical folder writer (docs/importers.md).

Importers only ever read their input. The output folder is written atomically: tables go
into a temporary sibling folder, which is loaded back with :func:`kpitools.load` (a
DataError there is an importer bug, reported as such) and only then renamed into place.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import hmac
import json
import os
import secrets
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import ConfigError, DataError, shorten
from ..schema import TABLES

MARKER = "import.json"  # written into every import's output folder (source, time, counts)
CONFIG_NAME = "kpitools.yaml"
PSEUDONYM_KEY_ENV = "KPITOOLS_PSEUDONYM_KEY"
PSEUDONYM_KEY_FILE_ENV = "KPITOOLS_PSEUDONYM_KEY_FILE"
PSEUDONYM_HEX_CHARS = 20  # 80 bits: collisions stay negligible for hundreds of millions of customers

# Files a folder tree of JSON records may hold besides the records themselves; they are left
# alone rather than parsed (S3 and Firehose write some of these next to the data).
NON_DATA_SUFFIXES = (".md", ".txt", ".csv", ".tsv", ".parquet", ".yaml", ".yml", ".crc",
                     ".manifest", ".log", ".xml", ".html", ".pdf", ".zip", ".tar", ".py")
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")


@dataclass(frozen=True)
class ImportOptions:
    """Options of one import run.

    skip_bad : skip (and count) malformed records instead of failing on the first one
    mapping : the ``--mapping`` YAML: its path (or, for the mapped importer, a shipped name
        such as ``five9``) or the parsed dict (mapped importer: required; others: optional
        overrides such as attribute names), or None
    config_path : the center's ``kpitools.yaml`` (``--config``), copied into the output folder
    pseudonym_key : the secret key for customer pseudonyms (bytes), or None for the default
        (:func:`pseudonym_key`)
    """

    skip_bad: bool = False
    mapping: dict | str | Path | None = None
    config_path: Path | None = None
    pseudonym_key: bytes | None = None


@dataclass
class ImportSummary:
    """What an import read, wrote and left out (printed by ``kpitools import``)."""

    source: str
    records_read: int = 0
    contacts_written: int = 0
    duplicates_dropped: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    notes: list[str] = field(default_factory=list)

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] += count

    def lines(self) -> list[str]:
        out = [f"{self.source}: {self.records_read:,} records read",
               f"  {self.contacts_written:,} contacts written",
               f"  {self.duplicates_dropped:,} duplicate records dropped"]
        for reason, n in sorted(self.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"  {n:,} skipped: {reason}")
        out += [f"  note: {n}" for n in self.notes]
        return out

    def as_dict(self) -> dict:
        return {"source": self.source, "records_read": self.records_read,
                "contacts_written": self.contacts_written,
                "duplicates_dropped": self.duplicates_dropped,
                "skipped": dict(self.skipped), "notes": list(self.notes)}


@dataclass
class ImportResult:
    """Canonical tables (name -> frame in the SPEC §2 schema) and the summary."""

    tables: dict[str, pd.DataFrame]
    summary: ImportSummary


def cap(value, limit: int = 60) -> str:
    """``value`` as text, shortened so an error message never echoes unbounded input."""
    return shorten("" if value is None else str(value), limit)


class RecordError(DataError):
    """A malformed input record: names the file, line (or record number) and field.

    ``field_name`` None means the record itself is wrong (e.g. malformed JSON); ``value``
    None leaves the value out of the message.
    """

    def __init__(self, file, line: int | None, field_name: str | None, value, what: str):
        where = f"{file}" + (f", line {line}" if line is not None else "")
        subject = f"field {field_name}: " if field_name else ""
        shown = "" if value is None else f"{cap(value)!r} "
        super().__init__(f"{where}: {subject}{shown}{what}")
        self.file, self.line, self.field_name = file, line, field_name


# --------------------------------------------------------------------------------------------
# Reading JSON records


def json_files(path: Path) -> Iterator[Path]:
    """The data files under ``path`` (a file, or a folder tree as S3 delivers it), sorted.

    Hidden files and folders (``.``), markers such as ``_SUCCESS`` (``_``) and files whose
    suffix says they are not JSON (``.md``, ``.csv``, ``.crc`` …) are left out; files named
    ``*.json``, ``*.jsonl``, ``*.ndjson``, ``*.gz`` or with no suffix at all (Firehose writes
    extension-less objects) are read.
    """
    path = Path(path)
    if path.is_file():
        yield path
        return
    if not path.is_dir():
        raise DataError(f"{path}: no such file or folder")
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in sorted(files):
            if name.startswith((".", "_")):
                continue
            suffixes = [s.lower() for s in Path(name).suffixes]
            last = suffixes[-1] if suffixes else ""
            if last == ".gz" or last in JSON_SUFFIXES or not last:
                yield Path(root) / name
            elif last not in NON_DATA_SUFFIXES and not any(s in JSON_SUFFIXES for s in suffixes):
                # An unknown suffix (e.g. a Firehose object named after its delivery stream
                # with dots in it) may still hold records: try it, it fails loudly if not JSON.
                yield Path(root) / name


def read_text(file: Path) -> str:
    """A file's text, gunzipped when it starts with the gzip magic bytes (whatever its name)."""
    raw = file.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise RecordError(file, None, None, None, f"not a readable gzip file ({cap(exc)})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordError(file, None, None, None,
                          f"not UTF-8 text (byte {exc.start}); expected JSON records") from None


def _line_of(text: str, pos: int, cache: list) -> int:
    """1-based line number of ``pos``; ``cache`` holds (last pos, its line) to count forward."""
    last_pos, last_line = cache
    line = last_line + text.count("\n", last_pos, pos) if pos >= last_pos else text.count("\n", 0, pos) + 1
    cache[:] = [pos, line]
    return line


def iter_json_records(path, *, skip_bad: bool = False,
                      summary: ImportSummary | None = None) -> Iterator[tuple[Path, int, dict]]:
    """Yield ``(file, line, record)`` for every JSON object under ``path``.

    A file may hold JSON Lines, concatenated objects (as Firehose writes them, with or
    without newlines between them, pretty-printed or not) or one JSON array of objects,
    gzipped or not. ``line`` is the 1-based line where the object starts.

    Parameters
    ----------
    path : a file or a folder tree (see :func:`json_files`)
    skip_bad : on malformed JSON, count it in ``summary`` as "malformed JSON" and go on at
        the next line, instead of raising :class:`RecordError`
    summary : where skipped malformed JSON is counted
    """
    decoder = json.JSONDecoder()
    for file in json_files(Path(path)):
        text = read_text(file)
        cache = [0, 1]
        pos = _skip_space(text, 0)
        in_array = pos < len(text) and text[pos] == "["
        if in_array:
            pos = _skip_space(text, pos + 1)
            if pos < len(text) and text[pos] == "]":
                pos = _skip_space(text, pos + 1)
                in_array = False
        while pos < len(text):
            line = _line_of(text, pos, cache)
            try:
                obj, end = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                what = f"malformed JSON ({exc.msg} at column {exc.colno})"
                if not skip_bad or in_array:
                    if skip_bad:  # one bad element spoils the rest of an array: count, move on
                        _count_bad(summary)
                        break
                    raise RecordError(file, _line_of(text, exc.pos, cache), None, None, what) from None
                _count_bad(summary)
                nl = text.find("\n", max(exc.pos, pos + 1))
                pos = len(text) if nl < 0 else _skip_space(text, nl + 1)
                continue
            if not isinstance(obj, dict):
                if not skip_bad:
                    raise RecordError(file, line, None, None,
                                      f"a JSON {type(obj).__name__} where a record (an object) was expected")
                _count_bad(summary)
            else:
                yield file, line, obj
            pos = _skip_space(text, end)
            if in_array:
                if pos < len(text) and text[pos] == ",":
                    pos = _skip_space(text, pos + 1)
                elif pos < len(text) and text[pos] == "]":
                    pos = _skip_space(text, pos + 1)
                    in_array = False
                else:
                    what = "malformed JSON (expected , or ] after an array element)"
                    if not skip_bad:
                        raise RecordError(file, _line_of(text, pos, cache), None, None, what)
                    _count_bad(summary)
                    break


def _skip_space(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _count_bad(summary: ImportSummary | None) -> None:
    if summary is not None:
        summary.skip("malformed JSON")


def parse_timestamp(text, file, line, field_name: str) -> dt.datetime | None:
    """An ISO 8601 timestamp as a UTC-aware datetime (naive text is taken as UTC); None when
    the field is null or empty; RecordError naming the field otherwise. (Plain datetimes, not
    pandas Timestamps: this runs several times per record.)"""
    if text is None or text == "":
        return None
    value = None
    if isinstance(text, str):
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            pass
    if value is None:
        raise RecordError(file, line, field_name, text, "is not an ISO 8601 timestamp "
                          "such as 2026-03-02T14:05:09Z")
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def parse_seconds(value, file, line, field_name: str) -> float | None:
    """A duration in seconds >= 0 (number or numeric text); None when null."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        number = None
    else:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
    if number is None or number != number or number in (float("inf"), float("-inf")):
        raise RecordError(file, line, field_name, value, "is not a number of seconds")
    if number < 0:
        raise RecordError(file, line, field_name, value,
                          "is negative (durations are seconds >= 0)")
    return number


# --------------------------------------------------------------------------------------------
# Customer pseudonyms


def default_key_file() -> Path:
    """Where the pseudonym key lives when none is given: ``$KPITOOLS_PSEUDONYM_KEY_FILE``, else
    ``$XDG_CONFIG_HOME/kpitools/pseudonym.key`` (``~/.config/kpitools/pseudonym.key``)."""
    explicit = os.environ.get(PSEUDONYM_KEY_FILE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "kpitools" / "pseudonym.key"


def pseudonym_key(given: bytes | None = None) -> bytes:
    """The secret key of customer pseudonyms.

    In order: ``given`` (``ImportOptions.pseudonym_key``); the ``KPITOOLS_PSEUDONYM_KEY``
    environment variable (at least 16 characters); the key file (:func:`default_key_file`),
    created once with 32 random bytes (mode 0600) when it does not exist. The same key must
    be used for every import of a center, or repeat contacts will not link across imports.
    """
    if given:
        return given
    env = os.environ.get(PSEUDONYM_KEY_ENV)
    if env is not None:
        if len(env) < 16:
            raise ConfigError(f"{PSEUDONYM_KEY_ENV} is {len(env)} characters long; "
                              "use at least 16 random characters (e.g. 64 hex digits)")
        return env.encode("utf-8")
    path = default_key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: two imports starting at once never write two different keys
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_bytes(32).hex() + "\n")
    key = path.read_text().strip()
    if len(key) < 16:
        raise ConfigError(f"{path}: the pseudonym key is too short ({len(key)} characters); "
                          "delete the file to have a new one created, or set "
                          f"{PSEUDONYM_KEY_ENV}")
    return key.encode("utf-8")


def pseudonym(value, key: bytes) -> str | None:
    """A stable pseudonymous key for a customer address (phone number, e-mail …).

    HMAC-SHA256 of the address, trimmed and case-folded so the same address always gives the
    same key, truncated to 20 hex digits. None for a missing or empty address. The address
    cannot be recovered from the key without the secret.
    """
    if value is None:
        return None
    text = str(value).strip().casefold()
    if not text:
        return None
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX_CHARS]


# --------------------------------------------------------------------------------------------
# The mapping file


def read_mapping(path) -> dict:
    """The parsed ``--mapping`` YAML file (a mapping at the top level), read with the one safe
    YAML reader (no aliases, size cap, errors naming the file and line)."""
    from ..yamlfile import read_yaml

    return read_yaml(path, "mapping file")


# --------------------------------------------------------------------------------------------
# Writing the canonical folder


def check_canonical(tables: dict[str, pd.DataFrame]) -> None:
    """DataError (an importer bug) when a frame is not in the SPEC §2 shape an importer must
    write: a known table, every required column, no null in a non-nullable one."""
    if "interactions" not in tables:
        raise DataError("importer bug: no interactions table to write")
    for name, frame in tables.items():
        if name not in TABLES:
            raise DataError(f"importer bug: unknown table {name!r}; tables are {', '.join(TABLES)}")
        table = TABLES[name]
        missing = [c.name for c in table.columns if c.required and c.name not in frame.columns]
        if missing:
            raise DataError(f"importer bug: {name} lacks required column(s) {', '.join(missing)}")
        for col in table.columns:
            if col.name in frame.columns and not col.nullable and frame[col.name].isna().any():
                raise DataError(f"importer bug: {name}.{col.name} has empty values")


def _arrow_table(name: str, frame: pd.DataFrame) -> pa.Table:
    """The frame as Arrow with canonical types: timestamps UTC-aware (TIMESTAMP WITH TIME
    ZONE, which the loader converts to the business time zone) or, when the importer gave
    naive ones, naive (business-local, SPEC §2). Canonical columns first, extras after."""
    schema = TABLES[name]
    known = [c for c in schema.columns if c.name in frame.columns]
    extras = [c for c in frame.columns if c not in schema.column_names]
    arrays, fields = [], []
    for col in known:
        series = frame[col.name]
        if col.type == "timestamp":
            stamps = pd.to_datetime(series)
            tz = "UTC" if stamps.dt.tz is not None else None
            if tz:
                stamps = stamps.dt.tz_convert("UTC")
            typ = pa.timestamp("us", tz=tz)
            arrays.append(pa.array(stamps.dt.as_unit("us"), type=typ, from_pandas=True))
        elif col.type == "date":
            typ = pa.date32()
            arrays.append(pa.array(pd.to_datetime(series).dt.date, type=typ, from_pandas=True))
        elif col.type == "bool":
            typ = pa.bool_()
            arrays.append(pa.array(series.astype("boolean"), type=typ, from_pandas=True))
        elif col.type == "number":
            typ = pa.float64()
            arrays.append(pa.array(pd.to_numeric(series).astype("float64"), type=typ, from_pandas=True))
        elif col.type == "integer":
            typ = pa.int64()
            arrays.append(pa.array(pd.to_numeric(series).astype("Int64"), type=typ, from_pandas=True))
        else:
            typ = pa.string()
            values = [None if pd.isna(v) else str(v) for v in series]
            arrays.append(pa.array(values, type=typ))
        fields.append(pa.field(col.name, typ))
    table = pa.Table.from_arrays(arrays, schema=pa.schema(fields)) if fields else None
    for extra in extras:
        column = pa.Array.from_pandas(frame[extra])
        table = table.append_column(extra, column)
    return table


def _is_inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def check_output_path(out: Path, input_path: Path) -> None:
    """ConfigError when writing ``out`` could touch the input or another folder's files.

    ``out`` may not be the input, lie inside it, or contain it (replacing ``out`` would delete
    it). An existing ``out`` must be empty or a previous import (it holds ``import.json`` and
    only files an import writes); a previous import is replaced as a whole.
    """
    out_r, in_r = out.resolve(), input_path.resolve()
    if _is_inside(out_r, in_r) or _is_inside(in_r, out_r):
        raise ConfigError(f"--out {out} overlaps the input {input_path}; write the data folder "
                          "somewhere else (importers never write into their input)")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder path")
    if out.is_dir():
        entries = sorted(p.name for p in out.iterdir())
        if entries:
            allowed = {f"{t}.parquet" for t in TABLES} | {MARKER, CONFIG_NAME}
            others = [e for e in entries if e not in allowed]
            if MARKER not in entries or others:
                shown = ", ".join(others[:5]) if others else "no import.json"
                raise ConfigError(
                    f"--out {out} exists and is not an earlier import ({shown}); give a new or "
                    "empty folder (an earlier import's folder is replaced as a whole)")


def write_data_folder(tables: dict[str, pd.DataFrame], out: Path, *, input_path: Path,
                      config: Path | None = None, summary: ImportSummary | None = None) -> Path:
    """Write ``tables`` as ``<out>/<table>.parquet``, atomically.

    Parameters
    ----------
    tables : table name -> frame in the canonical schema (extra interaction columns kept)
    out : the folder to write; see :func:`check_output_path` for what may already be there
    input_path : the importer's input (never written into, over or around)
    config : a center configuration file, copied as ``<out>/kpitools.yaml``
    summary : recorded in ``<out>/import.json`` with the source and the time of the import

    The folder is built in a temporary sibling, loaded back with :func:`kpitools.load` (any
    DataError is an importer bug and nothing is written) and renamed into place.
    """
    from ..loading import load

    out, input_path = Path(out), Path(input_path)
    check_output_path(out, input_path)
    check_canonical(tables)
    if config is not None and not Path(config).is_file():
        raise ConfigError(f"--config {config} does not exist or is not a file")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.importing-{secrets.token_hex(4)}"
    old = None
    try:
        tmp.mkdir()
        for name, frame in tables.items():
            pq.write_table(_arrow_table(name, frame), tmp / f"{name}.parquet")
        if config is not None:
            shutil.copyfile(config, tmp / CONFIG_NAME)
        marker = {"written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                  "input": str(input_path.resolve()),
                  **(summary.as_dict() if summary else {})}
        (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        try:
            load(tmp).close()
        except DataError as exc:
            raise DataError(f"importer bug: the folder written does not load ({exc})") from None
        if out.exists():
            if any(out.iterdir()):
                old = out.parent / f".{out.name}.replaced-{secrets.token_hex(4)}"
                out.rename(old)
            else:
                out.rmdir()
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not out.exists():
            old.rename(out)
            old = None
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return out
