"""Deterministic, realistic demo data for kpitools (SPEC §2 schema).

``generate_demo_data`` writes all six tables (interactions, surveys, agent_activity, agents,
costs, qa) plus a ``targets.yaml`` with per-issue-type AHT targets into one folder.
``generate_scaled_interactions`` writes a large interactions-only Parquet file for benchmarks,
in chunks, so memory stays flat whatever the row count.

Everything is vectorised with numpy (no Python loop over contacts) and driven by one
``numpy.random.Generator`` seeded from ``seed``: the same seed and arguments give
byte-identical files; nothing reads the clock.

The simulated center
--------------------
A mid-size, multi-site center (about 75 agents on the roster at the default volume, in five
teams at three sites) serving five queues -- billing, technical_support, sales, retention and
general -- over voice (~55 % of contacts, of which the outbound ~8 % of all contacts),
chat (~25 %), email (~15 %) and social (~5 %). Twelve issue types with clearly different
handle times (password_reset ~3 min ... device_setup ~12 min) map onto the queues.

* Volume: Monday is the busiest day, weekends are quiet, voice and chat arrive only in
  opening hours (weekdays 08-20 / 08-22, shorter at weekends) with peaks mid-morning and early
  afternoon, email and social also arrive overnight. Mild yearly seasonality (peak in late
  January), ~6 %/year growth, public-holiday dips (24-26 Dec, 31 Dec, 1 Jan).
* Waits follow a queueing-style model driven by load: voice ASA ~15-20 s with a service level
  near 80 % at 20 s, chat ~30 s (threshold 60 s), abandonment ~4-6 % including short abandons
  (< 5 s); email first responses take a few hours (target 4 h; overnight mail waits for the
  morning), social ~1 h.
* Agents differ in speed, resolution skill and customer rapport; new hires are slower for
  their first ~3 months; there is attrition (~27 %/year, leavers are replaced) and growth
  hiring, so the agents table holds more people (~130) than are on the roster on any day.
* Repeat contacts are generated causally: an unresolved contact brings the same customer back
  with the same issue, mostly within a week (an abandoned caller usually retries within the
  hour), so FCR (~0.75) and the 7-day repeat-contact rate (~0.15-0.20) move together.
* Surveys (~17 % of handled inbound contacts, answered within hours to a week later), QA
  evaluations (~2.5 % of handled contacts) and monthly costs per queue (cost per handled
  contact ~5-8) complete the picture.

Agents are *blended*: they are logged into the contact queues for only a part of their day (the
rest is back-office work outside this data set), so ``logged_in_s`` is ~2 h per agent-day at the
default volume while occupancy (~0.80) and utilization (~0.78) sit in their usual bands;
``paid_s`` is the time scheduled on the queues. The roster size scales with
``contacts_per_week`` (about one agent per 65 contacts a week).

Stories a review should surface
-------------------------------
The story dates are anchored to the *end* of the data (the day after the last day, ``end``),
so every long-enough data set has them. With the defaults (start Monday 2024-11-04, 106 weeks,
last day Sunday 2026-11-15):

1. **Outage spike -- Tuesday 2026-09-15** (``end`` - 62 days): a network outage triples
   technical_support voice volume between ~09:00 and 17:00 (mostly ``outage_report``, plus a
   burst on social and chat). Waits run to minutes: technical_support voice abandonment is
   ~35-40 % and all voice abandonment ~28 % that day (ASA ~2 min); FCR for outage reports is
   low.
2. **The AHT trap (seed 003) -- 2026-08-03 to 2026-09-27** (``end`` - 105 days, eight full ISO
   weeks 2026-W32..W39): strict handle-time targets on the billing and technical_support
   queues push their AHT ~30 % down (~430 s -> ~300 s, phased in over the first week) while
   their FCR falls from ~0.72 to ~0.59, CSAT (share >= 4) falls from ~0.83 to ~0.70, NPS and
   QA scores fall, transfers rise and the repeat-contact rate climbs from ~0.18 to ~0.24 (more
   callbacks, so ~8 % more volume). From 2026-09-28 the targets are withdrawn and everything
   recovers within about a week.
3. **NPS drop in the last week -- 2026-11-09 to 2026-11-15** (ISO week 2026-W46, the last
   full week): a price-increase letter lands and NPS falls by ~15 points (10-25 depending on
   sampling noise) while CSAT for the contacts themselves barely moves.

Timestamps are naive business-local time. Survey and QA rows dated after the end of the data
are not included (the extract was taken at the end of the last day).
"""

from __future__ import annotations

import datetime as _dt
import math
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

__all__ = ["generate_demo_data", "generate_scaled_interactions", "TABLES", "AHT_TARGETS"]

TABLES = ("interactions", "surveys", "agent_activity", "agents", "costs", "qa")

DAY = 86_400
HOUR = 3_600

# --------------------------------------------------------------------------------------------
# Static model parameters
# --------------------------------------------------------------------------------------------

CHANNELS = np.array(["voice", "chat", "email", "social"])
VOICE, CHAT, EMAIL, SOCIAL = 0, 1, 2, 3
QUEUES = np.array(["billing", "technical_support", "sales", "retention", "general"])
Q_BILLING, Q_TECH, Q_SALES, Q_RETENTION, Q_GENERAL = range(5)
DIRECTIONS = np.array(["inbound", "outbound"])
OUTCOMES = np.array(["handled", "abandoned"])

# name, queue, voice talk s, hold s (when held), acw s, base FCR, p(transfer), p(escalate),
# relative frequency on (voice, chat, email, social)
_ISSUE_ROWS = [
    ("billing_dispute", Q_BILLING, 480, 90, 100, 0.67, 0.09, 0.09, (9, 6, 10, 8)),
    ("invoice_question", Q_BILLING, 230, 45, 60, 0.86, 0.04, 0.01, (10, 9, 12, 6)),
    ("payment_arrangement", Q_BILLING, 320, 60, 80, 0.82, 0.04, 0.03, (6, 3, 5, 1)),
    ("password_reset", Q_TECH, 140, 30, 35, 0.93, 0.02, 0.005, (8, 12, 6, 4)),
    ("outage_report", Q_TECH, 200, 45, 50, 0.58, 0.04, 0.04, (6, 5, 3, 14)),
    ("device_setup", Q_TECH, 600, 120, 90, 0.73, 0.08, 0.03, (8, 7, 4, 3)),
    ("connectivity_fault", Q_TECH, 530, 110, 110, 0.64, 0.12, 0.06, (10, 8, 6, 6)),
    ("plan_change", Q_SALES, 380, 60, 75, 0.85, 0.04, 0.01, (8, 9, 6, 5)),
    ("new_service", Q_SALES, 500, 75, 95, 0.81, 0.05, 0.01, (5, 6, 3, 3)),
    ("cancellation", Q_RETENTION, 440, 90, 85, 0.71, 0.06, 0.08, (7, 4, 6, 3)),
    ("account_update", Q_GENERAL, 200, 40, 50, 0.89, 0.04, 0.01, (8, 9, 14, 4)),
    ("general_inquiry", Q_GENERAL, 170, 30, 40, 0.85, 0.11, 0.01, (8, 10, 12, 20)),
]
ISSUES = np.array([r[0] for r in _ISSUE_ROWS])
ISSUE_QUEUE = np.array([r[1] for r in _ISSUE_ROWS])
ISSUE_TALK = np.array([r[2] for r in _ISSUE_ROWS], dtype=float)
ISSUE_HOLD = np.array([r[3] for r in _ISSUE_ROWS], dtype=float)
ISSUE_ACW = np.array([r[4] for r in _ISSUE_ROWS], dtype=float)
ISSUE_FCR = np.array([r[5] for r in _ISSUE_ROWS])
ISSUE_TRANSFER = np.array([r[6] for r in _ISSUE_ROWS])
ISSUE_ESCALATE = np.array([r[7] for r in _ISSUE_ROWS])
_W = np.array([r[8] for r in _ISSUE_ROWS], dtype=float)  # issues x channels
ISSUE_GIVEN_CHANNEL = (_W / _W.sum(axis=0)).T  # channels x issues
I_OUTAGE = int(np.flatnonzero(ISSUES == "outage_report")[0])
I_CONNECT = int(np.flatnonzero(ISSUES == "connectivity_fault")[0])
# Outbound (voice) campaigns: upgrades, new lines, win-backs, collections.
OUTBOUND_ISSUES = np.array([7, 8, 9, 2])  # plan_change, new_service, cancellation, payment_arr.
OUTBOUND_P = np.array([0.35, 0.20, 0.25, 0.20])

