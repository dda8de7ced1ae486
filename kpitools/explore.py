"""Steps an analyst repeats when investigating, for the notebooks in ``notebooks/``.

Nothing here defines a KPI. Every number comes from the engine and the registry
(:func:`kpitools.engine.compute_measures`, :mod:`kpitools.formulas`, kpitools/catalogue.yaml);
this module only pools, compares and lays them out:

* :func:`project_root` and :func:`ensure_demo_data` find (or create) the data folder;
* :func:`catalogue` lists the registry, :func:`pretty` formats a KPI frame by unit;
* :func:`window_kpis` gives KPIs for any date range (measures summed over its days, then the
  catalogue's ratios), :func:`compare_windows` and :func:`compare_periods` put two of them
  side by side with confidence intervals, whether they overlap and whether the move is
  significant;
* :func:`aht_fcr_divergence` and :func:`divergence_stretches` find the weeks where handle
  time improved while resolution or satisfaction got worse (the trap of seed 003);
* :func:`staffing_scenarios`, :func:`agents_table` and :func:`effective_agents` wrap the
  Erlang C model of :mod:`kpitools.staffing` for what-if questions.

>>> import kpitools
>>> from kpitools import explore
>>> data = kpitools.load(explore.ensure_demo_data(explore.project_root() / "data/demo"))  # doctest: +SKIP
>>> explore.compare_windows(data, ("2026-06-08", "2026-08-02"), ("2026-08-03", "2026-09-27"),
...                         by="queue", kpis=["aht", "fcr"])                            # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import KpitoolsError, PeriodError
from .formatting import fmt_change, fmt_target, fmt_value
from .periods import Period, periods_between

__all__ = [
    "project_root",
    "ensure_demo_data",
    "catalogue",
    "pretty",
    "window_kpis",
    "compare_frames",
    "compare_windows",
    "compare_periods",
    "aht_fcr_divergence",
    "divergence_stretches",
    "staffing_scenarios",
    "agents_table",
    "effective_agents",
]


# --------------------------------------------------------------------------------------
# Where the data is


def project_root(start: str | os.PathLike | None = None) -> Path:
    """The kpitools checkout: the first folder at or above ``start`` (default: the working
    directory) holding ``pyproject.toml`` and ``kpitools/``; else the checkout the package
    was installed from (editable install); else ``start`` itself.

    A notebook runs with its own folder as the working directory, so this finds the
    repository from ``notebooks/`` as well as from the root.
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "kpitools").is_dir():
            return folder
    installed = Path(__file__).resolve().parents[1]
    if (installed / "pyproject.toml").is_file():
        return installed
    return here


def ensure_demo_data(path: str | os.PathLike) -> Path:
    """Return ``path``, generating the full demo data set there first if it has no
    interactions file (``kpitools demo-data``; about two seconds).

    The set is written to a temporary folder next to ``path`` and moved into place in one
    step, so a second process never sees a half-written folder.
    """
    path = Path(path)
    if any((path / f"interactions.{ext}").is_file() for ext in ("parquet", "csv")):
        return path
    if path.exists() and any(path.iterdir()):
        raise KpitoolsError(
            f"{path} exists but holds no interactions.parquet or interactions.csv; "
            "point KPITOOLS_DATA at a data folder or remove it to regenerate the demo set"
        )
    from .demo import generate_demo_data

    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".demo-", dir=path.parent))
    try:
        generate_demo_data(staging)
        if path.exists():
            path.rmdir()  # empty, checked above
        os.replace(staging, path)
    except OSError:
        if not (path / "interactions.parquet").is_file():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # only left when another run won
    return path


# --------------------------------------------------------------------------------------
# Looking at the registry and at KPI frames


def catalogue(registry=None) -> pd.DataFrame:
    """The KPI catalogue as a table: id, label, unit, direction, target (formatted),
    default variant, minimum sample and description.

    >>> catalogue().set_index("id").loc["service_level", ["unit", "target", "variant"]].tolist()
    ['fraction', '≥ 80.0 %', 'exclude_short']
    """
    from .registry import registry as default_registry

    reg = registry or default_registry
    rows = []
    for kpi in reg.kpis.values():
        rows.append(
            {
                "id": kpi.id,
                "label": kpi.label,
                "unit": kpi.unit,
                "direction": kpi.direction,
                "target": fmt_target(kpi.target, kpi.unit, kpi.direction)
                if kpi.target is not None
                else "",
                "variant": kpi.variant if kpi.variants else "",
                "min_sample": kpi.min_sample or None,
                "description": kpi.description,
            }
        )
    out = pd.DataFrame(rows)
    out["min_sample"] = out["min_sample"].astype("Int64")
    return out


