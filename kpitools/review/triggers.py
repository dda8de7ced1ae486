"""Action triggers (SPEC §6): the registry's rules evaluated on this period.

Each rule in ``registry.triggers`` is checked on the whole center and, so a burning queue is
not averaged away, on every queue and channel. A rule on a KPI below its minimum sample
is not evaluated ("n too small"); a rule on a change is not evaluated when the change is null
(partial period or no earlier value).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..formatting import as_number as _num
from ..formatting import fmt_change, fmt_value
from ..registry import Trigger


@dataclass
class TriggerResult:
    trigger: Trigger
    scope: str  # "All contacts", "Queue billing", "Channel voice"
    label: str
    unit: str
    observed: float | None
    status: str  # "fired", "ok", "not significant", "not evaluated"
    note: str = ""
    row: dict | None = None  # the KPI row it was checked on (value, n, change interval)

    @property
    def threshold(self) -> float:
        return self.trigger.below if self.trigger.below is not None else self.trigger.above

    @property
    def severity(self) -> float:
        """How far past the threshold, relative to it (0 when not fired)."""
        if self.status != "fired" or self.observed is None:
            return 0.0
        t = self.threshold
        return abs(self.observed - t) / (abs(t) or 1.0)

    @property
    def observed_text(self) -> str:
        """'−17.6 pts ± 12.5 pts' for a change (its 95 % interval), '3.71' for a value."""
        if self.observed is None:
            return "–"
        if self.trigger.on == "change":
            text = fmt_change(self.observed, self.unit)
            row = self.row or {}
            lo, hi = _num(row.get("change_low")), _num(row.get("change_high"))
            if lo is not None and hi is not None:
                text += " ± " + fmt_change((hi - lo) / 2, self.unit).lstrip("+±")
            return text
        return fmt_value(self.observed, self.unit)

    @property
    def detail(self) -> str:
        """Where and how much: 'channel social: −17.6 pts ± 25.0 pts to +12.0, n 38 → 46'."""
        row = self.row or {}
        n, before = _num(row.get("n")), _num(row.get("compare_n"))
        if self.trigger.on == "change":
            sizes = f", n {before:,.0f} → {n:,.0f}" if n is not None and before is not None else ""
            return (f"{self.scope.lower()}: {self.observed_text} to "
                    f"{fmt_value(row.get('value'), self.unit)}{sizes}")
        return f"{self.scope.lower()}: {self.observed_text}" + (f", n {n:,.0f}" if n is not None else "")


def rule_text(trigger: Trigger, label: str, unit: str, grain: str) -> str:
    """The rule in words: 'FCR below 70.0 %', 'NPS down by more than 10.0 pts on the week'."""
    return _rule_words(trigger, label, unit, grain).replace(" %", "\u00a0%").replace(" pts", "\u00a0pts")


def _rule_words(trigger: Trigger, label: str, unit: str, grain: str) -> str:
    if trigger.on == "change":
        if trigger.below is not None:
            return f"{label} down by more than {fmt_change(abs(trigger.below), unit).lstrip('+')} on the previous {grain}"
        return f"{label} up by more than {fmt_change(abs(trigger.above), unit).lstrip('+')} on the previous {grain}"
    if trigger.below is not None:
        return f"{label} below {fmt_value(trigger.below, unit)}"
    return f"{label} above {fmt_value(trigger.above, unit)}"


def _check(trigger: Trigger, row: dict | None, scope: str, reg) -> TriggerResult:
    kpi = reg[trigger.kpi]
    res = TriggerResult(trigger, scope, kpi.label, kpi.unit, None, "not evaluated")
    if row is None:
        res.note = "no value in this data"
        return res
    if trigger.on == "change":
        x = row.get("change")
        if x is None or (isinstance(x, float) and math.isnan(x)):
            res.note = row.get("change_note") or "no change to compare"
            return res
    else:
        x = row.get("value")
        if x is None or (isinstance(x, float) and math.isnan(x)):
            res.note = row.get("reason") or "no value"
            return res
    res.row = row
    res.observed = float(x)
    if row.get("small_sample") or (trigger.on == "change" and row.get("compare_small_sample")):
        n = _num(row.get("n")) if row.get("small_sample") else _num(row.get("compare_n"))
        res.note = f"n too small ({0 if n is None else int(n)}; minimum {kpi.min_sample})"
        return res
    res.status = "fired" if trigger.fires(float(x)) else "ok"
    # A change rule fires on a real move only: when the 95 % interval of the change includes
    # 0, the rule says "not significant" instead (the move may be sampling noise).
    if res.status == "fired" and trigger.on == "change" and row.get("significant") is False:
        res.status = "not significant"
        res.note = f"{res.observed_text}: not significant at 95 %"
    return res


def evaluate_triggers(ctx) -> list[TriggerResult]:
    """Every rule on the total, plus the queue and channel rows where a rule fires."""
    reg = ctx.registry
    out: list[TriggerResult] = []
    for trig in reg.triggers:
        out.append(_check(trig, ctx.row(trig.kpi), "All contacts", reg))
    for dim, word in (("queue", "Queue"), ("channel", "Channel")):
        frame = ctx.by(dim)
        for trig in reg.triggers:
            for rec in frame[frame["kpi"] == trig.kpi].to_dict("records"):
                if rec.get(dim) is None or rec.get(dim) != rec.get(dim):
                    continue
                res = _check(trig, rec, f"{word} {str(rec[dim]).replace('_', ' ')}", reg)
                if res.status == "fired":
                    out.append(res)
    return out


def fired(results: list[TriggerResult]) -> list[TriggerResult]:
    """Fired rules, the whole center first, then by how far past the threshold."""
    hits = [r for r in results if r.status == "fired"]
    return sorted(hits, key=lambda r: (r.scope != "All contacts", -r.severity))


@dataclass
class RuleOutcome:
    """One rule: its result on all contacts and the queues / channels where it also fired."""

    total: TriggerResult
    elsewhere: list[TriggerResult]

    @property
    def trigger(self) -> Trigger:
        return self.total.trigger

    @property
    def fired_anywhere(self) -> bool:
        return self.total.status == "fired" or bool(self.elsewhere)

    def places(self, limit: int = 4) -> str:
        """'queue billing: 3.71, n 412; channel chat: 3.85, n 96 and 3 more'."""
        bits = [r.detail for r in sorted(self.elsewhere, key=lambda r: -r.severity)]
        if len(bits) > limit:
            return "; ".join(bits[:limit]) + f" and {len(bits) - limit} more"
        return "; ".join(bits)


def by_rule(results: list[TriggerResult]) -> list[RuleOutcome]:
    """Group results per rule, in catalogue order."""
    out: dict[str, RuleOutcome] = {}
    for r in results:
        if r.scope == "All contacts":
            out[r.trigger.id] = RuleOutcome(r, [])
    for r in results:
        if r.scope != "All contacts" and r.status == "fired" and r.trigger.id in out:
            out[r.trigger.id].elsewhere.append(r)
    return list(out.values())


def top_rules(results: list[TriggerResult]) -> list[RuleOutcome]:
    """Rules that fired anywhere: on all contacts first (furthest past the line first), then
    by how many queues and channels they fired in."""
    hits = [o for o in by_rule(results) if o.fired_anywhere]
    return sorted(hits, key=lambda o: (o.total.status != "fired", -o.total.severity,
                                       -len(o.elsewhere)))


def first_sentence(text: str) -> str:
    head, dot, _ = text.partition(". ")
    return head + ("." if dot or not head.endswith(".") else "")
