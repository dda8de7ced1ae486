"""Steps an analyst repeats when investigating, for the notebooks in ``notebooks/``.

Nothing here defines a KPI. Every number comes from the engine and the registry
(:func:`kpitools.engine.compute_measures`, :mod:`kpitools.formulas`, kpitools/catalogue.yaml);
this module only pools, compares and lays them out:

* :func:`project_root`, :func:`ensure_demo_data` and :func:`data_folder` find (or create) the
  data folder; :func:`available_periods` says how many complete periods it holds;
* :func:`catalogue` lists the registry, :func:`pretty` formats a KPI frame by unit;
* :func:`window_kpis` gives KPIs for any date range (measures summed over its days, then the
  catalogue's ratios), :func:`compare_windows` and :func:`compare_periods` put two of them
  side by side with confidence intervals, whether they overlap and whether the move is
  significant;
* :func:`aht_fcr_divergence` and :func:`divergence_stretches` find the weeks where handle
  time improved while resolution or satisfaction got worse (the trap of seed 003);
  :func:`divergence_episode` picks the strongest of them and :func:`episode_windows` the
  windows before, during and after it; :func:`largest_move` finds the period where a KPI
  moved most against the one before;
* :func:`staffing_scenarios`, :func:`agents_table` and :func:`effective_agents` wrap the
  Erlang C model of :mod:`kpitools.staffing` for what-if questions;
* :func:`format_axis` and :func:`format_cells` label charts by unit with
  :mod:`kpitools.formatting`, as the reviews do.

The sentences a notebook states as findings are built from these results by
:mod:`kpitools.findings`.

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
from .formatting import fmt_change, fmt_target, fmt_tick, fmt_value, tick_formatter
from .periods import Period, latest_complete, periods_between

__all__ = [
    "project_root",
    "ensure_demo_data",
    "data_folder",
    "available_periods",
    "latest_periods",
    "weeks_before",
    "catalogue",
    "pretty",
    "window_kpis",
    "compare_frames",
    "compare_windows",
    "compare_periods",
    "aht_fcr_divergence",
    "divergence_stretches",
    "Episode",
    "divergence_episode",
    "episode_windows",
    "largest_move",
    "staffing_scenarios",
    "agents_table",
    "effective_agents",
    "format_axis",
    "format_cells",
]

DEMO_FOLDER = Path("data") / "demo"
DATA_ENV = "KPITOOLS_DATA"


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


def data_folder(data_dir: str | os.PathLike | None = None) -> Path:
    """The data folder a notebook investigates.

    ``data_dir`` (the notebooks' papermill parameter) wins; a relative path is taken from
    the repository root, as the README writes paths. Without it, ``$KPITOOLS_DATA``, else
    ``<repo>/data/demo``; those two are generated with :func:`ensure_demo_data` when they
    hold no data yet. A folder passed as ``data_dir`` is never generated into: a mistyped
    path should fail when it is loaded, not fill up with demo data.
    """
    if data_dir is not None:
        return project_root() / Path(data_dir)
    default = os.environ.get(DATA_ENV) or project_root() / DEMO_FOLDER
    return ensure_demo_data(project_root() / Path(default))


def available_periods(data, grain: str = "week", at_most: int = 13) -> int:
    """How many complete periods of ``grain`` the data holds, up to ``at_most``: the length
    of a trend that shows no empty periods before the data starts.

    Raises :class:`~kpitools.errors.PeriodError` when the data covers no complete period.
    """
    first, last = data.coverage
    if first is None:
        raise PeriodError(f"{data.path}: no contacts in the data")
    end = latest_complete(first, last, grain)
    count = 0
    for period in end.history(at_most):
        if period.is_covered_by(first, last):
            count += 1
    return max(count, 1)


def latest_periods(data, grains: Sequence[str] = ("week", "month", "quarter")) -> list[Period]:
    """The latest complete period of each grain the data covers, leaving out the grains it
    covers no complete period of (a 30-day data set has no complete quarter)."""
    first, last = data.coverage
    out = []
    for grain in grains:
        try:
            out.append(latest_complete(first, last, grain))
        except PeriodError:
            continue
    return out


def weeks_before(data, period, weeks: int = 4) -> tuple[dt.date, dt.date]:
    """The window (first day, last day) of up to ``weeks`` complete weeks just before
    ``period``: a pooled baseline that never reaches back past the start of the data.

    Raises :class:`~kpitools.errors.PeriodError` when no complete week comes before it.
    """
    first_day, last_day = data.coverage
    p = period if isinstance(period, Period) else Period.parse(period)
    start = Period.containing(p.start, "week")
    covered = [w for w in start.history(weeks + 1)[:-1] if w.is_covered_by(first_day, last_day)]
    if not covered:
        raise PeriodError(f"{data.path}: no complete week in the data before {p.label}")
    return covered[0].start, covered[-1].end


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
    from .api import kpi_table
    from .engine import check_by, compute_measures

    win = _window(window, "window")
    by = check_by(by, data)
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
    statistics = [m for m in columns if not data.registry.measures[m].additive]
    if statistics and any(k.is_statistic for k in selected):
        # Percentiles and maxima of days cannot be pooled: compute them over the window's rows
        # in one bucket (a span the calendar maps to a single label).
        span = Period(win.start, win.end, "day")
        whole = compute_measures(data, [span], by).frame
        pooled = pooled.drop(columns=statistics)
        if by:
            pooled = pooled.merge(whole[[*by, *statistics]], on=list(by), how="left")
        else:
            pooled[statistics] = whole[statistics].to_numpy()
    else:
        pooled[statistics] = np.nan
    for name in measures.unavailable:  # keep "unavailable" as NaN, never as 0
        pooled[name] = np.nan
    return kpi_table(data, pooled, [win], by, kpis, variant, measures.unavailable,
                     measures.notes)


def compare_frames(current: pd.DataFrame, earlier: pd.DataFrame, by=()) -> pd.DataFrame:
    """Put two KPI frames (same KPIs and groups, two periods) side by side.

    :func:`kpitools.api.compare_tables` (the one comparison every part of kpitools uses:
    ``change``, its 95 % interval ``change_low``/``change_high`` and ``significant``) plus
    ``intervals_overlap``: whether the two periods' own 95 % intervals overlap (null without
    both). Overlapping intervals do not make a change insignificant; ``significant`` decides.
    """
    from .api import compare_tables
    from .engine import check_by

    out = compare_tables(current, earlier,
                         check_by(by, extra=[c for c in current.columns if c in earlier.columns]))
    bounds = out[["ci_low", "ci_high", "compare_ci_low", "compare_ci_high"]].astype("float64")
    known = bounds.notna().all(axis=1)
    apart = (bounds["ci_high"] < bounds["compare_ci_low"]) | (
        bounds["compare_ci_high"] < bounds["ci_low"]
    )
    out["intervals_overlap"] = pd.array(
        [None if not k else not a for k, a in zip(known, apart, strict=True)], dtype="boolean"
    )
    return out


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
    from .api import change_interval
    from .registry import registry as default_registry
    from .review.changes import is_better, is_material
    from .review.guardrail import EFFICIENCY_KPI, EXPERIENCE_KPIS
    from .stats import significant

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
                        # the one significance rule (Newcombe for rates; means have no
                        # pooled standard error here, so materiality decides for them)
                        moved[kpi]["significant"] = significant(*change_interval(moved[kpi]))
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


@dataclass(frozen=True)
class Episode:
    """The strongest AHT-trap episode: the groups it touched and the weeks they share.

    ``first_period``..``last_period`` (``start``..``end`` as days, inclusive) are the weeks
    flagged on every group in ``groups``; ``stretches`` keeps each group's own run.
    """

    groups: tuple[str, ...]
    first_period: str
    last_period: str
    start: dt.date
    end: dt.date
    periods: int
    stretches: pd.DataFrame


def divergence_episode(stretches: pd.DataFrame, by: str | None = "queue") -> Episode | None:
    """The detector's strongest window: the longest stretch of
    :func:`divergence_stretches` (the earliest on a tie), joined by the other groups' stretches
    that share at least half of its weeks; the window is the weeks all of them share.

    A stretch joins only while the shared window keeps at least half the longest stretch's
    weeks, so one group flagged for a fortnight cannot shrink a two-month episode to two
    weeks. None when there is no stretch.
    """
    if stretches.empty:
        return None
    ordered = stretches.sort_values(["periods", "start"], ascending=[False, True])
    anchor = ordered.iloc[0]
    need = math.ceil(anchor["periods"] / 2)
    start, end = anchor["start"], anchor["end"]
    members = [anchor]
    for _, other in ordered.iloc[1:].iterrows():
        if by is None or other[by] in {m[by] for m in members}:
            continue
        lo, hi = max(start, other["start"]), min(end, other["end"])
        if lo <= hi and ((hi - lo).days + 1) // 7 >= need:
            start, end = lo, hi
            members.append(other)
    first, last = Period.containing(start, "week"), Period.containing(end, "week")
    groups = tuple(sorted(str(m[by]) for m in members)) if by is not None else ()
    return Episode(
        groups=groups,
        first_period=first.label,
        last_period=last.label,
        start=first.start,
        end=last.end,
        periods=len(periods_between(first.start, last.end, "week")),
        stretches=pd.DataFrame(members).reset_index(drop=True),
    )


@dataclass(frozen=True)
class EpisodeWindows:
    """Windows (first day, last day) around an episode, or around the latest weeks when the
    detector found none; ``after`` is None when the episode runs to the last complete week."""

    before: tuple[dt.date, dt.date]
    during: tuple[dt.date, dt.date]
    after: tuple[dt.date, dt.date] | None
    found: bool


def episode_windows(data, episode: Episode | None, weeks: int = 8) -> EpisodeWindows:
    """The weeks to compare around ``episode``: up to ``weeks`` complete weeks before it, the
    episode itself, and the complete weeks after it.

    Without an episode, ``during`` is the latest ``weeks`` complete weeks (at most half of the
    complete weeks the data holds) and ``before`` up to ``weeks`` weeks before them, so a
    notebook can still show what normal looks like. Short data gets shorter windows (at least
    one week each); data under two complete weeks is an error.
    """
    first_day, last_day = data.coverage
    last_week = latest_complete(first_day, last_day, "week")
    covered = available_periods(data, "week", at_most=10_000)
    if episode is not None:
        during_first = Period.containing(episode.start, "week")
        during_last = Period.containing(episode.end, "week")
    else:
        if covered < 2:
            raise PeriodError(
                f"{data.path}: the data covers {covered} complete week; need two to compare"
            )
        span = min(weeks, covered // 2)
        during_last, during_first = last_week, last_week.shift(-(span - 1))
    before = weeks_before(data, during_first, weeks)
    after = None
    if during_last.start < last_week.start:
        after = (during_last.shift(1).start, last_week.end)
    return EpisodeWindows(
        before=before,
        during=(during_first.start, during_last.end),
        after=after,
        found=episode is not None,
    )


def largest_move(trend: pd.DataFrame, kpi: str) -> pd.Series | None:
    """The period where ``kpi`` moved most against the period before it, in a trend frame.

    Only consecutive complete periods with a value (and, for surveys, enough responses)
    count. Returns that period's row with ``compare_period``, ``compare_value`` and
    ``change`` added, or None when no two such periods follow each other.
    """
    rows = trend[(trend["kpi"] == kpi) & trend["value"].notna()]
    rows = rows[~rows["partial"].astype(bool) & ~rows["small_sample"].astype(bool)]
    rows = rows.assign(_start=[_period_start(p) for p in rows["period"]]).sort_values("_start")
    best = None
    previous = None
    for row in rows.to_dict("records"):
        if previous is not None and Period.parse(previous["period"]).shift(1).label == row["period"]:
            change = row["value"] - previous["value"]
            if best is None or abs(change) > abs(best["change"]):
                best = {
                    **row,
                    "compare_period": previous["period"],
                    "compare_value": previous["value"],
                    "change": change,
                }
        previous = row
    if best is None:
        return None
    best.pop("_start")
    return pd.Series(best)


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


# --------------------------------------------------------------------------------------
# Charts labelled like the reviews (kpitools.formatting)


def format_axis(ax, unit: str, axis: str = "y", change: bool = False, span=None) -> None:
    """Label an axis's ticks by unit with :func:`kpitools.formatting.fmt_tick`: percent,
    mm:ss, NPS points; ``change=True`` for an axis of changes (``+5 pts``, ``−0:20``).

    The span of the axis (for one decimal on narrow percent axes) is read from its limits
    unless given.
    """
    target = ax.yaxis if axis == "y" else ax.xaxis
    if span is None:
        lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()
        span = abs(hi - lo)
    if unit == "seconds" and span > 0:
        from matplotlib.ticker import MultipleLocator

        # Ticks on whole clock steps (0:30, 1:00, 5:00), not matplotlib's 50 s or 200 s.
        step = next((s for s in _CLOCK_STEPS if span / s <= 8), _CLOCK_STEPS[-1])
        target.set_major_locator(MultipleLocator(step))
    if unit == "fraction":
        from matplotlib.ticker import MaxNLocator

        # Ticks on whole percents (or halves on narrow axes), so "82 %" is never 82.5 %.
        target.set_major_locator(MaxNLocator(steps=[1, 2, 5, 10]))
    target.set_major_formatter(tick_formatter(unit, span, change))


_CLOCK_STEPS = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400)


def format_cells(table: pd.DataFrame, unit: str, change: bool = False) -> pd.DataFrame:
    """The cells of a table as chart labels (e.g. heat-map annotations): ``81 %``, ``5:58``,
    blank where missing.

    >>> format_cells(pd.DataFrame({"Mon": [0.812, None]}), "fraction")["Mon"].tolist()
    ['81 %', '']
    """
    return table.apply(lambda column: column.map(lambda v: fmt_tick(v, unit, change=change)))
