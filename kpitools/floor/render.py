"""HTML, PDF and CSV for the floor views, and their command-line entry points.

Pages are HTML built from :mod:`kpitools.review.htmlkit` cells inside a thin Jinja shell
(``kpitools/templates/floor/page.html.j2``) with the reviews' stylesheet, then printed to PDF
by the reviews' :func:`kpitools.review.render.write_pdf`. There is no notebook: a floor view is
a fixed set of tables, so plain functions keep every line testable and skip a kernel start.

Output goes to ``<out>/interval/<slice>/`` and ``<out>/team/<slice>/``, written into a
temporary folder first and renamed only when every file is complete. Exception lists (CSV,
with customer ids: analyst use only) are written next to each view; no customer id is ever
put into the HTML or the PDF.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sys
import time
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..errors import ConfigError, KpitoolsError
from ..formatting import fmt_duration, fmt_value
from ..periods import Period, latest_complete
from ..review.charts import OKABE_ITO, STYLE, TEXT_WIDTH_IN, figure, to_html
from ..review.htmlkit import esc, missing, table
from ..review.render import templates_root, write_pdf
from .exceptions import check_kind, exception_rows, to_csv
from .interval import check_minutes, check_period, check_slice, interval_table
from .team import TEAM_KPIS, team_report

FORMATS = ("html", "pdf")


# -- shared -----------------------------------------------------------------------------------
def page(title: str, body: str) -> str:
    """A whole HTML document: the review stylesheet plus the floor additions, no scripts."""
    root = templates_root()
    env = Environment(loader=FileSystemLoader(str(root / "floor")),
                      autoescape=select_autoescape(["j2", "html"]))
    css = (root / "review" / "review.css").read_text("utf-8") + "\n" + \
        (root / "floor" / "floor.css").read_text("utf-8")
    return env.get_template("page.html.j2").render(title=title, css=css, body=body)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-").lower() or "x"


def formats_of(text: str) -> list[str]:
    fmts = [f.strip().lower() for f in str(text).split(",") if f.strip()]
    bad = [f for f in fmts if f not in FORMATS]
    if bad or not fmts:
        raise ConfigError(f"--format {str(text)[:30]!r}: use html, pdf or html,pdf")
    return fmts


def publish(tmp: Path, final: Path) -> None:
    """Replace ``final`` by the finished ``tmp`` folder (the old one only goes when the new
    one is complete)."""
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def write_outputs(final: Path, files: dict[str, str], html_text: str | None, pdf_name: str | None) -> list[Path]:
    """Write text files and the PDF into a temporary sibling folder, then publish it."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
        if pdf_name:
            write_pdf(html_text, tmp / pdf_name)
        names = sorted(p.name for p in tmp.iterdir())
        publish(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [final / n for n in names]


def publish_view(view: str, name: str, period, files: dict, html_text: str, fmts, out,
                 started: float) -> int:
    """Write a floor view's CSVs, HTML and PDF to ``<out>/<view>/<name>/`` and print the paths
    (the shared ending of ``report interval`` and ``report team``)."""
    if "html" in fmts:
        files[f"{view}-{name}.html"] = html_text
    paths = write_outputs(Path(out) / view / name, files, html_text,
                          f"{view}-{name}.pdf" if "pdf" in fmts else None)
    print(f"[{view} {period.label}] done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    for p in paths:
        print(p)
    return 0


def title_block(title: str, subtitle: str, generated: dt.datetime) -> str:
    return (f'<div class="review-title"><h1>{esc(title)}</h1>'
            f'<p class="subtitle">{esc(subtitle)}</p>'
            f'<p class="meta generated">Generated {esc(generated.strftime("%Y-%m-%d %H:%M"))} '
            f'by kpitools · figures equal <code>kpitools kpis</code> for the same slice</p></div>')


def _cell(text: str, css: str = "num", title: str = "") -> str:
    tip = f' title="{esc(title)}"' if title else ""
    return f'<td class="{css}"{tip}>{text}</td>'


# -- interval report --------------------------------------------------------------------------
INTERVAL_HEAD = ["Interval", "Offered", "Handled", "Aband. (short)", "Service level", "ASA",
                 "p90 wait", "Longest", "AHT", "Required", "Staffed", "Gap", "Occ. (est.)"]


def interval_chart(day: pd.DataFrame, minutes: int, has_staffing: bool) -> str:
    with mpl.rc_context(STYLE):
        fig = figure(TEXT_WIDTH_IN, 1.75)
        ax = fig.subplots()
        x = np.arange(len(day))
        ax.bar(x, day["offered"], width=0.8, color=OKABE_ITO["sky"], label="offered (contacts)")
        ax.set_ylabel("contacts")
        ax2 = ax.twinx()
        ax2.plot(x, day["required_agents"], color=OKABE_ITO["vermillion"], ls="--", marker="s",
                 markersize=2, label="required agents (Erlang C)")
        if has_staffing:
            ax2.plot(x, day["staffed_agents"], color=OKABE_ITO["blue"], marker="o", markersize=2,
                     label="staffed agents")
        ax2.set_ylabel("agents")
        ax2.set_ylim(bottom=0)
        ax2.grid(False)
        step = max(1, 120 // minutes)
        ax.set_xticks(x[::step])
        ax.set_xticklabels(day["label"].iloc[::step])
        ax.set_xlim(-0.6, len(day) - 0.4)
        handles = ax.get_legend_handles_labels()
        handles2 = ax2.get_legend_handles_labels()
        ax.legend(handles[0] + handles2[0], handles[1] + handles2[1], loc="lower left",
                  bbox_to_anchor=(0, 1.0), ncols=3, borderaxespad=0.2)
    peak = day["offered"].max() if len(day) else 0
    alt = (f"Bar chart of contacts offered per {minutes}-minute interval (peak {peak:.0f}) with "
           "the Erlang C required agents" + (" and the staffed agents" if has_staffing else "")
           + " as lines.")
    return to_html(fig, alt)


def _interval_label(row: dict) -> str:
    if not row["interval_end"]:
        return row["interval_start"][11:16] + " (skipped time)"
    start = dt.datetime.fromisoformat(row["interval_start"])
    text = start.strftime("%H:%M")
    return text + (f" {start.strftime('%Z') or row['utc_offset']}" if row.get("note") else "")


def interval_rows_html(day: pd.DataFrame, sl_target: float | None) -> list[list[str]]:
    rows = []
    for r in day.to_dict("records"):
        sl = r["service_level"]
        sl_css = "num worse" if (not missing(sl) and sl_target is not None and sl < sl_target) else "num"
        gap = r["staffing_gap"]
        gap_css = "num worse" if (not missing(gap) and gap < 0) else "num"
        aband = f"{r['abandoned']:.0f}" + (f" ({r['short_abandons']:.0f})" if r["short_abandons"] else "")
        rows.append([
            _cell(esc(r["label"]), "kpi"),
            _cell(f"{r['offered']:.0f}"), _cell(f"{r['handled']:.0f}"), _cell(aband),
            _cell(esc(fmt_value(sl, "fraction", "–")), sl_css),
            _cell(esc(fmt_value(r["asa_s"], "seconds", "–"))),
            _cell(esc(fmt_value(r["p90_wait_s"], "seconds", "–"))),
            _cell(esc(fmt_value(r["max_wait_s"], "seconds", "–"))),
            _cell(esc(fmt_value(r["aht_s"], "seconds", "–"))),
            _cell("–" if missing(r["required_agents"]) else f"{r['required_agents']:.0f}"),
            _cell("–" if missing(r["staffed_agents"]) else f"{r['staffed_agents']:.1f}"),
            _cell("–" if missing(gap) else f"{gap:+.1f}".replace("-", "−"), gap_css),
            _cell(esc(fmt_value(r["occupancy_est"], "fraction", "–"))),
        ])
    return rows


def interval_html(report, data, generated: dt.datetime) -> str:
    sl_kpi = data.registry["service_level"]
    target = data.targets.for_row(sl_kpi, {"channel": report.channel} if report.channel else {}).target
    pages = []
    rows = report.rows.copy()
    rows["label"] = [_interval_label(r) for r in rows.to_dict("records")]
    for k, (day_label, day) in enumerate(rows.groupby("period", sort=True)):
        tot = report.day_totals.set_index("period").loc[day_label]
        date = dt.date.fromisoformat(day_label)
        summary = (f"Day: offered {tot['offered']:,.0f} · handled {tot['handled']:,.0f} · "
                   f"abandoned {tot['abandoned']:,.0f} (+{tot['short_abandons']:,.0f} short) · "
                   f"service level {fmt_value(tot['service_level'], 'fraction')} · "
                   f"ASA {fmt_value(tot['asa_s'], 'seconds')} · p90 wait "
                   f"{fmt_value(tot['p90_wait_s'], 'seconds')} · longest "
                   f"{fmt_value(tot['max_wait_s'], 'seconds')} · AHT {fmt_value(tot['aht_s'], 'seconds')}")
        if not missing(tot.get("occupancy")):
            summary += f" · occupancy {fmt_value(tot['occupancy'], 'fraction')} (agent activity)"
        hours = (len(day[day["interval_end"] != ""]) * report.minutes) / 60
        subtitle = (f"{report.slice_label} · {report.minutes}-minute intervals · "
                    f"{report.timezone} · {hours:g}-hour day")
        dense = " dense" if len(day) > 50 else ""
        body = [
            title_block(f"Interval report — {date.strftime('%A')} {date.isoformat()}", subtitle, generated),
            f'<p class="day-summary">{esc(summary)}</p>',
            interval_chart(day, report.minutes, report.has_staffing),
            table(INTERVAL_HEAD, interval_rows_html(day, target), css=f"interval{dense}",
                  colgroup=["9%", "7%", "7%", "8%", "8%", "7%", "7%", "7%", "7%", "8%", "8%", "7%", "8%"]),
        ]
        notes = [
            f"Service level, ASA, waits and abandons are on inbound real-time contacts "
            f"(service level target {fmt_value(target, 'fraction')}, below it in orange); offered "
            "counts every inbound contact of the slice, handled every handled one (outbound too).",
            "Percentile and longest waits are computed from the interval's own contacts, never "
            "averaged; abandoned excludes short abandons (in brackets).",
            "Required: Erlang C agents on the phones per real-time channel (its threshold and "
            "target), summed; no shrinkage. Occupancy (est.) = handle time of the interval's "
            "contacts / staffed time.",
            *report.notes,
        ]
        body.append('<p class="note">' + "<br/>".join(esc(n) for n in notes) + "</p>")
        css = "floor-page first-page" if k == 0 else "floor-page"
        pages.append(f'<section class="{css}">' + "".join(body) + "</section>")
    return page(f"Interval report {report.period.label}", "".join(pages))


def interval_csv(report) -> str:
    cols = [c for c in report.rows.columns if c != "handle_time_s"]
    header = (f"# kpitools interval report {report.period.label} ({report.slice_label}; "
              f"{report.minutes}-minute intervals; {report.timezone}); machine values: fractions "
              "and seconds; empty = undefined\n")
    return header + report.rows[cols].to_csv(index=False, lineterminator="\n")


def run_interval(args) -> int:
    from ..api import load

    started = time.perf_counter()
    minutes = check_minutes(getattr(args, "minutes", None) or 30)
    fmts = formats_of(args.format)
    data = load(args.data, targets=getattr(args, "targets", None) or None)
    if args.period:
        period = check_period(args.period)
    else:
        first, last = data.coverage
        if first is None:
            raise KpitoolsError(f"{data.path}: no contacts in the data")
        period = latest_complete(first, last, "day")
    report = interval_table(data, period, minutes, args.queue, args.channel)
    generated = dt.datetime.now().replace(microsecond=0)
    name = "-".join([period.label, *([slug(args.queue)] if args.queue else []),
                     *([slug(args.channel)] if args.channel else []), f"{minutes}min"])
    files = {f"interval-{name}.csv": interval_csv(report)}
    for kind in ("waited", "abandoned"):
        rows = exception_rows(data, period, kind, minutes, args.queue, args.channel)
        files[f"exceptions-{kind}-{name}.csv"] = to_csv(rows, kind, period, args.queue, args.channel)
    return publish_view("interval", name, period, files, interval_html(report, data, generated),
                        fmts, args.out, started)


# -- team report ------------------------------------------------------------------------------
TEAM_HEAD = ["Agent", "Handled", "AHT (talk / hold / ACW)", "FCR", "Repeat", "Transfer", "CSAT (n)",
             "NPS (n)", "QA (n)", "Occ. / util."]
SHORT = {"fcr": "FCR", "repeat_contact_rate": "repeat", "transfer_rate": "transfer", "csat": "CSAT"}
FLAG_MARK = {"worse": '<span class="flag worse">▼</span>', "better": '<span class="flag better">▲</span>'}


def _kpi_text(rec: dict, min_sample: int, with_ci: bool, show_n: bool = False) -> tuple[str, str]:
    """(cell html, css) for one KPI record of kpis(): grey 'n too small' under the sample."""
    value, unit, n = rec.get("value"), rec.get("unit"), rec.get("n")
    if missing(value):
        return '<span class="na">–</span>', "num na"
    text = esc(fmt_value(value, unit))
    n = None if missing(n) else int(n)
    small = n is not None and n < min_sample
    extra = []
    if show_n and n is not None:
        extra.append(f"n {n:,}")
    if with_ci and not missing(rec.get("ci_low")) and not small:
        extra.append(interval_text(rec["ci_low"], rec["ci_high"], unit))
    if small:
        extra = [f"n {n:,} too small" if show_n else "n too small"]
    sub = f'<br/><span class="ci">{esc(" · ".join(extra))}</span>' if extra else ""
    return text + sub, "num small-sample" if small else "num"


def interval_text(low: float, high: float, unit: str) -> str:
    """A compact 95 % interval: '71–78 %' for rates, else both ends formatted."""
    if unit == "fraction":
        return f"{100 * low:.0f}–{100 * high:.0f} %"
    return f"{fmt_value(low, unit)} to {fmt_value(high, unit)}"


def _team_row_cells(cells: dict, label: str, css: str, min_sample: int, with_ci: bool,
                    marks: dict | None = None) -> list[str]:
    """One scorecard row; ``marks`` puts a flag glyph next to the KPI it concerns."""
    marks = marks or {}

    def one(kpi, show_n=False):
        text, cls = _kpi_text(cells.get(kpi, {}), min_sample, with_ci, show_n)
        if kpi in marks:
            text = text.replace("<br/>", f" {marks[kpi]}<br/>", 1) if "<br/>" in text \
                else f"{text} {marks[kpi]}"
        return _cell(text, cls + css)

    aht_text, aht_css = _kpi_text(cells.get("aht", {}), min_sample, with_ci=False)
    split = " / ".join(fmt_duration(cells[k]["value"]) if not missing(cells.get(k, {}).get("value"))
                       else "–" for k in ("talk_time", "hold_time", "acw_time"))
    handled = cells.get("handled", {}).get("value")
    occ, util = cells.get("occupancy", {}).get("value"), cells.get("utilization", {}).get("value")
    trap = ' <span class="flag trap">⚠ trap</span>' if "aht" in marks else ""
    return [
        _cell(esc(label) + trap, "kpi" + css),
        _cell("–" if missing(handled) else f"{handled:,.0f}", "num" + css),
        _cell(f'{aht_text}<br/><span class="ci">{esc(split)}</span>', aht_css + css),
        one("fcr"), one("repeat_contact_rate"), one("transfer_rate"),
        one("csat", True), one("nps", True), one("quality_score", True),
        _cell(esc(f"{fmt_value(occ, 'fraction', '–')} / {fmt_value(util, 'fraction', '–')}"), "num" + css),
    ]


TEAM_NOTES = [
    "Grey: fewer than {min_sample} contacts or responses behind the value (n too small): shown, "
    "never flagged. Team and center rows: 95 % intervals (Wilson for rates, normal for NPS and "
    "QA). AHT line 2: talk / hold / after-call work. CSAT: share of 4–5 scores.",
    "▼ worse / ▲ better than peers: the agent's FCR, repeat, transfer or CSAT rate against the rest "
    "of the team, two-sided two-proportion z-test, Benjamini–Hochberg 5 % false discovery rate "
    "over every test on this page. ⚠ trap: AHT at least 15 % below peers while FCR, CSAT or repeat "
    "contacts are significantly worse.",
]


def team_html(report, generated: dt.datetime) -> str:
    pages = []
    for k, card in enumerate(report.cards):
        marks_of: dict[str, dict] = {}
        for f in card.flags:
            marks_of.setdefault(f.agent_id, {})[f.kpi] = (
                '<span class="flag trap">⚠</span>' if f.kind == "trap" else FLAG_MARK[f.kind])
        display = dict(zip(card.agents["agent_id"], card.agents["display"], strict=True))
        rows = []
        for rec in card.agents.to_dict("records"):
            cells = {kpi: rec[kpi] for kpi in TEAM_KPIS}
            rows.append(_team_row_cells(cells, rec["display"], "", report.min_sample, False,
                                        marks_of.get(rec["agent_id"])))
        rows.append(_team_row_cells(card.team_row, f"Team {card.team}", " total", report.min_sample, True))
        rows.append(_team_row_cells(card.center_row, "Center", " total", report.min_sample, True))
        flag_lines = [f"{display[f.agent_id]}: {f.text}" for f in card.flags]
        subtitle = (f"{report.period.label} · {len(card.agents)} agents · a coaching view: agents are "
                    "listed by " + ("pseudonym" if report.pseudonyms else "id") + ", not ranked")
        body = [
            title_block(f"Team scorecard — {card.team}", subtitle, generated),
            table(TEAM_HEAD, rows, css="team",
                  colgroup=["10%", "7%", "13%", "8%", "8%", "8%", "10%", "11%", "11%", "14%"]),
            ('<ul class="flags">' + "".join(f"<li>{esc(t)}</li>" for t in flag_lines) + "</ul>")
            if flag_lines else '<p class="note">No agent differs significantly from their peers.</p>',
            '<p class="note">' + "<br/>".join(
                esc(t.format(min_sample=report.min_sample)) for t in TEAM_NOTES) + "</p>",
        ]
        css = "floor-page first-page" if k == 0 else "floor-page"
        pages.append(f'<section class="{css}">' + "".join(body) + "</section>")
    return page(f"Team scorecards {report.period.label}", "".join(pages))


def run_team(args) -> int:
    from ..api import load

    started = time.perf_counter()
    fmts = formats_of(args.format)
    data = load(args.data, targets=getattr(args, "targets", None) or None)
    if args.period:
        period = Period.parse(args.period)
    else:
        first, last = data.coverage
        if first is None:
            raise KpitoolsError(f"{data.path}: no contacts in the data")
        period = latest_complete(first, last, "week")
    report = team_report(data, period, args.team, bool(args.pseudonyms))
    generated = dt.datetime.now().replace(microsecond=0)
    name = "-".join([period.label, *([slug(args.team)] if args.team else [])])
    files = {}
    for kind in ("repeats", "low-survey"):
        rows = exception_rows(data, period, kind)
        files[f"exceptions-{kind}-{name}.csv"] = to_csv(rows, kind, period)
    return publish_view("team", name, period, files, team_html(report, generated), fmts,
                        args.out, started)


def run_report(args) -> int:
    """``kpitools report interval|team`` (the cadence argument chooses)."""
    wrong = {"interval": ("team", "pseudonyms"), "team": ("minutes", "queue", "channel")}[args.cadence]
    given = [f"--{k}" for k in wrong if getattr(args, k, None)]
    if given:
        raise ConfigError(f"{', '.join(given)}: not an option of report {args.cadence}")
    return run_interval(args) if args.cadence == "interval" else run_team(args)


# -- exceptions command -----------------------------------------------------------------------
def run_exceptions(args) -> int:
    from ..api import load

    kind = check_kind(args.kind)
    minutes = check_minutes(args.minutes or 30)
    period = Period.parse(args.period)
    data = load(args.data, timezone=args.timezone, targets=args.targets or None)
    check_slice(data, args.queue, args.channel)
    rows = exception_rows(data, period, kind, minutes, args.queue, args.channel)
    text = to_csv(rows, kind, period, args.queue, args.channel)
    if args.out:
        out = Path(args.out)
        tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
        print(out)
    else:
        sys.stdout.write(text)
    return 0