_VALUE_COLUMNS = (
    "value",
    "target",
    "ci_low",
    "ci_high",
    "compare_value",
    "compare_ci_low",
    "compare_ci_high",
    "baseline",
)


def pretty(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A copy of a KPI frame with values formatted by each row's unit (for display only).

    Values, targets and interval ends become text such as ``81.2 %`` or ``5:58``; ``change``
    becomes ``−3.1 pts``; ``n`` and ``compare_n`` become whole numbers; ``columns`` picks and
    orders the columns shown (default: all).

    >>> frame = pd.DataFrame({"kpi": ["fcr", "aht"], "unit": ["fraction", "seconds"],
    ...                       "value": [0.7234, 358.0], "change": [-0.031, -52.0]})
    >>> pretty(frame)[["value", "change"]].values.tolist()
    [['72.3 %', '−3.1 pts'], ['5:58', '−0:52']]
    """
    out = frame.copy()
    units = out["unit"].tolist()
    for col in _VALUE_COLUMNS:
        if col in out:
            if col == "target" and "direction" in out:
                out[col] = [
                    fmt_target(v, u, d) if v is not None and v == v else ""
                    for v, u, d in zip(out[col], units, out["direction"], strict=True)
                ]
            else:
                out[col] = [
                    fmt_value(v, u, missing="") for v, u in zip(out[col], units, strict=True)
                ]
    if "change" in out:
        out["change"] = [
            fmt_change(v, u, missing="") for v, u in zip(out["change"], units, strict=True)
        ]
    for col in ("n", "compare_n"):  # counts of responses or contacts: whole numbers
        if col in out:
            out[col] = pd.to_numeric(out[col]).round().astype("Int64")
    if columns is not None:
        out = out[list(columns)]
    return out


# --------------------------------------------------------------------------------------
# KPIs for any date range, and two of them side by side


@dataclass(frozen=True)
class _Window:
    """A date range that the KPI frame machinery can treat like a period."""

    start: dt.date
    end: dt.date
    label: str

    def is_covered_by(self, first_day, last_day, gaps=()) -> bool:
        return Period(self.start, self.end, "day").is_covered_by(first_day, last_day, gaps)


def _day(name: str, value) -> dt.date:
    if isinstance(value, Period):
        raise PeriodError(f"{name}: pass a date, not a period ({value.label}); use .start/.end")
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        stamp = pd.NaT
    if stamp is pd.NaT or stamp != stamp.normalize():
        raise PeriodError(f"{name} must be a date such as 2026-08-03, got {value!r}")
    return stamp.date()


def _window(bounds, name: str) -> _Window:
    if isinstance(bounds, Period):
        return _Window(bounds.start, bounds.end, bounds.label)
    if isinstance(bounds, str):
        p = Period.parse(bounds)
        return _Window(p.start, p.end, p.label)
    try:
        start, end = bounds
    except (TypeError, ValueError):
        raise PeriodError(
            f"{name} must be a period label, a Period or a (first day, last day) pair, "
            f"got {bounds!r}"
        ) from None
    first, last = _day(f"{name} first day", start), _day(f"{name} last day", end)
    if last < first:
        raise PeriodError(f"{name}: the last day {last} is before the first day {first}")
    return _Window(first, last, f"{first}..{last}")


def window_kpis(
    data, window, by=None, kpis: list[str] | None = None, variant: str | None = None
) -> pd.DataFrame:
    """KPI values for a date range, pooled over its days (ratios of sums, SPEC §4).

    Parameters
    ----------
    data : a Dataset from :func:`kpitools.load`
    window : a period label (``2026-W32``), a :class:`~kpitools.Period`, or a pair
        ``(first_day, last_day)`` of dates, both inclusive
    by, kpis, variant : as in :func:`kpitools.kpis`

    Returns
    -------
    DataFrame
        The columns of :func:`kpitools.kpis`; ``period`` is the label or
        ``"<first>..<last>"``; ``partial`` is true when the data does not cover every day.
    """
    from .api import _check_variant, _enrich
    from .engine import check_by, compute_measures
    from .formulas import kpi_frame

    win = _window(window, "window")
    by = check_by(by, data)
    _check_variant(data, variant)
    selected = data.registry.select(kpis)
    measures = compute_measures(data, periods_between(win.start, win.end, "day"), by)
    columns = [m for m in data.registry.measures if m in measures.frame]
    frame = measures.frame
    if by:
        grouped = frame.groupby(list(by), dropna=False, sort=True)[columns]
        pooled = grouped.sum(min_count=1).reset_index()
    else:
        pooled = frame[columns].sum(min_count=1).to_frame().T
    pooled.insert(0, "period", win.label)
    for name in measures.unavailable:  # keep "unavailable" as NaN, never as 0
        pooled[name] = np.nan
    out = kpi_frame(pooled, selected, data.registry, measures.unavailable, ["period", *by], variant,
                    measures.notes)
    return _enrich(data, out, pooled, by, [win])


_COMPARE_KEEP = [
    "period",
    "value",
    "numerator",
    "denominator",
    "n",
    "ci_low",
    "ci_high",
    "partial",
    "small_sample",
]


def compare_frames(current: pd.DataFrame, earlier: pd.DataFrame, by=()) -> pd.DataFrame:
    """Put two KPI frames (same KPIs and groups, two periods) side by side.

    Adds ``compare_period``, ``compare_value``, ``compare_n``, ``compare_ci_low``,
    ``compare_ci_high``, ``compare_numerator``, ``compare_denominator``, ``compare_partial``,
    ``compare_small_sample``, and

    * ``change`` = value − compare_value (null when either side is partial or missing, as in
      :func:`kpitools.compare`);
    * ``intervals_overlap``: whether the two 95 % intervals overlap (null without both);
    * ``significant``: whether the move is unlikely to be sampling noise — a two-proportion
      z-test at 95 % for rates, non-overlapping intervals for scores (the review's rule,
      :func:`kpitools.review.changes.is_significant`); null when there is no change or
      nothing to test (AHT, counts and costs carry no sampling variance in the measures).
    """
    from .engine import check_by
    from .review.changes import is_significant

    by = list(check_by(by, extra=[c for c in current.columns if c in earlier.columns]))
    keys = [*by, "kpi"]
    then = earlier[[*keys, *_COMPARE_KEEP]].rename(
        columns={c: f"compare_{c}" for c in _COMPARE_KEEP}
    )
    out = current.merge(then, on=keys, how="left")
    out["compare_partial"] = out["compare_partial"].fillna(False).astype(bool)
    like_for_like = ~out["partial"].astype(bool) & ~out["compare_partial"]
    out["change"] = (out["value"] - out["compare_value"]).where(like_for_like)
    bounds = out[["ci_low", "ci_high", "compare_ci_low", "compare_ci_high"]].astype("float64")
    known = bounds.notna().all(axis=1)
    apart = (bounds["ci_high"] < bounds["compare_ci_low"]) | (
        bounds["compare_ci_high"] < bounds["ci_low"]
    )
    out["intervals_overlap"] = pd.array(
        [None if not k else not a for k, a in zip(known, apart, strict=True)], dtype="boolean"
    )
    out["significant"] = pd.array(
        [_significance(row, is_significant) for row in out.to_dict("records")],
        dtype="boolean",
    )
    return out


def _significance(row: dict, is_significant) -> bool | None:
    """The review's significance rule where a test is possible, else None (AHT, counts and
    costs carry no variance in the measures, so nothing can be said about noise)."""
    if row["change"] != row["change"] or row["change"] is None:
        return None
    if row.get("unit") == "fraction":
        parts = (
            row["numerator"],
            row["denominator"],
            row["compare_numerator"],
            row["compare_denominator"],
        )
        testable = (
            all(x == x and x is not None for x in parts)
            and row["denominator"] > 0
            and row["compare_denominator"] > 0
        )
    else:
        bounds = (row["ci_low"], row["ci_high"], row["compare_ci_low"], row["compare_ci_high"])
        testable = all(x is not None and x == x for x in bounds)
    return bool(is_significant(row)) if testable else None


def compare_windows(
    data, earlier, later, by=None, kpis: list[str] | None = None, variant: str | None = None
) -> pd.DataFrame:
    """KPIs of ``later`` next to ``earlier`` (each a label, Period or day pair), with
    intervals, their overlap and significance (see :func:`compare_frames`)."""
    now = window_kpis(data, later, by, kpis, variant)
    then = window_kpis(data, earlier, by, kpis, variant)
    return compare_frames(now, then, by)


def compare_periods(
    data,
    period,
    against: str = "previous",
    by=None,
    kpis: list[str] | None = None,
    variant: str | None = None,
) -> pd.DataFrame:
    """:func:`kpitools.compare` plus the comparison period's interval, whether the two
    intervals overlap and whether the move is significant.

    ``against`` is ``previous``, ``last_year`` or another period label of any grain.
    """
    from .api import kpis as kpis_of

    p = period if isinstance(period, Period) else Period.parse(period)
    if against == "previous":
        other = p.previous()
    elif against == "last_year":
        other = p.same_last_year()
    else:
        other = against if isinstance(against, Period) else Period.parse(against)
    now = kpis_of(data, p, by, variant, kpis)
    then = kpis_of(data, other, by, variant, kpis)
    return compare_frames(now, then, by)


# --------------------------------------------------------------------------------------
# The AHT trap: handle time down while resolution and satisfaction get worse


def _scale(registry, kpi_id: str, variant) -> float:
    kpi = registry[kpi_id]
    return kpi.formula(variant if variant in kpi.formulas else None).scale


def _period_start(label: str) -> dt.date:
    return Period.parse(label).start


def aht_fcr_divergence(
    trend: pd.DataFrame,
    by: str | None = "queue",
    baseline_weeks: int = 8,
    min_baseline_weeks: int = 4,
    registry=None,
) -> pd.DataFrame:
    """Flag the periods where AHT improved while FCR, CSAT or repeat contacts got worse.

    Each period of ``trend`` (the output of :func:`kpitools.trend` with ``aht`` and some of
    ``fcr``, ``csat``, ``repeat_contact_rate``) is compared, per ``by`` group, with a
    baseline: the pooled ratio of sums over the last ``baseline_weeks`` earlier periods
    that were complete and *not themselves flagged*, so a long stretch keeps being
    compared with normal weeks instead of with itself. A KPI has moved when the change is
    material and significant by the review's rule (:mod:`kpitools.review.changes`: half
    the gap between its warning and critical lines, and a 95 % test for rates); surveys
    below the minimum sample do not count. Periods with fewer than
    ``min_baseline_weeks`` baseline periods get no verdict.

    Returns
    -------
    DataFrame
        One row per group and period, in time order: ``by`` (when given), ``period``,
        for each KPI ``<kpi>`` (value), ``baseline_<kpi>`` and ``change_<kpi>``, then
        ``baseline_periods``, ``aht_improved`` (bool), ``worse`` (labels of the experience
        KPIs that got worse, comma-separated) and ``diverging`` (bool).
    """
    from .registry import registry as default_registry
    from .review.changes import is_better, is_material
    from .review.guardrail import EFFICIENCY_KPI, EXPERIENCE_KPIS

    reg = registry or default_registry
    if EFFICIENCY_KPI not in set(trend["kpi"]):
        raise KpitoolsError(f"the trend frame needs the {EFFICIENCY_KPI!r} KPI")
    experience = [k for k in EXPERIENCE_KPIS if k in set(trend["kpi"])]
    if not experience:
        raise KpitoolsError(f"the trend frame needs at least one of {', '.join(EXPERIENCE_KPIS)}")
    if by is not None and by not in trend:
        raise KpitoolsError(f"the trend frame has no {by!r} column to group by")
    if baseline_weeks < 1 or not 1 <= min_baseline_weeks <= baseline_weeks:
        raise KpitoolsError(
            "need 1 <= min_baseline_weeks <= baseline_weeks, got "
            f"{min_baseline_weeks} and {baseline_weeks}"
        )
    kpis = [EFFICIENCY_KPI, *experience]
    frame = trend[trend["kpi"].isin(kpis)]
    groups = [(None, frame)] if by is None else list(frame.groupby(by, sort=True))
    rows = []
    for group, sub in groups:
        records = {(r["period"], r["kpi"]): r for r in sub.to_dict("records")}
        periods = sorted(sub["period"].unique(), key=_period_start)
        clean: list[str] = []
        for period in periods:
            out = {} if by is None else {by: group}
            out["period"] = period
            base = clean[-baseline_weeks:]
            enough = len(base) >= min_baseline_weeks
            moved: dict[str, dict] = {}
            for kpi in kpis:
                rec = records.get((period, kpi))
                value = np.nan if rec is None or rec["value"] is None else rec["value"]
                out[kpi] = value
                baseline = np.nan
                if enough and rec is not None:
                    parts = [records[(b, kpi)] for b in base if (b, kpi) in records]
                    num = sum(p["numerator"] for p in parts if p["numerator"] == p["numerator"])
                    den = sum(
                        p["denominator"] for p in parts if p["denominator"] == p["denominator"]
                    )
                    if parts and den > 0:
                        baseline = _scale(reg, kpi, rec.get("variant")) * num / den
                        moved[kpi] = {
                            **rec,
                            "compare_value": baseline,
                            "compare_numerator": num,
                            "compare_denominator": den,
                            "change": value - baseline,
                        }
                out[f"baseline_{kpi}"] = baseline
                out[f"change_{kpi}"] = value - baseline
            out["baseline_periods"] = len(base) if enough else 0
            eff = moved.get(EFFICIENCY_KPI)
            improved = bool(
                eff and is_material(eff) and is_better(eff["direction"], eff["change"]) is True
            )
            worse = [
                reg[k].label
                for k in experience
                if k in moved
                and not moved[k].get("small_sample")
                and is_material(moved[k])
                and is_better(moved[k]["direction"], moved[k]["change"]) is False
            ]
            out["aht_improved"] = improved
            out["worse"] = ", ".join(worse)
            out["diverging"] = improved and bool(worse)
            partial = any(records.get((period, k), {}).get("partial") for k in kpis)
            if not out["diverging"] and not partial:
                clean.append(period)
            rows.append(out)
    columns = ([] if by is None else [by]) + ["period"]
    for kpi in kpis:
        columns += [kpi, f"baseline_{kpi}", f"change_{kpi}"]
    columns += ["baseline_periods", "aht_improved", "worse", "diverging"]
    return pd.DataFrame(rows, columns=columns)


def divergence_stretches(
    divergence: pd.DataFrame, by: str | None = "queue", min_periods: int = 2
) -> pd.DataFrame:
    """Runs of consecutive flagged periods in the output of :func:`aht_fcr_divergence`.

    Returns one row per run of at least ``min_periods`` flagged periods in a row (per group):
    ``by``, ``first_period``, ``last_period``, ``periods``, ``start`` and ``end`` (the first
    and last day, inclusive), longest first.
    """
    rows = []
    groups = [(None, divergence)] if by is None else divergence.groupby(by, sort=True)
    for group, sub in groups:
        ordered = sorted(
            zip(sub["period"], sub["diverging"], strict=True),
            key=lambda pair: _period_start(pair[0]),
        )
        run: list[str] = []
        for period, flagged in [*ordered, (None, False)]:
            if flagged:
                run.append(period)
                continue
            if len(run) >= min_periods:
                first, last = Period.parse(run[0]), Period.parse(run[-1])
                rows.append(
                    {
                        **({} if by is None else {by: group}),
                        "first_period": run[0],
                        "last_period": run[-1],
                        "periods": len(run),
                        "start": first.start,
                        "end": last.end,
                    }
                )
            run = []
    columns = ([] if by is None else [by]) + [
        "first_period",
        "last_period",
        "periods",
        "start",
        "end",
    ]
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values(["periods", "start"], ascending=[False, True], ignore_index=True)


# --------------------------------------------------------------------------------------
# Staffing what-ifs (Erlang C, kpitools.staffing)


def staffing_scenarios(
    contacts: float,
    interval_s: float,
    aht_s: float,
    answer_within_s: float,
    target_sl: float,
    scenarios: Mapping[str, Mapping[str, float]],
    shrinkage: float | None = None,
) -> pd.DataFrame:
    """Erlang C requirements for a base case and named what-if changes to it.

    Each scenario is a mapping of changes: ``volume_change`` (relative: 0.10 = +10 %),
    ``aht_change_s`` (seconds added, e.g. −20), or new absolute values for ``target_sl``,
    ``answer_within_s`` or ``shrinkage``. Changes combine when several are given.

    Returns one row per case (``base`` first): ``scenario``, ``contacts``, ``aht_s``,
    ``answer_within_s``, ``target_sl``, the :class:`~kpitools.staffing.StaffingResult`
    fields, and ``extra_agents`` versus the base.

    >>> frame = staffing_scenarios(100, 1800, 180, 20, 0.8, {"volume +10 %": {"volume_change": 0.1}})
    >>> frame[["scenario", "agents", "extra_agents"]].values.tolist()
    [['base', 14, 0], ['volume +10 %', 15, 1]]
    """
    from .staffing import StaffingError, required_agents

    allowed = {"volume_change", "aht_change_s", "target_sl", "answer_within_s", "shrinkage"}
    cases = [("base", {})] + list(scenarios.items())
    rows = []
    for name, changes in cases:
        unknown = set(changes) - allowed
        if unknown:
            raise StaffingError(
                f"scenario {name!r}: unknown change {', '.join(sorted(unknown))}; use "
                f"{', '.join(sorted(allowed))}"
            )
        case = {
            "contacts": float(contacts) * (1 + changes.get("volume_change", 0.0)),
            "aht_s": float(aht_s) + changes.get("aht_change_s", 0.0),
            "answer_within_s": changes.get("answer_within_s", answer_within_s),
            "target_sl": changes.get("target_sl", target_sl),
        }
        result = required_agents(
            case["contacts"],
            interval_s,
            case["aht_s"],
            case["answer_within_s"],
            case["target_sl"],
            shrinkage=changes.get("shrinkage", shrinkage),
        )
        rows.append({"scenario": name, **case, **result.to_dict()})
    out = pd.DataFrame(rows)
    out["extra_agents"] = out["agents"] - out["agents"].iloc[0]
    return out


def agents_table(
    contacts: float,
    interval_s: float,
    aht_s: float,
    answer_within_s: float,
    agents: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Service level, ASA, occupancy and P(wait) for each agent count (Erlang C).

    ``agents`` defaults to the eight counts from the first one above the offered load.
    Counts that do not exceed the load have no steady state and are left out.

    >>> table = agents_table(100, 1800, 180, 20, agents=[10, 13, 14])
    >>> table["agents"].tolist(), [round(x, 3) for x in table["service_level"]]
    ([13, 14], [0.796, 0.888])
    """
    from .staffing import asa, erlang_c, occupancy, offered_load, service_level

    load = offered_load(contacts, interval_s, aht_s)
    if agents is None:
        agents = range(math.floor(load) + 1, math.floor(load) + 9)
    rows = []
    for n in agents:
        if n <= load:
            continue
        rows.append(
            {
                "agents": int(n),
                "offered_load": load,
                "service_level": service_level(n, load, aht_s, answer_within_s),
                "asa_s": asa(n, load, aht_s),
                "occupancy": occupancy(n, load),
                "p_wait": erlang_c(n, load),
            }
        )
    return pd.DataFrame(
        rows, columns=["agents", "offered_load", "service_level", "asa_s", "occupancy", "p_wait"]
    )


