"""Exception lists: the contacts behind a bad number, for an analyst (CSV only).

Four kinds, each defined with the engine's own per-contact columns (``wait_s``,
``threshold_s``, ``is_answered`` … from :func:`kpitools.sql.contact_columns`) and the
catalogue's rules, so the lists add up to the KPIs:

- ``waited``: answered inbound real-time contacts that waited past their channel's threshold,
  in the worst intervals of the period (the ``WORST_INTERVALS`` lowest service levels below
  target, by the engine's ``interval`` dimension);
- ``abandoned``: inbound real-time abandons that waited past the threshold (short abandons
  never qualify); their number is at most the abandonment-rate numerator;
- ``repeats``: repeat chains: each handled inbound contact counted as followed by a repeat
  (the ``repeat_contacts`` numerator) with the contacts of the same customer and issue type
  that arrived after it within ``repeat_window_h``; a contact can belong to several chains;
- ``low-survey``: survey responses with CSAT below 4 (not "satisfied") or NPS 0–6
  (detractors), with their contact's queue, agent and issue.

These files carry customer ids and are for analysts only: their first line says so. No
review, HTML or PDF ever shows a customer id.
"""

from __future__ import annotations

import copy
import csv
import io

import pandas as pd

from ..dialects import DUCKDB
from ..engine import compute_measures
from ..errors import ConfigError
from ..formulas import kpi_frame
from ..periods import Period, periods_between
from ..sql import contact_columns

KINDS = ("waited", "abandoned", "repeats", "low-survey")
WORST_INTERVALS = 10
HEADER = ("# kpitools exceptions {kind} {period}{slice}: CONTAINS CUSTOMER IDS - analyst use only; "
          "never paste into a review, a slide or an e-mail")


