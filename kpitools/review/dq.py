"""The data-quality summary from the validation gate's JSON (never GX Data Docs).

The gate (:mod:`kpitools.validation`) writes ``validation.json`` with a list of results, each
with table, column, expectation, description, severity, success, unexpected_count,
element_count and examples. This module only reads that dictionary.
"""

from __future__ import annotations

from collections import Counter


def results(ctx) -> list[dict]:
    v = ctx.validation or {}
    return list(v.get("results") or [])


def problems(ctx) -> tuple[list[dict], list[dict]]:
    """(failed critical checks, failed warning checks)."""
    failed = [r for r in results(ctx) if r.get("success") is False]
    crit = [r for r in failed if (r.get("severity") or "critical") == "critical"]
    warn = [r for r in failed if (r.get("severity") or "critical") != "critical"]
    return crit, warn


def rows_checked(ctx) -> dict[str, int]:
    """Rows checked per table (from ``rows_checked`` or the largest element count per table)."""
    v = ctx.validation or {}
    rc = v.get("rows_checked")
    if isinstance(rc, dict):
        return {str(k): int(n) for k, n in rc.items() if n is not None}
    out: dict[str, int] = {}
    for r in results(ctx):
        t, n = r.get("table"), r.get("element_count")
        if t and isinstance(n, (int, float)):
            out[t] = max(out.get(t, 0), int(n))
    if isinstance(rc, (int, float)) and not out:
        out["all tables"] = int(rc)
    return out


def checks_by_table(ctx) -> Counter:
    return Counter(r.get("table") or "?" for r in results(ctx))


def skipped(ctx) -> list[dict]:
    return [r for r in results(ctx) if r.get("success") is None]


def scope_text(ctx) -> str:
    """'2026-W46, 2026-W45 and 2025-W46 (the periods this review compares)'."""
    scope = (ctx.validation or {}).get("scope")
    if not scope:
        return "every row of every table"
    if isinstance(scope, str):
        return scope
    periods = scope.get("periods") or []
    if periods:
        text = ", ".join(periods[:-1]) + (" and " if len(periods) > 1 else "") + periods[-1]
        return f"the rows of {text} (the periods this review shows or compares)"
    return ", ".join(f"{k} {v}" for k, v in scope.items())


def overrides(ctx) -> list[dict]:
    """Checks the center configuration lowered (``quality:``), with the reason and whether
    the check failed in this review's scope."""
    v = ctx.validation or {}
    failed = {(r.get("suite"), r.get("check")) for r in results(ctx) if r.get("success") is False}
    return [{**o, "failed": (o.get("suite"), o.get("check")) in failed}
            for o in v.get("quality_overrides") or []]


def config_name(ctx) -> str:
    return str((ctx.validation or {}).get("config") or "the configuration")


def verdict(ctx) -> tuple[str, str]:
    """(level, sentence): level is pass, warn, fail or unknown."""
    if ctx.validation is None or ctx.validation.get("available") is False:
        why = (ctx.validation or {}).get("reason") or "the data-quality gate did not run for this review"
        return ("unknown", f"Not validated: {why}.")
    n = len(results(ctx))
    crit, warn = problems(ctx)
    rows = sum(rows_checked(ctx).values())
    n_skipped = len(skipped(ctx))
    # "91 checks, none failed" when 53 never ran overstates the assurance: count what ran.
    ran = f"{n - n_skipped} of {n} checks ran ({n_skipped} skipped)" if n_skipped else f"{n} checks"
    base = f"{ran} on {rows:,} rows"
    if crit or ctx.validation.get("ok") is False:
        return ("fail", f"Data quality: FAILED — {len(crit)} critical check(s) failed ({base}).")
    if warn:
        what = ", ".join(sorted({f"{r.get('table')}.{r.get('column')}" if r.get("column") else str(r.get("table"))
                                 for r in warn}))
        return ("warn", f"Data quality: passed with {len(warn)} warning(s) on {what} ({base}).")
    return ("pass", f"Data quality: passed — {base}, none failed.")
