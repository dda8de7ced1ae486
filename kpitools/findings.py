"""Sentences that state what an investigation notebook found, built from the numbers.

A notebook's prose may explain a method, but a finding ("AHT fell two minutes on billing")
must come from the data the notebook ran on, so it stays true on another data set. Each
function here takes a frame that :mod:`kpitools` or :mod:`kpitools.explore` computed and
returns Markdown text; values are written with :mod:`kpitools.formatting`, as in the reviews.
Nothing here computes a KPI.

>>> import pandas as pd
>>> row = pd.Series({"kpi": "nps", "label": "NPS", "unit": "nps", "period": "2026-W46",
...                  "value": 18.3, "n": 712, "ci_low": 12.1, "ci_high": 24.5})
>>> interval_sentence(row)
'NPS in 2026-W46: **+18.3** from 712 responses, 95 % interval +12.1 to +24.5 (±6.2 pts).'
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .formatting import as_number, fmt_change, fmt_target, fmt_tick, fmt_value

__all__ = [
    "bullets",
    "status_sentence",
    "moves_sentence",
    "weakest_cells_sentence",
    "extreme_sentence",
    "episode_sentence",
    "tradeoff_sentence",
    "agents_sentence",
    "recovery_sentence",
    "busiest_slot_sentence",
    "scenarios_sentence",
    "headcount_sentence",
    "shortfall_sentence",
    "interval_sentence",
    "change_sentence",
    "survey_pattern_sentence",
    "breakdown_sentence",
    "sample_sentence",
]

WEEKDAYS = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}
STATUS_WORDS = {"green": "on target", "amber": "off target", "red": "critical"}


def bullets(sentences: Sequence[str]) -> str:
    """Markdown bullet list of the non-empty sentences."""
    return "\n".join(f"* {s}" for s in sentences if s)


def _joined(items: Sequence[str], empty: str = "none") -> str:
    items = list(items)
    if not items:
        return empty
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _move(row) -> str:
    """``label before → after (change)`` for a compared row."""
    before = fmt_value(row["compare_value"], row["unit"])
    after = fmt_value(row["value"], row["unit"])
    return f"{row['label']} {before} → {after} ({fmt_change(row['change'], row['unit'])})"


# --------------------------------------------------------------------------------------
# 01 · getting started


def status_sentence(scorecard: pd.DataFrame) -> str:
    """Which KPIs of one period are on target, off target or critical, with the values of
    those that miss (and the KPIs whose sample is too small for a status)."""
    period = scorecard["period"].iloc[0]
    parts = []
    for status, word in STATUS_WORDS.items():
        rows = scorecard[(scorecard["status"] == status) & ~scorecard["small_sample"].astype(bool)]
        if status == "green":
            names = list(rows["label"])
        else:
            names = [
                f"{r['label']} {fmt_value(r['value'], r['unit'])} "
                f"(target {fmt_target(r['target'], r['unit'], r['direction'])})"
                for r in rows.to_dict("records")
            ]
        parts.append(f"{word}: {_joined(names)}")
    small = scorecard[scorecard["small_sample"].astype(bool) & scorecard["value"].notna()]
    if len(small):
        parts.append(f"too few responses for a status: {_joined(list(small['label']))}")
    return f"In {period}, " + "; ".join(parts) + "."


def moves_sentence(compared: pd.DataFrame) -> str:
    """The significant moves in the output of :func:`kpitools.explore.compare_periods`
    (largest first, by how far each moved relative to its own value before)."""
    period, other = compared["period"].iloc[0], compared["compare_period"].iloc[0]
    moved = compared[compared["significant"].fillna(False).astype(bool)]
    if moved.empty:
        return f"No KPI moved significantly between {other} and {period}."
    texts = [_move(r) for r in moved.to_dict("records")]
    still = compared[~compared["significant"].fillna(False).astype(bool)]
    tail = f"; no significant change in {_joined(list(still['label']))}" if len(still) else ""
    return f"From {other} to {period}, significant moves: {_joined(texts)}{tail}."


def weakest_cells_sentence(heat: pd.DataFrame, show: int = 3, min_contacts: int = 20) -> str:
    """How many weekday × hour cells of one KPI missed its target, and the weakest ones
    (``heat`` is :func:`kpitools.kpis` by ``["weekday", "hour"]`` for one KPI).

    Cells whose denominator is under ``min_contacts`` are left out, as in the review's heat
    map: a rate on a handful of contacts is noise, not a pattern.
    """
    rows = heat[heat["value"].notna() & (heat["denominator"] >= min_contacts)]
    if rows.empty:
        return f"No weekday-hour cell has {min_contacts} or more contacts."
    label, unit, period = rows["label"].iloc[0], rows["unit"].iloc[0], rows["period"].iloc[0]
    missed = rows[rows["status"].isin(["amber", "red"])].sort_values("value")
    if rows["direction"].iloc[0] == "lower":
        missed = missed.iloc[::-1]
    if missed.empty:
        return f"{label} met its target in every weekday-hour cell of {period}."
    cells = [
        f"{WEEKDAYS.get(int(r['weekday']), r['weekday'])} {int(r['hour']):02d}:00 "
        f"({fmt_value(r['value'], unit)})"
        for r in missed.head(show).to_dict("records")
    ]
    days = missed["weekday"].map(lambda d: WEEKDAYS.get(int(d), d)).value_counts()
    return (
        f"{label} missed its target in {len(missed)} of the {len(rows)} weekday-hour cells "
        f"of {period} with {min_contacts} or more contacts; the weakest: {_joined(cells)}. {days.index[0]} holds {days.iloc[0]} of "
        f"the {len(missed)} misses."
    )


def extreme_sentence(trend: pd.DataFrame, kpi: str) -> str:
    """The worst complete period of one KPI in a trend frame, against the trend's median."""
    rows = trend[(trend["kpi"] == kpi) & trend["value"].notna() & ~trend["partial"].astype(bool)]
    if rows.empty:
        return ""
    label, unit = rows["label"].iloc[0], rows["unit"].iloc[0]
    worst = rows.loc[rows["value"].idxmax() if rows["direction"].iloc[0] == "lower"
                     else rows["value"].idxmin()]
    typical = rows["value"].median()
    return (
        f"{label}'s worst week of the {len(rows)} was {worst['period']} at "
        f"{fmt_value(worst['value'], unit)}, against a median of {fmt_value(typical, unit)}."
    )


