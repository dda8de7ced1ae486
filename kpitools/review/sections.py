"""The review sections (SPEC §6), shared by the weekly, monthly and quarterly templates.

Each ``section_*`` function takes a :class:`~kpitools.review.context.ReviewContext` and
returns a :class:`~kpitools.review.htmlkit.Block` (HTML that a notebook displays). A template
is a parameters cell, ``ctx = review.open_review(...)`` and one call per section.
"""

from __future__ import annotations

import math
from pathlib import Path

from .. import __version__
from ..formatting import fmt_change, fmt_value
from ..formulas import describe_terms
from . import bounded, charts, dq
from .cadence import SECTIONS
from .changes import is_better
from .commentary import render_markdown
from .guardrail import EFFICIENCY_KPI, EXPERIENCE_KPIS, finding_sentence, headline
from .heat import WEEKDAYS
from .htmlkit import (
    NO_DATA,
    SIGNIFICANCE_NOTE,
    Block,
    bullets,
    change_cell,
    esc,
    missing,
    row_badge,
    table,
    target_of,
    target_text,
    value_cell,
)
from .triggers import by_rule, first_sentence, rule_text, top_rules

GLYPH = {"green": "●", "amber": "▲", "red": "■"}


# -- shared pieces -----------------------------------------------------------------------
def _commentary(ctx, key: str) -> str:
    text = ctx.commentary.for_section(key)
    if text:
        label, css = (("Commentary stub: automatic observations, not yet reviewed", "auto")
                      if ctx.commentary.stub else ("Analyst commentary", "analyst"))
        return (f'<div class="commentary {css}"><p class="commentary-label">{label}</p>'
                f"{render_markdown(text)}</div>")
    obs = ctx.observations.get(key) or []
    if not obs:
        return ""
    label = "Automatic observations (not yet reviewed by an analyst)"
    return (f'<div class="commentary auto"><p class="commentary-label">{label}</p>'
            f"{bullets(obs)}</div>")


def _section(ctx, key: str, body: str, extra_class: str = "") -> Block:
    title = SECTIONS[key].title
    return Block(
        f'<section class="review-section sec-{key} {extra_class}" id="{key}">'
        f"<h2>{esc(title)}</h2>{_commentary(ctx, key)}{body}</section>", key)


def _period_words(ctx) -> str:
    p = ctx.period
    g = ctx.cadence.grain
    return (f"{g.capitalize()} {p.label}: {p.start:%A} {p.start.day} {p.start:%B %Y} to "
            f"{p.end:%A} {p.end.day} {p.end:%B %Y}")


def _better(row: dict) -> bool | None:
    return is_better(row.get("direction"), row.get("change"), row.get("value"),
                     row.get("compare_value"), row.get("target"))


def _glyph_cell(row: dict, with_change: bool = False) -> str:
    """A compact value cell: value, status glyph, and optionally the change underneath."""
    if row is None or missing(row.get("value")):
        return f'<td class="num na">{NO_DATA}</td>'
    text = esc(fmt_value(row["value"], row["unit"], symbol=row.get("currency"),
                         against=target_of(row)))
    if row.get("small_sample"):
        inner = f'<span class="small-sample">{text}</span><br/><span class="note">n too small</span>'
    else:
        s = row.get("status")
        g = f' <span class="glyph rag-{s}">{GLYPH[s]}</span>' if s in GLYPH else ""
        inner = text + g
    if with_change and not missing(row.get("change")):
        # Noise is not coloured: a change whose 95 % interval includes 0 is grey, marked n.s.
        shown = fmt_change(row["change"], row["unit"])
        zero = not any(c in "123456789" for c in shown)  # prints as ±0: neutral
        noise = row.get("significant") is False and not zero
        b = None if noise or zero else _better(row)
        cls = {True: "better", False: "worse"}.get(b, "neutral")
        mark = '<br/><span class="note">n.s.</span>' if noise else ""
        if zero:
            shown = "±" + shown.lstrip("+−±")
        inner += f'<br/><span class="delta {cls}">{esc(shown)}</span>{mark}'
    return f'<td class="num">{inner}</td>'


def _glyph_legend(extra: str = "") -> str:
    return ('<p class="legend">Status: <span class="rag rag-green">● on target</span> '
            '<span class="rag rag-amber">▲ target missed (within tolerance or off target)</span> '
            '<span class="rag rag-red">■ critical</span>; '
            'no mark: no target. Second line: change against the previous period '
            '(<span class="better">blue: better</span>, <span class="worse">vermillion: worse</span>; '
            'grey "n.s.": not significant at 95 %, possibly noise).'
            f"{esc(extra)}</p>")


