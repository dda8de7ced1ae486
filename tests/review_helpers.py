"""Render each review cadence once per test session (also across xdist workers) on a small
generated data set, and read the results back: PDF text per page, section page ranges from the
PDF bookmarks, the HTML. Used by tests/test_review_render.py and tests/test_report_browser.py.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from pypdf import PdfReader

KPITOOLS = [sys.executable, "-m", "kpitools"]
WEEKS, PER_WEEK = 60, 300  # 2024-11-04 .. 2025-12-28: last year for weeks, 5 quarters
WEEK, MONTH_PARTIAL, QUARTER = "2025-W52", "2025-12", "2025-Q3"

WEEKLY_COMMENTARY = """# Executive summary
Callbacks pilot starts Monday on the billing line.

<script>alert('commentary must not run')</script>

# Action triggers
The billing team was briefed on the CSAT trigger.
"""


def shared_root(tmp_path_factory) -> Path:
    """One folder for the whole session, shared by xdist workers (their base temps are
    siblings under the same parent)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if base.name.startswith("popen-gw") else base
    folder = root / "review-e2e"
    folder.mkdir(exist_ok=True)
    return folder


@contextmanager
def locked(path: Path):
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run(args, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "False"}
    env.pop("MPLBACKEND", None)
    return subprocess.run([*KPITOOLS, *args], capture_output=True, text=True, env=env, timeout=600, **kw)


def small_data(root: Path) -> Path:
    data = root / "data"
    with locked(root / "data.lock"):
        if not (data / "interactions.parquet").is_file():
            from kpitools.demo import generate_demo_data

            generate_demo_data(data, weeks=WEEKS, contacts_per_week=PER_WEEK)
            (data / "commentary").mkdir()
            (data / "commentary" / f"{WEEK}.md").write_text(WEEKLY_COMMENTARY, encoding="utf-8")
    return data


def rendered(root: Path, cadence: str) -> dict:
    """Render ``cadence`` once (CLI, subprocess) and return paths, period and CLI output.

    weekly: latest complete week (no --period), with analyst commentary.
    monthly: the partial month 2025-12, no commentary (DRAFT, partial flags).
    quarterly: with a --stub commentary file (still DRAFT), latest complete quarter.
    The weekly commentary sits in the old place (<data>/commentary), the quarterly stub in
    the new one (./commentary, with the current directory ``root``).
    """
    data = small_data(root)
    marker = root / f"{cadence}.json"
    with locked(root / f"{cadence}.lock"):
        if marker.is_file():
            return json.loads(marker.read_text())
        args = ["report", cadence, "--data", str(data), "--out", str(root / "reports")]
        if cadence == "monthly":
            args += ["--period", MONTH_PARTIAL]
        # cwd=root: the default commentary folder is ./commentary, never the checkout's
        if cadence == "quarterly":
            stub = run(["report", "quarterly", "--data", str(data), "--stub"], cwd=root)
            assert stub.returncode == 0, stub.stderr
        proc = run(args, cwd=root)
        assert proc.returncode == 0, proc.stderr
        paths = [line for line in proc.stdout.splitlines() if line.strip()]
        info = {"paths": paths, "stdout": proc.stdout, "stderr": proc.stderr, "data": str(data),
                "folder": str(Path(paths[0]).parent), "period": Path(paths[0]).parent.name}
        marker.write_text(json.dumps(info))
        return info


def path_of(info: dict, suffix: str) -> Path:
    return next(Path(p) for p in info["paths"] if p.endswith(suffix))


class PdfText:
    """Text per page and the page range of each bookmarked heading."""

    def __init__(self, path: Path):
        self.reader = PdfReader(str(path))
        self.pages = [p.extract_text() or "" for p in self.reader.pages]
        self.bookmarks: list[tuple[str, int, int]] = []  # (title, level, page index)
        self._walk(self.reader.outline, 1)

    def _walk(self, items, level):
        for item in items:
            if isinstance(item, list):
                self._walk(item, level + 1)
            else:
                self.bookmarks.append((item.title, level, self.reader.get_destination_page_number(item)))

    @property
    def text(self) -> str:
        return "\n".join(self.pages)

    def section(self, title: str) -> str:
        """Text of the pages from a level-2 bookmark to the page before the next one starts."""
        level2 = [(t, p) for t, lvl, p in self.bookmarks if lvl == 2]
        for k, (t, p) in enumerate(level2):
            if t == title:
                end = level2[k + 1][1] if k + 1 < len(level2) else len(self.pages)
                return "\n".join(self.pages[p:max(end, p + 1)])
        raise KeyError(f"no bookmark {title!r}; have {[t for t, _ in level2]}")