# --------------------------------------------------------------------------------------
# 02 · the AHT trap


def _weeks(first: str, last: str) -> str:
    return first if first == last else f"{first} to {last}"


def episode_sentence(episode, stretches: pd.DataFrame, divergence: pd.DataFrame,
                     by: str = "queue") -> str:
    """What the divergence detector found: the episode (or that there is none), each
    group's own run, other stretches and how many weeks were checked."""
    checked = divergence.loc[divergence["baseline_periods"] > 0, "period"]
    weeks = sorted(set(checked))  # ISO week labels sort as text
    span = f"{len(weeks)} weeks with a baseline ({_weeks(weeks[0], weeks[-1])})" if weeks else (
        "no week with enough baseline weeks")
    if episode is None:
        single = int(divergence["diverging"].sum())
        singles = f"; {single} isolated week(s) were flagged, none two in a row" if single else ""
        return (
            f"**No divergence found**: in the {span}, no {by} had two or more weeks in a row "
            f"where AHT improved while FCR, CSAT or repeat contacts got worse{singles}. The "
            "sections below compare the latest weeks with the weeks before them instead."
        )
    runs = [
        f"{r[by]} {_weeks(r['first_period'], r['last_period'])} ({r['periods']} weeks)"
        for r in episode.stretches.to_dict("records")
    ]
    inside = {(m[by], m["first_period"]) for m in episode.stretches.to_dict("records")}
    others = [
        f"{r[by]} {_weeks(r['first_period'], r['last_period'])}"
        for r in stretches.to_dict("records")
        if (r[by], r["first_period"]) not in inside
    ]
    # Every flagged week is in at most one stretch; the rest were flagged alone.
    isolated = int(divergence["diverging"].sum()) - int(stretches["periods"].sum())
    rest = []
    if others:
        rest.append(f"other stretches: {_joined(others)}")
    if isolated:
        rest.append(f"{isolated} isolated week(s) flagged, none two in a row")
    rest = ("Also " + "; ".join(rest) + "." if rest
            else f"No other {by} and no other week of the {span} tripped the rule.")
    return (
        f"The rule finds **{_joined(list(episode.groups))}** from {episode.first_period} "
        f"(week of {episode.start.day} {episode.start:%B %Y}) to {episode.last_period}: "
        f"{_joined(runs)}. {rest}"
    )


