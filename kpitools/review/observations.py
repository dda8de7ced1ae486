"""Automatic observations: plain sentences computed from the numbers, one list per section.

They stand in for analyst commentary (and the review is then marked DRAFT), and they pre-fill
the commentary stub. Every number is formatted with :mod:`kpitools.formatting`, so a sentence
and the table next to it always agree.

>>> # "First contact resolution fell 3.1 pts to 71.2 %, below the 75.0 % target;
>>> #  billing contributed most (−2.0 pts)."
"""

from __future__ import annotations

import calendar
import math

import pandas as pd

from ..formatting import as_number as _num
from ..formatting import fmt_change, fmt_value
from .changes import is_material, materiality
from .guardrail import mid, summary_sentence
from .heat import WEEKDAYS
from .htmlkit import target_of
from .triggers import first_sentence, rule_text, top_rules

MAX_MOVERS = 3




def name(value) -> str:
    """A queue, channel or issue type in a sentence: 'outage report', not 'outage_report'."""
    return str(value).replace("_", " ")


def contacts(n) -> str:
    """'1 contact', '1,204 contacts'."""
    text = fmt_value(n, "count")
    return f"{text} contact" + ("" if text == "1" else "s")


def _amount(change: float, unit: str) -> str:
    """A change without its sign: '3.1 pts', '0:42'."""
    return fmt_change(abs(change), unit)[1:]


def target_clause(row: dict) -> str:
    """', below the 75.0 % target' / ', meeting the 6:00 target' ('' without a target)."""
    target = row.get("target")
    status = row.get("status")
    if target is None or (isinstance(target, float) and math.isnan(target)) or not isinstance(status, str):
        return ""
    if row.get("small_sample"):
        return ""
    t = fmt_value(target, row["unit"])
    direction = row.get("direction")
    # The value itself prints with the digits that set it apart (74.96 %); still say how close.
    just = "just " if status != "green" and fmt_value(row.get("value"), row["unit"]) == t else ""
    if status == "green":
        return f", within the {t} band" if direction == "band" else f", meeting the {t} target"
    if direction == "band":
        clause = f", outside the {t} band"
    elif direction == "higher":
        clause = f", {just}below the {t} target"
    else:
        clause = f", {just}above the {t} target"
    return clause + (" (critical)" if status == "red" else "")


def contributions(ctx, kpi: str, dim: str = "queue") -> pd.Series | None:
    """Each group's contribution to the change of a ratio KPI (they sum to the total change).

    For a ratio R = N / D with parts n_g / d_g, group g contributes
    (n1_g − R0·d1_g) / D1 − (n0_g − R0·d0_g) / D0, where 0 is the earlier period; the
    contributions add up exactly to R1 − R0. For counts, a group contributes its own change.
    """
    frame = ctx.queues if dim == "queue" else ctx.channels
    sub = frame[frame["kpi"] == kpi]
    now = sub[sub["period"] == ctx.label].set_index(dim)
    then = sub[sub["period"] == ctx.previous.label].set_index(dim)
    if now.empty or then.empty:
        return None
    k = ctx.registry[kpi]
    if k.is_statistic:  # a percentile has no additive parts to attribute
        return None
    if k.is_count:
        return now["value"].sub(then["value"], fill_value=0.0)
    scale = k.formula().scale
    n1, d1 = now["numerator"], now["denominator"]
    n0, d0 = then["numerator"], then["denominator"]
    big_d1, big_d0 = d1.sum(), d0.sum()
    if not big_d1 or not big_d0 or n1.isna().any() or n0.isna().any():
        return None
    r0 = n0.sum() / big_d0
    part1 = (n1 - r0 * d1) / big_d1
    part0 = (n0 - r0 * d0) / big_d0
    return scale * part1.sub(part0, fill_value=0.0)


def change_sentence(ctx, row: dict, against: str | None = None) -> str:
    """'First contact resolution fell 3.1 pts to 71.2 %, below the 75.0 % target; billing
    contributed most (−2.0 pts).'"""
    change = row["change"]
    verb = "rose" if change > 0 else "fell"
    against = against or f"the previous {ctx.cadence.grain}"
    text = (f"{row['label']} {verb} {_amount(change, row['unit'])} to "
            f"{fmt_value(row['value'], row['unit'], against=target_of(row))} against {against}"
            f"{target_clause(row)}")
    parts = contributions(ctx, row["kpi"])
    if parts is not None and len(parts) > 1:
        same_sign = parts[parts * change > 0]
        if len(same_sign):
            top = same_sign.abs().idxmax()
            text += f"; {name(top)} contributed most ({fmt_change(same_sign[top], row['unit'])})"
    return text + "."


