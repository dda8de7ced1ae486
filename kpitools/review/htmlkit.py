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
from ..targets import Thresholds, within_tolerance

RAG_TEXT = {"green": "● On target", "amber": "▲ Off target", "red": "■ Critical"}
NO_DATA = "no data"  # a null KPI (missing table or column, nothing in scope): grey, no colour
TOLERANCE_TEXT = "▲ Within tolerance"
SIGNIFICANCE_NOTE = ("Changes: blue better, vermillion worse when significant at 95 %; grey "
                     "\u201cn.s.\u201d: not significant, the move may be sampling noise.")


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


def rag_badge(status, small_sample: bool = False, has_value: bool = True,
              tolerance: bool = False) -> str:
    if small_sample and has_value:
        return '<span class="rag rag-na">n too small</span>'
    if not has_value:
        return f'<span class="rag rag-na">{NO_DATA}</span>'
    if not isinstance(status, str) or status not in RAG_TEXT:
        return '<span class="rag rag-none">–</span>'
    text = TOLERANCE_TEXT if tolerance and status == "amber" else RAG_TEXT[status]
    return f'<span class="rag rag-{status}">{text}</span>'


def row_badge(row: dict) -> str:
    """The status badge of a KPI row: n too small, On target, Within tolerance, Off target or
    Critical (:func:`kpitools.targets.status_text`)."""
    value = row.get("value")
    tolerance = not missing(value) and within_tolerance(
        row.get("direction"), value, Thresholds(row.get("target"), row.get("warning"),
                                                row.get("critical")))
    return rag_badge(row.get("status"), bool(row.get("small_sample")), not missing(value),
                     tolerance)


def target_of(row: dict):
    """The row's target for :func:`kpitools.formatting.fmt_value`'s ``against``: only when the
    value misses it (a met target may print as the target without contradicting the status)."""
    if row.get("status") == "green":
        return None
    target = row.get("target")
    return None if not isinstance(target, (list, tuple)) and missing(target) else target


def value_cell(row: dict) -> str:
    text = fmt_value(row.get("value"), row.get("unit"), symbol=row.get("currency"),
                     against=target_of(row))
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
    shown = fmt_change(change, row.get("unit"), symbol=row.get("currency"))
    if not any(c in "123456789" for c in shown):  # prints as ±0: no arrow, no colour
        change, better, shown = 0.0, None, "±" + shown.lstrip("+−±")
    arrow = "▲" if change > 0 else ("▼" if change < 0 else "")
    # Colour only a move that is not sampling noise: a change whose 95 % interval includes 0
    # is grey and marked "n.s." (not significant; see SIGNIFICANCE_NOTE). Changes that cannot
    # be tested, such as volumes, keep their colour.
    noise = row.get("significant") is False
    cls = "neutral" if noise else {True: "better", False: "worse"}.get(better, "neutral")
    word = "n.s. · " if noise and change else {True: "better · ", False: "worse · "}.get(better, "")
    before = fmt_value(row.get("compare_value"), row.get("unit"), symbol=row.get("currency"))
    return (f'<td class="num change {cls}"><span class="delta">{arrow} '
            f'{esc(shown)}</span>'
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
