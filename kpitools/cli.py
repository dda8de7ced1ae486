"""The ``kpitools`` command line (SPEC §5). Thin: parses arguments, calls the package.

Every KpitoolsError becomes a one-line ``error: …`` message and exit code 2 (validation
failures exit 1), never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys

from .errors import KpitoolsError

EPILOG_KPIS = """examples:
  kpitools kpis --data data/demo --period 2026-W10
  kpitools kpis --data data/demo --period 2026-03 --by queue,channel --format json
  kpitools kpis --data data/demo --period 2026-Q1 --variant negative --kpi service_level"""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-01-06") from None


def _json_value(v):
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item"):  # numpy scalars
        return _json_value(v.item())
    return v


# The machine contract of `kpitools kpis --format json` (README): the keys of every record,
# with one key per --by dimension after "period".
RECORD_KEYS = ["period", "kpi", "value", "label", "unit", "variant", "numerator", "denominator",
               "n", "target", "status", "ci_low", "ci_high", "small_sample", "partial", "reason",
               "note"]


def records(frame, by: tuple[str, ...] = (), extra=()) -> list[dict]:
    """The machine contract of ``kpitools kpis --format json``: one record per KPI and group
    (``extra``: the comparison columns with ``--compare``)."""
    keys = [RECORD_KEYS[0], *by, *RECORD_KEYS[1:], *extra]
    out = []
    for rec in frame.to_dict("records"):
        out.append({k: _json_value(rec.get(k)) for k in keys})
    return out


def cmd_demo_data(args) -> int:
    from .demo import generate_demo_data

    kwargs = {"seed": args.seed}
    if args.start:
        kwargs["start"] = args.start
    if args.weeks:
        kwargs["weeks"] = args.weeks
    try:
        counts = generate_demo_data(args.out, **kwargs)
    except ValueError as exc:
        raise KpitoolsError(str(exc)) from None
    for table, n in counts.items():
        print(f"{args.out}/{table}: {n:,} rows")
    return 0


def change_text(rec: dict) -> str:
    """'−17.6 pts ± 25.1, not significant' for the table format of ``kpis --compare``."""
    from .formatting import fmt_change

    if rec.get("change") in (None, ""):
        return rec.get("change_note") or ""
    text = fmt_change(rec["change"], rec["unit"])
    low, high = rec.get("change_low"), rec.get("change_high")
    if low not in (None, "") and high not in (None, ""):
        text += " ± " + fmt_change((high - low) / 2, rec["unit"]).lstrip("+±")
    word = {True: "significant", False: "not significant"}.get(rec.get("significant"))
    return f"{text}, {word}" if word else text


def cmd_kpis(args) -> int:
    from . import api
    from .engine import check_by
    from .formatting import fmt_target, fmt_value
    from .targets import Thresholds, status_text

    by = check_by(args.by)
    data = api.load(args.data, engine=args.engine, spark_master=args.spark_master,
                    timezone=args.timezone, targets=args.targets, warehouse=args.warehouse)
    ids = args.kpi.split(",") if args.kpi else None
    if args.compare:
        frame = api.compare(data, args.period, args.compare, by=by, variant=args.variant, kpis=ids)
    else:
        frame = api.kpis(data, args.period, by=by, variant=args.variant, kpis=ids)
    extra = api.COMPARE_COLUMNS if args.compare else []
    if args.format == "json":
        json.dump(records(frame, by, extra), sys.stdout, indent=2)
        print()
    elif args.format == "csv":
        cols = ["period", *by, "kpi", "value", "unit", "variant", "numerator", "denominator", "n",
                "target", "status", "ci_low", "ci_high", "small_sample", "partial", "reason", *extra]
        frame[cols].to_csv(sys.stdout, index=False)
    else:
        rows = []
        directions = {k.id: k.direction for k in data.registry.kpis.values()}
        for rec, full in zip(records(frame, by, extra), frame.to_dict("records"), strict=True):
            rec = {k: ("" if v is None else v) for k, v in rec.items()}
            value = fmt_value(rec["value"] if rec["value"] != "" else None, rec["unit"],
                              against=(rec["target"] or None) if rec["status"] != "green" else None)
            if rec["status"]:  # words, not colours: On target, Within tolerance, Off target …
                rec["status"] = status_text(full["direction"], full["value"], Thresholds(
                    full["target"], full["warning"], full["critical"]))
            if rec["small_sample"] and rec["value"] != "":
                value += " (n too small)"
            rows.append([*(str(rec[d]) for d in by), rec["label"] + (f" [{rec['variant']}]" if rec["variant"] else ""),
                         value, fmt_target(rec["target"] or None, rec["unit"], directions[rec["kpi"]]),
                         rec["status"], rec["reason"] or rec["note"]])
            if args.compare:
                rows[-1].insert(-1, change_text(rec))
        header = [*by, "KPI", "value", "target", "status", *(["change"] if args.compare else []),
                  "note"]
        widths = [max(len(str(r[k])) for r in [header, *rows]) for k in range(len(header))]
        partial = " (partial period: the data does not cover all of it)" if frame["partial"].any() else ""
        print(f"KPIs for {args.period}{partial}")
        for r in [header, *rows]:
            print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


def cmd_validate(args) -> int:
    from . import validation

    if args.engine != "duckdb" and args.engine not in getattr(validation, "ENGINES", ("duckdb",)):
        raise KpitoolsError(f"the data-quality gate does not run on the {args.engine} engine yet; "
                            "use --engine duckdb (see docs/engines.md)")
    return validation.run_cli(args)


def cmd_report(args) -> int:
    from . import review

    if args.engine != "duckdb" and args.engine not in getattr(review, "ENGINES", ("duckdb",)):
        raise KpitoolsError(f"the reviews do not run on the {args.engine} engine yet; "
                            "use --engine duckdb (see docs/engines.md)")
    return review.run_cli(args)


def add_engine_arguments(p: argparse.ArgumentParser) -> None:
    """``--engine`` and ``--spark-master`` (docs/engines.md), shared by kpis, validate, report."""
    p.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb",
                   help="where the KPI SQL runs: duckdb (default, embedded) or spark "
                        "(needs pip install 'kpitools[spark]')")
    p.add_argument("--spark-master", metavar="URL",
                   help="Spark master for --engine spark, e.g. local[4] or spark://host:7077 "
                        "(default $KPITOOLS_SPARK_MASTER or local[*])")


def cmd_staffing(args) -> int:
    from . import staffing

    return staffing.run(args)


EPILOG_IMPORT = """examples:
  kpitools import amazon-connect --from exports/ctr/2026/03 --out data/center
  kpitools import amazon-connect --from ctr.jsonl.gz --out data/center --config kpitools.yaml \\
      --mapping connect.yaml --skip-bad
  kpitools kpis --data data/center --period 2026-W10

