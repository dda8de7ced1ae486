"""The experience-vs-efficiency guardrail (SPEC §6, the trap of seed 003).

Fires when average handle time **improves** materially while first contact resolution, CSAT
or the repeat contact rate **worsens** materially, against any of: the previous period, the
same period last year, or the pooled baseline of the earlier periods in the trend window.
"Materially" comes from the registry's thresholds (:mod:`kpitools.review.changes`): half the
distance between a KPI's warning and critical lines, and significant at 95 % for rates.
The check runs for the whole center and for each queue, because a push on one queue is
easily averaged away.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..api import compare_tables
from ..formatting import fmt_change, fmt_value
from ..stats import wilson
from .bounded import listed
from .changes import is_better, is_material, materiality

EFFICIENCY_KPI = "aht"
EXPERIENCE_KPIS = ("fcr", "csat", "repeat_contact_rate")


@dataclass
class Finding:
    scope: str  # "All contacts" or a queue name
    against: str  # "the previous week", "the same week last year", "the 12 weeks before"
    compare_period: str
    efficiency: dict
    worse: list[dict]


@dataclass
class GuardrailResult:
    fired: bool
    findings: list[Finding] = field(default_factory=list)
    table: pd.DataFrame | None = None  # whole-center rows: comparison x KPI
    unavailable: list[str] = field(default_factory=list)
    rule: str = ""

    @property
    def queues(self) -> list[str]:
        return sorted({f.scope for f in self.findings if f.scope != "All contacts"})


def _baseline(ctx) -> tuple[pd.DataFrame | None, str]:
    """Pooled ratio of sums over the complete earlier periods of the trend window."""
    labels = [p.label for p in ctx.trend_window if p != ctx.period]
    kpis = [EFFICIENCY_KPI, *EXPERIENCE_KPIS]
    t = ctx.trend
    earlier = t[t["period"].isin(labels) & ~t["partial"].astype(bool) & t["kpi"].isin(kpis)]
    if earlier.empty or ctx.partial:
        return None, ""
    n_periods = earlier["period"].nunique()
    pooled = earlier.groupby("kpi", as_index=False)[["numerator", "denominator"]].sum(min_count=1)
    pooled["value"] = pooled["numerator"] / pooled["denominator"].where(pooled["denominator"] > 0)
    pooled["n"] = pooled["denominator"]
    # Wilson bounds mark the rates as testable; means have no pooled standard error here,
    # so materiality alone decides for them.
    units = ctx.current.set_index("kpi")["unit"]
    ci = [wilson(r["numerator"], r["denominator"]) if units.get(r["kpi"]) == "fraction"
          and r["value"] == r["value"] else (None, None) for r in pooled.to_dict("records")]
    pooled["ci_low"], pooled["ci_high"] = [c[0] for c in ci], [c[1] for c in ci]
    pooled["period"], pooled["partial"] = f"{labels[0]} to {labels[-1]}", False
    current = ctx.current[ctx.current["kpi"].isin(kpis)]
    word = ctx.cadence.grain + ("s" if n_periods != 1 else "")
    return compare_tables(current, pooled), f"the {n_periods} {word} before"


def _comparisons(ctx) -> list[tuple[str, pd.DataFrame, str]]:
    g = ctx.cadence.grain
    out = [(f"the previous {g}", ctx.vs_previous, "previous"),
           (f"the same {g} last year", ctx.vs_last_year, "last_year")]
    base, words = _baseline(ctx)
    if base is not None:
        out.append((words, base, "baseline"))
    return out


def _check(rows: dict[str, dict]) -> tuple[dict, list[dict]] | None:
    eff = rows.get(EFFICIENCY_KPI)
    if not eff or not is_material(eff) or not is_better(eff["direction"], eff["change"]):
        return None
    worse = [rows[k] for k in EXPERIENCE_KPIS if k in rows and is_material(rows[k])
             and is_better(rows[k]["direction"], rows[k]["change"]) is False
             and not rows[k].get("small_sample")]
    return (eff, worse) if worse else None


def rule_text(reg) -> str:
    def bar(kid):
        k = reg[kid]
        m = materiality(k.direction, k.warning, k.critical)
        return fmt_change(m, k.unit).lstrip("+±") if m else "a material amount"

    exp = ", ".join(f"{reg[k].label} by {bar(k)}" for k in EXPERIENCE_KPIS)
    return (f"The guardrail fires when {reg[EFFICIENCY_KPI].label.lower()} improves by at least "
            f"{bar(EFFICIENCY_KPI)} while any experience measure worsens by at least half the gap "
            f"between its warning and critical lines ({exp}), with rate changes significant at "
            "95 %. Surveys below the minimum sample are not used.")


def evaluate_guardrail(ctx) -> GuardrailResult:
    reg = ctx.registry
    kpis = [EFFICIENCY_KPI, *EXPERIENCE_KPIS]
    result = GuardrailResult(False, rule=rule_text(reg))
    tables = []
    for kid in EXPERIENCE_KPIS:  # a null experience KPI (missing column or table) cannot warn
        row = ctx.row(kid, ctx.current)
        value = None if row is None else row.get("value")
        if row is not None and (value is None or value != value) and row.get("reason"):
            result.unavailable.append(f"{reg[kid].label}: {row['reason']}")
    for words, frame, key in _comparisons(ctx):
        rows = {r["kpi"]: r for r in frame[frame["kpi"].isin(kpis)].to_dict("records")}
        aht = rows.get(EFFICIENCY_KPI)
        if aht is None or aht.get("change") is None or aht["change"] != aht["change"]:
            note = (aht or {}).get("change_note") or "no value"
            result.unavailable.append(f"{words}: {note}")
        tables.append(pd.DataFrame([{**r, "against": words} for r in rows.values()]))
        hit = _check(rows)
        if hit:
            result.findings.append(Finding("All contacts", words, frame["compare_period"].iloc[0],
                                           *hit))
        if key == "baseline":
            continue
        by_queue = ctx.by("queue", "previous" if key == "previous" else "last_year")
        # One pass over the rows (a filter or to_dict per queue made this grow with queues²).
        per_queue: dict[str, dict[str, dict]] = {}
        for r in by_queue[by_queue["kpi"].isin(kpis)].to_dict("records"):
            per_queue.setdefault(str(r["queue"]), {})[r["kpi"]] = r
        for queue in sorted(per_queue):
            rows_q = per_queue[queue]
            hit = _check(rows_q)
            if hit:
                compare_period = next(iter(rows_q.values()))["compare_period"]
                result.findings.append(Finding(queue, words, compare_period, *hit))
    result.table = pd.concat(tables, ignore_index=True) if tables else None
    result.fired = bool(result.findings)
    return result


def mid(label: str) -> str:
    """A KPI label inside a sentence: 'first contact resolution', but 'CSAT' and 'AHT'."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def _move(row: dict, first: bool = False) -> str:
    verb = "rose" if row["change"] > 0 else "fell"
    label = row["label"] if first else mid(row["label"])
    return (f"{label} {verb} {fmt_change(abs(row['change']), row['unit']).lstrip('+')}"
            f" to {fmt_value(row['value'], row['unit'])}")


