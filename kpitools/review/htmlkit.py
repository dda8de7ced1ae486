"""Small HTML builders for review sections: escaped text, tables, RAG badges.

Every string from data or files goes through :func:`esc`; only this module and the chart
embedder write markup. A :class:`Block` displays itself in a notebook (``_repr_html_``) and is
plain HTML for tests.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

from ..formatting import fmt_change, fmt_target, fmt_value

RAG_TEXT = {"green": "● On target", "amber": "▲ Off target", "red": "■ Critical"}
NO_DATA = "no data"  # a null KPI (missing table or column, nothing in scope): grey, no colour


def esc(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


@dataclass
class Block:
    """A rendered piece of a review (a section, the title) that notebooks display."""

    html: str
    key: str = ""

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html


def rag_badge(status, small_sample: bool = False, has_value: bool = True) -> str:
    if small_sample and has_value:
        return '<span class="rag rag-na">n too small</span>'
    if not has_value:
        return f'<span class="rag rag-na">{NO_DATA}</span>'
    if not isinstance(status, str) or status not in RAG_TEXT:
        return '<span class="rag rag-none">–</span>'
    return f'<span class="rag rag-{status}">{RAG_TEXT[status]}</span>'


def value_cell(row: dict) -> str:
    text = fmt_value(row.get("value"), row.get("unit"), symbol=row.get("currency"))
    cls = "num"
    if row.get("small_sample") and not missing(row.get("value")):
        cls += " small-sample"
    if missing(row.get("value")):
        reason = row.get("reason")
        title = f' title="{esc(reason)}"' if reason and not missing(reason) else ""
        return f'<td class="{cls} na"{title}>{NO_DATA}</td>'
    return f'<td class="{cls}">{esc(text)}</td>'


def change_cell(row: dict, better: bool | None) -> str:
    change = row.get("change")
    if missing(change):
        note = row.get("change_note") or ""
        return f'<td class="num change na"><span class="note">{esc(note) if note else "–"}</span></td>'
    arrow = "▲" if change > 0 else ("▼" if change < 0 else "")
    cls = {True: "better", False: "worse"}.get(better, "neutral")
    word = {True: "better · ", False: "worse · "}.get(better, "")
    before = fmt_value(row.get("compare_value"), row.get("unit"), symbol=row.get("currency"))
    return (f'<td class="num change {cls}"><span class="delta">{arrow} '
            f'{esc(fmt_change(change, row.get("unit"), symbol=row.get("currency")))}</span>'
            f'<br/><span class="was">{word}was {esc(before)}</span></td>')


def target_text(row: dict) -> str:
    target = row.get("target")
    if isinstance(target, float) and math.isnan(target):
        target = None
    # Keep "75.0 %" together when a band wraps: "75.0 %–85.0 %".
    return fmt_target(target, row.get("unit"), row.get("direction")).replace(" %", "\u00a0%")


def table(headers: list[str], rows: list[list[str]], css: str = "", colgroup: list[str] | None = None,
          caption: str = "") -> str:
    """``rows`` hold ready-made cells: strings starting with ``<td`` pass through, others are
    escaped into plain cells."""
    cols = ""
    if colgroup:
        cols = "<colgroup>" + "".join(f'<col style="width:{w}"/>' for w in colgroup) + "</colgroup>"
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for r in rows:
        cells = "".join(c if isinstance(c, str) and c.startswith("<td") else f"<td>{esc(c)}</td>"
                        for c in r)
        body.append(f"<tr>{cells}</tr>")
    return (f'<table class="{css}">{cap}{cols}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def bullets(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>" if items else ""
