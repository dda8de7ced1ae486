"""``kpitools report weekly|monthly|quarterly`` (SPEC §5).

Prints the paths it wrote, one per line, on stdout; progress goes to stderr. With ``--stub`` it
writes the period's commentary file pre-filled with the automatic observations and stops.
With ``--from``/``--to`` it builds every complete period of the range (skipping unchanged
ones unless ``--force``) and prints a summary. Every run that gets as far as the output folder
rebuilds ``<out>/index.html``. Relative paths are relative to the current directory. Every
failure is a KpitoolsError with a short message (the CLI prints ``error: …``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..errors import KpitoolsError, RenderError
from .render import build_period, load_data, make_job


def stub(args) -> Path:
    from .commentary import write_stub
    from .context import open_review
    from .render import data_folder

    folder = data_folder(args.data)
    config = getattr(args, "config", None)
    ctx = open_review(args.cadence, period=args.period or "", data_dir=str(folder),
                      targets_file=str(Path(args.targets).absolute()) if args.targets else "",
                      config_file=str(Path(config).absolute()) if config else "",
                      commentary_dir="", run_gate=False)
    return write_stub(ctx, Path(args.commentary).absolute() if args.commentary else None)


def _index(out_root: Path) -> None:
    from .index import write_index

    try:
        path = write_index(out_root)
    except OSError as exc:
        raise RenderError(f"cannot write the index of {out_root}: {exc.strerror}") from None
    print(f"index: {path}", file=sys.stderr)


def run_cli(args) -> int:
    start, end = getattr(args, "from_", None), getattr(args, "to", None)
    if end and not start:
        raise KpitoolsError("--to needs --from (the first period of the range)")
    if start and args.period:
        raise KpitoolsError("give either --period or --from/--to, not both")
    if getattr(args, "stub", False):
        if start:
            raise KpitoolsError("--stub writes one period's commentary; use --period, not --from")
        print(stub(args))
        return 0
    job = make_job(
        args.cadence, data_dir=args.data, out_root=args.out, formats=args.format,
        commentary_dir=args.commentary, targets=args.targets, progress=True,
        engine=getattr(args, "engine", "duckdb") or "duckdb",
        spark_master=getattr(args, "spark_master", None), config=getattr(args, "config", None),
    )
    try:
        if start:
            return _batch(job, start, end, bool(getattr(args, "force", False)))
        return _single(job, args.period)
    finally:
        if job.out_root.is_dir():  # a run that stopped before writing anything writes no index
            _index(job.out_root)


def _single(job, period: str | None) -> int:
    from .context import resolve_period

    t0 = time.perf_counter()
    data = load_data(job, period)
    try:
        p = resolve_period(job.cadence, period, data)
        result = build_period(job, data, p, close_after_gate=True)
    finally:
        data.close()
    print(f"[{job.cadence.name}] done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    for path in result.paths:
        print(path)
    return 0


def _batch(job, start: str, end: str | None, force: bool) -> int:
    from .batch import run_batch, summary_lines

    outcomes = run_batch(job, start, end, force)
    for o in outcomes:
        for path in o.paths:
            print(path)
    for line in summary_lines(job.cadence.name, outcomes):
        print(line, file=sys.stderr)
    failed = [o for o in outcomes if o.status == "failed"]
    if not failed:
        return 0
    return 1 if all(o.validation_failed for o in failed) else 2