# -- title -------------------------------------------------------------------------------
def section_title(ctx) -> Block:
    """Title block: review name, period, generation time, data coverage, DRAFT and partial flags."""
    first, last = ctx.coverage
    covered = "all of this period" if not ctx.partial else "only part of this period"
    flags = []
    if ctx.draft:
        flags.append('<div class="draft-banner"><strong>DRAFT</strong> — not yet reviewed by an analyst: '
                     "the observations are generated from the numbers.</div>")
    if ctx.partial:
        flags.append(f'<div class="partial-banner"><strong>Partial {esc(ctx.cadence.grain)}</strong> — '
                     f"{esc(ctx.partial_reason)}. Values "
                     "cover the days present; changes against other periods are not shown.</div>")
    if ctx.data_note:
        flags.append(f'<div class="partial-banner">{esc(ctx.data_note)}</div>')
    title = f"{ctx.cadence.title} — {ctx.label}"
    return Block(
        f'<header class="review-title{" is-draft" if ctx.draft else ""}">'
        f"<h1>{esc(title)}</h1>"
        f'<p class="subtitle">{esc(_period_words(ctx))}</p>'
        f'<p class="meta"><span class="generated">Generated {ctx.generated_at:%Y-%m-%d %H:%M}</span> · '
        f"Data coverage {first} to {last} ({covered}) · Data folder <code>{esc(ctx.data_dir.name)}</code></p>"
        + "".join(flags) + "</header>", "title")


# -- executive summary ---------------------------------------------------------------------
def _headline_rows(ctx) -> list[list[str]]:
    ly = {r["kpi"]: r for r in ctx.vs_last_year.to_dict("records")}
    rows = []
    for kid in ctx.headline_kpis:
        r = ctx.row(kid)
        if r is None:
            continue
        label = esc(r["label"]) + (f' <span class="variant">[{esc(r["variant"])}]</span>' if r.get("variant") else "")
        if not missing(r.get("n")) and ctx.registry[kid].min_sample:
            label += f'<br/><span class="note">n = {int(r["n"]):,}</span>'
        why = r.get("reason") if missing(r.get("value")) else r.get("note")
        if why and not missing(why):
            label += f'<br/><span class="note">{esc(why)}</span>'
        l_row = ly.get(kid, {})
        rows.append([
            f'<td class="kpi">{label}</td>', value_cell(r), f'<td class="tgt">{esc(target_text(r))}</td>',
            f"<td>{row_badge(r)}</td>",
            change_cell(r, _better(r)), change_cell(l_row, _better(l_row)) if l_row else '<td class="na">–</td>',
        ])
    return rows


def _dq_lines(ctx, limit: int = 3) -> str:
    """The failed checks in words (day and size) under the data-quality verdict."""
    lines, more = dq.failure_lines(ctx, limit)
    if not lines:
        return ""
    tail = f'<li class="note">{more} more: see Data quality.</li>' if more else ""
    return "<ul>" + "".join(f"<li>{esc(line)}</li>" for line in lines) + tail + "</ul>"


def section_executive_summary(ctx) -> Block:
    g = ctx.cadence.grain
    head = ["KPI", ctx.label, "Target", "Status", f"vs {ctx.previous.label}", f"vs {ctx.last_year.label}"]
    tbl = table(head, _headline_rows(ctx), css="headline",
                colgroup=["25%", "13%", "13%", "15%", "17%", "17%"])
    level, sentence = dq.verdict(ctx)
    rules = top_rules(ctx.triggers)
    items = []
    for o in rules[:3]:
        t = o.total
        where = [f"all contacts ({esc(t.observed_text)})"] if t.status == "fired" else []
        if o.elsewhere:  # name them: a count alone sends the reader hunting
            where.append(esc(o.places(1)))  # the worst; the Action triggers section lists all
        items.append(f"<li><strong>{esc(rule_text(o.trigger, t.label, t.unit, g))}</strong>: "
                     f"{' and '.join(where)}. {esc(first_sentence(o.trigger.action))}</li>")
    trig = f"<ol>{''.join(items)}</ol>" if items else "<p>No action trigger fired.</p>"
    more = (f'<p class="note">{len(rules) - 3} more rule(s) fired: see Action triggers.</p>'
            if len(rules) > 3 else "")
    guard = headline(ctx.guardrail, g)
    if ctx.guardrail.fired:
        first = next((f for f in ctx.guardrail.findings if f.scope == "All contacts"), ctx.guardrail.findings[0])
        guard = guard.split(". ")[0] + ". " + finding_sentence(first)
    guard_cls = "alert" if ctx.guardrail.fired else "calm"
    # Data quality first: a reader should know which days to distrust before reading numbers,
    # and it must stay on page one however long the triggers run.
    body = (
        f'<div class="dq-strip dq-{level}"><strong>{esc(sentence)}</strong>{_dq_lines(ctx)}</div>'
        + tbl
        + f'<p class="note">{esc(SIGNIFICANCE_NOTE)}</p>'
        + f'<div class="guardrail-line {guard_cls}"><strong>Experience vs efficiency:</strong> {esc(guard)}</div>'
        + f'<div class="summary-box triggers"><h3>Top action triggers</h3>{trig}{more}</div>'
    )
    return _section(ctx, "executive_summary", body, "first-page")


# -- scorecard ---------------------------------------------------------------------------
def _ci_text(r: dict) -> str:
    lo, hi = r.get("ci_low"), r.get("ci_high")
    if missing(lo) or missing(hi):
        return ""
    return f'<br/><span class="ci">95 % CI {esc(fmt_value(lo, r["unit"]))} – {esc(fmt_value(hi, r["unit"]))}</span>'


def _counts_items(ctx, kpi) -> bool:
    """True when the KPI's denominator counts contacts, responses or evaluations (not seconds)."""
    f = kpi.formula()
    if not f.denominator:
        return False
    return all(ctx.registry.measures[m].source not in ("agent_activity", "costs")
               and ctx.registry.measures[m].value == "1" for m in f.denominator)