# Per-issue-type AHT targets (seconds) written to targets.yaml; close to the normal handle
# times of the mixed channel population, so AHT is green in normal weeks.
AHT_TARGETS = {
    "billing_dispute": 570,
    "invoice_question": 300,
    "payment_arrangement": 390,
    "password_reset": 180,
    "outage_report": 240,
    "device_setup": 720,
    "connectivity_fault": 660,
    "plan_change": 480,
    "new_service": 630,
    "cancellation": 540,
    "account_update": 240,
    "general_inquiry": 210,
}

# Channel mix of inbound contacts (outbound voice is ~8 % of all contacts on top).
INBOUND_SHARE = np.array([0.51, 0.272, 0.163, 0.055])
INBOUND_SHARE = INBOUND_SHARE / INBOUND_SHARE.sum()
OUTBOUND_RATIO = 0.087  # outbound contacts per inbound contact (=> ~8 % of all)
TALK_FACTOR = np.array([1.0, 1.3, 0.55, 0.45])  # chat sessions are long, email/social short
ACW_FACTOR = np.array([1.0, 0.7, 0.5, 0.45])
HOLD_P = np.array([0.35, 0.0, 0.0, 0.0])

# Hourly arrival shapes (24 values) before masking with opening hours.
_VOICE_SHAPE = np.array([1, 1, 1, 1, 1, 1, 2, 5, 40, 80, 100, 96, 80, 86, 92, 84, 74, 62, 46, 34,
                         20, 10, 3, 1], dtype=float)
_CHAT_SHAPE = np.array([2, 1, 1, 1, 1, 1, 2, 6, 35, 70, 90, 90, 82, 88, 92, 86, 78, 70, 62, 58,
                        52, 42, 20, 6], dtype=float)
_EMAIL_SHAPE = np.array([14, 10, 8, 7, 7, 9, 14, 26, 48, 66, 72, 70, 62, 66, 68, 64, 58, 50, 44,
                         40, 36, 32, 26, 18], dtype=float)
_SOCIAL_SHAPE = np.array([20, 14, 10, 8, 7, 8, 12, 22, 40, 54, 60, 62, 64, 62, 60, 58, 58, 60, 64,
                          68, 70, 64, 48, 30], dtype=float)
_OUTBOUND_SHAPE = np.array([0] * 9 + [60, 90, 90, 60, 70, 90, 90, 80, 70, 60] + [0] * 5,
                           dtype=float)
_OUTAGE_SHAPE = np.array([0] * 9 + [60, 100, 96, 86, 74, 60, 40, 22, 12, 6, 3] + [0] * 4,
                         dtype=float)

# Opening hours (start hour, end hour) per weekday Mon..Sun.
VOICE_HOURS = [(8, 20)] * 5 + [(9, 17), (10, 16)]
CHAT_HOURS = [(8, 22)] * 5 + [(9, 18), (10, 18)]
OUTBOUND_HOURS = [(9, 19)] * 5 + [(10, 14), (0, 0)]
EMAIL_DESK_HOURS = np.array([(7, 22)] * 5 + [(8, 20), (8, 20)])
SOCIAL_DESK_HOURS = np.array([(7, 23)] * 7)

DOW_VOLUME = np.array([1.18, 1.08, 1.03, 1.0, 0.96, 0.52, 0.40])

# Queueing model for real-time channels (voice, chat).
RHO0 = 0.84
PW0 = np.array([0.24, 0.28, 0.0, 0.0])  # probability of queueing beyond ring time at rho0
QMEAN0 = np.array([42.0, 70.0, 0.0, 0.0])  # mean queue wait (s) when queued, at rho0
PATIENCE = np.array([300.0, 480.0, 0.0, 0.0])  # mean caller patience (s)
_HOUR_ADJ = np.ones(24)
_HOUR_ADJ[8:20] = [0.95, 1.02, 1.05, 1.04, 1.01, 1.04, 1.04, 1.00, 0.98, 0.97, 0.96, 0.98]
_DOW_ADJ = np.array([1.04, 1.0, 0.99, 0.985, 0.99, 1.0, 0.985])

# Teams and routing.
TEAMS = np.array(["Billing Care", "Tech Support North", "Tech Support South",
                  "Sales & Retention", "Digital Care"])
TEAM_SITE = np.array(["Leeds", "Leeds", "Cape Town", "Cape Town", "Lisbon"])
# ROUTE[queue, kind, team]; kind 0 = inbound voice, 1 = inbound chat/email/social, 2 = outbound
ROUTE = np.zeros((5, 3, 5))
ROUTE[Q_BILLING] = [[1, 0, 0, 0, 0], [0.2, 0, 0, 0, 0.8], [1, 0, 0, 0, 0]]
ROUTE[Q_TECH] = [[0, 0.55, 0.45, 0, 0], [0, 0, 0.25, 0, 0.75], [0, 0.5, 0.5, 0, 0]]
ROUTE[Q_SALES] = [[0, 0, 0, 1, 0], [0, 0, 0, 0.2, 0.8], [0, 0, 0, 1, 0]]
ROUTE[Q_RETENTION] = [[0, 0, 0, 1, 0], [0, 0, 0, 0.3, 0.7], [0, 0, 0, 1, 0]]
ROUTE[Q_GENERAL] = [[0.5, 0, 0.5, 0, 0], [0, 0, 0, 0, 1], [0.5, 0, 0.5, 0, 0]]

CONTACTS_PER_AGENT_WEEK = 65.0
FOLLOWUP_RATIO = 0.243  # follow-up (repeat/retry) contacts per base contact, measured

# Repeat / retry behaviour.
P_REPEAT_RESOLVED, P_REPEAT_UNRESOLVED, P_REPEAT_UNKNOWN, P_RETRY_ABANDONED = 0.055, 0.55, 0.17, 0.6
REPEAT_DAY_P = np.array([0.30, 0.27, 0.14, 0.09, 0.07, 0.05, 0.04, 0.02, 0.01, 0.01])

