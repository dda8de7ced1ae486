"""KPIs from measures: ``scale * sum(numerator terms) / sum(denominator terms)``.

Pure functions over a measures frame (one row per period and group). Nothing here knows
about SQL or files, so the same code forms KPIs from any engine's measures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .registry import Formula, Kpi, Registry, merge_reasons


def combine(frame: pd.DataFrame, terms: dict[str, float]) -> pd.Series:
    """Sum of ``coefficient * measure`` over the terms (NaN when a measure is unavailable)."""
    total = pd.Series(0.0, index=frame.index)
    for measure, coef in terms.items():
        total = total + coef * frame[measure].astype(float)
    return total


def describe_terms(registry: Registry, terms: dict[str, float]) -> str:
    parts = []
    for k, (measure, coef) in enumerate(terms.items()):
        sign = "" if k == 0 and coef > 0 else (" − " if coef < 0 else " + ")
        mag = "" if abs(coef) == 1 else f"{abs(coef):g} × "
        parts.append(f"{sign}{mag}{registry.measures[measure].description}")
    return "".join(parts).strip()


def _measure_notes(formula: Formula, notes: dict[str, str]) -> list[str]:
    return sorted({notes[m] for m in formula.measures if m in notes})


def kpi_columns(frame: pd.DataFrame, kpi: Kpi, formula: Formula, registry: Registry,
                unavailable: dict[str, str], notes: dict[str, str] | None = None) -> pd.DataFrame:
    """value, numerator, denominator, reason and input_note columns for one KPI over every row.

    ``unavailable`` and ``notes`` map measure names to why the measure is missing or what it
    leaves out (:class:`kpitools.engine.Measures`); a KPI using an unavailable measure is null
    with that reason, one using an incomplete measure carries the note in ``input_note``.
    """
    missing = [unavailable[m] for m in formula.measures if m in unavailable]
    num = combine(frame, formula.numerator)
    out = pd.DataFrame(index=frame.index)
    if formula.statistic:  # a percentile / maximum of the group's own rows, n = its sample
        den = combine(frame, formula.denominator)
        ok = den > 0
        out["numerator"] = num
        out["denominator"] = den
        out["value"] = (formula.scale * num).where(ok)
        out["reason"] = np.where(
            ok, None,
            f"no {registry.measures[next(iter(formula.denominator))].description} in scope",
        )
    elif formula.denominator is None:
        out["numerator"] = num
        out["denominator"] = np.nan
        out["value"] = num * formula.scale
        out["reason"] = None
    else:
        den = combine(frame, formula.denominator)
        out["numerator"] = num
        out["denominator"] = den
        ok = den > 0
        out["value"] = (formula.scale * num / den.where(ok)).where(ok)
        out["reason"] = np.where(
            ok, None,
            f"no {registry.measures[next(iter(formula.denominator))].description} in scope "
            "(denominator is 0)",
        )
    if missing:
        out["value"] = np.nan
        out["reason"] = merge_reasons(missing)
    out["reason"] = out["reason"].astype(object).where(out["value"].isna(), None)
    note = "; ".join(_measure_notes(formula, notes or {})) or None
    out["input_note"] = pd.Series(note, index=out.index, dtype=object).where(out["value"].notna(), None)
    return out


def kpi_frame(measures: pd.DataFrame, kpis: list[Kpi], registry: Registry,
              unavailable: dict[str, str], keys: list[str], variant: str | None = None,
              notes: dict[str, str] | None = None) -> pd.DataFrame:
    """Tidy frame: keys…, kpi, variant, value, numerator, denominator, reason, input_note."""
    parts = []
    for kpi in kpis:
        chosen = variant if (variant and variant in kpi.formulas) else kpi.variant
        cols = kpi_columns(measures, kpi, kpi.formula(chosen), registry, unavailable, notes)
        part = measures[keys].copy()
        part["kpi"] = kpi.id
        part["variant"] = chosen if kpi.variants else None
        part = pd.concat([part, cols], axis=1)
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=[*keys, "kpi", "variant", "value", "numerator", "denominator",
                                     "reason", "input_note"])
    return pd.concat(parts, ignore_index=True)