def section_scorecard(ctx) -> Block:
    rows = []
    variants = {r["kpi"]: r for r in ctx.variants.to_dict("records")}  # "<id>:<variant>"
    for r in ctx.vs_previous.to_dict("records"):
        kpi = ctx.registry[r["kpi"]]
        name = esc(kpi.label)
        if kpi.variants:
            name += f' <span class="variant">[{esc(r["variant"])}]</span>'
        name += f'<br/><span class="definition">{esc(kpi.description)}</span>'
        # A null KPI says why (missing table or column, empty scope); a value with a caveat
        # (repeat window cut short, an input left out) says what to keep in mind.
        caveat = r.get("note") if not missing(r.get("value")) else r.get("reason")
        if caveat and not missing(caveat):
            name += f'<br/><span class="caveat">⚠ {esc(caveat)}</span>'
        val = value_cell(r)
        val = val.replace("</td>", _ci_text(r) + "</td>") if not missing(r.get("value")) else val
        n = "" if r.get("n") is None or missing(r.get("n")) or not _counts_items(ctx, kpi) else f"{int(r['n']):,}"
        rows.append([f'<td class="kpi">{name}</td>', val, f'<td class="tgt">{esc(target_text(r))}</td>',
                     f"<td>{row_badge(r)}</td>",
                     change_cell(r, _better(r)), f'<td class="num">{n}</td>'])
        for vname in kpi.variants:  # the other definitions, for reference (docs/definitions.md)
            if vname == r.get("variant") or f"{kpi.id}:{vname}" not in variants:
                continue
            v = variants[f"{kpi.id}:{vname}"]
            desc = kpi.formula(vname).description
            vrow = {**v, "label": kpi.label}
            vv = value_cell(vrow).replace("</td>", _ci_text(vrow) + "</td>")
            rows.append([f'<td class="kpi variant-row">{esc(kpi.label)} <span class="variant">[{esc(vname)}]</span>'
                         f'<br/><span class="definition">{esc(desc)}</span></td>', vv,
                         '<td class="num note">for reference</td>', '<td class="note">–</td>',
                         change_cell(vrow, _better(vrow)),
                         f'<td class="num">{int(v["n"]):,}</td>' if not missing(v.get("n")) else "<td></td>"])
    head = ["KPI and definition", ctx.label, "Target", "Status", f"vs {ctx.previous.label}", "n"]
    tbl = table(head, rows, css="scorecard", colgroup=["40%", "15%", "11%", "12%", "14%", "8%"])
    note = ('<p class="note">Rates are ratios of sums over the whole period. 95 % confidence intervals: '
            'Wilson for rates, normal approximation for NPS and mean scores. Survey KPIs below the '
            f'minimum sample ({ctx.registry.parameters.get("min_survey_sample", 30)} responses) are shown '
            'grey with "n too small" and no status. n: the denominator (contacts or responses).</p>')
    return _section(ctx, "scorecard", tbl + note)


# -- trends ------------------------------------------------------------------------------
def section_trends(ctx) -> Block:
    labels = [p.label for p in ctx.trend_window]
    g = ctx.cadence.grain
    want = ctx.cadence.trend_periods
    shown, empty = _with_values(ctx, ctx.trend_kpis)
    cap = (f"{len(labels)} {g}s to {ctx.label}"
           + (f" (the data holds {len(labels)} of the {want} {g}s this review shows)" if len(labels) < want else "")
           + (f". Not drawn, no values: {', '.join(ctx.kpi_label(k) for k in empty)}" if empty else ""))
    if not shown:
        return _section(ctx, "trends", f'<p class="note">{esc(cap)}.</p>')
    fig, alt = charts.trend_grid(ctx.trend, shown, labels, g, ctx.registry, ctx.label)
    return _section(ctx, "trends", charts.to_html(fig, alt, cap + ".") + charts.trend_legend_html())


def _with_values(ctx, kpis: list[str]) -> tuple[list[str], list[str]]:
    """(KPIs with at least one value in the trend window, KPIs without any)."""
    t = ctx.trend
    has = set(t.loc[t["value"].notna(), "kpi"])
    return [k for k in kpis if k in has], [k for k in kpis if k not in has]


# -- breakdowns --------------------------------------------------------------------------
BREAKDOWN_KPIS = ["contact_volume", "service_level", "abandonment_rate", "asa", "aht", "fcr",
                  "repeat_contact_rate", "csat"]


