"""The data-quality gate (issue 3): every stored expectation is caught by a seeded defect.

Each case copies the hand-made clean fixture (tests/fixtures/clean, rules in its
make_clean.py), seeds exactly one defect with pandas, runs the real GX suites in-process and
checks that the named expectation failed with the severity, unexpected count and example
written here by hand — and that nothing else failed. The few CLI runs at the end go through
a subprocess (GX takes seconds to import, so they are kept to a handful).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

import kpitools
from kpitools.validation import ValidationReport, validate

ROOT = Path(__file__).resolve().parents[1]
CLEAN = ROOT / "tests" / "fixtures" / "clean"
SUITES = ROOT / "expectations"
KEYS = {"interactions": ["interaction_id"], "surveys": ["interaction_id"], "qa": ["interaction_id"],
        "agents": ["agent_id"], "agent_activity": ["agent_id", "date"],
        "costs": ["period_start", "queue"]}


class Fixture:
    """A copy of the clean fixture that a test edits with pandas (every cell read as text)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def read(self, table: str) -> pd.DataFrame:
        return pd.read_csv(self.folder / f"{table}.csv", dtype=str, keep_default_na=False)

    def write(self, table: str, frame: pd.DataFrame) -> None:
        frame.to_csv(self.folder / f"{table}.csv", index=False)

    def mask(self, frame, table, key: str):
        parts = key.split(" ")
        m = pd.Series(True, index=frame.index)
        for col, part in zip(KEYS[table], parts, strict=True):
            m &= frame[col] == part
        assert m.sum() == 1, f"{table} {key!r} matches {m.sum()} rows"
        return m

    def set(self, table, key, column, value):
        frame = self.read(table)
        frame.loc[self.mask(frame, table, key), column] = value
        self.write(table, frame)

    def row_number(self, table, key) -> int:
        """1-based position of a row in its file (what 'row N' examples refer to)."""
        frame = self.read(table)
        return int(frame.index[self.mask(frame, table, key)][0]) + 1

    def drop_column(self, table, column):
        self.write(table, self.read(table).drop(columns=[column]))

    def append_copy(self, table, key, **changes):
        frame = self.read(table)
        row = frame[self.mask(frame, table, key)].copy()
        for col, value in changes.items():
            row[col] = value
        self.write(table, pd.concat([frame, row], ignore_index=True))

    def delete(self, table, predicate):
        frame = self.read(table)
        self.write(table, frame[~predicate(frame)])


@dataclass
class Seed:
    check: str               # suite.check
    severity: str            # what the gate must call it
    edit: Callable[[Fixture], None]
    count: int = 1           # unexpected rows (missing columns for required_columns)
    example: str | Callable[[Fixture], str] = ""  # an id, key or value among the examples
    also: tuple[str, ...] = field(default_factory=tuple)  # failures the defect implies too


def set_(table, key, column, value):
    return lambda fx: fx.set(table, key, column, value)


def drop(table, column):
    return lambda fx: fx.drop_column(table, column)


def row_of(table, key):
    return lambda fx: f"row {fx.row_number(table, key)}"


def _day_contacts(day):
    return lambda f: f["arrived_at"].str.startswith(day)


def empty_day(fx: Fixture) -> None:
    """2026-02-18 has no contacts at all (and so no surveys or QA rows for it either)."""
    contacts = fx.read("interactions")
    gone = set(contacts.loc[_day_contacts("2026-02-18")(contacts), "interaction_id"])
    assert len(gone) == 5
    fx.delete("interactions", _day_contacts("2026-02-18"))
    fx.delete("surveys", lambda f: f["interaction_id"].isin(gone))
    fx.delete("qa", lambda f: f["interaction_id"].isin(gone))


def volume_spike(fx: Fixture) -> None:
    """Five extra abandoned calls on Wednesday 2026-02-18: 10 contacts where every trailing
    Wednesday had 5, so 10 / 5 = 2.0 > 1.5 times the trailing maximum."""
    frame = fx.read("interactions")
    template = frame[frame["interaction_id"] == "T0101"].iloc[0]  # an abandoned chat
    extra = []
    for n in range(5):
        row = template.copy()
        row["interaction_id"] = f"V000{n}"
        row["channel"] = "voice"
        row["arrived_at"] = f"2026-02-18T15:0{n}:00"
        row["ended_at"] = f"2026-02-18T15:0{n}:25"
        extra.append(row)
    fx.write("interactions", pd.concat([frame, pd.DataFrame(extra)], ignore_index=True))


