"""The quarterly Erlang C view: required vs staffed agents by interval.

Staffed agents come from the optional ``staffing`` table (what a WFM tool exports) when it
has rows for the channel: :func:`kpitools.staffing.staffed_agents`. Without it the agents
present are not known. Counting the distinct agents who touched a contact is wrong both ways
(blended agents count on every channel they touch; idle agents are missed), so the view never
calls anything "actual". It shows estimates instead, labelled as such:

* **workload agents** = handle seconds in the interval ÷ interval seconds (agents busy on
  average);
* **estimated staffed agents** = workload agents ÷ that day's measured occupancy
  (``agent_activity``), or the workload itself when there is no activity data.
"""

from __future__ import annotations

import pandas as pd

from ..floor.interval import business_zone
from ..staffing import interval_profile, interval_staffing, staffed_agents

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
    occupancy, source = None, "estimate"
    if len(frame):
        frame, occupancy = _estimate_staffed(ctx, frame)
        staffed = _from_staffing_table(ctx, frame)
        if staffed is not None and staffed.notna().any():
            frame["staffed_agents"], source = staffed.to_numpy(), "staffing table"
        else:
            frame["staffed_agents"] = frame["estimated_agents"]
    profile = pd.DataFrame()
    if len(frame):
        # interval_profile averages `actual_agents` (and the gap to required from it): give it
        # the staffed figure, named for what it is, then the estimate and workload beside it.
        profile = interval_profile(frame.assign(actual_agents=frame["staffed_agents"])).rename(
            columns={"actual_agents": "staffed_agents"})
        for column in ("estimated_agents", "workload_agents"):
            profile[column] = interval_profile(
                frame.assign(actual_agents=frame[column]))["actual_agents"].to_numpy()
    return {"intervals": frame, "profile": profile, "channel": STAFFING_CHANNEL,
            "occupancy_known": occupancy is not None, "staffed_from": source,
            "answer_within_s": within, "target_sl": float(target),
            "interval_minutes": INTERVAL_MINUTES}


def _from_staffing_table(ctx, frame: pd.DataFrame) -> pd.Series | None:
    """Staffed agents per interval from the staffing table's rows for the channel."""
    zone = business_zone(ctx.data.params)
    starts = pd.to_datetime(frame["interval_start"]).dt.tz_localize(
        zone, ambiguous=True, nonexistent="shift_forward").dt.tz_convert("UTC")
    return staffed_agents(ctx.data, starts, INTERVAL_MINUTES, zone, channel=STAFFING_CHANNEL)


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
