"""Reviews stay bounded however many queues or issue types the data has (issue 14): the 12
largest groups, then one pooled "All other N" row computed as a ratio of summed measures."""

from __future__ import annotations

import re

import pytest
from conftest import contact, write_data

from kpitools.review import open_review
from kpitools.review.bounded import MAX_GROUPS, full_table_name, top_groups
from kpitools.review.sections import section_breakdowns, section_issue_types

N_QUEUES = 15


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    """Queue q01 has 15 contacts, q02 14, …, q15 1 (all voice, inbound, handled). Every
    contact of queue qNN waits 10·NN s, so each queue's ASA is 10·NN s. Issue types mirror
    the queues (issue iNN), with AHT 100·NN s (talk only)."""
    rows = []
    for k in range(1, N_QUEUES + 1):
        for j in range(N_QUEUES + 1 - k):
            day, minute = 2 + j % 5, 3 * k + j  # spread over Mon 2 .. Fri 6 March 2026
            rows.append(contact(f"c{k:02d}-{j:02d}", f"2026-03-0{day}T09:{minute:02d}:00",
                                wait=10 * k, queue=f"q{k:02d}", issue=f"i{k:02d}",
                                talk=100.0 * k, customer=f"u{k}-{j}"))
    folder = write_data(tmp_path_factory.mktemp("bounded") / "data", interactions=rows)
    return open_review("weekly", period="2026-W10", data_dir=str(folder), run_gate=False)


def table_rows(html: str, css: str) -> list[str]:
    body = re.search(rf'<table class="[^"]*{css}[^"]*".*?</table>', html, re.S).group(0)
    return re.findall(r"<tr>.*?</tr>", body, re.S)[1:]  # without the header row


def test_top_groups_by_volume_with_name_tiebreak(ctx):
    top, rest = top_groups(ctx.by("queue"), "queue")
    assert top == [f"q{k:02d}" for k in range(1, MAX_GROUPS + 1)]
    assert rest == ["q13", "q14", "q15"]


def test_queue_breakdown_is_top_twelve_plus_pooled_rest_plus_total(ctx):
    html = str(section_breakdowns(ctx))
    rows = table_rows(html, "breakdown")  # the queue table comes first
    assert len(rows) == MAX_GROUPS + 2  # 12 queues, "All other 3 queues", "All"
    other = rows[MAX_GROUPS]
    assert "All other 3 queues" in other
    # pooled contacts: q13 3 + q14 2 + q15 1 = 6
    # pooled ASA = (3·130 + 2·140 + 1·150) / 6 = 820 / 6 = 136.7 s -> 2:17
    # (the mean of the three queue ASAs would be 140 s = 2:20, which must not appear)
    cells = re.findall(r'<td class="num[^"]*">(.*?)</td>', other, re.S)
    assert cells[0].startswith("6")
    assert "2:17" in other and "2:20" not in other
    assert full_table_name("queue") in html


def test_issue_types_table_bounded_with_pooled_aht(ctx):
    html = str(section_issue_types(ctx))
    rows = table_rows(html, "issues")
    assert len(rows) == MAX_GROUPS + 1
    other = rows[-1]
    assert "All other 3 issue types" in other
    # pooled AHT = (3·1300 + 2·1400 + 1·1500) / 6 = 8200 / 6 = 1366.7 s -> 22:47
    assert "22:47" in other


def test_one_group_over_the_limit_is_shown_not_pooled():
    import pandas as pd

    # 13 queues: pooling the smallest alone would hide its name and save no row
    frame = pd.DataFrame({"queue": [f"q{k:02d}" for k in range(13)], "kpi": "contact_volume",
                          "value": [float(20 - k) for k in range(13)]})
    top, rest = top_groups(frame, "queue")
    assert len(top) == 13 and rest == []
    frame14 = pd.concat([frame, pd.DataFrame({"queue": ["q13"], "kpi": "contact_volume",
                                              "value": [1.0]})])
    top, rest = top_groups(frame14, "queue")
    assert len(top) == MAX_GROUPS and rest == ["q12", "q13"]