The input is only read. The folder is written atomically (an earlier import's folder is
replaced as a whole; any other non-empty folder is refused). Customer addresses become keyed
pseudonyms: the key is $KPITOOLS_PSEUDONYM_KEY, else ~/.config/kpitools/pseudonym.key
(created once). See docs/importers.md."""


def cmd_import(args) -> int:
    from pathlib import Path

    from .importers import ImportOptions, run_import

    # The importer reads the mapping itself (a path, or a shipped name such as five9 for the
    # mapped importer), so its errors name the mapping file.
    options = ImportOptions(skip_bad=args.skip_bad, mapping=args.mapping,
                            config_path=Path(args.config) if args.config else None)
    summary = run_import(args.source, args.from_path, args.out, options)
    for line in summary.lines():
        print(line)
    print(f"wrote {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kpitools",
        description="Contact-center KPIs from one registry: values, data-quality gate, reviews, staffing.",
        epilog="examples:\n  kpitools demo-data --out data/demo\n  kpitools kpis --data data/demo --period 2026-W10\n"
               "  kpitools report weekly --data data/demo\nRun `kpitools COMMAND --help` for each command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    raw = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser("demo-data", help="write a realistic, deterministic demo data set",
                       formatter_class=raw,
                       epilog="example:\n  kpitools demo-data --out data/demo --seed 7 --weeks 106")
    p.add_argument("--out", required=True, help="folder to write the six tables into")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument("--start", type=_date, help="first day, a Monday (default 2024-11-04)")
    p.add_argument("--weeks", type=int, help="number of weeks (default 106)")
    p.set_defaults(func=cmd_demo_data)

    p = sub.add_parser("kpis", help="KPI values for one period", formatter_class=raw, epilog=EPILOG_KPIS)
    p.add_argument("--data", required=True, help="data folder (CSV or Parquet tables)")
    p.add_argument("--period", required=True, help="2026-03-02, 2026-W10, 2026-03 or 2026-Q1")
    p.add_argument("--by", help="group by queue, channel, agent_id, team, issue_type (comma-separated)")
    p.add_argument("--variant", help="service-level variant: exclude_short (default), negative, ignore, positive")
    p.add_argument("--kpi", help="only these KPI ids (comma-separated)")
    p.add_argument("--compare", choices=["previous", "last_year"],
                   help="add the change vs the previous period or the same period last year, "
                        "with its 95 %% interval and significance (as kpitools.compare)")
    p.add_argument("--format", choices=["json", "csv", "table"], default="table")
    p.add_argument("--targets", help="targets YAML (default: <data>/targets.yaml if present)")
    p.add_argument("--timezone", help="business time zone, e.g. Europe/London (default UTC)")
    p.add_argument("--warehouse", help="keep the loaded tables in this .duckdb file (default in memory)")
    add_engine_arguments(p)
    p.set_defaults(func=cmd_kpis)

    p = sub.add_parser("validate", help="run the Great Expectations data-quality suites",
                       formatter_class=raw,
                       epilog="examples:\n  kpitools validate --data data/demo\n"
                              "  kpitools validate --data data/demo --period 2026-W10 --format json")
    p.add_argument("--data", required=True, help="data folder")
    p.add_argument("--period", help="validate only the rows this period (and its comparisons) needs")
    p.add_argument("--format", choices=["text", "json"], default="text")
    add_engine_arguments(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("report", help="build a weekly, monthly or quarterly review (HTML + PDF)",
                       formatter_class=raw,
                       epilog="examples:\n  kpitools report weekly --data data/demo\n"
                              "  kpitools report monthly --period 2026-03 --data data/demo --out reports")
    p.add_argument("cadence", choices=["weekly", "monthly", "quarterly"])
    p.add_argument("--period", help="period label (default: the latest complete period in the data)")
    p.add_argument("--data", default="data/demo", help="data folder (default data/demo)")
    p.add_argument("--out", default="reports", help="output root (default reports)")
    p.add_argument("--format", default="html,pdf", help="html, pdf or html,pdf (default)")
    p.add_argument("--commentary", help="commentary folder (default <data>/commentary)")
    p.add_argument("--targets", help="targets YAML (default: <data>/targets.yaml if present)")
    p.add_argument("--stub", action="store_true",
                   help="write a commentary file pre-filled with automatic observations, then stop")
    add_engine_arguments(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("import", help="turn a platform's export into a canonical data folder",
                       formatter_class=raw, epilog=EPILOG_IMPORT)
    p.add_argument("source", choices=["amazon-connect", "genesys-cloud", "mapped"],
                   help="amazon-connect (contact records), genesys-cloud (conversation "
                        "details), mapped (CSV/Parquet through --mapping)")
    p.add_argument("--from", dest="from_path", required=True, metavar="PATH",
                   help="the export: a file or a folder tree (read only, never modified)")
    p.add_argument("--out", required=True, metavar="DIR", help="the data folder to write (Parquet)")
    p.add_argument("--config", metavar="FILE", help="center configuration, copied as <DIR>/kpitools.yaml")
    p.add_argument("--mapping", metavar="FILE",
                   help="mapping YAML (required for mapped; amazon-connect: attribute names)")
    p.add_argument("--skip-bad", action="store_true",
                   help="skip malformed records and count them, instead of stopping at the first")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("staffing", help="Erlang C staffing for one interval", formatter_class=raw,
                       epilog="example:\n  kpitools staffing --contacts 100 --interval-s 1800 --aht-s 180 "
                              "--answer-within-s 20 --target-sl 0.8 --shrinkage 0.3")
    try:
        from . import staffing

        staffing.add_arguments(p)
    except ImportError:  # pragma: no cover - staffing ships with the package
        pass
    p.set_defaults(func=cmd_staffing)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except KpitoolsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1 if exc.__class__.__name__ == "ValidationFailed" else 2
    except BrokenPipeError:  # `kpitools kpis … | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