def no_surveys_in_w08(fx: Fixture) -> None:
    contacts = fx.read("interactions")
    week = contacts["arrived_at"].between("2026-02-16", "2026-02-23")
    ids = set(contacts.loc[week, "interaction_id"])
    fx.delete("surveys", lambda f: f["interaction_id"].isin(ids))


def remove_activity_row(fx: Fixture) -> None:
    fx.delete("agent_activity", lambda f: (f["agent_id"] == "A01") & (f["date"] == "2026-01-16"))


# Rows used below (see make_clean.py): T0114 handled inbound social by A01 on Fri 2026-01-16,
# arrived 13:11, no survey or QA; T0111 handled chat by A01 that day; T0110 handled voice
# (arrived 09:11:00, answered 09:11:15); T0113 handled email with a survey (arrived 12:11);
# T0101 abandoned chat on Thu 2026-01-15 (arrived 10:10:00, ended 10:10:25); T0021 the first
# QA'd contact (Wed 2026-01-07); A04 logs 3,600 s on Mondays with no contacts; A05 is only on
# the roster; costs row "2026-02-01 billing" covers February for billing.
C, W = "critical", "warning"
IX, S, A, Q = "interactions", "surveys", "agent_activity", "qa"
FEB = "2026-02-01 billing"
SEEDS = [
    # interactions: schema and types
    Seed("interactions.required_columns", C, drop(IX, "channel"), 1, "channel"),
    Seed("interactions.arrived_at_readable", C, set_(IX, "T0114", "arrived_at", "yesterday"), 1, "T0114"),
    Seed("interactions.answered_at_readable", C, set_(IX, "T0114", "answered_at", "soonish"), 1, "T0114"),
    Seed("interactions.ended_at_readable", C, set_(IX, "T0114", "ended_at", "later"), 1, "T0114"),
    Seed("interactions.talk_s_readable", C, set_(IX, "T0114", "talk_s", "five minutes"), 1, "T0114"),
    Seed("interactions.hold_s_readable", C, set_(IX, "T0114", "hold_s", "none?"), 1, "T0114"),
    Seed("interactions.acw_s_readable", C, set_(IX, "T0114", "acw_s", "1m"), 1, "T0114"),
    Seed("interactions.transferred_readable", C, set_(IX, "T0114", "transferred", "perhaps"), 1, "T0114"),
    Seed("interactions.escalated_readable", C, set_(IX, "T0114", "escalated", "sometimes"), 1, "T0114"),
    Seed("interactions.resolved_readable", C, set_(IX, "T0114", "resolved", "unknown"), 1, "T0114"),
    # ids
    Seed("interactions.interaction_id_present", C, set_(IX, "T0114", "interaction_id", ""), 1,
         row_of(IX, "T0114")),
    Seed("interactions.interaction_id_unique", C, set_(IX, "T0114", "interaction_id", "T0111"), 2, "T0111"),
    # allowed values
    Seed("interactions.channel_present", C, set_(IX, "T0113", "channel", ""), 1, "T0113"),
    Seed("interactions.channel_allowed", C, set_(IX, "T0113", "channel", "fax"), 1, "T0113"),
    Seed("interactions.direction_present", C, set_(IX, "T0114", "direction", ""), 1, "T0114"),
    Seed("interactions.direction_allowed", C, set_(IX, "T0114", "direction", "sideways"), 1, "T0114"),
    Seed("interactions.outcome_present", C, set_(IX, "T0114", "outcome", ""), 1, "T0114"),
    Seed("interactions.outcome_allowed", C, set_(IX, "T0114", "outcome", "dropped"), 1, "T0114"),
    Seed("interactions.arrived_at_present", C, set_(IX, "T0114", "arrived_at", ""), 1, "T0114"),
    Seed("interactions.queue_present", W, set_(IX, "T0114", "queue", ""), 1, "T0114"),
    # ranges
    Seed("interactions.talk_s_not_negative", C, set_(IX, "T0114", "talk_s", "-5"), 1, "T0114"),
    Seed("interactions.hold_s_not_negative", C, set_(IX, "T0114", "hold_s", "-5"), 1, "T0114"),
    Seed("interactions.acw_s_not_negative", C, set_(IX, "T0114", "acw_s", "-5"), 1, "T0114"),
    # time order
    Seed("interactions.answered_after_arrival", C,
         set_(IX, "T0114", "answered_at", "2026-01-16T13:10:00"), 1, "T0114"),
    Seed("interactions.ended_after_answer", C,
         set_(IX, "T0110", "ended_at", "2026-01-16T09:11:05"), 1, "T0110"),
    Seed("interactions.ended_after_arrival", C,
         set_(IX, "T0101", "ended_at", "2026-01-15T10:09:00"), 1, "T0101"),
    # outcome logic
    Seed("interactions.abandoned_without_agent", C, set_(IX, "T0101", "agent_id", "A01"), 1, "T0101"),
    Seed("interactions.abandoned_not_answered", C,
         set_(IX, "T0101", "answered_at", "2026-01-15T10:10:10"), 1, "T0101"),
    Seed("interactions.abandoned_no_talk_s", C, set_(IX, "T0101", "talk_s", "30"), 1, "T0101"),
    Seed("interactions.abandoned_no_hold_s", C, set_(IX, "T0101", "hold_s", "30"), 1, "T0101"),
    Seed("interactions.abandoned_no_acw_s", C, set_(IX, "T0101", "acw_s", "30"), 1, "T0101"),
    Seed("interactions.abandoned_is_inbound", W, set_(IX, "T0101", "direction", "outbound"), 1, "T0101"),
    Seed("interactions.abandoned_realtime_has_end", W, set_(IX, "T0101", "ended_at", ""), 1, "T0101"),
    Seed("interactions.handled_inbound_has_agent", C, set_(IX, "T0114", "agent_id", ""), 1, "T0114"),
    Seed("interactions.handled_inbound_answered", C, set_(IX, "T0114", "answered_at", ""), 1, "T0114"),
    Seed("interactions.handled_has_talk_time", W, set_(IX, "T0114", "talk_s", ""), 1, "T0114"),
    # surveys
    Seed("surveys.required_columns", C, drop(S, "interaction_id"), 1, "interaction_id"),
    Seed("surveys.responded_at_readable", C, set_(S, "T0113", "responded_at", "tomorrow"), 1, "T0113"),
    Seed("surveys.csat_readable", C, set_(S, "T0113", "csat", "great"), 1, "T0113"),
    Seed("surveys.nps_readable", C, set_(S, "T0113", "nps", "3.5"), 1, "T0113"),
    Seed("surveys.ces_readable", C, set_(S, "T0113", "ces", "low"), 1, "T0113"),
    Seed("surveys.interaction_id_present", C, set_(S, "T0113", "interaction_id", ""), 1,
         row_of(S, "T0113")),
    Seed("surveys.one_response_per_contact", W, lambda fx: fx.append_copy(S, "T0113"), 2, "T0113"),
    Seed("surveys.csat_range", C, set_(S, "T0113", "csat", "6"), 1, "T0113"),
    Seed("surveys.nps_range", C, set_(S, "T0113", "nps", "11"), 1, "T0113"),
    Seed("surveys.ces_range", C, set_(S, "T0113", "ces", "0"), 1, "T0113"),
    # agent activity
    Seed("agent_activity.required_columns", C, drop(A, "available_s"), 1, "available_s"),
    Seed("agent_activity.date_readable", C, set_(A, "A04 2026-01-12", "date", "last monday"), 1,
         row_of(A, "A04 2026-01-12")),
    Seed("agent_activity.logged_in_s_readable", C, set_(A, "A04 2026-01-12", "logged_in_s", "lots"),
         1, "A04 2026-01-12"),
    Seed("agent_activity.handling_s_readable", C, set_(A, "A04 2026-01-12", "handling_s", "some"),
         1, "A04 2026-01-12"),
    Seed("agent_activity.available_s_readable", C, set_(A, "A04 2026-01-12", "available_s", "idle"),
         1, "A04 2026-01-12"),
    Seed("agent_activity.paid_s_readable", C, set_(A, "A04 2026-01-12", "paid_s", "8h"),
         1, "A04 2026-01-12"),
    Seed("agent_activity.agent_id_present", C, set_(A, "A04 2026-01-12", "agent_id", ""), 1,
         row_of(A, "A04 2026-01-12")),
    Seed("agent_activity.date_present", C, set_(A, "A04 2026-01-12", "date", ""), 1,
         row_of(A, "A04 2026-01-12")),
    Seed("agent_activity.one_row_per_agent_day", C, lambda fx: fx.append_copy(A, "A04 2026-01-12"),
         2, "A04 2026-01-12"),
    Seed("agent_activity.logged_in_s_not_negative", C, set_(A, "A04 2026-01-12", "logged_in_s", "-1"),
         1, "A04 2026-01-12"),
    Seed("agent_activity.handling_s_not_negative", C, set_(A, "A04 2026-01-12", "handling_s", "-1"),
         1, "A04 2026-01-12"),
    Seed("agent_activity.available_s_not_negative", C,
         set_(A, "A04 2026-01-12", "available_s", "-1"), 1, "A04 2026-01-12"),
    Seed("agent_activity.paid_s_not_negative", C, set_(A, "A04 2026-01-12", "paid_s", "-1"),
         1, "A04 2026-01-12"),
    Seed("agent_activity.handling_plus_available_within_logged_in", C,
         set_(A, "A04 2026-01-12", "handling_s", "4000"), 1, "A04 2026-01-12"),
    # agents
    Seed("agents.required_columns", C, drop("agents", "team"), 1, "team"),
    Seed("agents.hire_date_readable", C, set_("agents", "A05", "hire_date", "next week"), 1, "A05"),
    Seed("agents.agent_id_present", C, set_("agents", "A05", "agent_id", ""), 1, "row 5"),
    Seed("agents.agent_id_unique", C, set_("agents", "A05", "agent_id", "A04"), 2, "A04"),
    Seed("agents.team_present", W, set_("agents", "A05", "team", ""), 1, "A05"),
    # costs
    Seed("costs.required_columns", C, drop("costs", "amount"), 1, "amount"),
    Seed("costs.period_start_readable", C, set_("costs", FEB, "period_start", "early feb"), 1,
         "?..2026-02-28 billing"),
    Seed("costs.period_end_readable", C, set_("costs", FEB, "period_end", "end of feb"), 1,
         "2026-02-01..? billing"),
    Seed("costs.amount_readable", C, set_("costs", FEB, "amount", "a lot"), 1,
         "2026-02-01..2026-02-28 billing"),
    Seed("costs.period_start_present", C, set_("costs", FEB, "period_start", ""), 1,
         "?..2026-02-28 billing"),
    Seed("costs.period_end_present", C, set_("costs", FEB, "period_end", ""), 1,
         "2026-02-01..? billing"),
    Seed("costs.amount_present", C, set_("costs", FEB, "amount", ""), 1,
         "2026-02-01..2026-02-28 billing"),
    Seed("costs.period_end_not_before_start", C, set_("costs", FEB, "period_end", "2026-01-31"), 1,
         "2026-02-01..2026-01-31 billing"),
    Seed("costs.amount_not_negative", W, set_("costs", FEB, "amount", "-10"), 1,
         "2026-02-01..2026-02-28 billing"),
    # qa
    Seed("qa.required_columns", C, drop(Q, "score"), 1, "score"),
    Seed("qa.evaluated_at_readable", C, set_(Q, "T0021", "evaluated_at", "later"), 1, "T0021"),
    Seed("qa.score_readable", C, set_(Q, "T0021", "score", "good"), 1, "T0021"),
    Seed("qa.interaction_id_present", C, set_(Q, "T0021", "interaction_id", ""), 1, "row 1"),
    Seed("qa.score_present", C, set_(Q, "T0021", "score", ""), 1, "T0021"),
    Seed("qa.score_range", C, set_(Q, "T0021", "score", "101"), 1, "T0021"),
    # cross-table consistency
    Seed("cross_table.survey_interaction_exists", C, set_(S, "T0113", "interaction_id", "X9999"), 1,
         "X9999"),
    Seed("cross_table.qa_interaction_exists", C, set_(Q, "T0021", "interaction_id", "X9998"), 1,
         "X9998"),
    # An agent missing from the roster who handled a contact has no activity row either.
    Seed("cross_table.contact_agent_in_roster", W, set_(IX, "T0114", "agent_id", "A99"), 1, "A99",
         also=("cross_table.contact_days_have_activity",)),
    Seed("cross_table.activity_agent_in_roster", W, set_(A, "A04 2026-01-12", "agent_id", "A98"), 1,
         "A98"),
    Seed("cross_table.contact_time_within_logged_in", C, set_(IX, "T0114", "talk_s", "20000"), 1,
         "A01 2026-01-16"),
    Seed("cross_table.contact_days_have_activity", W, remove_activity_row, 1, "A01 2026-01-16"),
    Seed("cross_table.survey_after_contact", W,
         set_(S, "T0113", "responded_at", "2026-01-15T12:00:00"), 1, "T0113"),
    Seed("cross_table.qa_after_contact", W,
         set_(Q, "T0021", "evaluated_at", "2026-01-06T09:00:00"), 1, "T0021"),
    # values that cannot be real (issue 14): durations over 24 h, dates before 2000 or more
    # than a year ahead, infinite amounts. A contact's handle time also counts against its
    # agent's logged-in time, and a contact moved to 1999 leaves its agent's day.
    Seed("interactions.talk_s_within_ceiling", C, set_(IX, "T0114", "talk_s", "90000"), 1, "T0114",
         also=("cross_table.contact_time_within_logged_in",)),
    Seed("interactions.hold_s_within_ceiling", C, set_(IX, "T0114", "hold_s", "90000"), 1, "T0114",
         also=("cross_table.contact_time_within_logged_in",)),
    Seed("interactions.acw_s_within_ceiling", C, set_(IX, "T0114", "acw_s", "inf"), 1, "T0114",
         also=("cross_table.contact_time_within_logged_in",)),
    Seed("interactions.arrived_at_plausible", C,
         set_(IX, "T0114", "arrived_at", "1999-01-16T13:11:00"), 1, "T0114",
         also=("cross_table.contact_days_have_activity",)),
    Seed("interactions.answered_at_plausible", C,
         set_(IX, "T0101", "answered_at", "2999-01-15T10:10:10"), 1, "T0101",
         also=("interactions.abandoned_not_answered", "interactions.ended_after_answer")),
    Seed("interactions.ended_at_plausible", C,
         set_(IX, "T0110", "ended_at", "2999-01-16T09:20:00"), 1, "T0110"),
    Seed("agent_activity.logged_in_s_within_ceiling", C,
         set_(A, "A04 2026-01-12", "logged_in_s", "90000"), 1, "A04 2026-01-12"),
    Seed("agent_activity.handling_s_within_ceiling", C,
         set_(A, "A04 2026-01-12", "handling_s", "90000"), 1, "A04 2026-01-12",
         also=("agent_activity.handling_plus_available_within_logged_in",)),
    Seed("agent_activity.available_s_within_ceiling", C,
         set_(A, "A04 2026-01-12", "available_s", "90000"), 1, "A04 2026-01-12",
         also=("agent_activity.handling_plus_available_within_logged_in",)),
    Seed("agent_activity.paid_s_within_ceiling", C, set_(A, "A04 2026-01-12", "paid_s", "90000"),
         1, "A04 2026-01-12"),
    Seed("agent_activity.date_plausible", C, set_(A, "A04 2026-01-12", "date", "1999-01-11"), 1,
         "A04 1999-01-11"),
    Seed("costs.amount_finite", C, set_("costs", FEB, "amount", "inf"), 1,
         "2026-02-01..2026-02-28 billing"),
    Seed("costs.period_start_plausible", C, set_("costs", FEB, "period_start", "1999-02-01"), 1,
         "1999-02-01..2026-02-28 billing"),
    Seed("costs.period_end_plausible", C, set_("costs", FEB, "period_end", "2999-02-28"), 1,
         "2026-02-01..2999-02-28 billing"),
    Seed("surveys.responded_at_plausible", C,
         set_(S, "T0113", "responded_at", "2999-01-15T12:00:00"), 1, "T0113"),
    Seed("qa.evaluated_at_plausible", C, set_(Q, "T0021", "evaluated_at", "2999-01-09T10:02:00"), 1,
         "T0021"),
    # completeness and plausibility
    Seed("plausibility.no_empty_days", W, empty_day, 1, "2026-02-18"),
    Seed("plausibility.volume_within_trailing_range", W, volume_spike, 1, "2026-02-18"),
    Seed("plausibility.survey_response_rate_stable", W, no_surveys_in_w08, 1, "2026-W08"),
]