def tradeoff_sentence(compared: pd.DataFrame, groups: Sequence[str], by: str = "queue",
                      kpis: Sequence[str] = ("aht", "fcr", "csat", "repeat_contact_rate")) -> str:
    """Per group in focus, each KPI before → during with its change (the output of
    :func:`kpitools.explore.compare_windows` by ``by``); then the other groups whose moves
    were significant."""
    rows = compared[compared["kpi"].isin(kpis)]
    lines = []
    for group in groups:
        sub = rows[rows[by] == group].set_index("kpi")
        moves = [_move(sub.loc[k]) for k in kpis if k in sub.index and pd.notna(sub.loc[k, "change"])]
        lines.append(f"{group}: {_joined(moves)}")
    others = rows[~rows[by].isin(groups) & rows[by].notna()]
    moved = others[others["significant"].fillna(False).astype(bool)]
    if len(moved):
        tail = " Other significant moves: " + _joined(
            [f"{r[by]} {_move(r)}" for r in moved.to_dict("records")]) + "."
    elif len(others):
        tail = f" No other {by} moved significantly on these KPIs."
    else:
        tail = ""
    return "; ".join(lines) + "." + tail


def agents_sentence(moves: pd.DataFrame, min_contacts: int = 30, together: float = 0.8) -> str:
    """How many agents cut AHT and lost FCR (``moves``: one row per agent with the
    ``aht`` and ``fcr`` changes); when at least ``together`` of them moved the same way the
    cause is the queue's, not individuals'."""
    total = len(moves)
    if total == 0:
        return f"No agent had {min_contacts} or more handled contacts in both windows."
    both = int(((moves["aht"] < 0) & (moves["fcr"] < 0)).sum())
    kept = int(((moves["aht"] < 0) & (moves["fcr"] >= 0)).sum())
    text = (f"Of {total} agents with at least {min_contacts} handled contacts in both windows, "
            f"{both} cut AHT and lost FCR, {kept} cut AHT and kept FCR, and "
            f"{total - both - kept} did not cut AHT.")
    if both >= together * total:
        text += (" They moved together: that points at something done to the whole queue "
                 "(a target or a policy), not at individual performance.")
    else:
        text += " The move is not uniform: look at the agents before blaming a policy."
    return text


def recovery_sentence(recovery: pd.DataFrame | None, windows, groups: Sequence[str],
                      by: str = "queue") -> str:
    """After the episode against the episode itself, per group (or why there is no after)."""
    if recovery is None or windows.after is None:
        return "The window runs to the last complete week of the data: there is no after yet."
    lines = []
    for group in groups:
        sub = recovery[recovery[by] == group].set_index("kpi")
        moves = [_move(sub.loc[k]) for k in sub.index if pd.notna(sub.loc[k, "change"])]
        lines.append(f"{group}: {_joined(moves)}")
    first, last = windows.after
    return f"From {first} to {last}, against the window: " + "; ".join(lines) + "."


# --------------------------------------------------------------------------------------
# 03 · staffing


