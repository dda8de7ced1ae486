"""The quarterly Erlang C view: required vs estimated staffed agents by interval.

The data has no staffing table (what a WFM tool exports), so the agents present are not
known. Counting the distinct agents who touched a contact is wrong both ways (blended agents
count on every channel they touch; idle agents are missed), so the view never calls anything
"actual". It shows estimates instead, labelled as such:

* **workload agents** = handle seconds in the interval ÷ interval seconds (agents busy on
  average);
* **estimated staffed agents** = workload agents ÷ that day's measured occupancy
  (``agent_activity``), or the workload itself when there is no activity data.
"""

from __future__ import annotations

import pandas as pd

from ..staffing import interval_profile, interval_staffing

STAFFING_CHANNEL = "voice"
INTERVAL_MINUTES = 30


def staffing_profile(ctx) -> dict:
    """Interval staffing for the review period on voice, averaged by weekday and time of day.

    The answer threshold comes from the registry parameters and the service-level target from
    the registry (or the targets file for the channel), so the view and the scorecard agree.
    """
    params = ctx.data.params
    within = float((params.get("answer_threshold_s") or {}).get(
        STAFFING_CHANNEL, params.get("default_answer_threshold_s", 20)))
    kpi = ctx.registry["service_level"]
    target = ctx.data.targets.for_row(kpi, {"channel": STAFFING_CHANNEL}).target
    frame = interval_staffing(
        ctx.data, ctx.period.start, ctx.period.end_exclusive,
        interval_minutes=INTERVAL_MINUTES, channels=(STAFFING_CHANNEL,),
        answer_within_s=within, target_sl=float(target), short_abandon_s=params.get("short_abandon_s"),
    )
    occupancy = None
    if len(frame):
        frame, occupancy = _estimate_staffed(ctx, frame)
    profile = pd.DataFrame()
    if len(frame):
        # interval_profile averages `actual_agents`; give it the estimate, named as one.
        profile = interval_profile(frame.assign(actual_agents=frame["estimated_agents"])).rename(
            columns={"actual_agents": "estimated_agents"})
        profile["workload_agents"] = interval_profile(
            frame.assign(actual_agents=frame["workload_agents"]))["actual_agents"].to_numpy()
    return {"intervals": frame, "profile": profile, "channel": STAFFING_CHANNEL,
            "occupancy_known": occupancy is not None,
            "answer_within_s": within, "target_sl": float(target),
            "interval_minutes": INTERVAL_MINUTES}


def _estimate_staffed(ctx, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series | None]:
    """Add ``workload_agents`` and ``estimated_agents`` (see the module docstring)."""
    from ..api import kpis_for_periods
    from ..periods import periods_between

    out = frame.drop(columns=["actual_agents"], errors="ignore")
    out["workload_agents"] = out["handle_s"].astype(float) / (INTERVAL_MINUTES * 60)
    days = periods_between(ctx.period.start, ctx.period.end, "day")
    occ = kpis_for_periods(ctx.data, days, kpis=["occupancy"]).set_index("period")["value"]
    occ = occ.where(occ > 0)
    if occ.notna().any():
        day = pd.to_datetime(out["interval_start"]).dt.strftime("%Y-%m-%d")
        out["estimated_agents"] = (out["workload_agents"] / day.map(occ).astype(float)).fillna(
            out["workload_agents"])
        return out, occ
    out["estimated_agents"] = out["workload_agents"]
    return out, None
