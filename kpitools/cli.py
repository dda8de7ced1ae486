"""The ``kpitools`` command line (SPEC §5). Thin: parses arguments, calls the package.

Every KpitoolsError becomes a one-line ``error: …`` message and exit code 2 (validation
failures exit 1), never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys

from . import strict_json
from .engine import RECORD_KEYS  # the `kpis --format json` contract, declared once
from .errors import KpitoolsError, quote
from .strict_json import finite_or_none

EPILOG_KPIS = """examples:
  kpitools kpis --data data/demo --period 2026-W10
  kpitools kpis --data data/demo --period 2026-03 --by queue,channel --format json
  kpitools kpis --data data/demo --period 2026-Q1 --variant negative --kpi service_level
  kpitools kpis --data data/demo --period 2026-W10 --by segment   # an extra column of interactions"""


EPILOG_FLOOR = """floor views (docs/floor.md):
  kpitools report interval --period 2026-03-02 --minutes 15 --queue billing
  kpitools report interval --period 2026-W10 --channel voice      # one page per day
  kpitools report team --period 2026-W10 --team "Billing Care" --pseudonyms"""

EPILOG_EXCEPTIONS = """examples:
  kpitools exceptions --period 2026-W10 --kind waited --out waited.csv
  kpitools exceptions --period 2026-03 --kind repeats --queue billing
The files carry customer ids: analyst use only (their first line says so)."""


