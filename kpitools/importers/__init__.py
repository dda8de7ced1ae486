"""Importers: a platform's export -> a canonical data folder (SPEC §8).

Each importer module exposes ``read(source: Path, options: ImportOptions) -> ImportResult``;
:func:`run_import` picks the module, writes the folder and returns the summary. Importers
never modify their input.
"""

from __future__ import annotations

from .common import (
    ImportOptions,
    ImportResult,
    ImportSummary,
    RecordError,
    check_output_path,
    write_data_folder,
)

IMPORTERS = {
    # name -> module path, imported on use so one importer's dependencies never slow another
    "amazon-connect": "kpitools.importers.amazon_connect",
    "genesys-cloud": "kpitools.importers.genesys_cloud",
    "mapped": "kpitools.importers.mapped",
}

__all__ = ["IMPORTERS", "ImportOptions", "ImportResult", "ImportSummary", "RecordError",
           "run_import", "write_data_folder"]


def run_import(source: str, from_path, out, options: ImportOptions | None = None) -> ImportSummary:
    """Read ``from_path`` with the ``source`` importer and write a canonical folder to ``out``.

    The output location is checked before anything is read, so a wrong ``--out`` fails fast.
    """
    import importlib
    from pathlib import Path

    from ..errors import ConfigError

    if source not in IMPORTERS:
        raise ConfigError(f"unknown import source {source!r}; choose one of {', '.join(IMPORTERS)}")
    module = importlib.import_module(IMPORTERS[source])
    options = options or ImportOptions()
    if not Path(from_path).exists():
        raise ConfigError(f"--from {from_path}: no such file or folder")
    check_output_path(Path(out), Path(from_path))
    result = module.read(Path(from_path), options)
    result.summary.contacts_written = len(result.tables["interactions"])
    write_data_folder(result.tables, Path(out), input_path=Path(from_path),
                      config=options.config_path, summary=result.summary)
    return result.summary
