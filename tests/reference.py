"""An independent pandas implementation of the SPEC §4 catalogue, written from the spec text
(not from kpitools' SQL), used to cross-check the engine on generated data."""

from __future__ import annotations

import numpy as np
import pandas as pd

THRESHOLD = {"voice": 20.0, "chat": 60.0}
SHORT = 5.0


def _ratio(num, den):
    return None if den == 0 else num / den


def reference_kpis(inter: pd.DataFrame, start, end, surveys=None, activity=None, costs=None, qa=None):
    """KPI values for contacts arriving on days [start, end] (inclusive dates)."""
    df = inter.copy()
    for c in ("arrived_at", "answered_at", "ended_at"):
        df[c] = pd.to_datetime(df[c])
    day = df["arrived_at"].dt.normalize()
    in_scope = (day >= pd.Timestamp(start)) & (day <= pd.Timestamp(end))
    p = df[in_scope]
    handled = p[p.outcome == "handled"]
    inbound = p[p.direction == "inbound"]
    rt = inbound[inbound.channel.isin(["voice", "chat"])]
    rt_wait = np.where(rt.outcome == "handled", (rt.answered_at - rt.arrived_at).dt.total_seconds(),
                       (rt.ended_at - rt.arrived_at).dt.total_seconds())
    thr = rt.channel.map(THRESHOLD).to_numpy()
    answered = (rt.outcome == "handled").to_numpy()
    abandoned = ~answered
    short = abandoned & (rt_wait < SHORT)
    within = answered & (rt_wait <= thr)
    out = {
        "contact_volume": len(p),
        "offered": len(inbound),
        "handled": len(handled),
        "aht": _ratio((handled.talk_s + handled.hold_s + handled.acw_s).sum(), len(handled)),
        "asa": _ratio(rt_wait[answered].sum(), answered.sum()),
        # Percentiles from the rows themselves (numpy's default linear interpolation).
        "p90_wait": float(np.percentile(rt_wait[answered], 90)) if answered.any() else None,
        "max_wait": float(rt_wait[answered].max()) if answered.any() else None,
        "service_level": _ratio(within.sum(), len(rt) - short.sum()),
        "abandonment_rate": _ratio(abandoned.sum() - short.sum(), len(rt) - short.sum()),
        "answer_rate": _ratio(answered.sum(), len(rt) - short.sum()),
        "transfer_rate": _ratio(handled.transferred.sum(), len(handled)),
        "escalation_rate": _ratio(handled.escalated.sum(), len(handled)),
    }
    asyn = inbound[inbound.channel.isin(["email", "social"]) & (inbound.outcome == "handled")]
    out["first_response_time"] = _ratio(
        (asyn.answered_at - asyn.arrived_at).dt.total_seconds().sum(), len(asyn))
    hin = handled[handled.direction == "inbound"]
    known = hin[hin.resolved.notna()]
    out["fcr"] = _ratio(int((known.resolved == True).sum()), len(known))  # noqa: E712
    # Repeat contacts: look at every later inbound contact, in or after the period. pandas
    # would join a null issue type to another null one; the spec needs the same issue type.
    eligible = hin[hin.customer_id.notna()]
    later = df[(df.direction == "inbound") & df.issue_type.notna()][["customer_id", "issue_type", "arrived_at"]]
    merged = eligible[["interaction_id", "customer_id", "issue_type", "arrived_at"]].merge(
        later, on=["customer_id", "issue_type"], suffixes=("", "_next"))
    gap = (merged.arrived_at_next - merged.arrived_at).dt.total_seconds()
    hits = merged[(gap > 0) & (gap <= 168 * 3600)].interaction_id.nunique()
    out["repeat_contact_rate"] = _ratio(hits, len(eligible))
    if surveys is not None:
        s = surveys.merge(p[["interaction_id"]], on="interaction_id")
        cs, nps, ces = s.csat.dropna(), s.nps.dropna(), s.ces.dropna()
        out["csat"] = _ratio((cs >= 4).sum(), len(cs))
        out["csat_score"] = _ratio(cs.sum(), len(cs))
        out["nps"] = None if not len(nps) else 100 * ((nps >= 9).sum() - (nps <= 6).sum()) / len(nps)
        out["ces"] = _ratio(ces.sum(), len(ces))
    if activity is not None:
        a = activity.copy()
        a["date"] = pd.to_datetime(a["date"])
        a = a[(a.date >= pd.Timestamp(start)) & (a.date <= pd.Timestamp(end))]
        out["occupancy"] = _ratio(a.handling_s.sum(), a.handling_s.sum() + a.available_s.sum())
        out["utilization"] = _ratio(a.handling_s.sum(), a.logged_in_s.sum())
    if costs is not None:
        total = 0.0
        for r in costs.itertuples():
            days = pd.date_range(r.period_start, r.period_end, freq="D")
            inside = ((days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end))).sum()
            total += r.amount * inside / len(days)
        out["cost_per_contact"] = _ratio(total, len(handled))
    if qa is not None:
        q = qa.merge(p[["interaction_id"]], on="interaction_id")
        out["quality_score"] = _ratio(q.score.sum(), len(q))
    return out