def stored_checks() -> list[tuple[str, dict]]:
    out = []
    for path in sorted(SUITES.glob("*.json")):
        suite = json.loads(path.read_text())
        out += [(f"{suite['name']}.{e['meta']['check']}", e) for e in suite["expectations"]]
    return out


def by_check(report: ValidationReport) -> dict[str, dict]:
    return {f"{r['suite']}.{r['check']}": r for r in report.results}


@pytest.fixture
def fixture_copy(tmp_path) -> Fixture:
    folder = tmp_path / "data"
    shutil.copytree(CLEAN, folder, ignore=shutil.ignore_patterns("*.py", "*.md", "__pycache__"))
    return Fixture(folder)


@pytest.fixture(scope="module")
def clean_report() -> ValidationReport:
    return validate(CLEAN)


# -- the suites themselves ---------------------------------------------------------------------
def test_every_stored_expectation_has_a_seeded_defect_test():
    assert sorted(name for name, _ in stored_checks()) == sorted(s.check for s in SEEDS)


def test_stored_expectations_carry_severity_and_description():
    for name, exp in stored_checks():
        meta = exp["meta"]
        assert meta["severity"] in ("critical", "warning"), name
        assert exp["severity"] == meta["severity"], name  # GX's own field agrees with meta
        assert len(meta["description"]) > 10, name


