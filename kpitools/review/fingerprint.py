"""What a review was built from, so a batch run can skip a period whose inputs are unchanged.

The fingerprint of one review is a SHA-256 over:

* every file of the data folder (recursively, except its ``commentary/`` folder and hidden
  files): relative path, size and modification time — reading gigabytes of data to hash
  them would cost more than the review; rewriting a file changes its mtime;
* the commentary file read for the period (its content, or "absent") and where it lives;
* the targets file passed with ``--targets`` (content), the review template (content), the
  Great Expectations suites (content);
* the kpitools version and a digest of the package's own files (an editable install changes
  code without changing the version number);
* the options: cadence, period, engine.

Each output format (html, pdf) records the fingerprint it was built from in ``build.json`` in
the review folder; a period is skipped when every requested format carries the current
fingerprint (a PDF carried over from an earlier build keeps that build's fingerprint).
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

from .. import __version__

BUILD_FILE = "build.json"


def _hash_file(h, path: Path) -> None:
    try:
        h.update(path.read_bytes())
    except OSError as exc:
        h.update(f"unreadable:{exc.errno}".encode())


def _walk(folder: Path, skip: set[str] = frozenset()) -> list[Path]:
    out = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and
                         not (Path(root) == folder and d in skip) and d != "__pycache__")
        out += [Path(root) / f for f in sorted(files) if not f.startswith(".")]
    return out


def data_digest(folder: Path) -> str:
    """Sizes and modification times of every data file (not the old commentary folder)."""
    h = hashlib.sha256()
    for path in _walk(folder, skip={"commentary"}):
        try:
            st = path.stat()
        except OSError:
            continue
        h.update(f"{path.relative_to(folder).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def tree_digest(folder: Path | None, suffixes: tuple[str, ...] = ()) -> str:
    """Content digest of the files under ``folder`` (those ending in ``suffixes``, if given)."""
    h = hashlib.sha256()
    if folder is not None and folder.is_dir():
        for path in _walk(folder):
            if suffixes and not path.name.endswith(suffixes):
                continue
            h.update(path.relative_to(folder).as_posix().encode() + b"\0")
            _hash_file(h, path)
    return h.hexdigest()


@lru_cache(maxsize=1)
def package_digest() -> str:
    """The kpitools package's own code, catalogue and templates."""
    return tree_digest(Path(__file__).resolve().parents[1], (".py", ".yaml", ".css", ".j2", ".json",
                                                               ".tpl"))


def file_digest(path: Path | None) -> str:
    h = hashlib.sha256()
    if path is None:
        h.update(b"none")
    elif not os.path.lexists(path):
        h.update(b"absent")
    else:
        _hash_file(h, path)
    return h.hexdigest()


def inputs(*, cadence: str, period: str, data_dir: Path, commentary_file: Path,
           targets: Path | None, template: Path, suites_dir: Path | None, engine: str,
           config: Path | None = None) -> dict:
    """The parts of the fingerprint, kept in build.json so a reader can see what changed."""
    return {
        "cadence": cadence, "period": period, "engine": engine,
        "kpitools_version": __version__, "package": package_digest(),
        "data_dir": str(data_dir), "data": data_digest(data_dir),
        "commentary_file": str(commentary_file), "commentary": file_digest(commentary_file),
        "targets_file": str(targets or ""), "targets": file_digest(targets),
        # a --config outside the data folder (one inside it is part of the data digest)
        "config_file": str(config or ""), "config": file_digest(config),
        "template": file_digest(template), "suites": tree_digest(suites_dir, (".json",)),
    }


def fingerprint(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def read_build(folder: Path) -> dict:
    """``build.json`` of a review folder ({} when absent or unreadable)."""
    try:
        value = json.loads((folder / BUILD_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def unchanged(folder: Path | None, fp: str, formats: list[str]) -> bool:
    """True when ``folder`` holds every format in ``formats`` built from fingerprint ``fp``."""
    if folder is None:
        return False
    built = read_build(folder).get("formats") or {}
    return all(isinstance(built.get(f), dict) and built[f].get("fingerprint") == fp
               for f in formats)
