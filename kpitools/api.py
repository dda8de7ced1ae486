"""The Python API notebooks and reviews use: KPI values, trends and comparisons.

>>> import kpitools
>>> data = kpitools.load("data/demo")                                   # doctest: +SKIP
>>> kpitools.kpis(data, period="2026-W10", by="queue")                  # doctest: +SKIP
>>> kpitools.trend(data, "fcr", grain="week", periods=13, end="2026-W10")  # doctest: +SKIP
>>> kpitools.compare(data, "2026-W10", against="previous")              # doctest: +SKIP

Every function returns a tidy pandas DataFrame, one row per period, group and KPI, with the
machine values (fractions, seconds, raw scores); format them with :mod:`kpitools.formatting`.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from .engine import check_by, compute_measures, sources_for
from .errors import ConfigError, PeriodError, quote
from .formulas import kpi_frame
from .loading import wait_kpis
from .periods import GRAINS, Period
from .stats import (
    diff_proportions,
    diff_welch,
    mean_interval,
    mean_se,
    nps_interval,
    nps_se,
    significant,
    wilson,
)
from .targets import rag_status

COLUMNS = ["period", "kpi", "label", "value", "unit", "variant", "numerator", "denominator", "n",
           "target", "status", "ci_low", "ci_high", "small_sample", "partial", "reason"]


def _period(p) -> Period:
    return p if isinstance(p, Period) else Period.parse(p)


def _check_variant(data, variant):
    if variant is None:
        return
    names = {v for k in data.registry.kpis.values() for v in k.variants}
    if variant not in names:
        raise ConfigError(f"unknown variant {quote(variant)}; choose one of {', '.join(sorted(names))}")


def _enrich(data, frame: pd.DataFrame, measures: pd.DataFrame, by: tuple[str, ...],
            periods: list[Period]) -> pd.DataFrame:
    """Add label, unit, target, RAG status, sample size, intervals and partial flags."""
    reg = data.registry
    first, last = data.coverage
    gaps = data.gaps
    partial = {p.label: not p.is_covered_by(first, last, gaps) for p in periods}
    # The repeat rule looks up to repeat_window_h past each contact: near the end of the data
    # that look-ahead is cut short and the rate reads low. Say so instead of hiding it.
    window = dt.timedelta(hours=float(data.params.get("repeat_window_h", 168)))
    short_window = {p.label for p in periods
                    if last is not None and p.start <= last and dt.datetime.combine(p.end, dt.time.max) + window
                    > dt.datetime.combine(last, dt.time.max)}
    # One dict lookup per row: a .loc per row on a frame of thousands of groups was the
    # slowest step of a review by queue (and grew with groups times rows).
    keyed = None
    if len(measures):
        key_cols = ["period", *by]
        keyed = {}
        for m in measures.to_dict("records"):
            keyed.setdefault(_group_key(m, key_cols), m)
    # Periods holding contacts with a negative wait: wait-based KPIs there get no status.
    bad_days = getattr(data, "distrusted_days", frozenset())
    distrusted = {p.label for p in periods if any(p.start <= d <= p.end for d in bad_days)}
    wait_based = set(wait_kpis(reg)) if distrusted else set()
    rows = []
    for rec in frame.to_dict("records"):
        kpi = reg[rec["kpi"]]
        group = {d: rec[d] for d in by}
        th = data.targets.for_row(kpi, group)
        value = rec["value"]
        value = None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
        m = keyed.get(_group_key(rec, ["period", *by])) if keyed is not None else None  # its measures
        n = None if kpi.is_count or rec["denominator"] != rec["denominator"] else rec["denominator"]
        sample = kpi.formula(rec.get("variant") or None).sample
        if sample and n is not None and m is not None:  # occupancy: agent-days, not seconds
            n = m[sample]
        small = bool(kpi.min_sample and (n or 0) < kpi.min_sample)
        # A value that leaves out an absent input (AHT without ACW) is not judged on target.
        input_note = rec.get("input_note")
        input_note = input_note if isinstance(input_note, str) and input_note else None
        ci, se = (None, None), None
        if value is not None and m is not None:
            if kpi.ci == "wilson":
                ci = wilson(rec["numerator"], rec["denominator"])
            elif kpi.ci == "nps":
                ci = nps_interval(m["nps_promoters"], m["nps_detractors"], m["nps_responses"])
                se = nps_se(m["nps_promoters"], m["nps_detractors"], m["nps_responses"])
            elif kpi.ci == "mean":
                f = kpi.formula()
                total = sum(c * m[k] for k, c in f.numerator.items())
                ci = mean_interval(total, m[kpi.ci_squares], rec["denominator"])
                se = mean_se(total, m[kpi.ci_squares], rec["denominator"])
        rows.append({
            **rec,
            "value": value,
            "label": kpi.label,
            "unit": kpi.unit,
            "n": None if n is None else int(round(n)),
            "target": th.target,
            "warning": th.warning,
            "critical": th.critical,
            "direction": kpi.direction,
            "status": None if small or input_note
            or (kpi.id in wait_based and rec["period"] in distrusted)
            else rag_status(kpi.direction, value, th),
            "ci_low": ci[0],
            "ci_high": ci[1],
            "se": se,
            "small_sample": small,
            "partial": partial.get(rec["period"], False),
            "currency": data.params.get("currency_symbol") if kpi.unit == "currency" else None,
            "note": "; ".join(filter(None, [
                input_note,
                _note(kpi.id, rec["period"], short_window, window, last, wait_based, distrusted),
            ])) or None,
        })
    cols = ["period", *by, *[c for c in COLUMNS if c != "period"], "note", "warning", "critical",
            "direction", "currency", "se"]
    out = pd.DataFrame(rows, columns=cols)  # input_note is folded into note
    out = out.astype({"value": "float64", "numerator": "float64", "denominator": "float64"})
    # Missing text stays None (pandas 3 would otherwise infer a string dtype with NaN).
    for col in ("status", "reason", "variant", "note", "currency"):
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def _group_key(rec: dict, cols: list[str]) -> tuple:
    """A hashable group key; every missing value (None, NaN, NA) is the same None, since NaN
    never equals itself and would miss its own dict entry."""
    return tuple(None if pd.isna(rec[c]) else rec[c] for c in cols)


def _note(kpi_id, period, short_window, window, last, wait_based, distrusted) -> str | None:
    if kpi_id == "repeat_contact_rate" and period in short_window:
        return (f"the {window.total_seconds() / 3600:g} h repeat window runs past the last day "
                f"of data ({last}): understated")
    if kpi_id in wait_based and period in distrusted:
        return "not trusted: some contacts in this period were answered or abandoned before " \
               "they arrived (negative wait); no status"
    return None


def kpis_for_periods(data, periods: list[Period], by=None, variant: str | None = None,
                     kpis: list[str] | None = None, backend=None) -> pd.DataFrame:
    """KPI values for several periods of one grain in a single pass over the data."""
    by = check_by(by, data)
    _check_variant(data, variant)
    grains = {p.grain for p in periods}
    if len(grains) != 1:
        raise PeriodError(f"periods must share one grain, got {sorted(grains)}")
    measures = compute_measures(data, periods, by, backend=backend,
                                sources=sources_for(data.registry, kpis, by))
    return kpi_table(data, measures.frame, periods, by, kpis, variant, measures.unavailable,
                     measures.notes)


def kpi_table(data, measures: pd.DataFrame, periods: list, by=(), kpis: list[str] | None = None,
              variant: str | None = None, unavailable=(), notes=None) -> pd.DataFrame:
    """The KPI table (the columns of :func:`kpis`) from a frame of summed measures.

    For callers that sum measures their own way (explore's date windows): one row of
    ``measures`` per period label and group, ``periods`` the matching :class:`Period` objects
    (or any objects with ``label``, ``start``, ``end`` and ``is_covered_by``). ``unavailable``
    and ``notes`` are :class:`kpitools.engine.Measures`' (missing inputs).
    """
    _check_variant(data, variant)
    selected = data.registry.select(kpis)
    frame = kpi_frame(measures, selected, data.registry, unavailable, ["period", *by], variant,
                      notes)
    return _enrich(data, frame, measures, tuple(by), periods)


def kpis(data, period, by=None, variant: str | None = None, kpis: list[str] | None = None,
         backend=None) -> pd.DataFrame:
    """KPI values for one period.

    Parameters
    ----------
    data : a Dataset from :func:`kpitools.load`
    period : a label (``2026-W10``, ``2026-03``, ``2026-Q1``, ``2026-03-02``) or Period
    by : dimension(s) to group by: queue, channel, agent_id, team, issue_type, weekday,
        hour, interval, or any extra column of interactions (a list or a comma-separated
        string); see :func:`kpitools.engine.dimensions`
    variant : a KPI variant, e.g. service level exclude_short, negative, ignore, ignore_within,
        positive or abandonment include_short (default: the configuration's preset)
    kpis : KPI ids to compute (default: the whole catalogue)

    Returns
    -------
    DataFrame with columns period, <by…>, kpi, label, value, unit, variant, numerator,
    denominator, n, target, status, ci_low, ci_high, small_sample, partial, reason.

    Examples
    --------
    >>> kpis(data, "2026-W10", by="channel", kpis=["service_level"])   # doctest: +SKIP
    """
    return kpis_for_periods(data, [_period(period)], by, variant, kpis, backend)


def trend(data, kpi: str | list[str] | None = None, grain: str = "week", periods: int = 13,
          end=None, by=None, variant: str | None = None, backend=None) -> pd.DataFrame:
    """KPI values for the ``periods`` periods of ``grain`` ending with ``end``.

    ``end`` defaults to the latest complete period in the data.

    >>> trend(data, "aht", grain="month", periods=12)                  # doctest: +SKIP
    """
    if grain not in GRAINS:
        raise PeriodError(f"unknown grain {grain!r}; use one of {', '.join(GRAINS)}")
    if end is None:
        from .periods import latest_complete

        first, last = data.coverage
        if first is None:
            raise PeriodError(f"{data.path}: no contacts in the data, so no trend")
        end = latest_complete(first, last, grain, data.gaps)
    end = _period(end)
    if end.grain != grain:
        end = Period.containing(end.end, grain)
    ids = [kpi] if isinstance(kpi, str) else kpi
    return kpis_for_periods(data, end.history(periods), by, variant, ids, backend)


# The columns a comparison adds to a KPI table, declared once: kpitools.compare, the reviews,
# explore and the guardrail all build them with compare_tables.
COMPARE_COLUMNS = ["compare_period", "compare_value", "compare_numerator", "compare_denominator",
                   "compare_n", "compare_ci_low", "compare_ci_high", "compare_se",
                   "compare_partial", "compare_small_sample", "change", "change_low",
                   "change_high", "significant", "change_note"]
_COMPARED = ["value", "numerator", "denominator", "n", "ci_low", "ci_high", "se", "partial",
             "small_sample"]


def _missing(x) -> bool:
    return x is None or x != x


def change_interval(row: dict) -> tuple[float | None, float | None]:
    """95 % interval of ``row["change"]`` (a row of :data:`COMPARE_COLUMNS`).

    Proportions with a Wilson interval: Newcombe's hybrid score interval of the difference
    from the numerators and denominators. Means and NPS (rows with a standard error ``se``):
    Welch, from each side's standard error and n. Counts, costs and band ratios of seconds
    (occupancy) carry no sampling variance here: (None, None).
    """
    if _missing(row.get("change")):
        return (None, None)
    if row.get("unit") == "fraction" and not _missing(row.get("ci_low")):
        parts = [row.get(k) for k in ("numerator", "denominator", "compare_numerator",
                                      "compare_denominator")]
        if any(_missing(x) for x in parts):
            return (None, None)
        return diff_proportions(*(float(x) for x in parts))
    parts = [row.get(k) for k in ("value", "se", "n", "compare_value", "compare_se", "compare_n")]
    if any(_missing(x) for x in parts):
        return (None, None)
    return diff_welch(*(float(x) for x in parts))


def compare_tables(now: pd.DataFrame, then: pd.DataFrame, by=(), other: Period | None = None,
                   coverage=None, gaps=()) -> pd.DataFrame:
    """Rows of ``now`` with the matching rows of ``then`` (same KPIs and groups) alongside.

    Adds :data:`COMPARE_COLUMNS`. ``change`` is null (with ``change_note``) when the
    comparison is not like for like: either side is partial or a value is null.
    ``change_low``/``change_high`` bound it at 95 % (:func:`change_interval`) and
    ``significant`` says whether that interval excludes 0 (null when it cannot be computed).
    ``other`` and ``coverage`` (first, last day of the data), when given, decide whether a
    group missing from ``then`` is partial and whether ``other`` lies outside the data;
    ``gaps`` (days without contacts inside the data) make ``other`` partial too.
    """
    keys = [*by, "kpi"]
    kept = [c for c in _COMPARED if c in then.columns]
    label = other.label if other is not None else (then["period"].iloc[0] if len(then) else None)
    side = then[[*keys, *kept]].rename(columns={c: f"compare_{c}" for c in kept})
    out = now.merge(side, on=keys, how="left")
    for c in _COMPARED:
        if f"compare_{c}" not in out:
            out[f"compare_{c}"] = None
    first, last = coverage if coverage is not None else (None, None)
    covered = other is None or coverage is None or other.is_covered_by(first, last, gaps)
    outside = other is not None and coverage is not None and (
        first is None or other.end < first or other.start > last)
    out["compare_period"] = label
    out["compare_partial"] = out["compare_partial"].astype("boolean").fillna(not covered).astype(bool)
    change = out["value"].astype("float64") - out["compare_value"].astype("float64")
    like_for_like = ~out["partial"].astype(bool) & ~out["compare_partial"]
    out["change"] = change.where(like_for_like & change.notna())
    bounds = [change_interval(r) for r in out.to_dict("records")]
    out["change_low"] = pd.Series([b[0] for b in bounds], index=out.index, dtype="float64")
    out["change_high"] = pd.Series([b[1] for b in bounds], index=out.index, dtype="float64")
    out["significant"] = pd.Series([significant(*b) for b in bounds], index=out.index,
                                   dtype=object)
    now_label = now["period"].iloc[0] if len(now) else ""
    notes = np.select(
        [out["partial"].astype(bool), pd.Series(outside, index=out.index),
         out["compare_partial"], out["compare_value"].isna() & out["value"].isna(),
         out["compare_value"].isna(), out["value"].isna()],
        [f"{now_label} is partial", f"no data for {label}", f"{label} is partial",
         "no value in either period", f"no value for {label}", f"no value for {now_label}"],
        default=None,
    )
    out["change_note"] = pd.Series(notes, index=out.index, dtype=object).where(
        out["change"].isna(), None)
    return out


def compare(data, period, against: str = "previous", by=None, variant: str | None = None,
            kpis: list[str] | None = None, backend=None) -> pd.DataFrame:
    """This period's KPIs next to a comparison period, with the change and its interval.

    ``against`` is ``previous`` or ``last_year``. Returns the columns of :func:`kpis` plus
    :data:`COMPARE_COLUMNS` (see :func:`compare_tables`): ``change`` is null (with
    ``change_note``) when either period is partial or a value is null; ``change_low`` and
    ``change_high`` are its 95 % interval and ``significant`` whether that excludes 0.
    NPS changes are in points; other changes are in the KPI's unit.
    """
    p = _period(period)
    other = {"previous": p.previous, "last_year": p.same_last_year}.get(against)
    if other is None:
        raise ConfigError(f"against must be 'previous' or 'last_year', not {against!r}")
    q = other()
    by = check_by(by, data)
    # kpis_for_periods, not kpis(): the `kpis` argument shadows that function here.
    now = kpis_for_periods(data, [p], by, variant, kpis, backend)
    then = kpis_for_periods(data, [q], by, variant, kpis, backend)
    return compare_tables(now, then, by, other=q, coverage=data.coverage, gaps=data.gaps)


ENGINES = ("duckdb", "spark")


def load(path, *, engine: str | None = None, timezone: str | None = None, targets=None,
         params: dict | None = None, spark=None, spark_master: str | None = None, config=None,
         **options):
    """Load a data folder with the chosen engine; every other function here works on either.

    Parameters
    ----------
    path : folder with ``interactions.{csv,parquet}`` and optional other tables
    engine : ``duckdb`` (default, embedded) or ``spark`` (default ``spark`` when ``spark`` or
        ``spark_master`` is given)
    spark : an existing SparkSession to run in (e.g. a cluster's); implies ``engine="spark"``
    spark_master : master URL for a Spark session kpitools starts (``local[2]``,
        ``spark://host:7077``, ``yarn``); default ``$KPITOOLS_SPARK_MASTER`` or ``local[*]``
    timezone, targets, params : as in :func:`kpitools.loading.load` (business time zone,
        targets YAML, parameter overrides); they win over the configuration
    config : the center configuration (docs/configuration.md): a ``kpitools.yaml`` path, a
        :class:`~kpitools.config.CenterConfig` or a mapping; default ``<path>/kpitools.yaml``
        when present. The dataset keeps it as ``data.config``; ``data.params`` reflect it.
    options : ``check_unique``, ``registry``, ``materialize`` for both engines;
        ``warehouse`` and ``checked`` (stamps of files already checked) for DuckDB only

    Both engines run the same SQL text from the same registry (docs/engines.md) and give
    the same KPI values.

    >>> data = load("data/demo")                                           # doctest: +SKIP
    >>> data = load("data/demo", engine="spark", spark_master="local[2]")  # doctest: +SKIP
    """
    if engine is None:
        engine = "spark" if (spark is not None or spark_master) else "duckdb"
    options.update(timezone=timezone, targets=targets, params=params, config=config)
    if engine == "duckdb":
        if spark is not None or spark_master:
            raise ConfigError("spark= and spark_master= need engine='spark'")
        from .loading import load as load_duckdb

        return load_duckdb(path, **options)
    if engine == "spark":
        if options.get("warehouse"):
            raise ConfigError("warehouse= is a DuckDB file; the Spark engine keeps no warehouse")
        options.pop("warehouse", None)
        options.pop("checked", None)  # Spark checks every file it reads
        from .spark import load_spark

        return load_spark(path, spark=spark, spark_master=spark_master, **options)
    raise ConfigError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