def movers(ctx) -> list[dict]:
    """Headline KPIs with a material change against the previous period, biggest first."""
    rows = []
    for kid in ctx.headline_kpis:
        r = ctx.row(kid)
        if r is None or not is_material(r):
            continue
        bar = materiality(r["direction"], r["warning"], r["critical"]) or (
            0.1 * abs(r["compare_value"]) if _num(r.get("compare_value")) else None)
        r["_size"] = abs(r["change"]) / bar if bar else 0
        rows.append(r)
    return sorted(rows, key=lambda r: -r["_size"])


def _status_list(rows: list[dict]) -> str:
    return ", ".join(f"{r['label']} ({fmt_value(r['value'], r['unit'], against=target_of(r))})"
                     for r in rows)


def executive_summary(ctx) -> list[str]:
    out = []
    g = ctx.cadence.grain
    if ctx.partial:
        out.append(f"{ctx.label} is a partial {g}: {ctx.partial_reason}, so "
                   "changes against other periods are not shown.")
    moved = movers(ctx)
    for r in moved[:MAX_MOVERS]:
        out.append(change_sentence(ctx, r))
    mentioned = {r["kpi"] for r in moved[:MAX_MOVERS]}
    rows = [ctx.row(k) for k in ctx.headline_kpis]
    rows = [r for r in rows if r and not r.get("small_sample")]
    red = [r for r in rows if r.get("status") == "red" and r["kpi"] not in mentioned]
    amber = [r for r in rows if r.get("status") == "amber" and r["kpi"] not in mentioned]
    if red:
        out.append("Past the critical line: " + _status_list(red) + ".")
    if amber and len(out) < 3:
        out.append("Off target: " + _status_list(amber) + ".")
    if not moved and not ctx.partial:
        out.append(f"No headline KPI moved materially against the previous {g}.")
    small = [r for r in (ctx.row(k) for k in ctx.headline_kpis) if r and r.get("small_sample")
             and not pd.isna(r.get("value"))]
    if small:
        out.append("Too few survey responses to judge " + ", ".join(r["label"] for r in small)
                   + f" (n below {ctx.registry[small[0]['kpi']].min_sample}).")
    return out


def scorecard(ctx) -> list[str]:
    rows = [r for r in ctx.vs_previous.to_dict("records")
            if isinstance(r.get("status"), str) and not r.get("small_sample")]
    if not rows:
        return []
    green = [r for r in rows if r["status"] == "green"]
    out = [f"{len(green)} of {len(rows)} KPIs with a target are on target."]
    red = [r for r in rows if r["status"] == "red"]
    if red:
        out.append("Past the critical line: " + _status_list(red) + ".")
    return out


def trends(ctx) -> list[str]:
    out = []
    t = ctx.trend
    n = len(ctx.trend_window)
    g = ctx.cadence.grain
    if n < 3:
        return [f"Only {n} {g}(s) of history in the data: trends are short."]
    for kid in ctx.trend_kpis:
        sub = t[(t["kpi"] == kid)].set_index("period").reindex([p.label for p in ctx.trend_window])
        cur = sub.loc[ctx.label] if ctx.label in sub.index else None
        if cur is None or pd.isna(cur["value"]) or bool(cur["small_sample"]):
            continue
        label = ctx.kpi_label(kid)
        statuses = sub["status"].tolist()
        streak = 0
        for s in reversed(statuses):
            if s in ("amber", "red"):
                streak += 1
            else:
                break
        if streak >= 3:
            whole = "each of " if streak == n else ""
            out.append(f"{label} has missed its target in {whole}the last {streak} {g}s.")
            continue
        vals = sub["value"].dropna()
        complete = sub[~sub["partial"].astype(bool)]["value"].dropna()
        if len(complete) >= 4 and not bool(cur["partial"]):
            unit = ctx.registry[kid].unit
            if cur["value"] >= complete.max():
                out.append(f"{label} is the highest in {len(vals)} {g}s ({fmt_value(cur['value'], unit)}).")
            elif cur["value"] <= complete.min():
                out.append(f"{label} is the lowest in {len(vals)} {g}s ({fmt_value(cur['value'], unit)}).")
    return out[:6]


def shortfall(row: dict) -> float:
    """How far the value is past its target, in the KPI's unit (0 when it meets it)."""
    value, target = _num(row.get("value")), row.get("target")
    if value is None or target is None or row.get("small_sample"):
        return 0.0
    direction = row.get("direction")
    if direction == "band" and isinstance(target, (list, tuple)):
        return max(target[0] - value, value - target[1], 0.0)
    target = _num(target)
    if target is None:
        return 0.0
    if direction == "higher":
        return max(target - value, 0.0)
    if direction == "lower":
        return max(value - target, 0.0)
    return 0.0