def _breakdown_table(ctx, dim: str) -> str:
    """The groups with the most contacts, the rest pooled in one row, then the total."""
    frame = ctx.by(dim)
    kpis = [k for k in BREAKDOWN_KPIS if k in ctx.registry]
    top, rest = bounded.top_groups(frame, dim)
    by_group = bounded.rows_by_group(frame, dim, top)
    rows = []
    for grp in top:
        sub = by_group.get(grp, {})
        rows.append([f'<td class="kpi">{esc(grp.replace("_", " "))}</td>']
                    + [_glyph_cell(sub.get(k), with_change=True) for k in kpis])
    note = ""
    if rest:
        label = bounded.other_label(dim, len(rest))
        other = bounded.pooled_rows(frame, dim, rest, ctx.registry, label)
        rows.append([f'<td class="kpi other">{esc(label)}</td>']
                    + [_glyph_cell(other.get(k), with_change=True) for k in kpis])
        note = f'<p class="note">{esc(bounded.bounded_note(dim, len(top), len(rest)))}</p>'
    total = {r["kpi"]: r for r in ctx.vs_previous.to_dict("records")}
    rows.append(['<td class="kpi total">All</td>'] + [_glyph_cell(total.get(k), True) for k in kpis])
    short = {"contact_volume": "Contacts", "service_level": "Service level", "abandonment_rate": "Abandon",
             "asa": "ASA", "aht": "AHT", "fcr": "FCR", "repeat_contact_rate": "Repeat", "csat": "CSAT"}
    head = [dim.replace("_", " ").capitalize()] + [short.get(k, ctx.kpi_label(k)) for k in kpis]
    return table(head, rows, css="breakdown",
                 colgroup=["16%"] + [f"{84 / len(kpis):.1f}%"] * len(kpis)) + note


def section_breakdowns(ctx) -> Block:
    body = ("<h3>By queue</h3>" + _breakdown_table(ctx, "queue")
            + "<h3>By channel</h3>" + _breakdown_table(ctx, "channel")
            + _glyph_legend(" Service level, abandonment and ASA cover real-time channels (voice, chat); "
                            "email and social are measured by first response time (scorecard)."))
    return _section(ctx, "breakdowns", body)


# -- AHT by issue type -------------------------------------------------------------------
def section_issue_types(ctx) -> Block:
    f = ctx.by("issue_type")
    aht = f[(f["kpi"] == "aht") & f["value"].notna()]
    if aht.empty:
        return _section(ctx, "issue_types", '<p class="note">No handled contacts with an issue type.</p>')
    fig, alt = charts.issue_type_bars(f, ctx.registry)
    rows = []
    top, rest = bounded.top_groups(f, "issue_type", volume_kpi="handled")
    by_type = bounded.rows_by_group(f, "issue_type", top)
    shown = aht[aht["issue_type"].astype(str).isin(set(top))]
    for r in shown.sort_values("value", ascending=False).to_dict("records"):
        it = str(r["issue_type"])
        rows.append([f'<td class="kpi">{esc(it.replace("_", " "))}</td>',
                     f'<td class="num">{esc(fmt_value(by_type[it].get("handled", {}).get("value"), "count"))}</td>',
                     _glyph_cell(r, True), f'<td class="tgt">{esc(target_text(r))}</td>',
                     _glyph_cell(by_type[it].get("fcr"), True)])
    note = ""
    if rest:
        label = bounded.other_label("issue_type", len(rest))
        other = bounded.pooled_rows(f, "issue_type", rest, ctx.registry, label)
        rows.append([f'<td class="kpi other">{esc(label)}</td>',
                     f'<td class="num">{esc(fmt_value((other.get("handled") or {}).get("value"), "count"))}</td>',
                     _glyph_cell(other.get("aht"), True), '<td class="tgt">–</td>',
                     _glyph_cell(other.get("fcr"), True)])
        note = (f'<p class="note">'
                f'{esc(bounded.bounded_note("issue_type", len(top), len(rest), by="handled contacts"))}</p>')
    tbl = table(["Issue type", "Handled", "AHT", "AHT target", "FCR"], rows, css="issues",
                colgroup=["30%", "14%", "20%", "16%", "20%"])
    src = (f"AHT targets by issue type come from {esc(ctx.targets_file.name)}."
           if ctx.targets_file else "No targets file: every issue type has the catalogue's AHT target.")
    n_types = len(aht)
    cap = (f"The {charts.MAX_BARS} issue types with the most handled contacts, of {n_types:,}."
           if n_types > charts.MAX_BARS else "")
    return _section(ctx, "issue_types", charts.to_html(fig, alt, cap) + tbl + note
                    + f'<p class="note">{src}</p>' + _glyph_legend())


# -- heat map ----------------------------------------------------------------------------
def section_heatmap(ctx) -> Block:
    if ctx.heat.empty:
        return _section(ctx, "heatmap", '<p class="note">No contacts in this period.</p>')
    targets = {k: ctx.registry[k].target for k in ("service_level", "abandonment_rate")}
    fig, alt = charts.heatmaps(ctx.heat, ctx.registry, targets, WEEKDAYS)
    per_day = (" per day: each cell is the average over the weeks of the period (contacts on "
               "that weekday and hour ÷ the number of such weekdays)"
               if ctx.cadence.grain != "week" else "")
    cap = f"Contacts by arrival hour{per_day}, {ctx.label}."
    note = ""
    if len(charts.heat_panels(ctx.heat)) == 3:
        cap += (" Service level and abandonment: real-time channels; colours centred on the target "
                "(black line on the colour bar): blue better, vermillion worse.")
    else:
        note = (f'<p class="note">Service level and abandonment are not mapped: no weekday-hour cell had '
                f"{charts.MIN_CELL_CONTACTS} real-time contacts, too few for a rate to mean anything.</p>")
    return _section(ctx, "heatmap", charts.to_html(fig, alt, cap) + note)


