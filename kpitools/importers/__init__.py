"""Importers: a platform's export -> a canonical data folder (SPEC §8).

Each importer module exposes ``read(source: Path, options: ImportOptions) -> ImportResult``;
:func:`run_import` picks the module, writes the folder and returns the summary. Importers
never modify their input.
"""

from __future__ import annotations

from .common import ImportOptions, ImportResult, ImportSummary, RecordError, write_data_folder

IMPORTERS = {
    # name -> module path, imported on use so one importer's dependencies never slow another
    "amazon-connect": "kpitools.importers.amazon_connect",
    "genesys-cloud": "kpitools.importers.genesys_cloud",
    "mapped": "kpitools.importers.mapped",
}

__all__ = ["IMPORTERS", "ImportOptions", "ImportResult", "ImportSummary", "RecordError",
           "run_import", "write_data_folder"]


def run_import(source: str, from_path, out, options: ImportOptions | None = None) -> ImportSummary:
    """Read ``from_path`` with the ``source`` importer and write a canonical folder to ``out``."""
    import importlib
    from pathlib import Path

    from ..errors import ConfigError

    if source not in IMPORTERS:
        raise ConfigError(f"unknown import source {source!r}; choose one of {', '.join(IMPORTERS)}")
    module = importlib.import_module(IMPORTERS[source])
    options = options or ImportOptions()
    result = module.read(Path(from_path), options)
    write_data_folder(result.tables, Path(out), input_path=Path(from_path), config=options.config_path)
    return result.summary
