"""The data-quality summary from the validation gate's JSON (never GX Data Docs).

The gate (:mod:`kpitools.validation`) writes ``validation.json`` with a list of results, each
with table, column, expectation, description, severity, success, unexpected_count,
element_count and examples. This module only reads that dictionary.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from ..validation import TRAILING_WEEKS


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


def counted(n: int, word: str) -> str:
    """'1 warning', '3 warnings' (``word`` takes a plain s)."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


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
        return ("fail", f"Data quality: FAILED — {counted(len(crit), 'critical check')} failed ({base}).")
    if warn:  # which rows and how far off: failure_lines, listed under this sentence
        return ("warn", f"Data quality: passed with {counted(len(warn), 'warning')} ({base}).")
    return ("pass", f"Data quality: passed — {base}, none failed.")


# -- failed checks in words (page one) --------------------------------------------------------
def _day(text: str) -> tuple[str, str] | None:
    """('Tue 15 Sep 2026', 'Tuesday') for an ISO date example, else None."""
    try:
        d = dt.date.fromisoformat(str(text)[:10])
    except ValueError:
        return None
    return f"{d:%a} {d.day} {d:%b %Y}", f"{d:%A}"


def _number(text) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _volume(day: str, weekday: str, ratio: float | None) -> str:
    if ratio is None:
        return f"{day}: volume outside the usual range for a {weekday}"
    side = "busiest" if ratio > 1 else "quietest"
    return (f"{day}: volume {ratio:.0%} of the {side} {weekday} in the "
            f"{TRAILING_WEEKS} weeks before").replace("%", " %")


def _empty_day(day: str, weekday: str, _ratio) -> str:
    return f"{day}: no contacts, though {weekday}s in the {TRAILING_WEEKS} weeks before had some"


def _response_rate(week: str, _weekday, ratio: float | None) -> str:
    size = "" if ratio is None else f" {ratio:.0%}".replace("%", " %") + " of"
    return f"{week}: survey response rate{size} its median over the {TRAILING_WEEKS} weeks before"


# Checks whose examples are days (or weeks) with a size: one sentence per example.
_PER_EXAMPLE = {
    "volume_within_trailing_range": _volume,
    "no_empty_days": _empty_day,
    "survey_response_rate_stable": _response_rate,
}


def failure_lines(ctx, limit: int = 4) -> tuple[list[str], int]:
    """Failed checks in words, critical first: a day and a size where the check has them
    ("Tue 15 Sep 2026: volume 151 % of the busiest Tuesday in the 8 weeks before"), otherwise
    what failed, how many rows and a few examples. Returns (lines, how many were left out)."""
    crit, warn = problems(ctx)
    lines = []
    for r in [*crit, *warn]:
        words = _PER_EXAMPLE.get(str(r.get("check")))
        examples = [str(e) for e in r.get("examples") or []]
        values = list(r.get("example_values") or [])
        if words and examples:
            for k, ex in enumerate(examples):
                day = _day(ex) or (ex, "")
                lines.append(words(day[0], day[1], _number(values[k] if k < len(values) else None)))
            continue
        what = str(r.get("description") or r.get("check") or "a check")
        column = str(r.get("column") or "").split("__")[0]  # agent_id__not_in_roster: agent_id
        where = f"{r.get('table')}.{column}" if column else str(r.get("table") or "data")
        n, total = r.get("unexpected_count"), r.get("element_count")
        size = (f"{int(n):,} of {int(total):,} {'row' if total == 1 else 'rows'} break"
                if isinstance(n, (int, float)) and isinstance(total, (int, float)) and total
                else "failed")
        shown = ", ".join(examples[:3])
        lines.append(f"{where}: {size} “{what}”" + (f", e.g. {shown}" if shown else ""))
    return lines[:limit], max(0, len(lines) - limit)