def finding_sentence(f: Finding) -> str:
    """'Against the previous week, AHT fell 0:52 to 5:58 while FCR fell 7.1 pts to 68.0 %.'"""
    scope = "" if f.scope == "All contacts" else f" in the {f.scope} queue"
    worse = " and ".join(_move(w) for w in f.worse)
    return f"Against {f.against} ({f.compare_period}){scope}, {_move(f.efficiency)} while {worse}."


def summary_sentence(result: GuardrailResult) -> str:
    """How many comparisons fired and where (the section lists each one)."""
    n = len(result.findings)
    scopes, more = listed(sorted({f.scope for f in result.findings}, key=lambda s: (s != "All contacts", s)))
    where = ", ".join("the whole center" if s == "All contacts" else f"the {s} queue" for s in scopes)
    where += f" and {more:,} more queues" if more else ""
    return (f"The guardrail fired on {n} comparison{'s' if n != 1 else ''}, in {where}: handle time "
            "fell while resolution, satisfaction or repeat contacts got worse.")


def headline(result: GuardrailResult, grain: str) -> str:
    """One plain sentence for the executive summary and the section."""
    if not result.fired:
        return ("No efficiency trade-off: handle time did not improve at the expense of "
                "resolution, satisfaction or repeat contacts.")
    where = ""
    if result.queues:
        named, more = listed(result.queues)
        where = " (" + ", ".join(named) + (f" and {more:,} more queues" if more else "") + ")"
    return ("Warning: handle time is improving at the customer's expense" + where + ". "
            "Shorter contacts are leaving problems unresolved; check whether handle-time "
            "targets are cutting contacts short before celebrating the AHT figure.")