# -- cost and workforce (monthly, quarterly) -----------------------------------------------
def section_cost_workforce(ctx) -> Block:
    parts = []
    q = ctx.by("queue")
    cost = q[q["kpi"] == "cost_per_contact"]
    total = ctx.row("cost_per_contact")
    if total is None or missing(total.get("value")):
        reason = (total or {}).get("reason") or "no cost data"
        parts.append(f'<p class="note">Cost per contact is not available: {esc(reason)}.</p>')
    else:
        top, rest = bounded.top_groups(q, "queue", volume_kpi="handled")
        shown = cost[cost["queue"].astype(str).isin(set(top))]
        rows = [[f'<td class="kpi">{esc(str(r["queue"]).replace("_", " "))}</td>', value_cell(r),
                 change_cell(r, _better(r))] for r in shown.sort_values("value").to_dict("records")
                if not missing(r.get("value"))]
        if rest:
            label = bounded.other_label("queue", len(rest))
            other = bounded.pooled_rows(q, "queue", rest, ctx.registry, label).get("cost_per_contact")
            if other:
                rows.append([f'<td class="kpi other">{esc(label)}</td>', value_cell(other),
                             change_cell(other, _better(other))])
        rows.append(['<td class="kpi total">All</td>', value_cell(total), change_cell(total, _better(total))])
        parts.append("<h3>Cost per handled contact</h3>" + table(
            ["Queue", ctx.label, f"vs {ctx.previous.label}"], rows, css="cost", colgroup=["40%", "30%", "30%"]))
        parts.append('<p class="note">Costs are spread pro rata by day; costs without a queue are shared '
                     "out by each queue's share of handled contacts.</p>")
        if rest:
            parts.append(f'<p class="note">{esc(bounded.bounded_note("queue", len(top), len(rest), by="handled contacts"))}</p>')
    agents = ctx.agents
    if agents.empty or agents["value"].notna().sum() == 0:
        parts.append('<p class="note">Occupancy and utilization need the agent_activity table, which is not in the data.</p>')
    else:
        fig, alt = charts.distribution(agents, ctx.registry)
        occ, util = ctx.row("occupancy"), ctx.row("utilization")
        rows = [[f'<td class="kpi">{esc(r["label"])}</td>', value_cell(r), f'<td class="tgt">{esc(target_text(r))}</td>',
                 f"<td>{row_badge(r)}</td>", change_cell(r, _better(r))]
                for r in (occ, util) if r]
        parts.append("<h3>Agent occupancy and utilization</h3>"
                     + table(["KPI", ctx.label, "Target band", "Status", f"vs {ctx.previous.label}"], rows,
                             css="workforce", colgroup=["28%", "16%", "20%", "16%", "20%"])
                     + charts.to_html(fig, alt, f"Per-agent values for {ctx.label}; agents with activity in the period."))
    return _section(ctx, "cost_workforce", "".join(parts))


# -- staffing (quarterly) ----------------------------------------------------------------
def section_staffing(ctx) -> Block:
    s = ctx.staffing
    prof = s["profile"]
    if prof is None or prof.empty:
        return _section(ctx, "staffing", f'<p class="note">No {esc(s["channel"])} contacts in this period.</p>')
    measured = s.get("staffed_from") == "staffing table"
    fig, alt = charts.staffing_chart(prof, s["channel"], s["answer_within_s"], s["target_sl"], measured)
    worst = prof.sort_values("staffing_gap").head(8)
    rows = [[f'<td>{esc(r["weekday"])} {esc(r["time_of_day"])}</td>',
             f'<td class="num">{r["contacts"]:.1f}</td>',
             f'<td class="num">{esc(fmt_value(r["aht_s"], "seconds"))}</td>',
             f'<td class="num">{r["required_agents"]:.1f}</td>',
             f'<td class="num">{r["workload_agents"]:.1f}</td>',
             f'<td class="num">{r["staffed_agents"]:.1f}</td>',
             f'<td class="num {"worse" if r["staffing_gap"] < 0 else "better"}">{r["staffing_gap"]:+.1f}</td>',
             f'<td class="num">{esc(fmt_value(r["achieved_sl"], "fraction"))}</td>']
            for r in worst.to_dict("records")]
    tbl = table(["Slot", "Contacts", "AHT", "Required", "Workload (est.)",
                 "Staffed (WFM)" if measured else "Staffed (est.)", "Gap", "Achieved SL"],
                rows, css="staffing",
                colgroup=["18%", "11%", "10%", "11%", "13%", "13%", "10%", "14%"],
                caption=("The eight slots with the largest shortfall (means over the period)"
                         if (worst["staffing_gap"] < 0).any() else
                         "No slot was short on average; the eight with the smallest margin (means over the period)"))
    erlang = (f'Erlang C on each {s["interval_minutes"]}-minute interval of {esc(s["channel"])} '
              f'contacts: the agents needed to answer {100 * s["target_sl"]:.0f} % within '
              f'{s["answer_within_s"]:.0f} s given the interval\'s volume and AHT. ')
    if measured:
        note = (f'<p class="note">{erlang}Staffed agents are the staffing table\'s rows for '
                f'{esc(s["channel"])} (agents on average over each interval; intervals the table does '
                "not fully cover are left out). Workload = handle seconds ÷ interval seconds.</p>")
    else:
        note = (f'<p class="note">{erlang}The data holds no staffing table for {esc(s["channel"])}, '
                "so the agents present are estimated: workload = handle seconds ÷ interval seconds "
                "(agents busy on average); staffed = "
                + ("workload ÷ that day's measured occupancy (agent activity, all channels)"
                   if s.get("occupancy_known")
                   else "the workload itself (no agent activity to measure occupancy; the staffed "
                        "count is understated)")
                + ". Both are estimates, not counts; a staffing table gives the real comparison.</p>")
    return _section(ctx, "staffing", charts.to_html(fig, alt) + tbl + note)