def impact(row: dict) -> float:
    """Distance past target × volume (n): a large queue a little off target outranks a tiny
    one far off it. The order of the worst-first lists."""
    return shortfall(row) * (_num(row.get("n")) or 0.0)


def worst_first(frame: pd.DataFrame, kpi: str) -> list[dict]:
    """Rows of ``kpi`` that miss their target, by impact (largest first), never by name."""
    rows = [r for r in frame[frame["kpi"] == kpi].to_dict("records") if shortfall(r) > 0]
    return sorted(rows, key=lambda r: -impact(r))


def _where(row: dict, dim: str) -> str:
    n = _num(row.get("n"))
    size = f" on {fmt_value(n, 'count')}" if n is not None else ""
    return (f"{name(row[dim])} ({fmt_value(row['value'], row['unit'], against=row.get('target'))}"
            f"{size})")


def breakdowns(ctx) -> list[str]:
    """The queues and channels furthest past target (× volume) first, then material moves."""
    out = []
    q = ctx.by("queue")
    for dim, frame in (("queue", q), ("channel", ctx.by("channel"))):
        hits = [rows[0] for kid in ("service_level", "fcr", "abandonment_rate")
                if (rows := worst_first(frame, kid))]
        for worst in sorted(hits, key=lambda r: -impact(r))[:2]:
            out.append(f"{worst['label']} misses its target most in the {name(worst[dim])} {dim} "
                       f"({fmt_value(worst['value'], worst['unit'], against=worst.get('target'))}"
                       f" on {fmt_value(worst['n'], 'count')}{target_clause(worst)}).")
    moves = [r for r in q.to_dict("records") if r["kpi"] in ("service_level", "fcr", "aht", "abandonment_rate")
             and is_material(r)]
    moves.sort(key=lambda r: -abs(r["change"]) / (materiality(r["direction"], r["warning"], r["critical"]) or 1))
    for r in moves[:2]:
        verb = "rose" if r["change"] > 0 else "fell"
        out.append(f"In {name(r['queue'])}, {mid(r['label'])} "
                   f"{verb} {_amount(r['change'], r['unit'])} to "
                   f"{fmt_value(r['value'], r['unit'], against=target_of(r))}.")
    return out


def issue_types(ctx) -> list[str]:
    """Issue types past their FCR and AHT targets, worst (distance × volume) first; the one
    with the lowest FCR is always named."""
    out = []
    f = ctx.by("issue_type")
    fcr = worst_first(f, "fcr")
    if fcr:
        shown = fcr[:3]
        lowest = min(fcr, key=lambda r: r["value"])
        if lowest not in shown:
            shown.append(lowest)
        out.append("Furthest below the FCR target (distance × contacts): "
                   + ", ".join(_where(r, "issue_type") for r in shown) + ".")
    aht = worst_first(f, "aht")
    if aht:
        out.append("Furthest above their AHT target (distance × contacts): " + ", ".join(
            f"{name(r['issue_type'])} ({fmt_value(r['value'], 'seconds', against=r['target'])} vs "
            f"{fmt_value(r['target'], 'seconds')})" for r in aht[:3]) + ".")
    elif len(f[(f["kpi"] == "aht") & f["value"].notna()]):
        out.append("Every issue type is within its AHT target.")
    aht_ok = {r["issue_type"] for r in f[(f["kpi"] == "aht")].to_dict("records")
              if r.get("status") == "green"}
    fast_unresolved = [r for r in fcr if r["issue_type"] in aht_ok]
    if fast_unresolved:
        out.append("Within their AHT target but below the FCR target: " + ", ".join(
            _where(r, "issue_type") for r in fast_unresolved[:3]) + " — fast is not the same as resolved.")
    return out


def heatmap(ctx) -> list[str]:
    from .charts import MIN_CELL_CONTACTS

    h = ctx.heat
    out = []
    vol = h[h["kpi"] == "contact_volume"]
    if len(vol):
        top = vol.sort_values("value", ascending=False).iloc[0]
        day = WEEKDAYS[int(top["weekday"]) - 1]
        if ctx.cadence.grain == "week":
            out.append(f"Busiest hour: {day} {int(top['hour']):02d}:00 "
                       f"with {contacts(top['value'])}.")
        else:  # per-day averages: a weekday occurring five times is not busier for it
            out.append(f"Busiest hour: {day} {int(top['hour']):02d}:00 with "
                       f"{top['value']:,.1f} contacts on an average {calendar.day_name[int(top['weekday']) - 1]}.")
    for kid, word in (("service_level", "Lowest service level"), ("abandonment_rate", "Highest abandonment")):
        sub = h[(h["kpi"] == kid) & (h["denominator"] >= MIN_CELL_CONTACTS) & h["value"].notna()]
        if sub.empty:
            continue
        r = sub.sort_values("value", ascending=(kid == "service_level")).iloc[0]
        out.append(f"{word}: {WEEKDAYS[int(r['weekday']) - 1]} {int(r['hour']):02d}:00 "
                   f"({fmt_value(r['value'], 'fraction')} of {contacts(r['denominator'])}).")
    return out


