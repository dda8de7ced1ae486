"""``kpitools report weekly --from 2026-W01 --to 2026-W10``: every complete period in a range.

The data is loaded once; each period is built under its own lock (:func:`build_period`) and
skipped when its review was built from the same inputs (:mod:`kpitools.review.fingerprint`)
unless ``force``. A failed period does not stop the others; the run ends with a summary and
a non-zero exit when any failed.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import KpitoolsError, PeriodError, ValidationFailed
from ..periods import Period
from .cadence import LABEL_EXAMPLES
from .render import Progress, ReviewJob, build_period, load_data

MAX_PERIODS = 520  # ten years of weeks: a typo such as 2206-W01 should not start 9,000 builds
MAX_REASON = 300


@dataclass
class Outcome:
    """What happened to one period of the range."""

    period: str
    status: str  # built, skipped, failed
    reason: str = ""
    seconds: float = 0.0
    paths: list[Path] = field(default_factory=list)
    validation_failed: bool = False


def _label(cadence, text: str, option: str) -> Period:
    p = Period.parse(text)
    if p.grain != cadence.grain:
        raise PeriodError(f"{option}: the {cadence.name} review needs a {cadence.grain} label "
                          f"such as {LABEL_EXAMPLES[cadence.grain]}, not {text[:40]!r}")
    return p


def plan(cadence, start: str, end: str | None, coverage) -> tuple[list[Period], list[Outcome]]:
    """(complete periods to build, outcomes for the periods of the range that are not)."""
    from ..periods import latest_complete

    first_day, last_day = coverage
    if first_day is None:
        raise PeriodError("the interactions table has no contacts, so no period is complete")
    lo = _label(cadence, start, "--from")
    hi = _label(cadence, end, "--to") if end else latest_complete(first_day, last_day, cadence.grain)
    if hi.start < lo.start:
        raise PeriodError(f"--to {hi.label} is before --from {lo.label}")
    periods, p = [], lo
    while p.start <= hi.start:
        periods.append(p)
        if len(periods) > MAX_PERIODS:
            raise PeriodError(f"{lo.label} to {hi.label} is more than {MAX_PERIODS} periods; "
                              "build a shorter range")
        p = p.shift(1)
    todo, skipped = [], []
    for p in periods:
        if p.is_covered_by(first_day, last_day):
            todo.append(p)
        elif p.end < first_day or p.start > last_day:
            skipped.append(Outcome(p.label, "skipped",
                                   f"outside the data ({first_day} to {last_day})"))
        else:
            skipped.append(Outcome(p.label, "skipped",
                                   f"partial: the data covers {first_day} to {last_day}"))
    return todo, skipped


def run_batch(job: ReviewJob, start: str, end: str | None = None, force: bool = False,
              stream=None) -> list[Outcome]:
    """Build every complete period from ``start`` to ``end`` (default: the latest complete)."""
    stream = stream or sys.stderr
    name = job.cadence.name
    prog = Progress(name, job.progress)
    data = load_data(job, None, prog)
    try:
        todo, outcomes = plan(job.cadence, start, end, data.coverage)
        for k, p in enumerate(todo, 1):
            t0 = time.perf_counter()
            print(f"[{name}] {k}/{len(todo)} {p.label} …", file=stream, flush=True)
            try:
                res = build_period(job, data, p, Progress(name, job.progress),
                                   skip_unchanged=not force)
            except KpitoolsError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                out = Outcome(p.label, "failed", first[:MAX_REASON],
                              validation_failed=isinstance(exc, ValidationFailed))
            else:
                out = (Outcome(p.label, "skipped", res.skipped) if res.skipped
                       else Outcome(p.label, "built", "", paths=res.paths))
            out.seconds = round(time.perf_counter() - t0, 1)
            word = {"built": "built", "skipped": "skipped", "failed": "FAILED"}[out.status]
            why = f": {out.reason}" if out.reason else ""
            print(f"[{name}] {k}/{len(todo)} {p.label} {word} in {out.seconds:.1f} s{why}",
                  file=stream, flush=True)
            outcomes.append(out)
    finally:
        data.close()
    return sorted(outcomes, key=lambda o: Period.parse(o.period).start)


def summary_lines(cadence: str, outcomes: list[Outcome]) -> list[str]:
    """'weekly: 8 built, 0 skipped, 0 failed' and one line per skipped or failed period."""
    count = {s: sum(o.status == s for o in outcomes) for s in ("built", "skipped", "failed")}
    lines = [f"{cadence}: {count['built']} built, {count['skipped']} skipped, "
             f"{count['failed']} failed"]
    for o in outcomes:
        if o.status != "built":
            lines.append(f"  {o.period} {o.status}: {o.reason}")
    return lines