# -- guardrail ---------------------------------------------------------------------------
def section_guardrail(ctx) -> Block:
    g = ctx.guardrail
    cls = "alert" if g.fired else "calm"
    parts = [f'<div class="guardrail-line {cls}"><p><strong>{esc(headline(g, ctx.cadence.grain))}</strong></p>']
    if g.fired:
        shown = sorted(g.findings, key=lambda f: f.scope != "All contacts")
        lines = [finding_sentence(f) for f in shown[:4]]
        if len(shown) > 4:
            also, more = bounded.listed([f"{f.scope} against {f.against}" for f in shown[4:]])
            lines.append("Also: " + "; ".join(also) + (f"; and {more:,} more" if more else "") + ".")
        parts.append(bullets(lines))
    parts.append("</div>")
    if g.table is not None and len(g.table):
        kpis = [EFFICIENCY_KPI, *EXPERIENCE_KPIS]
        rows = []
        for against, sub in g.table.groupby("against", sort=False):
            recs = {r["kpi"]: r for r in sub.to_dict("records")}
            period = sub["compare_period"].iloc[0]
            rows.append([f'<td class="kpi">{esc(against)}<br/><span class="note">{esc(period)}</span></td>']
                        + [_glyph_cell(recs.get(k), True) for k in kpis])
        parts.append(table(["Compared with"] + [ctx.kpi_label(k) for k in kpis], rows, css="guardrail",
                           colgroup=["28%", "18%", "18%", "18%", "18%"],
                           caption=f"{ctx.label}: value, status and change against each comparison"))
    if g.unavailable:
        parts.append('<p class="note">Not compared: ' + esc("; ".join(g.unavailable)) + ".</p>")
    parts.append(f'<p class="note">{esc(g.rule)}</p>')
    labels = [p.label for p in ctx.trend_window]
    shown, _ = _with_values(ctx, [EFFICIENCY_KPI, *EXPERIENCE_KPIS])
    if len(labels) >= 2 and shown:
        fig, alt = charts.trend_grid(ctx.trend, shown, labels,
                                     ctx.cadence.grain, ctx.registry, ctx.label, ncols=4, panel_height=1.75,
                                     titles={"aht": "AHT", "fcr": "FCR", "csat": "CSAT",
                                             "repeat_contact_rate": "Repeat contacts"})
        parts.append(charts.to_html(fig, alt, "Efficiency (AHT) next to the experience measures it can hurt."))
    return _section(ctx, "guardrail", "".join(parts))


# -- action triggers ---------------------------------------------------------------------
def section_triggers(ctx) -> Block:
    g = ctx.cadence.grain
    outcomes = sorted(by_rule(ctx.triggers), key=lambda o: (not o.fired_anywhere, o.total.status != "fired"))
    rows = []
    for o in outcomes:
        r = o.total
        if r.status == "fired":
            res = '<td class="fired"><span class="rag rag-red">■ Fired</span></td>'
        elif r.status == "ok":
            res = '<td><span class="rag rag-green">● Not fired</span></td>'
        elif r.status == "not significant":
            res = f'<td class="note">Not fired: {esc(r.note)}</td>'
        else:
            res = f'<td class="note">Not evaluated: {esc(r.note)}</td>'
        where = esc(o.places(6)) if o.elsewhere else '<span class="note">–</span>'
        action = (esc(o.trigger.action) if o.fired_anywhere
                  else f'<span class="note">{esc(o.trigger.action)}</span>')
        rows.append([f"<td>{esc(rule_text(o.trigger, r.label, r.unit, g))}</td>",
                     f'<td class="num">{esc(r.observed_text).replace(" ± ", "<br/>± ")}</td>', res,
                     f'<td class="{"fired" if o.elsewhere else ""}">{where}</td>', f"<td>{action}</td>"])
    tbl = table(["Rule", "All contacts", "Result", "Also fired in", "Suggested action"], rows, css="triggers",
                colgroup=["22%", "11%", "13%", "22%", "32%"])
    note = ('<p class="note">Rules come from the KPI catalogue (triggers). Each is checked on all contacts '
            "and on every queue and channel, so a problem in one queue is not averaged away. Survey rules "
            "are not evaluated below the minimum sample.</p>")
    return _section(ctx, "triggers", tbl + note)