def _quote(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _contacts_sql(data, period: Period, queue=None, channel=None, extra_days: int = 0) -> str:
    """Contacts arriving in the period (plus ``extra_days``) with the engine's derived columns."""
    end = period.end_exclusive + pd.Timedelta(days=extra_days).to_pytimedelta()
    where = [f"i.arrived_at >= TIMESTAMP '{period.start}'", f"i.arrived_at < TIMESTAMP '{end}'"]
    if queue:
        where.append(f"i.queue = {_quote(queue)}")
    if channel:
        where.append(f"i.channel = {_quote(channel)}")
    return (f"SELECT i.interaction_id, i.customer_id, i.arrived_at, i.answered_at, i.ended_at, "
            f"i.channel, i.queue, i.agent_id, i.issue_type, i.outcome, i.resolved,\n  "
            f"{contact_columns(data.params, DUCKDB)}\nFROM interactions i WHERE {' AND '.join(where)}")


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ConfigError(f"--kind must be one of {', '.join(KINDS)}, got {str(kind)[:30]!r}")
    return kind


def worst_intervals(data, period: Period, minutes: int = 30, queue=None, channel=None,
                    limit: int = WORST_INTERVALS) -> pd.DataFrame:
    """The intervals of the period whose service level (the engine's, per ``interval``) is
    below target, worst first: period (day), interval (wall-clock start), service_level."""
    scoped = copy.copy(data)
    scoped.params = {**data.params, "interval_minutes": int(minutes)}
    by = ("interval", *(("queue",) if queue else ()), *(("channel",) if channel else ()))
    measures = compute_measures(scoped, periods_between(period.start, period.end, "day"), by)
    frame = measures.frame
    if queue:
        frame = frame[frame["queue"] == queue]
    if channel:
        frame = frame[frame["channel"] == channel]
    kpi = data.registry["service_level"]
    sl = kpi_frame(frame.reset_index(drop=True), [kpi], data.registry, measures.unavailable,
                   ["period", "interval"])
    target = data.targets.for_row(kpi, {"channel": channel} if channel else {}).target
    below = sl[sl["value"] < float(target)]
    return below.sort_values(["value", "period", "interval"]).head(limit)[
        ["period", "interval", "value"]].rename(columns={"value": "service_level"})


def exception_rows(data, period, kind: str, minutes: int = 30, queue=None,
                   channel=None) -> pd.DataFrame:
    """The rows of one exception list (customer ids included: analyst files only)."""
    period = period if isinstance(period, Period) else Period.parse(period)
    check_kind(kind)
    contacts = _contacts_sql(data, period, queue, channel)
    if kind == "waited":
        worst = worst_intervals(data, period, minutes, queue, channel)
        cols = ("interaction_id, customer_id, arrived_at, channel, queue, agent_id, issue_type, "
                "wait_s, threshold_s")
        found = data.sql(f"SELECT {cols} FROM ({contacts}) c WHERE c.is_inbound AND c.is_realtime "
                         "AND c.is_answered AND c.wait_s > c.threshold_s ORDER BY arrived_at")
        slot = found["arrived_at"].dt.floor(f"{int(minutes)}min")
        found.insert(3, "interval_start", slot)
        keyed = worst.assign(day=worst["period"]).set_index(["day", "interval"])["service_level"]
        key = pd.MultiIndex.from_arrays([found["arrived_at"].dt.strftime("%Y-%m-%d"), slot])
        found["interval_service_level"] = keyed.reindex(key).to_numpy()
        found = found[found["interval_service_level"].notna()]
        return found.sort_values(["interval_service_level", "interval_start", "wait_s"],
                                 ascending=[True, True, False]).reset_index(drop=True)
    if kind == "abandoned":
        return data.sql(
            "SELECT interaction_id, customer_id, arrived_at, ended_at, channel, queue, issue_type, "
            f"wait_s, threshold_s FROM ({contacts}) c WHERE c.is_inbound AND c.is_realtime "
            "AND c.is_abandoned AND c.wait_s > c.threshold_s AND c.wait_s >= c.short_abandon_s "
            "ORDER BY wait_s DESC, arrived_at")
    if kind == "repeats":
        return repeat_chains(data, period, queue, channel)
    return low_surveys(data, period, contacts)


def repeat_chains(data, period: Period, queue=None, channel=None) -> pd.DataFrame:
    """Origin contacts (handled inbound, followed by a repeat) and the repeats that followed.

    The rule is the catalogue's repeat rule: same customer, same issue type, inbound, arriving
    strictly later and at most ``repeat_window_h`` after the origin, looking past the period's
    end. Origins are filtered by the slice; their repeats are not (a customer who calls back
    on another queue still came back).
    """
    window_h = float(data.params.get("repeat_window_h", 168))
    extra = int(window_h // 24) + 1
    origins = _contacts_sql(data, period, queue, channel)
    later = _contacts_sql(data, period, extra_days=extra)
    cols = ("interaction_id, customer_id, arrived_at, channel, queue, agent_id, issue_type, "
            "outcome, resolved")
    return data.sql(
        f"WITH o AS ({origins}), r AS ({later})\n"
        f"SELECT o.interaction_id AS chain, 0 AS position, 0.0 AS hours_after_origin, "
        f"{', '.join('o.' + c.strip() for c in cols.split(','))}\n"
        "FROM o WHERE o.is_handled AND o.is_inbound AND o.customer_id IS NOT NULL AND EXISTS (\n"
        "  SELECT 1 FROM r WHERE r.is_inbound AND r.customer_id = o.customer_id\n"
        "  AND r.issue_type = o.issue_type AND r.arrived_at > o.arrived_at\n"
        f"  AND r.arrived_at <= o.arrived_at + INTERVAL ({window_h} * 3600000000) MICROSECOND)\n"
        "UNION ALL\n"
        "SELECT o.interaction_id AS chain, ROW_NUMBER() OVER (PARTITION BY o.interaction_id "
        "ORDER BY r.arrived_at, r.interaction_id) AS position, "
        "date_diff('second', o.arrived_at, r.arrived_at) / 3600.0 AS hours_after_origin, "
        f"{', '.join('r.' + c.strip() for c in cols.split(','))}\n"
        "FROM o JOIN r ON r.is_inbound AND r.customer_id = o.customer_id\n"
        "  AND r.issue_type = o.issue_type AND r.arrived_at > o.arrived_at\n"
        f"  AND r.arrived_at <= o.arrived_at + INTERVAL ({window_h} * 3600000000) MICROSECOND\n"
        "WHERE o.is_handled AND o.is_inbound AND o.customer_id IS NOT NULL\n"
        "ORDER BY chain, position")


def low_surveys(data, period: Period, contacts: str) -> pd.DataFrame:
    if not data.has("surveys"):
        return pd.DataFrame(columns=["interaction_id", "customer_id", "responded_at", "csat", "nps",
                                     "ces", "arrived_at", "channel", "queue", "agent_id",
                                     "issue_type", "resolved"])
    team = "a.team" if data.has("agents") else "CAST(NULL AS VARCHAR)"
    join = "LEFT JOIN agents a ON a.agent_id = c.agent_id" if data.has("agents") else ""
    return data.sql(
        "SELECT s.interaction_id, c.customer_id, s.responded_at, s.csat, s.nps, s.ces, "
        f"c.arrived_at, c.channel, c.queue, c.agent_id, {team} AS team, c.issue_type, c.resolved\n"
        f"FROM surveys s JOIN ({contacts}) c ON s.interaction_id = c.interaction_id {join}\n"
        "WHERE s.csat < 4 OR s.nps <= 6 ORDER BY c.arrived_at, s.interaction_id")


def to_csv(rows: pd.DataFrame, kind: str, period: Period, queue=None, channel=None) -> str:
    """The CSV text with its header comment line (customer ids: analyst use only)."""
    parts = [f"queue {queue}" if queue else "", f"channel {channel}" if channel else ""]
    slice_text = " (" + ", ".join(p for p in parts if p) + ")" if any(parts) else ""
    buf = io.StringIO()
    buf.write(HEADER.format(kind=kind, period=period.label, slice=slice_text) + "\n")
    rows.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    return buf.getvalue()