def test_required_columns_match_the_schema():
    from kpitools.schema import TABLES

    for name, exp in stored_checks():
        if name.endswith(".required_columns"):
            table = name.split(".")[0]
            required = {c.name for c in TABLES[table].columns if c.required}
            assert set(exp["kwargs"]["column_set"]) == required, table


def test_clean_fixture_passes_every_check(clean_report):
    assert clean_report.ok
    assert clean_report.failures == []
    assert all(r["success"] is True for r in clean_report.results)
    assert len(clean_report.results) == len(SEEDS)
    # hand-counted from make_clean.py: 10 weeks of 5 x 5 + 2 x 3 contacts ...
    assert clean_report.rows_checked == {"interactions": 310, "surveys": 120,
                                         "agent_activity": 220, "agents": 5, "costs": 6, "qa": 8}
    # ... and the plausibility checks had history to work with (not vacuous passes)
    checks = by_check(clean_report)
    assert checks["plausibility.volume_within_trailing_range"]["element_count"] == 70
    assert checks["plausibility.survey_response_rate_stable"]["element_count"] == 10


def test_deferred_module_imports_on_first_use(tmp_path, monkeypatch):
    """GX's chart and statistics imports are deferred; the first real use loads them."""
    from kpitools import _gx

    (tmp_path / "kp_deferred_probe.py").write_text("LOADS = []\nLOADS.append(1)\nVALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "kp_deferred_probe", raising=False)
    _gx._defer(["kp_deferred_probe"])
    import kp_deferred_probe as probe  # the stand-in: nothing executed yet

    assert type(probe).__name__ == "_Deferred"
    assert probe.VALUE == 42          # first use imports the real module ...
    assert probe.LOADS == [1]         # ... exactly once
    real = sys.modules["kp_deferred_probe"]
    assert type(real).__name__ == "module" and real.VALUE == 42
    monkeypatch.delitem(sys.modules, "kp_deferred_probe")


# -- one defect at a time ----------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS, ids=[s.check for s in SEEDS])
def test_seeded_defect_is_caught_named_and_classified(seed, fixture_copy):
    example = seed.example(fixture_copy) if callable(seed.example) else seed.example
    seed.edit(fixture_copy)
    report = validate(fixture_copy.folder)
    checks = by_check(report)
    hit = checks[seed.check]
    assert hit["success"] is False, hit
    assert hit["severity"] == seed.severity
    assert hit["unexpected_count"] == seed.count, hit
    assert example in hit["examples"], hit
    table, check = seed.check.split(".")
    if table not in ("cross_table", "plausibility"):
        assert hit["table"] == table
    failed = {name for name, r in checks.items() if r["success"] is False}
    assert failed == {seed.check, *seed.also}
    assert report.ok is (seed.severity == "warning" and all(
        checks[a]["severity"] == "warning" for a in seed.also))
    # the failure shows in the text an analyst reads: table, column, count, an example
    text = report.format_text()
    assert f"{hit['table']}.{hit['column']}" in text or hit["column"] is None
    assert example in text


def test_missing_column_skips_the_checks_that_need_it(fixture_copy):
    fixture_copy.drop_column("interactions", "channel")
    report = validate(fixture_copy.folder)
    checks = by_check(report)
    for name in ("interactions.channel_present", "interactions.channel_allowed",
                 "interactions.abandoned_realtime_has_end"):
        assert checks[name]["success"] is None
        assert "channel" in checks[name]["skipped"]
    assert "missing required column" in report.load_error


def test_load_error_is_kept_and_every_problem_reported(fixture_copy):
    fixture_copy.set(IX, "T0114", "talk_s", "abc")
    fixture_copy.set(IX, "T0110", "talk_s", "-3")
    report = validate(fixture_copy.folder)
    assert "talk_s" in report.load_error and "'abc'" in report.load_error
    checks = by_check(report)
    assert checks["interactions.talk_s_readable"]["example_values"] == ["abc"]
    assert checks["interactions.talk_s_not_negative"]["examples"] == ["T0110"]
    assert checks["interactions.talk_s_not_negative"]["example_values"] == ["-3"]


def test_examples_stop_at_five_distinct_rows(fixture_copy):
    frame = fixture_copy.read(IX)
    handled = frame.index[frame["outcome"] == "handled"][:7]
    frame.loc[handled, "talk_s"] = "-1"
    fixture_copy.write(IX, frame)
    hit = by_check(validate(fixture_copy.folder))["interactions.talk_s_not_negative"]
    assert hit["unexpected_count"] == 7
    assert hit["examples"] == list(frame.loc[handled[:5], "interaction_id"])


def test_optional_tables_and_columns_absent(fixture_copy):
    for table in ("surveys", "qa", "agents", "costs", "agent_activity"):
        (fixture_copy.folder / f"{table}.csv").unlink()
    fixture_copy.drop_column(IX, "hold_s")
    report = validate(fixture_copy.folder)
    assert report.ok and report.failures == []
    assert report.rows_checked == {"interactions": 310}
    checks = by_check(report)
    assert checks["surveys.csat_range"]["skipped"] == "no surveys table in the data"
    assert checks["cross_table.contact_agent_in_roster"]["skipped"] == "no agents table in the data"
    assert checks["interactions.hold_s_not_negative"]["skipped"] == \
        "column hold_s is not in the interactions file"
    assert checks["interactions.talk_s_not_negative"]["success"] is True


def test_unreadable_folder_gives_a_record_not_an_exception(tmp_path):
    report = validate(tmp_path / "nowhere")
    assert not report.ok
    (rec,) = report.results
    assert rec["expectation"] == "readable_file" and rec["severity"] == "critical"
    assert "does not exist" in rec["description"]


def test_corrupt_optional_file_is_reported_and_the_rest_checked(fixture_copy):
    (fixture_copy.folder / "qa.csv").unlink()
    (fixture_copy.folder / "qa.parquet").write_bytes(b"PAR1 this is not parquet")
    report = validate(fixture_copy.folder)
    assert not report.ok
    (bad,) = report.failures
    assert bad["table"] == "qa" and bad["expectation"] == "readable_file"
    checks = by_check(report)
    assert checks["qa.score_range"]["skipped"] == "qa could not be read"
    assert checks["interactions.talk_s_not_negative"]["success"] is True


# -- scope -------------------------------------------------------------------------------------
def test_period_scope_is_the_period_its_previous_and_last_year():
    report = validate(CLEAN, period="2026-W08")
    assert report.scope["periods"] == ["2026-W08", "2026-W07", "2025-W08"]
    assert (report.scope["start"], report.scope["end"]) == ("2025-02-17", "2026-02-22")
    # W07 + W08 (2026-02-09 .. 02-22): 2 x 31 contacts, 2 x 12 surveys, 2 x (21 + A04's Monday)
    # activity rows, the Wednesday QA rows of 02-11 and 02-18, February's two cost rows.
    assert report.rows_checked == {"interactions": 62, "surveys": 24, "agent_activity": 44,
                                   "agents": 5, "costs": 2, "qa": 2}
    assert report.ok


def test_defects_outside_the_scope_are_not_read_inside_they_are(fixture_copy):
    fixture_copy.set(IX, "T0114", "talk_s", "-5")  # 2026-01-16, week 2026-W03
    fixture_copy.set(IX, "T0383", "talk_s", "-7")  # d=38: Thu 2026-02-12, week 2026-W07
    outside = by_check(validate(fixture_copy.folder, period="2026-W10"))
    assert outside["interactions.talk_s_not_negative"]["success"] is True
    inside = by_check(validate(fixture_copy.folder, period=kpitools.Period.parse("2026-W08")))
    hit = inside["interactions.talk_s_not_negative"]
    assert hit["unexpected_count"] == 1 and hit["examples"] == ["T0383"]  # previous period


def test_a_period_beyond_the_data_warns_about_each_empty_day():
    # The fixture ends on Sunday 2026-03-15; 2026-W20 is 2026-05-11 .. 05-17. Its comparison
    # periods (W19, 2025-W20) are outside the data too, but only the reviewed period's days
    # must have contacts: history that was never extracted is not a defect.
    report = validate(CLEAN, period="2026-W20")
    assert report.ok  # a warning, not a stop
    (hit,) = report.failures
    assert (hit["suite"], hit["check"], hit["severity"]) == ("plausibility", "no_empty_days", "warning")
    assert hit["unexpected_count"] == 7 and hit["element_count"] == 7
    assert hit["examples"] == ["2026-05-11", "2026-05-12", "2026-05-13", "2026-05-14", "2026-05-15"]


def test_orphan_survey_is_placed_by_its_response_time(fixture_copy):
    fixture_copy.set(S, "T0383", "interaction_id", "X0001")  # responded 2026-02-12
    hit = by_check(validate(fixture_copy.folder, period="2026-W07"))["cross_table.survey_interaction_exists"]
    assert hit["success"] is False and hit["examples"] == ["X0001"]
    elsewhere = by_check(validate(fixture_copy.folder, period="2026-W10"))
    assert elsewhere["cross_table.survey_interaction_exists"]["success"] is True


def test_a_loaded_dataset_is_validated_without_changing_it():
    data = kpitools.load(CLEAN)
    before = sorted(r[0] for r in data.con.execute("SHOW ALL TABLES").fetchall())
    report = validate(data, period="2026-W08")
    assert report.ok
    after = sorted(r[0] for r in data.con.execute("SHOW ALL TABLES").fetchall())
    assert before == after
    # still usable: 5 weekdays x 4 inbound + 2 weekend days x 3 inbound contacts offered
    assert kpitools.kpis(data, "2026-W08", kpis=["offered"])["value"].iloc[0] == 5 * 4 + 2 * 3


# -- report output -----------------------------------------------------------------------------
def test_report_json_round_trip(clean_report, tmp_path):
    path = clean_report.write_json(tmp_path / "out" / "validation.json")
    data = json.loads(path.read_text())
    assert data["ok"] is True and data["scope"] is None
    assert data["summary"] == {"checks": len(SEEDS), "passed": len(SEEDS), "critical_failures": 0,
                               "warnings": 0, "skipped": 0}
    keys = {"table", "column", "expectation", "description", "severity", "success",
            "unexpected_count", "element_count", "examples"}
    assert all(keys <= set(r) for r in data["results"])
    assert list(tmp_path.joinpath("out").iterdir()) == [path]  # no temporary file left behind


def test_failures_list_critical_first(fixture_copy):
    fixture_copy.set("agents", "A05", "team", "")             # warning
    fixture_copy.set(IX, "T0114", "talk_s", "-5")              # critical
    report = validate(fixture_copy.folder)
    assert [r["severity"] for r in report.failures] == ["critical", "warning"]
    assert [r["check"] for r in report.warnings] == ["team_present"]
    with pytest.raises(kpitools.ValidationFailed, match="talk_s"):
        report.raise_for_critical()


# -- the command line (subprocess: GX import costs seconds, so only a few) ----------------------
def run_cli(*args) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("kpitools")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "kpitools"]
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    return subprocess.run([*cmd, "validate", *args], capture_output=True, text=True, env=env,
                          timeout=180)