# Survey latent-score thresholds (calibrated: CSAT >= 4 share ~0.84, NPS ~ +30, CES ~ 2.8).
CSAT_CUTS = np.array([-2.19, -1.69, -1.09, 0.28])
NPS_CUTS = np.array([-2.6, -2.3, -2.0, -1.7, -1.4, -1.1, -0.75, -0.3, 0.2, 0.85])
CES_CUTS = np.array([-1.05, -0.185, 0.42, 0.90, 1.36, 1.86])


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _as_date(value) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        return _dt.date.fromisoformat(value)
    raise TypeError(f"expected a date, got {value!r}")


def _hour_profile(shape, hours) -> np.ndarray:
    """7 x 24 arrival weights (each weekday row sums to 1, or 0 when closed all day)."""
    prof = np.zeros((7, 24))
    for dow, (a, b) in enumerate(hours):
        row = np.zeros(24)
        row[a:b] = shape[a:b]
        s = row.sum()
        prof[dow] = row / s if s > 0 else row
    return prof


_PROFILES = np.stack([
    _hour_profile(_VOICE_SHAPE, VOICE_HOURS),
    _hour_profile(_CHAT_SHAPE, CHAT_HOURS),
    _hour_profile(_EMAIL_SHAPE, [(0, 24)] * 7),
    _hour_profile(_SOCIAL_SHAPE, [(0, 24)] * 7),
    _hour_profile(_OUTBOUND_SHAPE, OUTBOUND_HOURS),
])  # 5 streams (4 inbound channels + outbound) x 7 x 24
_OUTAGE_PROFILE = _OUTAGE_SHAPE / _OUTAGE_SHAPE.sum()


def _expected_aht(channel: int, issue: np.ndarray) -> np.ndarray:
    return (ISSUE_TALK[issue] * TALK_FACTOR[channel] + HOLD_P[channel] * ISSUE_HOLD[issue]
            + ISSUE_ACW[issue] * ACW_FACTOR[channel])


def _team_workload_share() -> np.ndarray:
    """Expected share of handling seconds per team (sizes the roster)."""
    load = np.zeros(len(TEAMS))
    all_issues = np.arange(len(ISSUES))
    for ch in range(4):
        kind = 0 if ch == VOICE else 1
        w = INBOUND_SHARE[ch] * ISSUE_GIVEN_CHANNEL[ch] * _expected_aht(ch, all_issues)
        load += (w[:, None] * ROUTE[ISSUE_QUEUE, kind]).sum(axis=0)
    w = OUTBOUND_RATIO * OUTBOUND_P * _expected_aht(VOICE, OUTBOUND_ISSUES) * 0.8
    load += (w[:, None] * ROUTE[ISSUE_QUEUE[OUTBOUND_ISSUES], 2]).sum(axis=0)
    return load / load.sum()


class _Categorical:
    """Categorical draws where each row picks one of G probability vectors (G x K table).

    One flat, sorted array of ``group + cumulative probability`` lets a single searchsorted
    draw for every row without materialising an n x K matrix.
    """

    def __init__(self, probs: np.ndarray):
        probs = np.asarray(probs, dtype=float).reshape(-1, np.shape(probs)[-1])
        total = probs.sum(axis=1, keepdims=True)
        cum = np.cumsum(probs / np.where(total > 0, total, 1), axis=1)
        cum[:, -1] = 1.0
        self.k = probs.shape[1]
        self.flat = (np.arange(len(probs))[:, None] + cum).ravel()

    def draw(self, rng, group: np.ndarray) -> np.ndarray:
        group = np.asarray(group, dtype=np.int64)
        pos = np.searchsorted(self.flat, group + rng.random(len(group)), side="right")
        return np.minimum(pos - group * self.k, self.k - 1)


_HOUR_DRAW = _Categorical(_PROFILES.reshape(-1, 24))  # group: stream * 7 + weekday
_ROUTE_DRAW = _Categorical(ROUTE.reshape(-1, len(TEAMS)))  # group: queue * 3 + kind


def _logit(p):
    return np.log(p / (1 - p))


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


# --------------------------------------------------------------------------------------------
# The world: calendar, stories, roster
# --------------------------------------------------------------------------------------------


