"""What every importer shares: options, the summary, record errors, JSON record reading and
the canonical folder writer.

The lead wrote this skeleton so the importer modules can be built in parallel; extend it by
adding functions (keep the names below stable).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import DataError


@dataclass(frozen=True)
class ImportOptions:
    """Options of one import run.

    skip_bad : skip (and count) malformed records instead of failing on the first one
    mapping : the parsed ``--mapping`` YAML (mapped importer: required; others: optional
        overrides such as attribute names), or None
    config_path : the center's ``kpitools.yaml`` (``--config``), copied into the output folder
    pseudonym_key : the secret key for customer pseudonyms (bytes), or None for the default
    """

    skip_bad: bool = False
    mapping: dict | None = None
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


@dataclass
class ImportResult:
    """Canonical tables (name -> frame in the SPEC §2 schema) and the summary."""

    tables: dict[str, pd.DataFrame]
    summary: ImportSummary


class RecordError(DataError):
    """A malformed input record: names the file, line (or record number) and field."""

    def __init__(self, file, line: int | None, field_name: str, value, what: str):
        text = "" if value is None else str(value)
        if len(text) > 60:
            text = text[:57] + "..."
        where = f"{file}" + (f", line {line}" if line is not None else "")
        super().__init__(f"{where}: field {field_name}: {text!r} {what}")
        self.file, self.line, self.field_name = file, line, field_name


def write_data_folder(tables: dict[str, pd.DataFrame], out: Path, *, input_path: Path,
                      config: Path | None = None) -> None:
    """Write ``tables`` as ``<out>/<table>.parquet`` (TO BE COMPLETED by the importers helper:
    atomic write via a temporary folder, refuse to write inside ``input_path``, copy ``config``
    as ``kpitools.yaml``)."""
    raise NotImplementedError
