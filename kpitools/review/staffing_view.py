"""The quarterly Erlang C view: required vs actual agents by interval (kpitools.staffing)."""

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
    profile = interval_profile(frame) if len(frame) else pd.DataFrame()
    return {"intervals": frame, "profile": profile, "channel": STAFFING_CHANNEL,
            "answer_within_s": within, "target_sl": float(target),
            "interval_minutes": INTERVAL_MINUTES}