class _World:
    def __init__(self, rng, start: _dt.date, ndays: int, contacts_per_day: float):
        self.start = start
        self.ndays = ndays
        self.end_s = ndays * DAY
        self.dow0 = start.weekday()
        days = np.arange(ndays)
        self.dow = (days + self.dow0) % 7
        dates = np.datetime64(start.isoformat(), "D") + days
        self.dates = dates
        month = dates.astype("datetime64[M]")
        mon = month.astype(int) % 12 + 1
        dom = (dates - month).astype(int) + 1
        doy = (dates - dates.astype("datetime64[Y]")).astype(int) + 1
        self.season = 1 + 0.07 * np.cos(2 * np.pi * (doy - 25) / 365.25)
        growth = 1.06 ** (days / 365.25)
        holiday = np.ones(ndays)
        for (m, d), f in {(12, 24): 0.6, (12, 25): 0.15, (12, 26): 0.5, (12, 31): 0.6,
                          (1, 1): 0.3}.items():
            holiday[(mon == m) & (dom == d)] = f
        weight = DOW_VOLUME[self.dow] * self.season * growth * holiday
        # Base (non-follow-up) contacts per day, inbound + outbound, before stories.
        self.base_per_day = weight / weight.mean() * contacts_per_day / (1 + FOLLOWUP_RATIO)

        # Stories, anchored to the end of the data.
        self.outage_day = ndays - 62
        trap_start, trap_end = ndays - 105, ndays - 50
        ramp = np.clip((days - trap_start + 1) / 7.0, 0, 1)
        decay = np.clip(1 - (days - trap_end) / 7.0, 0, 1)
        self.trap = np.where(days <= trap_end, ramp, decay) * (days >= trap_start)
        self.nps_shift = np.where(days >= ndays - 7, 1.0, 0.0)

        # Day-level staffing noise on the real-time channels (some days are simply worse),
        # and imperfect staffing for seasonal peaks.
        self.rho_day = (1 + rng.normal(0, 0.022, size=(ndays, 2))) * (self.season ** 0.35)[:, None]

        # Roster ----------------------------------------------------------------------------
        headcount = max(2 * len(TEAMS), round(contacts_per_day * 7 / CONTACTS_PER_AGENT_WEEK))
        share = _team_workload_share()
        per_team = np.maximum(2, np.round(share * headcount)).astype(int)
        team = np.repeat(np.arange(len(TEAMS)), per_team)
        n0 = len(team)
        hire = -np.round(rng.uniform(20, 2400, n0)).astype(np.int64)
        leave = np.round(rng.exponential(3.2 * 365, n0)).astype(np.int64)
        teams, hires, leaves = [team], [hire], [leave]
        # Growth hires spread over the period (~6 %/year).
        n_growth = int(round(n0 * (1.06 ** (ndays / 365.25) - 1)))
        if n_growth:
            g_team = np.repeat(np.arange(len(TEAMS)),
                               np.round(share * n_growth).astype(int))
            g_hire = np.sort(rng.integers(30, max(31, ndays), len(g_team)))
            teams.append(g_team)
            hires.append(g_hire)
            leaves.append(g_hire + np.round(rng.exponential(3.2 * 365, len(g_team))).astype(
                np.int64))
        # Replacements for leavers (a few rounds; loops over agents, not contacts).
        pending_team = np.concatenate(teams)
        pending_leave = np.concatenate(leaves)
        for _ in range(12):
            gone = pending_leave < ndays
            if not gone.any():
                break
            r_team = pending_team[gone]
            r_hire = pending_leave[gone] + rng.integers(7, 35, gone.sum())
            r_leave = r_hire + np.round(rng.exponential(3.2 * 365, gone.sum())).astype(np.int64)
            keep = r_hire < ndays
            teams.append(r_team[keep])
            hires.append(r_hire[keep])
            leaves.append(r_leave[keep])
            pending_team, pending_leave = r_team[keep], r_leave[keep]
        team = np.concatenate(teams)
        hire = np.concatenate(hires)
        leave = np.concatenate(leaves)
        keep = (leave > 0) & (hire < ndays)
        team, hire, leave = team[keep], hire[keep], leave[keep]
        order = np.lexsort((team, hire))
        self.agent_team = team[order]
        self.agent_hire = hire[order]
        self.agent_leave = leave[order]
        na = len(self.agent_team)
        self.n_agents = na
        self.agent_aht = np.exp(rng.normal(0, 0.14, na))
        self.agent_fcr = rng.normal(0, 0.28, na)  # logit shift
        self.agent_sat = rng.normal(0, 0.18, na)
        self.agent_qa = rng.normal(0, 3.0, na)
        self.agent_occ = rng.normal(0, 0.025, na)
        width = max(4, len(str(na)))
        self.agent_ids = pc.binary_join_element_wise(
            "A", pc.utf8_lpad(pc.cast(pa.array(np.arange(1, na + 1)), pa.string()), width, "0"),
            "")
        # Weekly patterns of two days off.
        patterns = np.array([(5, 6), (0, 6), (4, 5), (1, 2), (2, 3), (3, 4)])
        pat = patterns[rng.choice(len(patterns), size=na, p=[0.5, 0.1, 0.1, 0.1, 0.1, 0.1])]
        dow = self.dow[None, :]
        active = (days[None, :] >= self.agent_hire[:, None]) & (
            days[None, :] < self.agent_leave[:, None])
        off = (dow == pat[:, :1]) | (dow == pat[:, 1:])
        absent = rng.random((na, ndays), dtype=np.float32) < 0.04
        self.working = active & ~off & ~absent
        # Index of working agents per (day, team) group for vectorised assignment.
        ag, dd = np.nonzero(self.working)
        ag, dd = ag.astype(np.int32), dd.astype(np.int32)
        key = dd * len(TEAMS) + self.agent_team[ag].astype(np.int32)
        o = np.argsort(key, kind="stable")
        self._grp_agent = ag[o].astype(np.int32)
        ngroups = ndays * len(TEAMS)
        self._grp_start = np.searchsorted(key[o], np.arange(ngroups))
        self._grp_count = np.bincount(key, minlength=ngroups)
        do = np.argsort(dd, kind="stable")
        self._day_agent = ag[do].astype(np.int32)
        self._day_start = np.searchsorted(dd[do], np.arange(ndays))
        self._day_count = np.bincount(dd, minlength=ndays)
        self._active = active

    def tenure_factor(self, agent, day):
        """New hires are slower: x1.25 on day 0 decaying to 1 after ~90 days."""
        t = np.maximum(day - self.agent_hire[agent], 0)
        return 1 + 0.25 * np.exp(-t / 45.0)

    def assign(self, rng, day, team):
        g = day * len(TEAMS) + team
        cnt = self._grp_count[g]
        u = rng.random(len(g))
        agent = np.full(len(g), -1, dtype=np.int64)
        ok = cnt > 0
        agent[ok] = self._grp_agent[self._grp_start[g[ok]] + (u[ok] * cnt[ok]).astype(np.int64)]
        miss = ~ok
        if miss.any():  # nobody of that team works today: anyone working today
            d = day[miss]
            dc = self._day_count[d]
            has = dc > 0
            idx = np.full(miss.sum(), -1, dtype=np.int64)
            idx[has] = self._day_agent[self._day_start[d[has]]
                                       + (u[miss][has] * dc[has]).astype(np.int64)]
            if (~has).any():  # nobody at all: any agent active that day (or any agent)
                dd = d[~has]
                act = self._active[:, dd]
                first = np.where(act.any(axis=0), act.argmax(axis=0), 0)
                idx[~has] = first
            agent[miss] = idx
        return agent


# --------------------------------------------------------------------------------------------
# Contact simulation
# --------------------------------------------------------------------------------------------



def _empty_specs():
    return {"arr": np.zeros(0, np.int64), "ch": np.zeros(0, np.int64),
            "outb": np.zeros(0, bool), "issue": np.zeros(0, np.int64),
            "cust": np.zeros(0, np.int64), "gen": np.zeros(0, np.int64)}


def _concat(dicts):
    dicts = [d for d in dicts if len(d["arr"])]
    if not dicts:
        return None
    return {k: np.concatenate([d[k] for d in dicts]) for k in dicts[0]}


def _take(d, idx):
    return {k: v[idx] for k, v in d.items()}


class _Customers:
    """A pool of customers; a few contact often, most rarely."""

    def __init__(self, pool_size: int):
        self.size = max(1000, int(pool_size))
        a = 2_654_435_761 % self.size
        while math.gcd(a, self.size) != 1 or a < 2:
            a += 1
        self.a = a

    def draw(self, rng, n):
        raw = np.floor(self.size * rng.random(n) ** 1.6).astype(np.int64)
        cust = (raw * self.a + 12345) % self.size
        cust[rng.random(n) < 0.05] = -1  # anonymous / unidentified contacts
        return cust


def _base_specs(rng, world: _World, customers: _Customers, d0: int, d1: int, n_exact=None):
    """Base (first-time) contacts arriving on days [d0, d1)."""
    days = np.arange(d0, d1)
    nd = len(days)
    dow = world.dow[d0:d1]
    base = world.base_per_day[d0:d1]
    inbound_per_day = base / (1 + OUTBOUND_RATIO)
    # Expected counts per (day, stream, hour); streams 0-3 inbound channels, 4 outbound voice.
    exp = np.empty((nd, 8, 24))
    for k in range(4):
        exp[:, k, :] = (inbound_per_day * INBOUND_SHARE[k])[:, None] * _PROFILES[k][dow]
    ob_dow = np.array([1, 1, 1, 1, 0.9, 0.3, 0.0]) * 7 / 5.2
    exp[:, 4, :] = (inbound_per_day * OUTBOUND_RATIO * ob_dow[dow])[:, None] * _PROFILES[4][dow]
    # Outage extras: streams 5 (tech voice), 6 (social), 7 (chat).
    exp[:, 5:, :] = 0
    od = world.outage_day - d0
    if 0 <= od < nd:
        tech_voice = inbound_per_day[od] * INBOUND_SHARE[VOICE] * ISSUE_GIVEN_CHANNEL[VOICE][
            ISSUE_QUEUE == Q_TECH].sum()
        exp[od, 5] = 2.0 * tech_voice * _OUTAGE_PROFILE
        exp[od, 6] = 3.0 * inbound_per_day[od] * INBOUND_SHARE[SOCIAL] * 0.25 * _OUTAGE_PROFILE
        exp[od, 7] = 1.0 * inbound_per_day[od] * INBOUND_SHARE[CHAT] * 0.3 * _OUTAGE_PROFILE
    flat = exp.ravel()
    if n_exact is None:
        counts = rng.poisson(flat)
    else:
        counts = rng.multinomial(int(n_exact), flat / flat.sum())
    cell = np.repeat(np.arange(flat.size), counts)
    n = len(cell)
    d_idx, rem = np.divmod(cell, 8 * 24)
    stream, hour = np.divmod(rem, 24)
    arr = (days[d_idx] * DAY + hour * HOUR + rng.integers(0, HOUR, n)).astype(np.int64)
    ch = np.where(stream < 4, stream, VOICE)
    ch = np.where(stream == 6, SOCIAL, np.where(stream == 7, CHAT, ch))
    outb = stream == 4
    issue = np.empty(n, np.int64)
    for k in range(4):
        m = stream == k
        issue[m] = rng.choice(len(ISSUES), size=m.sum(), p=ISSUE_GIVEN_CHANNEL[k])
    issue[outb] = rng.choice(OUTBOUND_ISSUES, size=outb.sum(), p=OUTBOUND_P)
    m = stream >= 5
    issue[m] = np.where(rng.random(m.sum()) < 0.85, I_OUTAGE, I_CONNECT)
    cust = customers.draw(rng, n)
    return {"arr": arr, "ch": ch.astype(np.int64), "outb": outb, "issue": issue,
            "cust": cust, "gen": np.zeros(n, np.int64)}


