"""Shared test helpers: build small data folders from Python rows."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

INTERACTION_COLUMNS = [
    "interaction_id", "customer_id", "channel", "direction", "queue", "issue_type", "agent_id",
    "arrived_at", "answered_at", "ended_at", "outcome", "talk_s", "hold_s", "acw_s",
    "transferred", "escalated", "resolved",
]


def contact(cid, arrived, *, wait=None, outcome="handled", channel="voice", direction="inbound",
            queue="billing", issue="bill", agent="a1", customer="u1", talk=100.0, hold=0.0,
            acw=0.0, transferred=False, escalated=False, resolved=True):
    """One interactions row. ``arrived`` is an ISO timestamp; ``wait`` seconds until answer
    (handled) or hang-up (abandoned)."""
    t0 = pd.Timestamp(arrived)
    answered = ended = None
    if outcome == "handled":
        answered = t0 + pd.Timedelta(seconds=wait or 0)
        ended = answered + pd.Timedelta(seconds=talk + hold)
    else:
        ended = t0 + pd.Timedelta(seconds=wait or 0)
        agent, talk, hold, acw, resolved = None, 0.0, 0.0, 0.0, None
    return {
        "interaction_id": cid, "customer_id": customer, "channel": channel,
        "direction": direction, "queue": queue, "issue_type": issue, "agent_id": agent,
        "arrived_at": t0.isoformat(), "answered_at": answered.isoformat() if answered is not None else None,
        "ended_at": ended.isoformat(), "outcome": outcome, "talk_s": talk, "hold_s": hold,
        "acw_s": acw, "transferred": transferred, "escalated": escalated, "resolved": resolved,
    }


def write_data(folder: Path, fmt: str = "csv", **tables) -> Path:
    """Write each table (a list of dicts or a DataFrame) as <name>.csv / .parquet."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
        if name == "interactions" and not len(frame):
            frame = pd.DataFrame(columns=INTERACTION_COLUMNS)
        if fmt == "csv":
            frame.to_csv(folder / f"{name}.csv", index=False)
        else:
            frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


@pytest.fixture
def make_data(tmp_path):
    counter = {"n": 0}

    def _make(fmt="csv", **tables):
        counter["n"] += 1
        return write_data(tmp_path / f"data{counter['n']}", fmt, **tables)

    return _make


def values(frame, **keys) -> dict:
    """kpi -> value for the rows matching keys (e.g. queue='billing')."""
    sel = frame
    for k, v in keys.items():
        sel = sel[sel[k] == v]
    return {r["kpi"]: (None if r["value"] != r["value"] else r["value"]) for r in sel.to_dict("records")}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Make ``--dist loadgroup`` honour ``xdist_group`` again: pytest-xdist (3.8) appends
    ``@<group>`` to ``item._nodeid``, but pytest 9.2 reads a node's id from ``item._id``, so the
    group never reached the scheduler and the Spark tests spread over every worker (one JVM
    each). Copy the suffixed id across; a no-op without xdist or on older pytest."""
    if not getattr(config.option, "loadgroup", False):
        return
    try:
        from _pytest.nodeid import coerce_node_id
    except ImportError:  # pytest < 9.2 reads _nodeid itself
        return
    for item in items:
        suffixed = item.__dict__.get("_nodeid")
        if isinstance(suffixed, str) and "@" in suffixed and suffixed != item.nodeid:
            item._id = coerce_node_id(suffixed)
