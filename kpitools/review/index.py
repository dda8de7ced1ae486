"""``reports/index.html``: every review built, newest first, per cadence.

Rebuilt after every ``kpitools report`` run from what the review folders hold (each review's
``summary.json`` and ``validation.json``), so it never disagrees with them. One HTML file with
its CSS inline: no scripts, no fonts or images from anywhere, readable offline and in print.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..formatting import fmt_value
from ..periods import Period
from .cadence import CADENCES
from .htmlkit import RAG_TEXT, esc
from .publish import file_mode
from .tables import SUMMARY_FILE

INDEX_FILE = "index.html"
LOCK_FILE = ".index.lock"

CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #1a1a1a; margin: 2em; font-size: 14px; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; margin-top: 1.6em; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.35em 0.5em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; font-weight: 600; }
tr { page-break-inside: avoid; }
.period { font-weight: 600; white-space: nowrap; }
.draft { color: #8a4b00; font-weight: 600; } .final { color: #0b5394; font-weight: 600; }
.partial { color: #555; font-size: 0.9em; }
.dq-pass { color: #0b5394; } .dq-warn { color: #8a4b00; } .dq-fail { color: #b22222; }
.dq-unknown { color: #555; }
ul.kpis { list-style: none; margin: 0; padding: 0; columns: 2; column-gap: 1.5em; }
ul.kpis li { break-inside: avoid; white-space: nowrap; }
.rag-green { color: #0b5394; } .rag-amber { color: #8a4b00; } .rag-red { color: #b22222; }
.rag-na, .rag-none { color: #777; }
a { color: #0b5394; }
"""


@dataclass
class Entry:
    """One review folder as the index shows it."""

    cadence: str
    period: Period
    folder: Path
    summary: dict = field(default_factory=dict)
    validation: dict | None = None
    files: dict[str, Path] = field(default_factory=dict)


def _read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def entries(out_root: Path) -> dict[str, list[Entry]]:
    """Reviews under ``out_root`` per cadence, newest period first."""
    found: dict[str, list[Entry]] = {}
    for name, cad in CADENCES.items():
        parent = Path(out_root) / name
        items = []
        if parent.is_dir():
            for child in parent.iterdir():
                if child.name.startswith(".") or not child.is_dir():
                    continue
                try:
                    period = Period.parse(child.name)
                except Exception:  # noqa: BLE001 - `.failed` folders and anything else
                    continue
                if period.grain != cad.grain:
                    continue
                stem = f"{name}-{period.label}"
                files = {fmt: child / f"{stem}.{fmt}" for fmt in ("html", "pdf", "xlsx")
                         if (child / f"{stem}.{fmt}").is_file()}
                if not files:
                    continue
                items.append(Entry(name, period, child, _read_json(child / SUMMARY_FILE) or {},
                                   _read_json(child / "validation.json"), files))
        found[name] = sorted(items, key=lambda e: e.period.start, reverse=True)
    return found


def _dq_cell(e: Entry) -> str:
    dqs = e.summary.get("data_quality") or {}
    level, text = dqs.get("level"), dqs.get("text")
    if not level and e.validation is not None:  # a review built before summary.json existed
        level = "pass" if e.validation.get("ok") else "fail"
        text = "Data quality: passed." if level == "pass" else "Data quality: FAILED."
    if not level:
        return '<td class="dq-unknown">not recorded</td>'
    word = {"pass": "passed", "warn": "passed with warnings", "fail": "failed",
            "unknown": "not validated"}.get(level, level)
    return f'<td class="dq-{esc(level)}" title="{esc(text)}">{esc(word)}</td>'


def _status_cell(e: Entry) -> str:
    if "draft" not in e.summary:
        return "<td>–</td>"
    word = '<span class="draft">DRAFT</span>' if e.summary["draft"] else '<span class="final">final</span>'
    partial = '<br/><span class="partial">partial period</span>' if e.summary.get("partial") else ""
    return f"<td>{word}{partial}</td>"


def _kpi_cell(e: Entry) -> str:
    items = []
    for k in e.summary.get("headline") or []:
        value = k.get("value")
        shown = fmt_value(value, k.get("unit")) if value is not None else "n/a"
        status = k.get("status")
        if k.get("small_sample") and value is not None:
            badge = '<span class="rag-na">n too small</span>'
        elif status in RAG_TEXT:
            badge = f'<span class="rag-{status}">{esc(RAG_TEXT[status])}</span>'
        else:
            badge = ""
        items.append(f"<li>{esc(k.get('label') or k.get('kpi'))}: <b>{esc(shown)}</b> {badge}</li>")
    return f'<td><ul class="kpis">{"".join(items)}</ul></td>' if items else "<td>–</td>"


def _links_cell(e: Entry) -> str:
    links = []
    for fmt, label in (("html", "HTML"), ("pdf", "PDF"), ("xlsx", "tables (xlsx)")):
        if fmt in e.files:
            rel = Path(e.cadence) / e.period.label / e.files[fmt].name
            links.append(f'<a href="{esc(rel.as_posix())}">{label}</a>')
    return "<td>" + " · ".join(links) + "</td>"


def render_index(out_root: Path, now: dt.datetime | None = None) -> str:
    """The index page as HTML text."""
    now = (now or dt.datetime.now()).replace(microsecond=0)
    found = entries(out_root)
    total = sum(len(v) for v in found.values())
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8"/>',
        "<title>kpitools reviews</title>", f"<style>{CSS}</style></head><body>",
        "<h1>Contact-center reviews</h1>",
        f'<p class="meta">{total} review(s); index rebuilt {esc(now.isoformat(sep=" "))}. '
        "DRAFT: no reviewed analyst commentary yet.</p>",
    ]
    for name, cad in CADENCES.items():
        rows = found.get(name) or []
        parts.append(f'<h2 id="{esc(name)}">{esc(cad.title)}s ({len(rows)})</h2>')
        if not rows:
            parts.append("<p>None built yet.</p>")
            continue
        parts.append("<table><thead><tr><th>Period</th><th>Status</th><th>Data quality</th>"
                     "<th>Headline KPIs</th><th>Files</th></tr></thead><tbody>")
        for e in rows:
            gen = e.summary.get("generated_at", "")
            title = f' title="generated {esc(gen)}"' if gen else ""
            parts.append(f'<tr><td class="period"{title}>{esc(e.period.label)}</td>'
                         f"{_status_cell(e)}{_dq_cell(e)}{_kpi_cell(e)}{_links_cell(e)}</tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_index(out_root: str | Path) -> Path:
    """Rebuild ``<out_root>/index.html`` atomically, one writer at a time."""
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    path = out_root / INDEX_FILE
    fd = os.open(out_root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # scan and write together: the last writer saw all
        for stale in out_root.glob(f".{INDEX_FILE}.tmp-*"):  # a killed writer's
            stale.unlink(missing_ok=True)
        tmp = out_root / f".{INDEX_FILE}.tmp-{os.getpid()}"
        tmp.write_text(render_index(out_root), encoding="utf-8")
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    finally:
        os.close(fd)
    return path