def _push_into_hours(rng, world, t, hours_by_dow, backlog_mean):
    """Move times outside desk hours to the next opening (+ a backlog delay)."""
    day = t // DAY
    sod = t % DAY
    dow = (day + world.dow0) % 7
    o = hours_by_dow[dow, 0] * HOUR
    c = hours_by_dow[dow, 1] * HOUR
    out = t.copy()
    before = sod < o
    after = sod >= c
    nxt = day + 1
    ndow = (nxt + world.dow0) % 7
    backlog = rng.exponential(backlog_mean, len(t)).astype(np.int64)
    out[before] = day[before] * DAY + o[before] + backlog[before]
    out[after] = nxt[after] * DAY + hours_by_dow[ndow[after], 0] * HOUR + backlog[after]
    return out


_VOICE_H = np.array(VOICE_HOURS)
_CHAT_H = np.array(CHAT_HOURS)


def _simulate(rng, world: _World, s: dict) -> dict:
    """Outcome, waits, agent, durations and flags for contact specs ``s``."""
    n = len(s["arr"])
    arr, ch, outb, issue = s["arr"], s["ch"], s["outb"], s["issue"]
    day = arr // DAY
    hour = (arr % DAY) // HOUR
    dow = world.dow[day]
    queue = ISSUE_QUEUE[issue]
    trap = world.trap[day] * ((queue == Q_BILLING) | (queue == Q_TECH))

    # --- waits & abandonment -------------------------------------------------------------
    wait = np.zeros(n)
    abandoned = np.zeros(n, bool)
    rt = ~outb & (ch <= CHAT)
    if rt.any():
        c = ch[rt]
        rho = RHO0 * _HOUR_ADJ[hour[rt]] * _DOW_ADJ[dow[rt]] * world.rho_day[day[rt], c]
        outage = (day[rt] == world.outage_day) & (hour[rt] >= 9) & (hour[rt] < 17)
        rho = np.where(outage & (queue[rt] == Q_TECH), 1.25, np.where(outage, rho * 1.06, rho))
        pw = np.clip(PW0[c] * (rho / RHO0) ** 6, 0, 0.97)
        factor = np.clip((1 - RHO0) / np.maximum(1 - rho, 0.03), 0.4, 5.5)
        queued = rng.random(len(c)) < pw
        ring = np.where(c == VOICE, rng.uniform(1, 9, len(c)), rng.uniform(2, 16, len(c)))
        potential = ring + queued * rng.exponential(1.0, len(c)) * QMEAN0[c] * factor
        patience = rng.exponential(1.0, len(c)) * PATIENCE[c]
        ab = patience < potential
        abandoned[rt] = ab
        wait[rt] = np.where(ab, patience, potential)
    dig = ~outb & (ch >= EMAIL)
    if dig.any():
        c = ch[dig]
        raw = np.where(c == EMAIL, rng.lognormal(np.log(5000), 0.7, len(c)),
                       rng.lognormal(np.log(1100), 0.8, len(c)))
        t = arr[dig] + raw.astype(np.int64)
        t_email = _push_into_hours(rng, world, t, EMAIL_DESK_HOURS, 2400)
        t_social = _push_into_hours(rng, world, t, SOCIAL_DESK_HOURS, 1200)
        wait[dig] = np.where(c == EMAIL, t_email, t_social) - arr[dig]
    if outb.any():
        wait[outb] = rng.integers(3, 13, outb.sum())
    wait = np.floor(wait).astype(np.int64)
    handled = ~abandoned

    # --- agent ---------------------------------------------------------------------------
    agent = np.full(n, -1, dtype=np.int64)
    h = np.flatnonzero(handled)
    kind = np.where(outb[h], 2, np.where(ch[h] == VOICE, 0, 1))
    team = _ROUTE_DRAW.draw(rng, queue[h] * 3 + kind)
    agent[h] = world.assign(rng, day[h], team)

    # --- durations -----------------------------------------------------------------------
    talk = np.zeros(n)
    hold = np.zeros(n)
    acw = np.zeros(n)
    a = agent[h]
    ih, chh = issue[h], ch[h]
    mult = world.agent_aht[a] * world.tenure_factor(a, day[h]) * (1 - 0.36 * trap[h])
    mult = mult * np.where(outb[h], 0.8, 1.0)
    outage_h = (day[h] == world.outage_day) & (ih == I_OUTAGE)
    mult = mult * np.where(outage_h, 0.6, 1.0)  # "yes, it's a known outage" calls are short
    p_tr = ISSUE_TRANSFER[ih] * np.where(chh == VOICE, 1.0, 0.6) * (1 + 1.0 * trap[h])
    p_tr = p_tr * (1 + 0.6 * (world.tenure_factor(a, day[h]) - 1) / 0.25)
    transferred_h = rng.random(len(h)) < p_tr
    escalated_h = rng.random(len(h)) < ISSUE_ESCALATE[ih] * (1 + 0.5 * transferred_h)
    sig = 0.5
    talk_h = (ISSUE_TALK[ih] * TALK_FACTOR[chh] * mult
              * rng.lognormal(-sig * sig / 2, sig, len(h)) * (1 + 0.35 * transferred_h))
    held = rng.random(len(h)) < np.where(chh == VOICE, HOLD_P[VOICE] + 0.4 * transferred_h, 0)
    hold_h = held * rng.exponential(1.0, len(h)) * ISSUE_HOLD[ih] * np.sqrt(mult)
    acw_h = ISSUE_ACW[ih] * ACW_FACTOR[chh] * mult * rng.lognormal(-0.08, 0.4, len(h))
    talk[h] = np.maximum(np.round(talk_h), 10)
    hold[h] = np.round(hold_h)
    acw[h] = np.maximum(np.round(acw_h), 3)

    # --- resolution ----------------------------------------------------------------------
    logit = (_logit(ISSUE_FCR[ih]) + world.agent_fcr[a]
             - 0.5 * (world.tenure_factor(a, day[h]) - 1) / 0.25
             + np.array([0.0, -0.1, -0.35, -0.45])[chh]
             - 0.8 * transferred_h - 0.3 * escalated_h
             - 0.6 * trap[h]
             + 0.35 * (s["gen"][h] > 0)
             - 0.6 * outage_h)
    res_h = np.where(rng.random(len(h)) < _expit(logit), 1, 0)
    res_h[rng.random(len(h)) < 0.10] = -1  # not confirmed
    resolved = np.full(n, -1, dtype=np.int64)
    resolved[h] = res_h
    transferred = np.zeros(n, bool)
    escalated = np.zeros(n, bool)
    transferred[h] = transferred_h
    escalated[h] = escalated_h

    answered = np.where(handled, arr + wait, -1)
    ended = np.where(handled, answered + talk.astype(np.int64) + hold.astype(np.int64),
                     arr + wait)
    out = dict(s)
    out.update(queue=queue, abandoned=abandoned, wait=wait, agent=agent, talk=talk, hold=hold,
               acw=acw, transferred=transferred, escalated=escalated, resolved=resolved,
               answered=answered, ended=ended, trap=trap, day=day)
    return out