def add_floor_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``report interval`` and ``report team`` (ignored by the reviews)."""
    g = p.add_argument_group("floor views (report interval | team)")
    g.add_argument("--minutes", help="interval: interval width, 15, 30 (default) or 60")
    g.add_argument("--queue", help="interval: only this queue (e.g. billing)")
    g.add_argument("--channel", help="interval: only this channel (e.g. voice)")
    g.add_argument("--team", help="team: only this team (default: one page per team)")
    g.add_argument("--pseudonyms", action="store_true",
                   help="team: show stable pseudonyms (Agent 3F9C2A) instead of agent ids")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-01-06") from None


def records(frame, by: tuple[str, ...] = (), extra=()) -> list[dict]:
    """The machine contract of ``kpitools kpis --format json``: one record per KPI and group
    (``extra``: the comparison columns with ``--compare``).

    A value that is not a finite number becomes null with a ``reason`` saying so."""
    keys = [RECORD_KEYS[0], *by, *RECORD_KEYS[1:], *extra]
    out = []
    for rec in frame.to_dict("records"):
        row = {k: finite_or_none(rec.get(k)) for k in keys}
        raw = rec.get("value")
        if isinstance(raw, float) and math.isinf(raw):
            row["status"] = None
            row["reason"] = f"the value is not a finite number ({raw}); check the input data"
        out.append(row)
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

    data = api.load(args.data, engine=args.engine, spark_master=args.spark_master,
                    timezone=args.timezone, targets=args.targets, warehouse=args.warehouse,
                    config=args.config)
    by = check_by(args.by, data)  # after loading: the data's own columns are dimensions too
    for line in getattr(data, "warnings", ()):
        print(f"warning: {line}", file=sys.stderr)
    ids = args.kpi.split(",") if args.kpi else None
    if args.compare:
        frame = api.compare(data, args.period, args.compare, by=by, variant=args.variant, kpis=ids)
    else:
        frame = api.kpis(data, args.period, by=by, variant=args.variant, kpis=ids)
    extra = api.COMPARE_COLUMNS if args.compare else []
    if args.format == "json":
        strict_json.dump(records(frame, by, extra))
    elif args.format == "csv":
        cols = ["period", *by, "kpi", "value", "unit", "variant", "numerator", "denominator", "n",
                "target", "status", "ci_low", "ci_high", "small_sample", "partial", "reason", *extra]
        frame[cols].to_csv(sys.stdout, index=False)
    else:
        rows = []
        directions = {k.id: k.direction for k in data.registry.kpis.values()}
        for rec, full in zip(records(frame, by, extra), frame.to_dict("records"), strict=True):
            rec = {k: ("" if v is None else v) for k, v in rec.items()}
            symbol = data.params.get("currency_symbol") if rec["unit"] == "currency" else None
            value = fmt_value(rec["value"] if rec["value"] != "" else None, rec["unit"],
                              symbol=symbol,
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
    if args.cadence in ("interval", "team"):  # the floor views (docs/floor.md)
        from .floor.render import run_report

        return run_report(args)
    floor_only = [f"--{k}" for k in ("minutes", "queue", "channel", "team", "pseudonyms")
                  if getattr(args, k, None)]
    if floor_only:
        raise KpitoolsError(f"{', '.join(floor_only)}: only for report interval / report team, "
                            f"not for the {args.cadence} review")
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


def cmd_exceptions(args) -> int:
    from .floor.render import run_exceptions

    return run_exceptions(args)


def add_config_argument(p: argparse.ArgumentParser) -> None:
    """``--config FILE`` (docs/configuration.md), shared by every command that reads data."""
    p.add_argument("--config", metavar="FILE",
                   help="center configuration (default: <data>/kpitools.yaml if present); "
                        "command-line options win over it")


def cmd_staffing(args) -> int:
    from . import staffing

    if args.config:  # the center's own threshold and target for the channel, unless given
        from .config import read_config

        cfg = read_config(args.config)
        reg = cfg.registry
        if args.channel not in ("voice", "chat", "email", "social"):
            raise KpitoolsError(f"--channel {args.channel[:20]!r} is not a channel; choose voice, "
                                "chat, email or social")
        if args.answer_within_s is None:
            thresholds = reg.parameters.get("answer_threshold_s") or {}
            args.answer_within_s = float(thresholds.get(
                args.channel, reg.parameters.get("default_answer_threshold_s", 20)))
        if args.target_sl is None:
            from .targets import Targets

            overrides = [dict(o) for o in cfg.target_overrides]
            args.target_sl = Targets(overrides, reg).for_row(
                reg["service_level"], {"channel": args.channel}).target
    missing = [flag for flag, v in (("--answer-within-s", args.answer_within_s),
                                    ("--target-sl", args.target_sl)) if v is None]
    if missing:
        raise KpitoolsError(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} "
                            "required (or give --config with the center's thresholds and targets)")
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
    p.add_argument("--by", metavar="DIM[,DIM]",
                   help="group by queue, channel, agent_id, team, issue_type, weekday (1 = Monday), "
                        "hour, interval (interval_minutes slots), or any extra column of "
                        "interactions such as priority or segment (comma-separated)")
    p.add_argument("--variant", help="a KPI variant, e.g. service level exclude_short (default), negative, "
                                    "ignore, ignore_within, positive; abandonment include_short "
                                    "(default: the configuration's definitions preset)")
    p.add_argument("--kpi", help="only these KPI ids (comma-separated)")
    p.add_argument("--compare", choices=["previous", "last_year"],
                   help="add the change vs the previous period or the same period last year, "
                        "with its 95 %% interval and significance (as kpitools.compare)")
    p.add_argument("--format", choices=["json", "csv", "table"], default="table")
    p.add_argument("--targets", help="targets YAML (default: <data>/targets.yaml if present)")
    p.add_argument("--timezone", help="business time zone, e.g. Europe/London (default: the "
                                     "configuration's timezone, else UTC)")
    p.add_argument("--warehouse", help="keep the loaded tables in this .duckdb file (default in memory)")
    add_config_argument(p)
    add_engine_arguments(p)
    p.set_defaults(func=cmd_kpis)

    p = sub.add_parser("validate", help="run the Great Expectations data-quality suites",
                       formatter_class=raw,
                       epilog="examples:\n  kpitools validate --data data/demo\n"
                              "  kpitools validate --data data/demo --period 2026-W10 --format json")
    p.add_argument("--data", required=True, help="data folder")
    p.add_argument("--period", help="validate only the rows this period (and its comparisons) needs")
    p.add_argument("--format", choices=["text", "json"], default="text")
    add_config_argument(p)
    add_engine_arguments(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("report", help="build a weekly, monthly or quarterly review, or a floor "
                                      "view: interval report or team scorecards (HTML + PDF)",
                       formatter_class=raw,
                       epilog="examples:\n  kpitools report weekly --data data/demo\n"
                              "  kpitools report monthly --period 2026-03 --data data/demo --out reports\n"
                              "  kpitools report weekly --from 2026-W01 --to 2026-W10 --data data/demo\n"
                              "relative paths are relative to the current directory; every run "
                              "rebuilds OUT/index.html.\n"
                              + EPILOG_FLOOR)
    p.add_argument("cadence", choices=["weekly", "monthly", "quarterly", "interval", "team"],
                   help="a review cadence, or a floor view: interval (per 15/30/60-minute "
                        "interval of a day or week) or team (one scorecard page per team)")
    p.add_argument("--period", help="period label (default: the latest complete period in the data)")
    p.add_argument("--from", dest="from_", metavar="LABEL",
                   help="build every complete period from LABEL (with --to; skips periods "
                        "already built from unchanged inputs)")
    p.add_argument("--to", metavar="LABEL",
                   help="last period of the --from range (default: the latest complete one)")
    p.add_argument("--force", action="store_true",
                   help="with --from: rebuild periods even when their inputs are unchanged")
    p.add_argument("--data", default="data/demo",
                   help="data folder (default data/demo, relative to the current directory)")
    p.add_argument("--out", default="reports",
                   help="output root (default reports); reviews go to OUT/<cadence>/<period>/")
    p.add_argument("--format", default="html,pdf",
                   help="html, pdf or html,pdf (default); formats not rendered are kept")
    p.add_argument("--commentary", metavar="DIR",
                   help="commentary folder (default ./commentary; a file in the old place "
                        "<data>/commentary is still read, with a notice)")
    p.add_argument("--targets", help="targets YAML (default: <data>/targets.yaml if present)")
    p.add_argument("--stub", action="store_true",
                   help="write a commentary file pre-filled with automatic observations, then stop")
    add_config_argument(p)
    add_engine_arguments(p)
    add_floor_arguments(p)
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

    p = sub.add_parser("exceptions", help="the contacts behind a bad number, as CSV for an analyst "
                                          "(contains customer ids)",
                       formatter_class=raw, epilog=EPILOG_EXCEPTIONS)
    p.add_argument("--data", default="data/demo", help="data folder (default data/demo)")
    p.add_argument("--period", required=True, help="2026-03-02, 2026-W10, 2026-03 or 2026-Q1")
    p.add_argument("--kind", required=True, choices=["waited", "abandoned", "repeats", "low-survey"],
                   help="waited: answered past the threshold in the worst intervals; abandoned: "
                        "abandons after waiting past the threshold; repeats: repeat chains; "
                        "low-survey: CSAT below 4 or NPS 0-6 with the contact's queue/agent/issue")
    p.add_argument("--out", help="CSV file to write (default: standard output)")
    p.add_argument("--minutes", help="interval width for --kind waited: 15, 30 (default) or 60")
    p.add_argument("--queue", help="only this queue")
    p.add_argument("--channel", help="only this channel")
    p.add_argument("--timezone", help="business time zone, e.g. America/New_York (default UTC)")
    p.add_argument("--targets", help="targets YAML (default: <data>/targets.yaml if present)")
    p.set_defaults(func=cmd_exceptions)

    p = sub.add_parser("staffing", help="Erlang C staffing for one interval", formatter_class=raw,
                       epilog="example:\n  kpitools staffing --contacts 100 --interval-s 1800 --aht-s 180 "
                              "--answer-within-s 20 --target-sl 0.8 --shrinkage 0.3")
    try:
        from . import staffing

        staffing.add_arguments(p)
    except ImportError:  # pragma: no cover - staffing ships with the package
        pass
    p.add_argument("--config", metavar="FILE",
                   help="center configuration: its answer threshold and service-level target "
                        "for --channel supply --answer-within-s and --target-sl when not given")
    p.add_argument("--channel", default="voice",
                   help="the channel whose threshold and target --config supplies (default voice)")
    p.set_defaults(func=cmd_staffing)
    return parser


def describe_os_error(exc: OSError) -> str:
    """``<path>: <reason>`` (both paths for a failed rename or copy), never a traceback."""
    reason = exc.strerror or exc.__class__.__name__
    paths = [quote(p, 200) for p in (exc.filename, exc.filename2) if p is not None]
    if not paths:
        return f"{reason} ({quote(str(exc), 200)})"
    return f"{' -> '.join(paths)}: {reason}"


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
    except OSError as exc:
        # Last resort: a path the user gave that cannot be read or written (permissions, a
        # file where a folder should be, a full disk). The causes we know are caught at their
        # source with better words; this keeps any other one to one line naming the path.
        print(f"error: {describe_os_error(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