def cost_workforce(ctx) -> list[str]:
    out = []
    r = ctx.row("cost_per_contact")
    if r and not pd.isna(r.get("value")):
        s = f"Cost per contact was {fmt_value(r['value'], 'currency', symbol=r.get('currency'))}"
        if not pd.isna(r.get("change")):
            s += f" ({fmt_change(r['change'], 'currency')} on the previous {ctx.cadence.grain})"
        out.append(s + ".")
    a = ctx.agents
    for kid in ("occupancy", "utilization"):
        vals = a[(a["kpi"] == kid)]["value"].dropna()
        if len(vals):
            band = ctx.registry[kid].target
            above = int((vals > band[1]).sum())
            below = int((vals < band[0]).sum())
            out.append(f"{ctx.kpi_label(kid)}: {above} of {len(vals)} agents above and {below} below "
                       f"the {fmt_value(band, 'fraction')} band.")
    return out


def staffing(ctx) -> list[str]:
    s = ctx.staffing
    prof = s["profile"]
    if prof is None or prof.empty:
        return []
    channel, target = s["channel"], s["target_sl"]
    slots = f"{len(prof)} weekday × half-hour slots (averages over the {ctx.cadence.grain})"
    measured = s.get("staffed_from") == "staffing table"
    short = prof[prof["staffing_gap"] < 0]
    met_all = int((prof["achieved_sl"] >= target).sum())
    met_short = int((short["achieved_sl"] >= target).sum())
    if measured:
        out = [f"Staffed {channel} agents (staffing table) were below the Erlang C requirement in "
               f"{len(short)} of {slots}."]
    else:
        # Lead with what was measured (service level), then the estimate, labelled as one.
        out = [f"The {channel} line met the {100 * target:.0f} % service-level target in {met_all} "
               f"of {slots}.",
               f"Staffed agents are not in the data (no staffing table); estimated as workload ÷ "
               f"measured occupancy they fall below the Erlang C requirement in {len(short)} of "
               f"those slots."]
    if len(short):
        w = short.sort_values("staffing_gap").iloc[0]
        out.append(f"Largest gap: {w['weekday']} {w['time_of_day']}, "
                   f"{abs(w['staffing_gap']):.1f} agents short of the {w['required_agents']:.1f} required.")
        # A shortfall where the achieved service level met its target says more about the
        # staffed figure (and Erlang C, which ignores abandons) than about the floor.
        if met_short:
            out.append(f"Yet the target was met in {met_short} of those {len(short)} slots: "
                       + ("Erlang C is conservative there (it ignores abandons and blended work)."
                          if measured else
                          "read the gap as a rough estimate, not a count of missing agents "
                          "(occupancy is measured across all channels)."))
    return out


def guardrail(ctx) -> list[str]:
    g = ctx.guardrail
    if not g.fired:
        return ["Handle time did not improve at the expense of FCR, CSAT or repeat contacts."]
    return [summary_sentence(g)]


def triggers(ctx) -> list[str]:
    rules = top_rules(ctx.triggers)
    if not rules:
        return ["No action trigger fired."]
    out = []
    for o in rules[:4]:
        t = o.total
        where = f"on all contacts ({t.observed_text})" if t.status == "fired" else ""
        if o.elsewhere:
            where += (" and " if where else "in ") + o.places(3)
        out.append(f"{rule_text(o.trigger, t.label, t.unit, ctx.cadence.grain)} {where}: "
                   f"{first_sentence(o.trigger.action)}")
    return out


def data_quality(ctx) -> list[str]:
    from .dq import verdict

    return [verdict(ctx)[1]]


BUILDERS = {
    "executive_summary": executive_summary,
    "scorecard": scorecard,
    "trends": trends,
    "breakdowns": breakdowns,
    "issue_types": issue_types,
    "heatmap": heatmap,
    "cost_workforce": cost_workforce,
    "staffing": staffing,
    "guardrail": guardrail,
    "triggers": triggers,
    "data_quality": data_quality,
}


def observations(ctx) -> dict[str, list[str]]:
    """Section key -> sentences, for the sections of this cadence."""
    return {k: fn(ctx) for k, fn in BUILDERS.items() if k in ctx.cadence.sections}