def _followups(rng, world: _World, sim: dict) -> dict:
    """Repeat contacts (unresolved issues) and retries (abandoned contacts)."""
    n = len(sim["arr"])
    res = sim["resolved"]
    p = np.where(sim["abandoned"], P_RETRY_ABANDONED,
                 np.where(res == 1, P_REPEAT_RESOLVED,
                          np.where(res == 0, P_REPEAT_UNRESOLVED, P_REPEAT_UNKNOWN)))
    p = np.where(sim["outb"], np.where(res == 0, 0.10, 0.02), p)
    idx = np.flatnonzero(rng.random(n) < p)
    if not len(idx):
        return _empty_specs()
    m = len(idx)
    ab = sim["abandoned"][idx]
    orig_ch = np.where(sim["outb"][idx], VOICE, sim["ch"][idx])
    other = rng.choice(4, size=m, p=INBOUND_SHARE)
    ch = np.where(rng.random(m) < np.where(ab, 0.85, 0.65), orig_ch, other)
    # Repeat: a later day (or later today), at a time drawn from the channel's profile.
    k = rng.choice(len(REPEAT_DAY_P), size=m, p=REPEAT_DAY_P / REPEAT_DAY_P.sum())
    base_day = sim["ended"][idx] // DAY
    nday = base_day + k
    dow = (nday + world.dow0) % 7
    hours = _HOUR_DRAW.draw(rng, ch * 7 + dow)
    t = nday * DAY + hours * HOUR + rng.integers(0, HOUR, m)
    too_early = t <= sim["ended"][idx] + 600
    if too_early.any():
        nd2 = nday[too_early] + 1
        dow2 = (nd2 + world.dow0) % 7
        h2 = _HOUR_DRAW.draw(rng, ch[too_early] * 7 + dow2)
        t[too_early] = nd2 * DAY + h2 * HOUR + rng.integers(0, HOUR, too_early.sum())
    # Retry after abandoning: minutes later, pushed into opening hours.
    retry = sim["ended"][idx] + 60 + rng.exponential(2400, m).astype(np.int64)
    rd = retry // DAY
    rdow = (rd + world.dow0) % 7
    o = np.where(ch == VOICE, _VOICE_H[rdow, 0], _CHAT_H[rdow, 0]) * HOUR
    c = np.where(ch == VOICE, _VOICE_H[rdow, 1], _CHAT_H[rdow, 1]) * HOUR
    sod = retry % DAY
    outside = (sod < o) | (sod >= c)
    rt_ch = ch <= CHAT
    retry = np.where(outside & rt_ch, t, retry)
    t = np.where(ab, retry, t)
    return {"arr": t.astype(np.int64), "ch": ch.astype(np.int64), "outb": np.zeros(m, bool),
            "issue": sim["issue"][idx], "cust": sim["cust"][idx], "gen": sim["gen"][idx] + 1}


_TABLE_KEYS = ("arr", "ch", "outb", "issue", "cust", "queue", "abandoned", "agent", "talk",
               "hold", "acw", "transferred", "escalated", "resolved", "answered", "ended")


def _simulate_window(rng, world, specs, d_end, max_gen=12, prune=False):
    """Simulate specs and their follow-up chains; follow-ups from d_end on are returned.

    ``prune`` keeps only the columns the interactions table needs (saves memory)."""
    sims, carry = [], []
    cur = specs
    limit = d_end * DAY
    for _ in range(max_gen + 1):
        if cur is None or not len(cur["arr"]):
            break
        sim = _simulate(rng, world, cur)
        sims.append({k: sim[k] for k in _TABLE_KEYS} if prune else sim)
        fu = _followups(rng, world, sim)
        later = fu["arr"] >= limit
        carry.append(_take(fu, later & (fu["arr"] < world.end_s)))  # beyond the data: dropped
        cur = _take(fu, ~later)
    return _concat(sims), _concat(carry)


# --------------------------------------------------------------------------------------------
# Arrow conversion
# --------------------------------------------------------------------------------------------


def _strings(names: np.ndarray, codes: np.ndarray, null_mask=None) -> pa.Array:
    idx = pa.array(codes.astype(np.int32), mask=null_mask)
    return pc.take(pa.array(names.tolist(), pa.string()), idx)