def test_cli_clean_data_passes_with_a_warning_printed(fixture_copy):
    fixture_copy.set("costs", FEB, "amount", "-10")  # a warning only
    proc = run_cli("--data", str(fixture_copy.folder))
    assert proc.returncode == 0, proc.stderr
    assert "PASSED" in proc.stdout and "WARNING" in proc.stdout
    assert "costs.amount" in proc.stdout and "2026-02-01..2026-02-28 billing (-10)" in proc.stdout
    assert "Traceback" not in proc.stderr and "Calculating Metrics" not in proc.stderr + proc.stdout


def test_cli_text_in_numeric_column_fails_with_names_and_examples(fixture_copy):
    frame = fixture_copy.read(IX)
    frame.loc[frame["interaction_id"].isin(["T0114", "T0111"]), "talk_s"] = "n/a"
    fixture_copy.write(IX, frame)
    proc = run_cli("--data", str(fixture_copy.folder))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "CRITICAL interactions.talk_s: expect_column_values_to_be_null — 2 of 310 rows" in proc.stdout
    assert "T0111 (n/a), T0114 (n/a)" in proc.stdout


def test_cli_json_missing_column_and_bad_timestamp(fixture_copy):
    fixture_copy.drop_column(S, "interaction_id")
    fixture_copy.set(IX, "T0113", "arrived_at", "16/01/2026 12h11")
    proc = run_cli("--data", str(fixture_copy.folder), "--format", "json", "--period", "2026-W03")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    out = json.loads(proc.stdout)
    assert out["ok"] is False and out["scope"]["periods"] == ["2026-W03", "2026-W02", "2025-W03"]
    failed = {(r["table"], r["column"], r["expectation"]): r for r in out["results"] if r["success"] is False}
    assert set(failed) == {("surveys", "interaction_id", "expect_table_columns_to_match_set"),
                           ("interactions", "arrived_at", "expect_column_values_to_be_null")}
    missing = failed[("surveys", "interaction_id", "expect_table_columns_to_match_set")]
    assert missing["examples"] == ["interaction_id"] and missing["unexpected_count"] == 1
    ts = failed[("interactions", "arrived_at", "expect_column_values_to_be_null")]
    assert ts["examples"] == ["T0113"] and ts["example_values"] == ["16/01/2026 12h11"]
    assert ts["severity"] == "critical" and ts["unexpected_count"] == 1


def test_cli_unreadable_folder_is_a_message(tmp_path):
    proc = run_cli("--data", str(tmp_path / "missing"))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "does not exist" in proc.stdout