# -- data quality ------------------------------------------------------------------------
def section_data_quality(ctx) -> Block:
    level, sentence = dq.verdict(ctx)
    parts = [f'<p class="dq-verdict dq-{level}"><strong>{esc(sentence)}</strong></p>']
    if ctx.validation is not None and dq.results(ctx):
        crit, warn = dq.problems(ctx)
        skipped = dq.skipped(ctx)
        counts = dq.checks_by_table(ctx)
        rows_by = dq.rows_checked(ctx)
        parts.append(f"<p>The data-quality gate ran the {len(dq.results(ctx))} checks of the Great "
                     f"Expectations suites (in SQL, where the data is) on {esc(dq.scope_text(ctx))}: "
                     f"{dq.counted(len(crit), 'critical failure')}, {dq.counted(len(warn), 'warning')}"
                     f"{f', {len(skipped)} skipped' if skipped else ''}. A critical failure stops the review; "
                     "warnings are listed here. Every check is listed in the appendix.</p>")
        parts.append(_dq_lines(ctx, limit=10))
        rows = []
        for t in sorted(set(counts) | set(rows_by)):
            failed_here = sum(1 for r in crit + warn if (r.get("table") or "?") == t)
            rows.append([f'<td class="kpi">{esc(t)}</td>', f'<td class="num">{rows_by.get(t, 0):,}</td>',
                         f'<td class="num">{counts.get(t, 0)}</td>', f'<td class="num">{failed_here}</td>'])
        parts.append("<h3>What was checked</h3>" + table(["Table", "Rows checked", "Checks", "Failed"], rows,
                                                          css="dq", colgroup=["40%", "20%", "20%", "20%"]))
        lowered = dq.overrides(ctx)
        if lowered:
            items = [f"<li><strong>{esc(o['suite'])}.{esc(o['check'])}</strong> lowered from "
                     f"{esc(o.get('original_severity') or 'critical')} to {esc(o['severity'])}"
                     f"{' (it failed in this review)' if o['failed'] else ' (it passed in this review)'}: "
                     f"{esc(o['reason'])}</li>" for o in lowered]
            parts.append(f'<div class="dq-overrides"><h3>Accepted by {esc(dq.config_name(ctx))}</h3>'
                         "<p>The center configuration lowers these checks to warnings, so a known, "
                         f"accepted defect does not stop the review:</p><ul>{''.join(items)}</ul></div>")
        if crit or warn:
            rows = []
            for r in crit + warn:
                ex = r.get("examples") or r.get("example_values") or []
                ex_text = ", ".join(str(e) for e in list(ex)[:3])
                uc, ec = r.get("unexpected_count"), r.get("element_count")
                share = (f"{int(uc):,} of {int(ec):,}" if isinstance(uc, (int, float)) and isinstance(ec, (int, float))
                         else str(uc or ""))
                col = f"{r.get('table')}.{r.get('column')}" if r.get("column") else str(r.get("table"))
                o = r.get("override") or {}
                severity = esc(r.get("severity") or "critical") + (
                    f'<br/><span class="note">lowered from {esc(o.get("original_severity"))} by '
                    f'{esc(o.get("source"))}: {esc(o.get("reason"))}</span>' if o else "")
                rows.append([f"<td>{esc(col)}</td>", f"<td>{esc(r.get('description') or r.get('expectation'))}</td>",
                             f"<td>{severity}</td>",
                             f'<td class="num">{esc(share)}</td>', f"<td>{esc(ex_text)}</td>"])
            parts.append("<h3>What failed</h3>" + table(["Column", "Check", "Severity", "Rows", "Examples"], rows,
                                                         css="dq-failures",
                                                         colgroup=["20%", "34%", "12%", "14%", "20%"]))
        # Nothing failed: the verdict above already says so.
    return _section(ctx, "data_quality", "".join(parts))


# -- appendix ----------------------------------------------------------------------------
def _fmt_threshold(v, unit) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return fmt_value(v, unit)