def _ids(prefix: str, numbers: np.ndarray, width: int, null_mask=None) -> pa.Array:
    s = pc.utf8_lpad(pc.cast(pa.array(numbers, mask=null_mask), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, s, "")


def _ts(start: _dt.date, secs: np.ndarray, null_mask=None) -> pa.Array:
    base = np.datetime64(start.isoformat(), "us")
    vals = base + secs.astype("timedelta64[s]")
    return pa.array(vals, type=pa.timestamp("us"), mask=null_mask)


def _interactions_table(world: _World, sim: dict, id_offset: int, id_width: int,
                        rng) -> pa.Table:
    n = len(sim["arr"])
    handled = ~sim["abandoned"]
    issue_null = rng.random(n) < 0.02
    cust = sim["cust"]
    return pa.table({
        "interaction_id": _ids("C", np.arange(id_offset + 1, id_offset + n + 1), id_width),
        "customer_id": _ids("K", np.maximum(cust, 0), 8, cust < 0),
        "channel": _strings(CHANNELS, sim["ch"]),
        "direction": _strings(DIRECTIONS, sim["outb"].astype(np.int64)),
        "queue": _strings(QUEUES, sim["queue"]),
        "issue_type": _strings(ISSUES, sim["issue"], issue_null),
        "agent_id": pc.take(world.agent_ids, pa.array(np.maximum(sim["agent"], 0),
                                                      mask=~handled)),
        "arrived_at": _ts(world.start, sim["arr"]),
        "answered_at": _ts(world.start, sim["answered"], ~handled),
        "ended_at": _ts(world.start, sim["ended"]),
        "outcome": _strings(OUTCOMES, sim["abandoned"].astype(np.int64)),
        "talk_s": pa.array(sim["talk"], pa.float64()),
        "hold_s": pa.array(sim["hold"], pa.float64()),
        "acw_s": pa.array(sim["acw"], pa.float64()),
        "transferred": pa.array(sim["transferred"]),
        "escalated": pa.array(sim["escalated"]),
        "resolved": pa.array(sim["resolved"] == 1, mask=sim["resolved"] < 0),
    })


def _sort(sim: dict) -> dict:
    order = np.argsort(sim["arr"], kind="stable")
    return _take(sim, order)


# --------------------------------------------------------------------------------------------
# Companion tables
# --------------------------------------------------------------------------------------------


def _surveys(rng, world: _World, sim: dict, ids: pa.Array) -> pa.Table:
    elig = np.flatnonzero(~sim["abandoned"] & ~sim["outb"])
    res = sim["resolved"][elig]
    p = np.where(res == 0, 0.20, 0.165)
    idx = elig[rng.random(len(elig)) < p]
    m = len(idx)
    res = sim["resolved"][idx]
    ch = sim["ch"][idx]
    wait = sim["wait"][idx].astype(float)
    wait_pen = np.where(ch <= CHAT, 0.5 * np.clip(wait / 180.0, 0, 2),
                        np.where(ch == EMAIL, 0.35 * np.clip((wait - 4 * HOUR) / (8 * HOUR), 0, 1.5),
                                 0.35 * np.clip((wait - HOUR) / (3 * HOUR), 0, 1.5)))
    u = (np.where(res == 1, 0.95, np.where(res == 0, -0.95, 0.1))
         + world.agent_sat[sim["agent"][idx]]
         - 0.35 * sim["transferred"][idx] - 0.25 * sim["escalated"][idx]
         - wait_pen - 0.3 * sim["trap"][idx]
         + rng.normal(0, 1.0, m))
    csat = 1 + np.searchsorted(CSAT_CUTS, u)
    v = 0.75 * u + rng.normal(0, 0.65, m) - 0.25 * world.nps_shift[sim["day"][idx]]
    nps = np.searchsorted(NPS_CUTS, v)
    w = -0.7 * u + rng.normal(0, 0.7, m)
    ces = 1 + np.searchsorted(CES_CUTS, w)
    csat_null = rng.random(m) < 0.03
    nps_null = rng.random(m) < 0.12
    ces_null = rng.random(m) < 0.22
    csat_null &= ~(nps_null & ces_null)
    late = rng.random(m) < 0.18
    delay = np.where(late, rng.uniform(1.0, 8.0, m) * DAY,
                     300 + rng.exponential(8 * HOUR, m)).astype(np.int64)
    responded = sim["ended"][idx] + delay
    keep = responded < world.end_s
    sel = idx[keep]
    return pa.table({
        "interaction_id": pc.take(ids, pa.array(sel)),
        "responded_at": _ts(world.start, responded[keep]),
        "csat": pa.array(csat[keep].astype(np.int64), mask=csat_null[keep]),
        "nps": pa.array(nps[keep].astype(np.int64), mask=nps_null[keep]),
        "ces": pa.array(ces[keep].astype(np.int64), mask=ces_null[keep]),
    })


def _qa(rng, world: _World, sim: dict, ids: pa.Array) -> pa.Table:
    handled = np.flatnonzero(~sim["abandoned"])
    idx = handled[rng.random(len(handled)) < 0.025]
    m = len(idx)
    eval_day = sim["ended"][idx] // DAY + rng.integers(1, 11, m)
    evaluated = eval_day * DAY + rng.integers(9 * HOUR, 17 * HOUR, m)
    res = sim["resolved"][idx]
    score = (86.5 + world.agent_qa[sim["agent"][idx]] - 6.0 * (res == 0)
             - 5.0 * sim["trap"][idx] - 3.0 * sim["transferred"][idx]
             + rng.normal(0, 6.0, m))
    score = np.clip(np.round(score, 1), 0, 100)
    keep = evaluated < world.end_s
    return pa.table({
        "interaction_id": pc.take(ids, pa.array(idx[keep])),
        "evaluated_at": _ts(world.start, evaluated[keep]),
        "score": pa.array(score[keep], pa.float64()),
    })


def _agent_activity(rng, world: _World, sim: dict) -> pa.Table:
    nd = world.ndays
    h = np.flatnonzero(~sim["abandoned"])
    key = sim["agent"][h] * nd + sim["day"][h]
    dur = sim["talk"][h] + sim["hold"][h] + sim["acw"][h]
    total = np.bincount(key, weights=dur, minlength=world.n_agents * nd)
    has = np.zeros(world.n_agents * nd, bool)
    has[key] = True
    rows = np.flatnonzero(world.working.ravel() | has)
    agent, day = np.divmod(rows, nd)
    handle = total[rows]
    m = len(rows)
    handling = np.ceil(handle * (1 + rng.uniform(0, 0.03, m)))
    outage = day == world.outage_day
    occ = np.clip(0.805 + world.agent_occ[agent] + rng.normal(0, 0.03, m)
                  + 0.09 * outage, 0.6, 0.96)
    available = np.where(handling > 0, np.floor(handling * (1 - occ) / occ),
                         np.round(rng.uniform(1200, 3600, m)))
    aux = rng.uniform(0.02, 0.07, m)
    logged = np.ceil((handling + available) / (1 - aux))
    paid = np.ceil(logged / rng.uniform(0.88, 0.97, m))
    return pa.table({
        "agent_id": pc.take(world.agent_ids, pa.array(agent)),
        "date": pa.array(world.dates[day]),
        "logged_in_s": pa.array(logged, pa.float64()),
        "handling_s": pa.array(handling, pa.float64()),
        "available_s": pa.array(available, pa.float64()),
        "paid_s": pa.array(paid, pa.float64()),
    })


def _agents(world: _World) -> pa.Table:
    hire = np.datetime64(world.start.isoformat(), "D") + world.agent_hire
    return pa.table({
        "agent_id": world.agent_ids,
        "team": _strings(TEAMS, world.agent_team),
        "site": _strings(TEAM_SITE, world.agent_team),
        "hire_date": pa.array(hire),
    })


UNIT_COST = np.array([6.2, 7.4, 7.0, 8.2, 5.0])  # per handled contact, by queue


def _costs(rng, world: _World, sim: dict) -> pa.Table:
    nd = world.ndays
    h = ~sim["abandoned"]
    per_day = np.bincount(sim["queue"][h] * nd + sim["day"][h],
                          minlength=len(QUEUES) * nd).reshape(len(QUEUES), nd)
    months = world.dates.astype("datetime64[M]")
    uniq = np.unique(months)
    mi = np.searchsorted(uniq, months)
    covered = np.bincount(mi, minlength=len(uniq))
    trend = np.polyfit(np.arange(nd), per_day.sum(axis=0), 1) if nd > 1 else None
    rows = []
    for qi in range(len(QUEUES)):  # loops over queues x months only
        month_sum = np.bincount(mi, weights=per_day[qi], minlength=len(uniq))
        actual_daily = month_sum / np.maximum(covered, 1)
        share = per_day[qi].sum() / max(per_day.sum(), 1)
        for j, mth in enumerate(uniq):
            first = mth.astype("datetime64[D]")
            last = (mth + 1).astype("datetime64[D]") - 1
            ndm = int((last - first).astype(int)) + 1
            mid = int(np.searchsorted(months, mth)) + covered[j] / 2
            if trend is not None:
                planned_daily = max(np.polyval(trend, mid), 0) * share
            else:
                planned_daily = actual_daily[j]
            daily = 0.7 * planned_daily + 0.3 * actual_daily[j]
            amount = daily * ndm * UNIT_COST[qi] * (1 + rng.normal(0, 0.025))
            rows.append((first, last, round(float(amount), 2), qi))
    rows.sort(key=lambda r: (r[0], r[3]))
    return pa.table({
        "period_start": pa.array(np.array([r[0] for r in rows], dtype="datetime64[D]")),
        "period_end": pa.array(np.array([r[1] for r in rows], dtype="datetime64[D]")),
        "amount": pa.array([r[2] for r in rows], pa.float64()),
        "queue": _strings(QUEUES, np.array([r[3] for r in rows], dtype=np.int64)),
    })


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------


def _write(table: pa.Table, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        pq.write_table(table, path, compression="zstd")
        return
    cols = []
    for name in table.column_names:
        col = table[name]
        if pa.types.is_timestamp(col.type):
            col = pc.strftime(col.cast(pa.timestamp("s")), format="%Y-%m-%dT%H:%M:%S")
        cols.append(col)
    pacsv.write_csv(pa.table(cols, names=table.column_names), path,
                    pacsv.WriteOptions(quoting_style="needed"))


def _targets_yaml() -> str:
    lines = [
        "# Target overrides: each entry overrides a KPI's default target for one queue, "
        "channel or issue_type.",
        "# AHT targets (seconds) per issue type fit the demo data's normal handle times;",
        "# first response: email 4 h, social 1 h.",
        "overrides:",
    ]
    for issue, target in AHT_TARGETS.items():
        lines.append(f"  - {{kpi: aht, issue_type: {issue}, target: {target}}}")
    lines.append("  - {kpi: first_response_time, channel: email, target: 14400}")
    lines.append("  - {kpi: first_response_time, channel: social, target: 3600}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def generate_demo_data(out_dir, *, seed=7, start=_dt.date(2024, 11, 4), weeks=106,
                       contacts_per_week=5000, fmt="parquet") -> dict[str, int]:
    """Write all six SPEC §2 tables (interactions, surveys, agent_activity, agents, costs, qa)
    into out_dir as <table>.parquet (fmt="csv" writes <table>.csv). Returns row counts per
    table.

    ``start`` must be a Monday; the data covers ``weeks`` full ISO weeks from it. A
    ``targets.yaml`` with per-issue-type AHT targets and first-response targets is written
    next to the tables. Same arguments => byte-identical files.
    """
    start = _as_date(start)
    if start.weekday() != 0:
        raise ValueError(f"start must be a Monday, got {start.isoformat()} ({start:%A})")
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be 'parquet' or 'csv', got {fmt!r}")
    weeks = int(weeks)
    if weeks < 1:
        raise ValueError("weeks must be >= 1")
    if contacts_per_week <= 0:
        raise ValueError("contacts_per_week must be > 0")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng(seed)
    ndays = weeks * 7
    world = _World(rng, start, ndays, contacts_per_week / 7.0)
    customers = _Customers(weeks * contacts_per_week * 0.45)
    specs = _base_specs(rng, world, customers, 0, ndays)
    sim, _ = _simulate_window(rng, world, specs, ndays)
    sim = _sort(sim)

    width = max(8, len(str(len(sim["arr"]))))
    inter = _interactions_table(world, sim, 0, width, rng)
    ids = inter["interaction_id"].combine_chunks()
    tables = {
        "interactions": inter,
        "surveys": _surveys(rng, world, sim, ids),
        "agent_activity": _agent_activity(rng, world, sim),
        "agents": _agents(world),
        "costs": _costs(rng, world, sim),
        "qa": _qa(rng, world, sim, ids),
    }
    ext = "parquet" if fmt == "parquet" else "csv"
    for name in TABLES:
        _write(tables[name], out / f"{name}.{ext}", fmt)
    (out / "targets.yaml").write_text(_targets_yaml(), encoding="utf-8")
    return {name: tables[name].num_rows for name in TABLES}


def generate_scaled_interactions(out_path, *, n_contacts, start, days, seed=7,
                                 chunk_rows=1_000_000) -> int:
    """Benchmark data: write only an interactions Parquet file of n_contacts spread over
    `days` days, generated and written in chunks (pyarrow ParquetWriter) so memory stays
    well under 1 GB even for 30M rows. Same column schema and realism as the demo
    interactions (the stories are anchored to the end of the range as in the demo).

    Exactly ``n_contacts`` rows are written, sorted by ``arrived_at``, with unique ids.
    ``start`` may be any date (the demo generator requires a Monday). Returns the row count.
    """
    start = _as_date(start)
    n_contacts, days, chunk_rows = int(n_contacts), int(days), int(chunk_rows)
    if n_contacts < 1 or days < 1 or chunk_rows < 1:
        raise ValueError("n_contacts, days and chunk_rows must be >= 1")
    out_path = Path(out_path)
    if out_path.parent:
        out_path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    world = _World(rng, start, days, n_contacts / days)
    customers = _Customers(n_contacts * 0.45)
    # Exact rows per day (largest remainder on the expected share), then day chunks.
    w = world.base_per_day.copy()
    if 0 <= world.outage_day < days:
        w[world.outage_day] *= 1.25
    share = w / w.sum() * n_contacts
    per_day = np.floor(share).astype(np.int64)
    short = n_contacts - per_day.sum()
    if short:
        per_day[np.argsort(-(share - per_day), kind="stable")[:short]] += 1
    bounds = [0]
    acc = 0
    for d in range(days):  # loop over days, not contacts
        if acc and acc + per_day[d] > chunk_rows:
            bounds.append(d)
            acc = 0
        acc += per_day[d]
    bounds.append(days)
    width = max(8, len(str(n_contacts)))
    written = 0
    carry = None
    tmp = out_path.with_name(out_path.name + ".tmp")
    writer = None
    try:
        for d0, d1 in zip(bounds[:-1], bounds[1:], strict=True):
            target = int(per_day[d0:d1].sum())
            due_now = None
            if carry is not None:  # follow-ups due in this chunk join it; later ones wait
                due = carry["arr"] < d1 * DAY
                due_now, carry = _take(carry, due), _take(carry, ~due)
            n_due = 0 if due_now is None else len(due_now["arr"])
            n_base = max(0, int(round((target - n_due) / (1 + FOLLOWUP_RATIO) * 1.02)))
            specs = _base_specs(rng, world, customers, d0, d1, n_exact=n_base)
            specs = _concat([specs] + ([due_now] if due_now is not None else []))
            del due_now
            pending = carry
            sim, carry = _simulate_window(rng, world, specs, d1, prune=True) if specs else (
                None, None)
            carry = _concat([c for c in (pending, carry) if c is not None])
            del specs
            parts = [sim] if sim is not None else []
            have = 0 if sim is None else len(sim["arr"])
            while have < target:  # top up with extra first contacts (no follow-ups)
                extra = _base_specs(rng, world, customers, d0, d1,
                                    n_exact=int((target - have) * 1.05) + 1)
                extra_sim = _simulate(rng, world, extra)
                parts.append({k: extra_sim[k] for k in _TABLE_KEYS})
                have += len(extra_sim["arr"])
                del extra, extra_sim
            sim = _concat(parts) if len(parts) > 1 else parts[0]
            del parts
            # Drop a random surplus, then order by arrival: one gather.
            keep = np.sort(rng.permutation(have)[:target]) if have > target else np.arange(have)
            keep = keep[np.argsort(sim["arr"][keep], kind="stable")]
            sim = _take(sim, keep)
            del keep
            table = _interactions_table(world, sim, written, width, rng)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
            writer.write_table(table, row_group_size=min(chunk_rows, 1_000_000))
            written += table.num_rows
            del table, sim
        if writer is not None:
            writer.close()
            writer = None
        os.replace(tmp, out_path)
    finally:
        if writer is not None:
            writer.close()
        if tmp.exists():
            tmp.unlink()
    return written
