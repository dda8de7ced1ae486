"""``kpitools report weekly|monthly|quarterly`` (SPEC §5).

Prints the paths it wrote, one per line, on stdout; progress goes to stderr. With ``--stub`` it
writes the period's commentary file pre-filled with the automatic observations and stops.
Every failure is a KpitoolsError with a short message (the CLI prints ``error: …``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from .render import render_review


def stub(args) -> Path:
    from .commentary import write_stub
    from .context import open_review

    ctx = open_review(args.cadence, period=args.period or "", data_dir=args.data,
                      targets_file=args.targets or "", commentary_dir=args.commentary or "",
                      config_file=getattr(args, "config", None) or "", run_gate=False)
    return write_stub(ctx, Path(args.commentary) if args.commentary else None)


def run_cli(args) -> int:
    if getattr(args, "stub", False):
        print(stub(args))
        return 0
    result = render_review(
        args.cadence, period=args.period, data_dir=args.data, out_root=args.out,
        formats=args.format, commentary_dir=args.commentary, targets=args.targets,
        progress=True, engine=getattr(args, "engine", "duckdb") or "duckdb",
        spark_master=getattr(args, "spark_master", None), config=getattr(args, "config", None),
    )
    print(f"[{args.cadence}] done in {result.timings.get('total', 0):.1f} s", file=sys.stderr)
    for path in result.paths:
        print(path)
    return 0
