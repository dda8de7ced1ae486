"""The canonical input schema (SPEC §2): tables, columns, logical types.

Logical types: ``string``, ``timestamp``, ``date``, ``number``, ``integer``, ``bool``.
The loader casts every column to the DuckDB type below and reports the first value
that does not cast, with its file, column and row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DUCKDB_TYPES = {
    "string": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "number": "DOUBLE",
    "integer": "BIGINT",
    "bool": "BOOLEAN",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = True  # the column must be present in the file
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    required: bool = False  # the table must be present in the data folder

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name, type_, required=True, nullable=True):
    return Column(name, type_, required, nullable)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "interactions",
            (
                _c("interaction_id", "string", nullable=False),
                _c("customer_id", "string", required=False),
                _c("channel", "string", nullable=False),
                _c("direction", "string", nullable=False),
                _c("queue", "string"),
                _c("issue_type", "string", required=False),
                _c("agent_id", "string", required=False),
                _c("arrived_at", "timestamp", nullable=False),
                _c("answered_at", "timestamp"),
                _c("ended_at", "timestamp", required=False),
                _c("outcome", "string", nullable=False),
                _c("talk_s", "number"),
                _c("hold_s", "number", required=False),
                _c("acw_s", "number", required=False),
                _c("transferred", "bool", required=False),
                _c("escalated", "bool", required=False),
                _c("resolved", "bool", required=False),
            ),
            required=True,
        ),
        Table(
            "surveys",
            (
                _c("interaction_id", "string", nullable=False),
                _c("responded_at", "timestamp", required=False),
                _c("csat", "integer", required=False),
                _c("nps", "integer", required=False),
                _c("ces", "integer", required=False),
            ),
        ),
        Table(
            "agent_activity",
            (
                _c("agent_id", "string", nullable=False),
                _c("date", "date", nullable=False),
                _c("logged_in_s", "number"),
                _c("handling_s", "number"),
                _c("available_s", "number"),
                _c("paid_s", "number", required=False),
            ),
        ),
        Table(
            "agents",
            (
                _c("agent_id", "string", nullable=False),
                _c("team", "string"),
                _c("site", "string", required=False),
                _c("hire_date", "date", required=False),
            ),
        ),
        Table(
            "costs",
            (
                _c("period_start", "date", nullable=False),
                _c("period_end", "date", nullable=False),
                _c("amount", "number", nullable=False),
                _c("queue", "string", required=False),
            ),
        ),
        Table(
            "qa",
            (
                _c("interaction_id", "string", nullable=False),
                _c("evaluated_at", "timestamp", required=False),
                _c("score", "number", nullable=False),
            ),
        ),
        # Optional, as workforce-management tools export it: the agents actually staffed per
        # interval, for a queue or a channel (or both, or neither: the whole center), given as
        # a head count (staffed_agents) or as staffed seconds (staffed_s); one of them is needed.
        Table(
            "staffing",
            (
                _c("interval_start", "timestamp", nullable=False),
                _c("interval_minutes", "integer", nullable=False),
                _c("queue", "string", required=False),
                _c("channel", "string", required=False),
                _c("staffed_agents", "number", required=False),
                _c("staffed_s", "number", required=False),
            ),
        ),
    )
}

ALLOWED_VALUES = {
    ("interactions", "channel"): ("voice", "chat", "email", "social"),
    ("interactions", "direction"): ("inbound", "outbound"),
    ("interactions", "outcome"): ("handled", "abandoned"),
}

# Tables whose extra columns (beyond the canonical ones) are kept as the data's own
# dimensions (SPEC §2: priority, segment, site, language … in interactions).
KEEPS_EXTRA_COLUMNS = ("interactions",)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_IDENTIFIER = 63


def is_identifier(name: str) -> bool:
    """True for a plain column name kpitools may quote into SQL: a letter or underscore,
    then letters, digits or underscores, at most 63 characters."""
    return isinstance(name, str) and len(name) <= MAX_IDENTIFIER and bool(_IDENTIFIER.match(name))


def extra_columns(table: str, names) -> list[str]:
    """The columns of a ``table`` file that kpitools keeps beyond the canonical ones, in file
    order: plain identifiers (:func:`is_identifier`) that are not a canonical column of the
    table, compared case-insensitively, first of any case-insensitive duplicates. Other names
    (spaces, punctuation) are not kept: they could not be named in ``--by`` anyway."""
    if table not in KEEPS_EXTRA_COLUMNS:
        return []
    seen = {c.lower() for c in TABLES[table].column_names}
    out = []
    for name in names:
        if is_identifier(name) and name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return out
# Scales a score must lie on (inclusive); a value outside cannot be real (a CSAT of 6 on a
# 1–5 scale would otherwise be counted as satisfied).
SCALES = {
    ("surveys", "csat"): (1, 5),
    ("surveys", "nps"): (0, 10),
    ("surveys", "ces"): (1, 7),
    ("qa", "score"): (0, 100),
}

# Timestamps and dates a contact-center record can plausibly carry: none before 2000, none
# more than a year ahead of today (see kpitools.casts.value_rules). Hire dates are exempt:
# a long-serving agent may have joined before 2000.
EARLIEST_DATE = "2000-01-01"
UNDATED_COLUMNS = {("agents", "hire_date")}

# Each table's key: a repeated key double-counts (a roster with an agent twice assigns that
# agent's contacts to a team twice).
UNIQUE_KEYS = {"interactions": "interaction_id", "agents": "agent_id"}
