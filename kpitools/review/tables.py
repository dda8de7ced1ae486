"""A review's tables as data: CSV files, one ``.xlsx`` workbook and ``summary.json``.

:func:`write_tables` runs in the review's own kernel, as the last cell ``kpitools report``
appends to the template (see :mod:`kpitools.review.render`), so the files hold exactly the
frames the sections were drawn from — no second engine pass, no copy of a formula. Values are
machine values (fractions, seconds, raw scores, as ``kpitools kpis --format json``), never
formatted text. Breakdowns are complete (every queue, channel and issue type), also where
the review itself shows only the largest groups.

``summary.json`` is the small record the index page (:mod:`kpitools.review.index`) reads:
title, DRAFT flag, partial flag, data-quality verdict and the headline KPIs with status.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from .. import __version__
from . import dq
from .heat import WEEKDAYS

SUMMARY_FILE = "summary.json"
WORKBOOK_PENDING = ".workbook-tables.pkl"  # see write_tables(workbook_later=True)
# The complete breakdown tables, by dimension: the review pages show only the largest groups
# (kpitools.review.bounded) and point here.
BREAKDOWN_TABLES = {"queue": "queues", "channel": "channels", "issue_type": "issue_types"}
# Columns of every KPI table, in order; `target` is the single target, `target_low` and
# `target_high` the band of a band KPI (occupancy, utilization).
KPI_COLUMNS = ["kpi", "label", "unit", "variant", "direction", "value", "target", "target_low",
               "target_high", "status", "small_sample", "n", "numerator", "denominator",
               "ci_low", "ci_high", "partial", "reason"]
COMPARE_COLUMNS = ["compare_period", "compare_value", "change", "change_note"]


def _split_target(frame: pd.DataFrame) -> pd.DataFrame:
    """``target`` holds a number or, for a band, a [low, high] pair: three numeric columns."""
    def part(t, k):
        if isinstance(t, (list, tuple)):
            return float(t[k]) if len(t) == 2 and t[k] is not None else None
        return None

    def single(t):
        if isinstance(t, (list, tuple)) or t is None:
            return None
        try:
            return float(t)
        except (TypeError, ValueError):
            return None

    out = frame.copy()
    targets = out["target"] if "target" in out else pd.Series([None] * len(out), index=out.index)
    out["target_low"] = [part(t, 0) for t in targets]
    out["target_high"] = [part(t, 1) for t in targets]
    out["target"] = [single(t) for t in targets]
    return out


def kpi_table(frame: pd.DataFrame, keys: tuple[str, ...] = (), compare: bool = True) -> pd.DataFrame:
    """The labelled columns of a KPI frame (engine or comparison output)."""
    out = _split_target(frame)
    cols = ["period", *keys, *KPI_COLUMNS, *(COMPARE_COLUMNS if compare else [])]
    for c in cols:
        if c not in out:
            out[c] = None
    return out[cols].reset_index(drop=True)


def scorecard_table(ctx) -> pd.DataFrame:
    """Every KPI of the catalogue, with the previous period and the same period last year."""
    out = kpi_table(ctx.vs_previous).rename(columns={
        "compare_period": "previous_period", "compare_value": "previous_value",
        "change": "change_vs_previous", "change_note": "change_vs_previous_note"})
    ly = ctx.vs_last_year[["kpi", "compare_period", "compare_value", "change", "change_note"]]
    ly = ly.rename(columns={"compare_period": "last_year_period", "compare_value": "last_year_value",
                            "change": "change_vs_last_year",
                            "change_note": "change_vs_last_year_note"})
    return out.merge(ly, on="kpi", how="left")


def trigger_table(ctx) -> pd.DataFrame:
    """Every rule on all contacts, plus each queue and channel where a rule fired."""
    rows = [{
        "rule": r.trigger.id, "kpi": r.trigger.kpi, "label": r.label, "unit": r.unit,
        "on": r.trigger.on, "below": r.trigger.below, "above": r.trigger.above,
        "scope": r.scope, "observed": r.observed, "status": r.status, "note": r.note,
        "action": r.trigger.action,
    } for r in ctx.triggers]
    cols = ["rule", "kpi", "label", "unit", "on", "below", "above", "scope", "observed", "status",
            "note", "action"]
    return pd.DataFrame(rows, columns=cols)


def heat_table(ctx) -> pd.DataFrame:
    """Heat-map cells: weekday (1 = Monday) and its name, hour of day, KPI and its parts."""
    frame = ctx.heat.copy()
    frame.insert(1, "weekday_name", [WEEKDAYS[int(d) - 1] for d in frame["weekday"]])
    frame.insert(0, "period", ctx.label)
    return frame.reset_index(drop=True)


def review_tables(ctx) -> dict[str, pd.DataFrame]:
    """The tables of this review, by file name (without extension), in reading order."""
    tables = {
        "scorecard": scorecard_table(ctx),
        "service_level_variants": kpi_table(ctx.variants),
        **{name: kpi_table(ctx.by(dim), (dim,)) for dim, name in BREAKDOWN_TABLES.items()},
        "heatmap": heat_table(ctx),
        "triggers": trigger_table(ctx),
    }
    sections = set(ctx.cadence.sections)
    if "cost_workforce" in sections:
        tables["agents"] = kpi_table(ctx.agents, ("agent_id",), compare=False)
    if "staffing" in sections:
        staffing = ctx.staffing
        for key in ("intervals", "profile"):
            frame = staffing.get(key)
            if isinstance(frame, pd.DataFrame):
                frame = frame.copy()
                frame.insert(0, "channel", staffing.get("channel"))
                tables[f"staffing_{key}"] = frame.reset_index(drop=True)
    return tables


def _plain(v):
    """A JSON-safe scalar: numpy to Python, NaN to None."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NA or v is pd.NaT:
        return None
    return v


