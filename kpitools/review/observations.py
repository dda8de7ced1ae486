"""Automatic observations: plain sentences computed from the numbers, one list per section.

They stand in for analyst commentary (and the review is then marked DRAFT), and they pre-fill
the commentary stub. Every number is formatted with :mod:`kpitools.formatting`, so a sentence
and the table next to it always agree.

>>> # "First contact resolution fell 3.1 pts to 71.2 %, below the 75.0 % target;
>>> #  billing contributed most (−2.0 pts)."
"""

from __future__ import annotations

import math

import pandas as pd

from ..formatting import as_number as _num
from ..formatting import fmt_change, fmt_value
from .changes import is_material, materiality
from .guardrail import mid, summary_sentence
from .heat import WEEKDAYS
from .triggers import first_sentence, rule_text, top_rules

MAX_MOVERS = 3




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
    # "75.0 %, below the 75.0 % target" reads like a mistake: say how close it is.
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
            f"{fmt_value(row['value'], row['unit'])} against {against}{target_clause(row)}")
    parts = contributions(ctx, row["kpi"])
    if parts is not None and len(parts) > 1:
        same_sign = parts[parts * change > 0]
        if len(same_sign):
            top = same_sign.abs().idxmax()
            text += f"; {top} contributed most ({fmt_change(same_sign[top], row['unit'])})"
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
    return ", ".join(f"{r['label']} ({fmt_value(r['value'], r['unit'])})" for r in rows)


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
            whole = " every" if streak == n else ""
            out.append(f"{label} has missed its target in{whole} the last {streak} {g}s.")
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


def breakdowns(ctx) -> list[str]:
    out = []
    q = ctx.by("queue")
    for kid in ("service_level", "fcr", "abandonment_rate"):
        sub = q[(q["kpi"] == kid) & q["value"].notna()]
        if sub.empty:
            continue
        direction = ctx.registry[kid].direction
        worst = sub.sort_values("value", ascending=(direction == "higher")).iloc[0].to_dict()
        if worst.get("status") in ("amber", "red"):
            out.append(f"{worst['label']} is weakest in the {worst['queue']} queue "
                       f"({fmt_value(worst['value'], worst['unit'])}{target_clause(worst)}).")
    moves = [r for r in q.to_dict("records") if r["kpi"] in ("service_level", "fcr", "aht", "abandonment_rate")
             and is_material(r)]
    moves.sort(key=lambda r: -abs(r["change"]) / (materiality(r["direction"], r["warning"], r["critical"]) or 1))
    for r in moves[:2]:
        verb = "rose" if r["change"] > 0 else "fell"
        out.append(f"In {r['queue']}, {mid(r['label'])} "
                   f"{verb} {_amount(r['change'], r['unit'])} to {fmt_value(r['value'], r['unit'])}.")
    c = ctx.by("channel")
    sl = c[(c["kpi"] == "service_level") & c["value"].notna()]
    if len(sl) >= 2:
        out.append("Service level by channel: " + ", ".join(
            f"{r['channel']} {fmt_value(r['value'], r['unit'])}" for r in sl.to_dict("records")) + ".")
    return out


def issue_types(ctx) -> list[str]:
    out = []
    f = ctx.by("issue_type")
    aht = f[(f["kpi"] == "aht") & f["value"].notna()].copy()
    if aht.empty:
        return out
    aht["over"] = aht["value"] - aht["target"].astype(float)
    over = aht[aht["status"].isin(["amber", "red"])].sort_values("over", ascending=False)
    if len(over):
        out.append("Above their AHT target: " + ", ".join(
            f"{r['issue_type']} ({fmt_value(r['value'], 'seconds')} vs {fmt_value(r['target'], 'seconds')})"
            for r in over.head(3).to_dict("records")) + ".")
    else:
        out.append("Every issue type is within its AHT target.")
    fcr = f[(f["kpi"] == "fcr")].set_index("issue_type")
    fast_unresolved = [r for r in aht.to_dict("records") if r["status"] == "green"
                       and fcr["status"].get(r["issue_type"]) in ("amber", "red")]
    if fast_unresolved:
        out.append("Within their AHT target but below the FCR target: " + ", ".join(
            f"{r['issue_type']} (FCR {fmt_value(fcr['value'][r['issue_type']], 'fraction')})"
            for r in fast_unresolved[:3]) + " — fast is not the same as resolved.")
    return out


def heatmap(ctx) -> list[str]:
    from .charts import MIN_CELL_CONTACTS

    h = ctx.heat
    out = []
    vol = h[h["kpi"] == "contact_volume"]
    if len(vol):
        top = vol.sort_values("value", ascending=False).iloc[0]
        out.append(f"Busiest hour: {WEEKDAYS[int(top['weekday']) - 1]} {int(top['hour']):02d}:00 "
                   f"with {fmt_value(top['value'], 'count')} contacts.")
    for kid, word in (("service_level", "Lowest service level"), ("abandonment_rate", "Highest abandonment")):
        sub = h[(h["kpi"] == kid) & (h["denominator"] >= MIN_CELL_CONTACTS) & h["value"].notna()]
        if sub.empty:
            continue
        r = sub.sort_values("value", ascending=(kid == "service_level")).iloc[0]
        out.append(f"{word}: {WEEKDAYS[int(r['weekday']) - 1]} {int(r['hour']):02d}:00 "
                   f"({fmt_value(r['value'], 'fraction')} of {fmt_value(r['denominator'], 'count')} contacts).")
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
    prof = ctx.staffing["profile"]
    if prof is None or prof.empty:
        return []
    short = prof[prof["staffing_gap"] < 0]
    out = [f"Actual {ctx.staffing['channel']} agents were below the Erlang C requirement in "
           f"{len(short)} of {len(prof)} weekday half-hour slots (average over the {ctx.cadence.grain})."]
    if len(short):
        w = short.sort_values("staffing_gap").iloc[0]
        out.append(f"Largest gap: {w['weekday']} {w['time_of_day']}, "
                   f"{abs(w['staffing_gap']):.1f} agents short of the {w['required_agents']:.1f} required.")
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
