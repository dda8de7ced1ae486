"""The two forms of the repeat-contact query give the same numbers.

The catalogue's repeat measure only counts contacts that have a repeat, so the engine finds
them with a semi join; a center's own measure that also counts contacts without a repeat
makes it flag every contact with a window instead (kpitools.sql.repeats_query). Expected
numbers are worked out by hand beside the rows.
"""

from __future__ import annotations

import pytest
from conftest import contact

import kpitools
from kpitools.engine import compute_measures
from kpitools.periods import Period
from kpitools.registry import registry as packaged
from kpitools.sql import repeats_only
from kpitools.sqlexpr import conjuncts

W10 = "2026-W10"  # Monday 2026-03-02 .. Sunday 2026-03-08
MON = "2026-03-02"

ROWS = [
    # u1: handled late Sunday, back Tuesday of W11 (after the period): a repeat in W10
    contact("u1a", "2026-03-08T23:00:00", customer="u1"),
    contact("u1b", "2026-03-10T09:00:00", customer="u1", outcome="abandoned", wait=30),
    # u2: back exactly 168 h later (counts); u3: 168 h + 1 s (too late)
    contact("u2a", f"{MON}T09:00:00", customer="u2"),
    contact("u2b", "2026-03-09T09:00:00", customer="u2"),
    contact("u3a", f"{MON}T09:00:00", customer="u3"),
    contact("u3b", "2026-03-09T09:00:01", customer="u3"),
    # u4: back about another issue type (a repeat only for scope any_issue)
    contact("u4a", f"{MON}T10:00:00", customer="u4", issue="bill"),
    contact("u4b", f"{MON}T11:00:00", customer="u4", issue="tech"),
    # u5: abandoned, then back an hour later: a repeat of a contact that was not handled
    contact("u5a", f"{MON}T10:00:00", customer="u5", outcome="abandoned", wait=40),
    contact("u5b", f"{MON}T11:00:00", customer="u5"),
    # u6: two contacts at the same instant: neither is later than the other
    contact("u6a", f"{MON}T13:00:00", customer="u6"),
    contact("u6b", f"{MON}T13:00:00", customer="u6", queue="tech"),
    # u7: no issue type: never a repeat of the same issue (any_issue: u7a is one)
    contact("u7a", f"{MON}T15:00:00", customer="u7", issue=None),
    contact("u7b", f"{MON}T16:00:00", customer="u7", issue=None),
]
# The center's own measures: one the semi join serves (only contacts with a repeat), one that
# needs the window (contacts without a repeat).
WITH_REPEAT = "  any_repeat: {source: repeats, when: has_repeat, description: any repeat}\n"
WITHOUT_REPEAT = ("  once_only: {source: repeats, when: is_handled AND NOT has_repeat, "
                  "description: handled without a repeat}\n")


def test_conjuncts_split_only_top_level_and():
    assert conjuncts("is_handled AND has_repeat") == ["is_handled", "has_repeat"]
    # BETWEEN's AND, a CASE's AND and a parenthesised AND do not split
    assert conjuncts("w BETWEEN 1 AND 5 AND has_repeat") == ["w BETWEEN 1 AND 5", "has_repeat"]
    assert conjuncts("CASE WHEN a AND b THEN 1 END = 1 AND c") == ["CASE WHEN a AND b THEN 1 END = 1", "c"]
    assert conjuncts("(a AND b) AND c") == ["(a AND b)", "c"]
    # OR binds looser than AND: has_repeat is not a part of the whole condition
    assert conjuncts("a OR b AND has_repeat") == ["a OR b AND has_repeat"]
    assert conjuncts("has_repeat") == ["has_repeat"]


def test_semi_join_only_when_every_repeat_measure_needs_a_repeat():
    assert repeats_only(packaged) == "is_handled"  # the catalogue: is_handled AND has_repeat


def _load(make_data, measures: str, **params):
    folder = make_data(interactions=ROWS)
    (folder / "kpitools.yaml").write_text("measures:\n" + measures, encoding="utf-8")
    return kpitools.load(folder, params=params or None)


def _repeat_measures(data):
    frame = compute_measures(data, [Period.parse(W10)]).frame
    return frame.iloc[0].to_dict()


@pytest.mark.parametrize("scope, repeated, eligible", [
    # handled inbound with a customer in W10: u1a u2a u3a u4a u4b u5b u6a u6b u7a u7b = 10
    # (u1b u2b u3b are in W11, u5a was abandoned); same_issue repeats: u1a, u2a = 2
    ("same_issue", 2, 10),
    # any_issue adds u4a (back about tech) and u7a (back, both without an issue type) = 4
    ("any_issue", 4, 10),
])
def test_both_forms_give_the_same_numbers(make_data, scope, repeated, eligible):
    semi = _load(make_data, WITH_REPEAT, repeat_scope=scope)
    window = _load(make_data, WITH_REPEAT + WITHOUT_REPEAT,
                   repeat_scope=scope)
    assert repeats_only(semi.registry) is not None and repeats_only(window.registry) is None
    got_semi, got_window = _repeat_measures(semi), _repeat_measures(window)
    for got in (got_semi, got_window):
        assert got["repeat_eligible"] == eligible
        assert got["repeat_contacts"] == repeated
        # any_repeat also counts the abandoned u5a (back an hour later): one more
        assert got["any_repeat"] == repeated + 1
    # once_only: the handled contacts with a customer and no repeat (10 - 2 = 8; 10 - 4 = 6)
    assert got_window["once_only"] == eligible - repeated
    rate = {g: kpitools.kpis(d, W10, kpis=["repeat_contact_rate"]).iloc[0]["value"]
            for g, d in (("semi", semi), ("window", window))}
    assert rate["semi"] == rate["window"] == pytest.approx(repeated / eligible)
