"""Team and agent scorecards: each agent against the team and the center, for coaching.

Every value is ``kpitools kpis`` for the same slice: the agents' rows are
``kpis(data, period, by="agent_id")``, the team row ``by="team"``, the center row the whole
period. Nothing is re-derived here; this module adds only

- the **sample rule**: a value over fewer than ``min_survey_sample`` (30) contacts or
  responses is shown grey, "n too small", and never flagged;
- **significance flags**: each agent's rate (FCR, repeat, transfer, CSAT) against the rest of
  the team (the agent's peers) by a two-sided two-proportion z-test, with the
  Benjamini–Hochberg procedure at a 5 % false-discovery rate over every test on the team's
  page, so a flag is evidence and not the noise of many small comparisons;
- the **AHT trap** of seed 003 per agent: AHT at least ``TRAP_AHT_BELOW`` (15 %) below the
  peers' while FCR, CSAT or the repeat rate is significantly worse (same test).

There is no center-wide ranking: agents are listed by id (or pseudonym), never sorted by a
KPI (docs/floor.md says why).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import pandas as pd

from .. import api
from ..errors import ConfigError, DataError
from ..periods import Period

# The scorecard's KPIs, in column order (all from the catalogue).
TEAM_KPIS = ("handled", "aht", "talk_time", "hold_time", "acw_time", "fcr", "repeat_contact_rate",
             "transfer_rate", "csat", "nps", "quality_score", "occupancy", "utilization")
# Rates tested against peers, and which way is worse.
TESTED = {"fcr": "lower", "repeat_contact_rate": "higher", "transfer_rate": "higher", "csat": "lower"}
EXPERIENCE = ("fcr", "csat", "repeat_contact_rate")
TRAP_AHT_BELOW = 0.15  # "well below": AHT at least 15 % under the peers' AHT
FALSE_DISCOVERY_RATE = 0.05


@dataclass
class Flag:
    agent_id: str
    kind: str  # "trap", "worse" or "better"
    kpi: str
    text: str
    p_value: float | None = None


@dataclass
class TeamCard:
    team: str
    agents: pd.DataFrame  # one row per agent: agent_id, display, then per KPI value/n/small
    team_row: dict
    center_row: dict
    flags: list[Flag] = field(default_factory=list)


@dataclass
class TeamReport:
    period: Period
    cards: list[TeamCard]
    min_sample: int
    pseudonyms: bool


def pseudonym(agent_id: str) -> str:
    """A stable, non-reversible display name: 'Agent 3F9C2A' (the same id, the same name)."""
    digest = hashlib.sha256(str(agent_id).encode("utf-8")).hexdigest()[:6].upper()
    return f"Agent {digest}"


def two_proportion_p(x1: float, n1: float, x2: float, n2: float) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test (None when undefined)."""
    if not (n1 > 0 and n2 > 0):
        return None
    pooled = (x1 + x2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if var <= 0:
        return None
    z = (x1 / n1 - x2 / n2) / math.sqrt(var)
    return math.erfc(abs(z) / math.sqrt(2))


def benjamini_hochberg(p_values: list[float], q: float = FALSE_DISCOVERY_RATE) -> list[bool]:
    """Which of the p-values are discoveries at false-discovery rate ``q``."""
    m = len(p_values)
    order = sorted(range(m), key=lambda k: p_values[k])
    cutoff = 0
    for rank, k in enumerate(order, start=1):
        if p_values[k] <= q * rank / m:
            cutoff = rank
    keep = set(order[:cutoff])
    return [k in keep for k in range(m)]


def _cells(frame: pd.DataFrame, key: str | None) -> dict:
    """{group: {kpi: record}} from a kpis() frame."""
    out: dict = {}
    for rec in frame.to_dict("records"):
        out.setdefault(rec[key] if key else None, {})[rec["kpi"]] = rec
    return out


def team_report(data, period, team: str | None = None, pseudonyms: bool = False) -> TeamReport:
    """One :class:`TeamCard` per team (or only ``team``) for a period of any grain."""
    period = period if isinstance(period, Period) else Period.parse(period)
    if not data.has("agents"):
        raise DataError(f"{data.path}: the team report needs the agents table "
                        "(agents.csv or agents.parquet, columns agent_id and team)")
    roster = data.sql("SELECT agent_id, team FROM agents WHERE team IS NOT NULL")
    teams = sorted(roster["team"].astype(str).unique())
    if team is not None and team not in teams:
        shown = ", ".join(teams[:20]) + (" …" if len(teams) > 20 else "")
        raise ConfigError(f"--team {str(team)[:40]!r} is not a team in {data.path}/agents (teams: {shown})")
    kpis = list(TEAM_KPIS)
    per_agent = _cells(api.kpis(data, period, by="agent_id", kpis=kpis), "agent_id")
    per_team = _cells(api.kpis(data, period, by="team", kpis=kpis), "team")
    center = _cells(api.kpis(data, period, kpis=kpis), None)[None]
    min_sample = int(data.registry.parameters.get("min_survey_sample", 30))
    cards = []
    for name in teams if team is None else [team]:
        ids = sorted(roster.loc[roster["team"] == name, "agent_id"].astype(str))
        active = [a for a in ids if a in per_agent and _active(per_agent[a])]
        rows = []
        for agent in active:
            row = {"agent_id": agent, "display": pseudonym(agent) if pseudonyms else agent}
            for kpi in kpis:
                rec = per_agent[agent][kpi]
                row[kpi] = rec
            rows.append(row)
        frame = pd.DataFrame(rows, columns=["agent_id", "display", *kpis])
        frame = frame.sort_values("display", kind="stable").reset_index(drop=True)
        card = TeamCard(name, frame, per_team.get(name, {}), center)
        card.flags = team_flags(card, min_sample)
        cards.append(card)
    return TeamReport(period, cards, min_sample, pseudonyms)


def _active(cells: dict) -> bool:
    handled = cells.get("handled", {}).get("value")
    occupancy = cells.get("occupancy", {}).get("denominator")
    return bool((handled or 0) > 0 or (occupancy or 0) > 0)


def _peers(team_rec: dict, agent_rec: dict) -> tuple[float, float]:
    """Numerator and denominator of the rest of the team (the team's minus the agent's)."""
    num = (team_rec.get("numerator") or 0.0) - (agent_rec.get("numerator") or 0.0)
    den = (team_rec.get("denominator") or 0.0) - (agent_rec.get("denominator") or 0.0)
    return num, den


def _usable(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def team_flags(card: TeamCard, min_sample: int) -> list[Flag]:
    """Significant differences from peers (Benjamini–Hochberg over the page) and the AHT trap."""
    tests = []  # (agent, kpi, p, worse)
    for row in card.agents.to_dict("records"):
        for kpi, worse_when in TESTED.items():
            rec, team_rec = row[kpi], card.team_row.get(kpi, {})
            x1, n1 = rec.get("numerator"), rec.get("denominator")
            if not (_usable(x1) and _usable(n1)) or n1 < min_sample:
                continue
            x2, n2 = _peers(team_rec, rec)
            if n2 < min_sample:
                continue
            p = two_proportion_p(x1, n1, x2, n2)
            if p is None:
                continue
            higher = x1 / n1 > x2 / n2
            worse = higher if worse_when == "higher" else not higher
            tests.append((row, kpi, p, worse, x2 / n2))
    found = benjamini_hochberg([t[2] for t in tests]) if tests else []
    flags = []
    significant_worse: dict[str, list[str]] = {}
    for (row, kpi, p, worse, peer_rate), hit in zip(tests, found, strict=True):
        if not hit:
            continue
        label = row[kpi]["label"]
        word = "worse" if worse else "better"
        flags.append(Flag(row["agent_id"], word, kpi,
                          f"{label} {word} than peers ({100 * row[kpi]['value']:.0f} % vs "
                          f"{100 * peer_rate:.0f} %, p = {p:.3g})", p))
        if worse and kpi in EXPERIENCE:
            significant_worse.setdefault(row["agent_id"], []).append(label)
    for row in card.agents.to_dict("records"):
        rec, team_rec = row["aht"], card.team_row.get("aht", {})
        num, den = rec.get("numerator"), rec.get("denominator")
        if not (_usable(num) and _usable(den)) or den < min_sample:
            continue
        p_num, p_den = _peers(team_rec, rec)
        if p_den < min_sample or row["agent_id"] not in significant_worse:
            continue
        peer_aht = p_num / p_den
        if num / den <= (1 - TRAP_AHT_BELOW) * peer_aht:
            worse = ", ".join(significant_worse[row["agent_id"]])
            flags.append(Flag(row["agent_id"], "trap", "aht",
                              f"AHT {100 * (1 - num / den / peer_aht):.0f} % below peers while "
                              f"{worse} significantly worse: fast but not resolving (seed-003 trap)"))
    return flags