def busiest_slot_sentence(busiest: pd.Series, interval_minutes: int) -> str:
    """The busiest slot of :func:`kpitools.staffing.interval_profile`."""
    return (
        f"The busiest {interval_minutes}-minute slot is **{busiest['weekday']} "
        f"{busiest['time_of_day']}**: {busiest['contacts']:.1f} calls on average over "
        f"{int(busiest['intervals'])} intervals, AHT {fmt_value(busiest['aht_s'], 'seconds')}, "
        f"an offered load of {busiest['offered_load']:.1f} Erlangs, and an achieved service "
        f"level of {fmt_value(busiest['achieved_sl'], 'fraction')}."
    )


def scenarios_sentence(scenarios: pd.DataFrame) -> str:
    """The base case of :func:`kpitools.explore.staffing_scenarios` and each what-if's
    agents against it."""
    base = scenarios.iloc[0]
    text = (f"The base case needs **{int(base['agents'])} agents** on the phones "
            f"(service level {fmt_value(base['service_level'], 'fraction')})")
    if "scheduled_agents" in scenarios and pd.notna(base.get("scheduled_agents")):
        text += f", {int(base['scheduled_agents'])} on the schedule after shrinkage"
    cases = [
        f"{r['scenario']} {int(r['agents'])} ({fmt_change(r['extra_agents'], 'count')})"
        for r in scenarios.iloc[1:].to_dict("records")
    ]
    return text + (f". What-ifs: {_joined(cases)}." if cases else ".")


def headcount_sentence(intervals: pd.DataFrame, target: float) -> str:
    """Head count of agents who touched the queue against the Erlang C requirement, the
    prediction from that head count, and how often the achieved level missed the target."""
    rows = intervals[intervals["required_agents"] > 0]
    if rows.empty:
        return "No interval had calls to staff for."
    ratio = (rows["actual_agents"] / rows["required_agents"]).median()
    predicted = (rows["predicted_sl"] >= 0.95).mean()
    missed = (rows["achieved_sl"] < target).mean()
    return (
        f"Over {len(rows)} intervals the agents who touched the queue were a median "
        f"{ratio:.1f}× the Erlang C requirement; fed that head count, Erlang C predicts 95 % or "
        f"more in {fmt_tick(predicted, 'fraction')} of intervals, while the achieved service "
        f"level missed the {fmt_tick(target, 'fraction')} target in "
        f"{fmt_tick(missed, 'fraction')} of them."
    )


def shortfall_sentence(intervals: pd.DataFrame) -> str:
    """Intervals whose effective staffing fell below the requirement: how many, which
    weekday had most, between which times, and by how much on average."""
    known = intervals[intervals["effective_agents"].notna() & (intervals["required_agents"] > 0)]
    short = known[known["effective_agents"] < known["required_agents"]]
    if short.empty:
        return f"No interval of {len(known)} was short of the required agents on the phones."
    gap = short["required_agents"] - short["effective_agents"].astype("float64")
    day = short["weekday"].value_counts().index[0]
    on_day = short[short["weekday"] == day]
    times = on_day["interval_start"].dt.strftime("%H:%M")
    return (
        f"{len(short)} of {len(known)} intervals were short of the requirement (effective "
        f"staffing below required), by {gap.mean():.1f} agents on average. **{day}** had the "
        f"most: {len(on_day)}, between {times.min()} and {times.max()}, short by "
        f"{gap[on_day.index].mean():.1f} on average."
    )


# --------------------------------------------------------------------------------------
# 04 · survey KPIs


def interval_sentence(row: pd.Series) -> str:
    """One survey KPI with its responses and 95 % interval."""
    unit = row["unit"]
    lo, hi = as_number(row["ci_low"]), as_number(row["ci_high"])
    text = f"{row['label']} in {row['period']}: **{fmt_value(row['value'], unit)}**"
    text += f" from {int(row['n'])} responses"
    if lo is None or hi is None:
        return text + " (no interval)."
    return (text + f", 95 % interval {fmt_value(lo, unit)} to {fmt_value(hi, unit)} "
            f"(±{fmt_change((hi - lo) / 2, unit)[1:]}).")