def effective_agents(
    intervals: pd.DataFrame, answer_within_s: float, interval_minutes: int = 30
) -> pd.Series:
    """Agents the achieved service level implies, interval by interval (Erlang C inverted).

    For each row of :func:`kpitools.staffing.interval_staffing` this is the fewest agents
    whose Erlang C service level, at the interval's volume and AHT, reaches the service level
    actually achieved: a staffing level that explains what customers experienced. Where it
    is far below ``actual_agents`` the people who touched the queue were not all on it for
    the whole interval. Null when the interval has no AHT or no achieved service level, or
    when everything was answered within the threshold (any staffing explains 100 %).

    >>> frame = pd.DataFrame({"contacts": [100, 100], "aht_s": [180.0, 180.0],
    ...                       "achieved_sl": [0.888, 1.0]})
    >>> effective_agents(frame, 20).tolist()
    [14, <NA>]
    """
    from .staffing import required_agents

    values: list[int | None] = []
    for contacts, aht_s, achieved in zip(
        intervals["contacts"], intervals["aht_s"], intervals["achieved_sl"], strict=True
    ):
        if not (contacts > 0 and aht_s > 0 and 0 <= achieved < 1):
            values.append(None)
            continue
        if achieved == 0:  # the least staffing with a steady state already explains it
            target = 1e-12
        else:
            target = achieved
        values.append(
            required_agents(contacts, interval_minutes * 60, aht_s, answer_within_s, target).agents
        )
    return pd.Series(
        pd.array(values, dtype="Int64"), index=intervals.index, name="effective_agents"
    )