def summary(ctx, files: list[str]) -> dict:
    """What the index page shows for this review."""
    level, text = dq.verdict(ctx)
    headline = []
    for kid in ctx.headline_kpis:
        row = ctx.row(kid) or {}
        headline.append({k: _plain(row.get(k)) for k in
                         ("kpi", "label", "unit", "value", "status", "small_sample", "direction",
                          "compare_period", "change")})
        t = row.get("target")
        headline[-1]["target"] = [_plain(x) for x in t] if isinstance(t, (list, tuple)) else _plain(t)
    return {
        "cadence": ctx.cadence.name, "period": ctx.label, "title": f"{ctx.cadence.title} — {ctx.label}",
        "generated_at": ctx.generated_at.isoformat(), "draft": bool(ctx.draft),
        "partial": bool(ctx.partial), "data_quality": {"level": level, "text": text},
        "headline": headline, "files": files, "kpitools_version": __version__,
    }


def _excel_value(v):
    """A cell value as XlsxWriter takes it; None is a blank cell (Excel has no time zones
    and no NA)."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.tz_localize(None).to_pydatetime() if v.tzinfo else v.to_pydatetime()
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):  # numpy scalars
        return _excel_value(v.item())
    return v


def write_xlsx(path: Path, tables: dict[str, pd.DataFrame]) -> None:
    """One sheet per table, header row frozen, written with XlsxWriter: pandas' ``to_excel``
    through openpyxl took 15-19 s for a 10M-contact quarter's per-agent table (~25k rows x
    22 columns); this takes ~4 s."""
    import datetime as dt

    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    try:
        for name, frame in tables.items():
            sheet = book.add_worksheet(name[:31])
            sheet.freeze_panes(1, 0)
            sheet.write_row(0, 0, [str(c) for c in frame.columns])
            for r, row in enumerate(frame.itertuples(index=False, name=None), start=1):
                for c, v in enumerate(row):
                    v = _excel_value(v)
                    if v is None:
                        continue
                    if isinstance(v, dt.datetime):
                        sheet.write_datetime(r, c, v, stamp)
                    elif isinstance(v, dt.date):
                        sheet.write_datetime(r, c, dt.datetime.combine(v, dt.time()), day)
                    elif isinstance(v, bool):
                        sheet.write_boolean(r, c, v)
                    elif isinstance(v, (int, float)):
                        sheet.write_number(r, c, v)
                    else:
                        sheet.write_string(r, c, str(v))
    finally:
        book.close()


def write_tables(ctx, folder: str | Path, stem: str, workbook_later: bool = False) -> list[Path]:
    """Write ``<stem>-<table>.csv`` per table, ``<stem>.xlsx`` (a sheet per table) and
    ``summary.json`` into ``folder``; return the paths.

    ``workbook_later``: leave the tables in ``WORKBOOK_PENDING`` for :func:`write_pending_workbook`
    instead of writing the workbook here. `kpitools report` does so: XlsxWriter needs 2-4 s
    for a 10M-contact quarter's per-agent table, which a second process spends while this one
    renders the HTML and the PDF."""
    folder = Path(folder)
    tables = review_tables(ctx)
    paths = []
    for name, frame in tables.items():
        path = folder / f"{stem}-{name}.csv"
        frame.to_csv(path, index=False, na_rep="")
        paths.append(path)
    xlsx = folder / f"{stem}.xlsx"
    if workbook_later:
        pd.to_pickle(tables, folder / WORKBOOK_PENDING)
    else:
        write_xlsx(xlsx, tables)
    paths.append(xlsx)
    record = summary(ctx, [p.name for p in paths])
    (folder / SUMMARY_FILE).write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    paths.append(folder / SUMMARY_FILE)
    return paths


def write_pending_workbook(folder: str | Path, stem: str) -> Path:
    """Write ``<stem>.xlsx`` from the tables :func:`write_tables` left pending in ``folder``
    (a file this same job wrote moments ago), then remove them."""
    folder = Path(folder)
    pending = folder / WORKBOOK_PENDING
    xlsx = folder / f"{stem}.xlsx"
    write_xlsx(xlsx, pd.read_pickle(pending))
    pending.unlink()
    return xlsx


if __name__ == "__main__":  # python -m kpitools.review.tables <folder> <stem> (kpitools report)
    import sys

    write_pending_workbook(sys.argv[1], sys.argv[2])