def change_sentence(row: pd.Series) -> str:
    """One compared KPI (from :func:`kpitools.explore.compare_periods` or
    ``compare_windows``): the change, whether the intervals overlap, whether it is
    significant."""
    if pd.isna(row["change"]):
        return f"{row['label']}: no like-for-like change between {row['compare_period']} and {row['period']}."
    overlap = {True: "the two 95 % intervals overlap", False: "the two 95 % intervals do not overlap"}
    sig = row.get("significant")
    verdict = ("significant at 95 %" if sig is not None and not pd.isna(sig) and bool(sig)
               else "not significant at 95 %")
    parts = [f"{row['label']} {fmt_value(row['compare_value'], row['unit'])} in "
             f"{row['compare_period']} → {fmt_value(row['value'], row['unit'])} in {row['period']} "
             f"(**{fmt_change(row['change'], row['unit'])}**)"]
    if pd.notna(row.get("intervals_overlap")):
        parts.append(overlap[bool(row["intervals_overlap"])])
    parts.append(verdict)
    return "; ".join(parts) + "."


def survey_pattern_sentence(compared: pd.DataFrame, recommend: str = "nps",
                            experience: Sequence[str] = ("csat", "ces")) -> str:
    """Which survey KPIs moved significantly, and what the pattern suggests: willingness
    to recommend moving while the contact experience holds points outside the center."""
    sig = compared["significant"].fillna(False).astype(bool)
    moved = compared[sig]
    texts = [f"{r['label']} {fmt_change(r['change'], r['unit'])}" for r in moved.to_dict("records")]
    flat = list(compared.loc[~sig, "label"])
    text = (f"Significant moves: {_joined(texts)}" if texts else "No survey KPI moved significantly")
    text += f"; no significant change in {_joined(flat)}." if flat else "."
    kpis = set(moved["kpi"])
    if recommend in kpis and not kpis & set(experience):
        text += (" The contact itself is rated as before while willingness to recommend moved: "
                 "look for the cause outside the contact center (price, policy, product).")
    elif kpis & set(experience):
        text += " The contact experience itself moved: look at the queues and the contacts."
    return text


def breakdown_sentence(compared: pd.DataFrame, kpi: str, by: str = "queue") -> str:
    """Which groups' change in ``kpi`` clears its noise and which cannot be told from zero."""
    rows = compared[(compared["kpi"] == kpi) & compared[by].notna() & compared["change"].notna()]
    if rows.empty:
        return f"No {by} has a like-for-like change in {kpi}."
    label, unit = rows["label"].iloc[0], rows["unit"].iloc[0]
    sig = rows["significant"].fillna(False).astype(bool)
    clear = [f"{r[by]} ({fmt_change(r['change'], unit)}, n = {int(r['n'])})"
             for r in rows[sig].to_dict("records")]
    noise = [f"{r[by]} ({fmt_change(r['change'], unit)}, n = {int(r['n'])})"
             for r in rows[~sig].to_dict("records")]
    text = (f"{label} by {by}: the change clears its noise for {_joined(clear)}" if clear
            else f"{label} by {by}: no {by}'s change clears its noise")
    if noise:
        text += f"; it cannot be told from zero for {_joined(noise)}"
    return text + "."


def sample_sentence(per_agent: pd.DataFrame, min_sample: int) -> str:
    """Per period, how many agents reach the minimum sample, and how wide the intervals
    below it are."""
    parts = []
    for period, rows in per_agent.groupby("period", sort=False):
        enough = int((~rows["small_sample"].astype(bool)).sum())
        parts.append(f"{enough} of {len(rows)} in {period}")
    small = per_agent[per_agent["small_sample"].astype(bool) & per_agent["ci_low"].notna()]
    text = f"Agents with at least {min_sample} responses: {_joined(parts)}."
    if len(small):
        unit = small["unit"].iloc[0]
        width = (small["ci_high"].astype(float) - small["ci_low"].astype(float)).median()
        text += (f" Below {min_sample} the median 95 % interval is "
                 f"{fmt_change(width, unit)[1:]} wide.")
    return text
