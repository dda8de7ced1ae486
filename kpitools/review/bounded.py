"""Keep review tables bounded: the largest groups by volume, the rest pooled in one row.

A center with 2,000 queues must not get a 2,000-row breakdown (nor a review whose time grows
with queues squared). Tables show the ``MAX_GROUPS`` groups with the most contacts, then one
"All other N queues" row whose KPIs are ratios of the *summed* measures of those groups —
never an average of their ratios — so the pooled row is a true KPI of the rest.
The full table goes to a CSV export (:func:`full_table_name`).
"""

from __future__ import annotations

import math

import pandas as pd

MAX_GROUPS = 12
MAX_LISTED = 10  # findings, queue names … named in running text before "and N more"

PLURAL = {"queue": "queues", "channel": "channels", "issue_type": "issue types",
          "team": "teams", "agent_id": "agents"}


def plural(dim: str, n: int) -> str:
    word = PLURAL.get(dim, dim.replace("_", " ") + "s")
    return word if n != 1 else word[:-1]


def full_table_name(dim: str) -> str:
    """Where the full (unbounded) breakdown is: the review's ``…-<table>.csv`` file and the
    workbook sheet of that name (kpitools.review.tables writes both)."""
    from .tables import BREAKDOWN_TABLES

    table = BREAKDOWN_TABLES.get(dim, dim)
    return f"the {table} CSV file and workbook sheet next to this review"


def top_groups(frame: pd.DataFrame, dim: str, volume_kpi: str = "contact_volume",
               n: int = MAX_GROUPS) -> tuple[list[str], list[str]]:
    """(the ``n`` groups with the highest ``volume_kpi``, every other group), as text.

    Ties are broken by name so the split is deterministic; groups without a volume value
    come last. One group over ``n`` is shown rather than pooled alone."""
    keys = frame[dim].astype(str)
    volume = (frame.loc[frame["kpi"] == volume_kpi, "value"]
              .groupby(keys[frame["kpi"] == volume_kpi]).sum(min_count=1))
    order = pd.DataFrame({"group": sorted(set(keys))})
    order["volume"] = order["group"].map(volume).fillna(-math.inf)
    ranked = order.sort_values(["volume", "group"], ascending=[False, True])["group"].tolist()
    if len(ranked) == n + 1:  # "All other 1 queue" would hide a name to save no row
        return ranked, []
    return ranked[:n], ranked[n:]


def rows_by_group(frame: pd.DataFrame, dim: str, groups: list[str]) -> dict[str, dict[str, dict]]:
    """group -> kpi -> row, for ``groups`` only, in one pass (not one filter per group)."""
    wanted = set(groups)
    out: dict[str, dict[str, dict]] = {}
    sub = frame[frame[dim].astype(str).isin(wanted)]
    for rec in sub.to_dict("records"):
        out.setdefault(str(rec[dim]), {})[rec["kpi"]] = rec
    return out


def _pool(numerators: pd.Series, denominators: pd.Series, formula) -> float | None:
    num = numerators.astype(float).sum(min_count=1)
    if pd.isna(num):
        return None
    if formula.denominator is None:
        return float(formula.scale * num)
    den = denominators.astype(float).sum(min_count=1)
    if pd.isna(den) or den <= 0:
        return None
    return float(formula.scale * num / den)


def pooled_rows(frame: pd.DataFrame, dim: str, groups: list[str], registry,
                label: str) -> dict[str, dict]:
    """kpi -> one row for ``groups`` pooled: value (and the comparison value) from the summed
    numerators and denominators; change when both periods are whole; no RAG status, since
    targets differ by group."""
    sub = frame[frame[dim].astype(str).isin(set(groups))]
    out = {}
    for kpi_id, g in sub.groupby("kpi", sort=False):
        first = g.iloc[0].to_dict()
        kpi = registry[kpi_id]
        formula = kpi.formula(first.get("variant") or None)
        value = _pool(g["numerator"], g["denominator"], formula)
        compare = None
        if "compare_numerator" in g:
            compare = _pool(g["compare_numerator"], g["compare_denominator"], formula)
        whole = not bool(first.get("partial")) and not bool(first.get("compare_partial"))
        change = value - compare if whole and value is not None and compare is not None else None
        # n sums the groups' own n (agent-days for occupancy), which is the denominator for
        # most ratios.
        n = None if formula.denominator is None else g["n"].astype(float).sum()
        out[kpi_id] = {
            **first, dim: label, "value": value, "compare_value": compare, "change": change,
            "numerator": g["numerator"].astype(float).sum(min_count=1),
            "denominator": None if n is None else n,
            "n": None if n is None else int(round(n)), "status": None,
            "small_sample": bool(kpi.min_sample and (n or 0) < kpi.min_sample),
            "ci_low": None, "ci_high": None,
        }
    return out


def other_label(dim: str, n: int) -> str:
    return f"All other {n:,} {plural(dim, n)}"


def bounded_note(dim: str, shown: int, pooled: int, by: str = "contacts") -> str:
    """The sentence under a bounded table (plain text; the caller escapes it)."""
    return (f"The {shown} {plural(dim, shown)} with the most {by}; the other {pooled:,} are "
            f"pooled in one row (ratios of their summed counts, no status). "
            f"Full table: {full_table_name(dim)}.")


def listed(items: list[str], limit: int = MAX_LISTED) -> tuple[list[str], int]:
    """The first ``limit`` items and how many were left out."""
    return items[:limit], max(0, len(items) - limit)
