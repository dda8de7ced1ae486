"""The interval table: one row per 15-, 30- or 60-minute interval of a day (SPEC §4, §5).

Every figure comes from the engine: the catalogue's measures grouped by the ``interval``
dimension (``interval_minutes`` set to the report's width) and the catalogue's KPIs formed
from them, so an interval's service level is exactly ``kpitools kpis --by interval`` for that
slot. Only three things are added here:

- **the clock.** The engine's interval is a wall-clock slot of the business-local timestamps.
  The table's grid is built from the business time zone instead, so a day where clocks spring
  forward has 23 hours of intervals and one where they fall back has 25. Naive local times in
  the repeated hour cannot say which of the two they mean: they are counted in the first
  (daylight-time) occurrence and the second is marked. A naive time inside the skipped hour
  (which no clock showed) keeps its own row, marked, rather than vanishing.
- **Erlang C** (:func:`kpitools.staffing.required_agents`) per real-time channel, with that
  channel's answer threshold and service-level target, summed over the channels in the slice.
- **staffed agents** from the optional ``staffing`` table, spread over the report's intervals
  by overlap, and the gap (staffed − required).
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from ..engine import compute_measures
from ..errors import ConfigError, PeriodError
from ..formulas import kpi_frame
from ..periods import Period, periods_between
from ..staffing import required_agents, staffed_agents

MINUTES = (15, 30, 60)
# The catalogue KPIs shown per interval, in table order (their values are the engine's).
INTERVAL_KPIS = ("offered", "handled", "service_level", "asa", "p90_wait", "max_wait", "aht")
COLUMNS = [
    "period", "interval_start", "interval_end", "utc_offset", "offered", "handled", "abandoned",
    "short_abandons", "service_level", "asa_s", "p90_wait_s", "max_wait_s", "aht_s",
    "rt_offered", "required_agents", "staffed_agents", "staffing_gap", "occupancy_est", "note",
]
KPI_COLUMN = {"asa": "asa_s", "p90_wait": "p90_wait_s", "max_wait": "max_wait_s", "aht": "aht_s"}


@dataclass
class IntervalTable:
    """The interval rows of one day or week, plus what a reader must know about them."""

    period: Period
    minutes: int
    queue: str | None
    channel: str | None
    timezone: str
    rows: pd.DataFrame  # COLUMNS, one row per interval, machine values
    day_totals: pd.DataFrame  # one row per day: the same KPIs over the whole day
    has_staffing: bool
    notes: list[str] = field(default_factory=list)

    @property
    def slice_label(self) -> str:
        parts = [f"queue {self.queue}" if self.queue else "", f"channel {self.channel}" if self.channel else ""]
        return ", ".join(p for p in parts if p) or "all queues and channels"


def check_minutes(minutes) -> int:
    try:
        value = int(minutes)
    except (TypeError, ValueError):
        value = None
    if value not in MINUTES or str(minutes).strip() != str(value):
        raise ConfigError(f"--minutes must be one of {', '.join(map(str, MINUTES))}, got {str(minutes)[:20]!r}")
    return value


def check_period(label) -> Period:
    period = label if isinstance(label, Period) else Period.parse(label)
    if period.grain not in ("day", "week"):
        raise PeriodError(f"the interval report covers a day (2026-03-02) or a week (2026-W10), "
                          f"not a {period.grain} ({period.label})")
    return period


def business_zone(params: dict) -> ZoneInfo:
    name = str(params.get("business_timezone") or "UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown business time zone {name[:60]!r}") from None


def day_grid(day: dt.date, minutes: int, zone: ZoneInfo) -> pd.DataFrame:
    """The real intervals of a local day: start and end (aware), and the wall-clock start.

    Steps are taken in absolute time from local midnight to the next local midnight, so the
    count follows the day's real length (23 or 25 hours on a DST change).
    """
    start = pd.Timestamp(day).tz_localize(zone)
    end = pd.Timestamp(day + dt.timedelta(days=1)).tz_localize(zone)
    starts = pd.date_range(start, end, freq=f"{minutes}min", inclusive="left")
    wall = starts.tz_localize(None)
    grid = pd.DataFrame({"interval_start": starts, "interval_end": starts + pd.Timedelta(minutes=minutes),
                         "wall": wall})
    grid["repeated"] = grid["wall"].duplicated(keep="first")
    return grid


def _slice_by(queue, channel) -> tuple[str, ...]:
    return ("interval", *(("queue",) if queue else ()), *(("channel",) if channel else ()))


def _in_slice(frame: pd.DataFrame, queue, channel) -> pd.DataFrame:
    keep = pd.Series(True, index=frame.index)
    if queue:
        keep &= frame["queue"] == queue
    if channel:
        keep &= frame["channel"] == channel
    return frame[keep]


def check_slice(data, queue, channel) -> None:
    """A queue or channel that is not in the data is a typo, not an empty report."""
    for column, value in (("queue", queue), ("channel", channel)):
        if not value:
            continue
        known = data.sql(f"SELECT DISTINCT {column} AS v FROM interactions WHERE {column} IS NOT NULL "
                         "ORDER BY 1")["v"].astype(str).tolist()
        if value not in known:
            shown = ", ".join(known[:20]) + (" …" if len(known) > 20 else "")
            raise ConfigError(f"--{column} {str(value)[:40]!r} is not a {column} in {data.path} "
                              f"(interactions.{column} has: {shown})")


def interval_table(data, period, minutes: int = 30, queue: str | None = None,
                   channel: str | None = None) -> IntervalTable:
    """Per-interval figures of a day or a week for one slice (all, one queue, one channel).

    Parameters
    ----------
    data : a Dataset from :func:`kpitools.load` (DuckDB)
    period : a day ``2026-03-02`` or an ISO week ``2026-W10`` (label or Period)
    minutes : interval width, 15, 30 or 60
    queue, channel : restrict to one queue and/or one channel

    Returns
    -------
    IntervalTable
        ``rows`` hold machine values (fractions, seconds); KPIs are null when undefined.
    """
    period = check_period(period)
    minutes = check_minutes(minutes)
    check_slice(data, queue, channel)
    zone = business_zone(data.params)
    scoped = copy.copy(data)  # same tables; this report's interval width
    scoped.params = {**data.params, "interval_minutes": minutes}
    reg = data.registry
    days = periods_between(period.start, period.end, "day")

    by = _slice_by(queue, channel)
    measures = compute_measures(scoped, days, by)
    sliced = _in_slice(measures.frame, queue, channel)
    kpis = reg.select(list(INTERVAL_KPIS) + ["abandonment_rate"])
    values = kpi_frame(sliced.reset_index(drop=True), kpis, reg, measures.unavailable,
                       ["period", "interval"])
    wide = values.pivot_table(index=["period", "interval"], columns="kpi", values="value",
                              dropna=False, aggfunc="first")
    abandon = values[values["kpi"] == "abandonment_rate"].set_index(["period", "interval"])
    keyed = sliced.set_index(["period", "interval"])
    per_slot = pd.DataFrame(index=keyed.index)
    for kpi in INTERVAL_KPIS:
        per_slot[KPI_COLUMN.get(kpi, kpi)] = wide[kpi] if kpi in wide else np.nan
    per_slot["abandoned"] = abandon["numerator"]  # abandons less short abandons, as the KPI counts them
    per_slot["short_abandons"] = keyed["rt_short_abandons"]
    per_slot["rt_offered"] = keyed["rt_offered"]
    per_slot["handle_time_s"] = keyed["handle_time_s"]
    per_slot["required_agents"] = _required_agents(scoped, days, by, queue, channel, minutes)

    rows = _on_the_clock(per_slot.reset_index(), days, minutes, zone)
    realtime = [str(c) for c in data.params.get("realtime_channels", [])]
    if not channel or channel in realtime:  # no real-time contact offered: no agent needed
        rows.loc[rows["rt_offered"] == 0, "required_agents"] = 0.0
    notes = []
    staffed = staffing_per_interval(data, rows, minutes, queue, channel, zone)
    has_staffing = staffed is not None
    if has_staffing:
        rows["staffed_agents"] = staffed
        rows["staffing_gap"] = rows["staffed_agents"] - rows["required_agents"].astype("float64")
        staffed_s = rows["staffed_agents"] * minutes * 60
        rows["occupancy_est"] = (rows["handle_time_s"] / staffed_s.where(staffed_s > 0)).where(
            rows["handled"] > 0)
    else:
        rows["staffed_agents"] = np.nan
        rows["staffing_gap"] = np.nan
        rows["occupancy_est"] = np.nan
        notes.append("No staffing table in the data: required agents are Erlang C estimates from "
                     "the contacts alone; staffed agents and the gap are not known.")
    if rows["note"].str.contains("repeated", na=False).any():
        notes.append("Clocks went back: local times in the repeated hour are ambiguous and are "
                      "counted in its first occurrence; the second shows no contacts.")
    if rows["note"].str.contains("skipped", na=False).any():
        notes.append("Some contacts carry a local time the clocks skipped on that day; they keep "
                     "their own row, marked.")
    totals = _day_totals(data, days, queue, channel)
    return IntervalTable(period, minutes, queue, channel, zone.key, rows[COLUMNS + ["handle_time_s"]],
                         totals, has_staffing, notes)


def _required_agents(scoped, days, by, queue, channel, minutes) -> pd.Series:
    """Erlang C agents per interval: each real-time channel of the slice on its own (its
    threshold, its target, its AHT), summed. Null where a channel had offered contacts but
    no handle time to model the workload with."""
    reg, params = scoped.registry, scoped.params
    realtime = [str(c) for c in params.get("realtime_channels", [])]
    if channel and channel not in realtime:
        return pd.Series(dtype="float64")
    by_channel = by if "channel" in by else (*by, "channel")
    frame = _in_slice(compute_measures(scoped, days, by_channel).frame, queue, channel)
    frame = frame[frame["channel"].isin(realtime) & (frame["rt_offered"] > 0)].reset_index(drop=True)
    aht = kpi_frame(frame, [reg["aht"]], reg, {}, ["period", "interval", "channel"])["value"]
    thresholds = params.get("answer_threshold_s") or {}
    default_threshold = float(params.get("default_answer_threshold_s", 20))
    width_s = minutes * 60
    needed = []
    for rec, aht_s in zip(frame.to_dict("records"), aht, strict=True):
        if not aht_s > 0:
            needed.append(math.nan)
            continue
        target = scoped.targets.for_row(reg["service_level"], {"channel": rec["channel"]}).target
        within = float(thresholds.get(rec["channel"], default_threshold))
        needed.append(float(required_agents(rec["rt_offered"], width_s, float(aht_s), within,
                                            float(target)).agents))
    frame["required"] = needed
    # min_count=1 per channel row: a NaN channel makes the interval's requirement unknown.
    grouped = frame.groupby(["period", "interval"])["required"]
    return grouped.sum().where(grouped.count() == grouped.size())


def _on_the_clock(per_slot: pd.DataFrame, days: list[Period], minutes: int, zone: ZoneInfo) -> pd.DataFrame:
    """Place the engine's wall-clock slots on each day's real grid; empty intervals get
    counts of 0 and null KPIs."""
    out = []
    for day in days:
        grid = day_grid(day.start, minutes, zone)
        mine = per_slot[per_slot["period"] == day.label].set_index("interval")
        first = grid[~grid["repeated"]].set_index("wall")
        rows = grid.copy()
        joined = mine.reindex(rows["wall"])
        joined.index = rows.index
        joined.loc[rows["repeated"].to_numpy()] = np.nan  # the second 01:xx: nothing can be placed there
        rows = pd.concat([rows, joined.drop(columns=["period"], errors="ignore")], axis=1)
        rows["note"] = np.where(rows["repeated"], "repeated hour (clocks went back)", None)
        skipped = mine.loc[~mine.index.isin(first.index)]
        if len(skipped):
            extra = skipped.reset_index().rename(columns={"interval": "wall"})
            extra["interval_start"] = pd.NaT
            extra["interval_end"] = pd.NaT
            extra["note"] = "local time skipped by the clocks"
            extra = extra.drop(columns=["period"], errors="ignore")
            rows = pd.concat([rows, extra], ignore_index=True).sort_values("wall", kind="stable")
        rows["period"] = day.label
        out.append(rows)
    rows = pd.concat(out, ignore_index=True)
    for col in ("offered", "handled", "abandoned", "short_abandons", "rt_offered", "handle_time_s"):
        rows[col] = rows[col].fillna(0.0)
    rows["utc_offset"] = [
        "" if pd.isna(s) else s.strftime("%z") for s in rows["interval_start"]]
    # Machine output keeps the aware local start; the wall clock is what the reader sees.
    rows["interval_start"] = [s.isoformat() if not pd.isna(s) else w.isoformat()
                              for s, w in zip(rows["interval_start"], rows["wall"], strict=True)]
    rows["interval_end"] = [e.isoformat() if not pd.isna(e) else "" for e in rows["interval_end"]]
    rows["required_agents"] = rows["required_agents"].astype("float64")
    return rows.reset_index(drop=True)


def _day_totals(data, days: list[Period], queue, channel) -> pd.DataFrame:
    """The same KPIs over each whole day of the slice: what ``kpitools kpis`` gives."""
    by = tuple(d for d, v in (("queue", queue), ("channel", channel)) if v)
    measures = compute_measures(data, days, by)
    sliced = _in_slice(measures.frame, queue, channel).reset_index(drop=True)
    kpis = data.registry.select(list(INTERVAL_KPIS) + ["abandonment_rate", "occupancy"])
    values = kpi_frame(sliced, kpis, data.registry, measures.unavailable, ["period"])
    wide = values.pivot_table(index="period", columns="kpi", values="value", dropna=False,
                              aggfunc="first").reindex([d.label for d in days])
    abandon = values[values["kpi"] == "abandonment_rate"].set_index("period")["numerator"]
    wide["abandoned"] = abandon.reindex(wide.index).fillna(0.0)
    wide["short_abandons"] = sliced.set_index("period")["rt_short_abandons"].reindex(wide.index).fillna(0.0)
    if by:  # agent activity has no queue or channel: occupancy is a whole-center figure
        wide["occupancy"] = np.nan
    for count in ("offered", "handled"):
        wide[count] = wide[count].fillna(0.0) if count in wide else 0.0
    return wide.rename(columns=KPI_COLUMN).reset_index()


def staffing_per_interval(data, rows: pd.DataFrame, minutes: int, queue, channel,
                          zone: ZoneInfo) -> pd.Series | None:
    """Staffed agents per report row (:func:`kpitools.staffing.staffed_agents`); rows off the
    clock (no ``interval_end``) get none."""
    starts = pd.to_datetime(rows["interval_start"].where(rows["interval_end"] != ""), utc=True,
                            format="ISO8601")
    return staffed_agents(data, starts, minutes, zone, queue=queue, channel=channel)