def section_appendix(ctx) -> Block:
    reg = ctx.registry
    params = ctx.data.params
    config = ctx.data.config
    files = "; ".join(f"{t} ({f.format})" for t, f in ctx.data.files.items())
    overrides = getattr(ctx.data.targets, "overrides", []) or []
    first, last = ctx.coverage
    prow = [
        ("Review", f"{ctx.cadence.title}, {ctx.label} ({ctx.period.start} to {ctx.period.end})"),
        ("Compared with", f"{ctx.previous.label} (previous) and {ctx.last_year.label} (same period last year)"),
        ("Trend window", f"{ctx.cadence.trend_periods} {ctx.cadence.grain}s ending {ctx.label}"),
        ("Data folder", f"{ctx.data_dir.name} — {files}"),
        ("Data coverage", f"{first} to {last}"),
        ("Configuration", config.name + (" (catalogue defaults)" if config.source is None else
                                         " (center configuration; command-line options win over it)")),
        ("Targets file", f"{Path(ctx.targets_file).name} ({len(overrides)} overrides in force)" if ctx.targets_file
         else (f"none; {len(overrides)} overrides from {config.name}" if overrides else "none (catalogue defaults)")),
        ("Commentary", Path(ctx.commentary.path).name + (
            (" (a stub: delete its first line once reviewed)" if ctx.commentary.stub else "")
            if ctx.commentary.exists else
            f" (not present: write it, or start one with kpitools report {ctx.cadence.name} "
            f"--period {ctx.label} --stub)")),
        ("Validation summary", f"{ctx.validation_path.name} (saved next to this review)" if ctx.validation_path else
         ("run in the notebook" if ctx.validation is not None else "not run")),
        ("Business time zone", str(params.get("business_timezone", "UTC"))),
        ("Real-time channels", ", ".join(params.get("realtime_channels", []))),
        ("Answer thresholds", ", ".join(f"{k} {v:g} s" for k, v in (params.get("answer_threshold_s") or {}).items())
         + f"; other channels {params.get('default_answer_threshold_s', 20):g} s"),
        ("Short abandon", f"waited less than {params.get('short_abandon_s', 5):g} s"),
        ("Repeat window", f"{params.get('repeat_window_h', 168):g} h, "
         + ("any issue type" if params.get("repeat_scope") == "any_issue" else "same issue type")),
        ("Minimum survey sample", f"{params.get('min_survey_sample', 30)} responses"),
        ("Currency", " ".join(str(params[k]) for k in ("currency_code", "currency_symbol") if params.get(k))
         or "not set (amounts without a symbol)"),
        ("Definitions", f"preset {config.definitions or 'kpitools'}: " + "; ".join(
            f"{k.id} {k.variant}" for k in reg.kpis.values() if k.variants)
         + f" (all {len(reg['service_level'].variants)} service-level variants shown in the scorecard)"),
        ("Generated", f"{ctx.generated_at:%Y-%m-%d %H:%M} with kpitools {__version__}; formats {', '.join(ctx.formats)}"),
    ]
    ptable = table(["Parameter", "Value"], [[f'<td class="kpi">{esc(k)}</td>', f"<td>{esc(v)}</td>"] for k, v in prow],
                   css="params", colgroup=["26%", "74%"])
    if config.source is not None:
        crow = [[f'<td class="kpi">{esc(k)}</td>', f"<td>{esc(v)}</td>"] for k, v in config.describe()[1:]]
        ptable += (f"<h3>Configuration in force ({esc(config.name)})</h3>"
                   + (table(["Setting", "Value"], crow, css="params", colgroup=["26%", "74%"]) if crow
                      else "<p>The file sets nothing: catalogue defaults throughout.</p>"))
    rows = []
    for k in reg.kpis.values():
        f = k.formula()
        formula = describe_terms(reg, f.numerator)
        if f.denominator:
            formula = f"({formula}) ÷ ({describe_terms(reg, f.denominator)})"
        if f.scale != 1:
            formula = f"{f.scale:g} × {formula}"
        variants = ""
        if k.variants:
            variants = "<br/>" + "<br/>".join(
                f'<span class="variant">[{esc(v)}]</span> {esc(k.formula(v).description)}' for v in k.variants)
        th = "–"
        if k.target is not None:
            th = (f"target {_fmt_threshold(k.target, k.unit)}; warning {_fmt_threshold(k.warning, k.unit)}; "
                  f"critical {_fmt_threshold(k.critical, k.unit)}")
        origin = f" · from {config.name}" if k.id in {str(x.get("id")) for x in config.kpis} else ""
        rows.append([f'<td class="kpi">{esc(k.label)}<br/><span class="note">{esc(k.id)}{esc(origin)}</span></td>',
                     f"<td>{esc(k.description)}<br/><span class=\"formula\">{esc(formula)}</span>{variants}</td>",
                     f"<td>{esc(k.unit)}, {esc(k.direction)}</td>", f"<td>{esc(th)}</td>"])
    ktable = table(["KPI", "Definition and formula", "Unit, better", "Thresholds"], rows, css="definitions",
                   colgroup=["17%", "51%", "12%", "20%"])
    otable = ""
    if overrides:
        orows = []
        for o in overrides:
            where = ", ".join(f"{d} {o[d]}" for d in ("queue", "channel", "issue_type", "team", "agent_id") if d in o)
            unit = reg[o["kpi"]].unit
            orows.append([f"<td>{esc(reg[o['kpi']].label)}</td>", f"<td>{esc(where)}</td>",
                          f'<td class="num">{esc(fmt_value(o["target"], unit))}</td>'])
        otable = "<h3>Target overrides</h3>" + table(["KPI", "Applies to", "Target"], orows, css="overrides",
                                                     colgroup=["35%", "40%", "25%"])
    return _section(ctx, "appendix", "<h3>Parameters used</h3>" + ptable + "<h3>KPI definitions</h3>" + ktable
                    + otable + _checks_run(ctx))


def _checks_run(ctx) -> str:
    """Every data-quality check by table, in words (traceability for the Data quality section)."""
    if not dq.results(ctx):
        return ""
    by_table: dict[str, list[str]] = {}
    for r in dq.results(ctx):
        d = r.get("description") or r.get("expectation") or ""
        lst = by_table.setdefault(r.get("table") or "?", [])
        if d not in lst:
            lst.append(d)
    return ("<h3>Data-quality checks run</h3>" + '<div class="checks">' + "".join(
        f"<p><strong>{esc(t)}</strong>: {esc('; '.join(ds))}.</p>" for t, ds in by_table.items()) + "</div>")


SECTION_FUNCTIONS = {
    "executive_summary": section_executive_summary,
    "scorecard": section_scorecard,
    "trends": section_trends,
    "breakdowns": section_breakdowns,
    "issue_types": section_issue_types,
    "heatmap": section_heatmap,
    "cost_workforce": section_cost_workforce,
    "staffing": section_staffing,
    "guardrail": section_guardrail,
    "triggers": section_triggers,
    "data_quality": section_data_quality,
    "appendix": section_appendix,
}


def render_all(ctx) -> str:
    """Every section of the cadence as one HTML string (what the template displays, cell by cell)."""
    return "".join(str(fn(ctx)) for fn in [section_title] + [SECTION_FUNCTIONS[k] for k in ctx.cadence.sections])

