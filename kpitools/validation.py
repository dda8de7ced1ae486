"""The data-quality gate: Great Expectations suites over the rows a review needs.

The suites are stored as GX JSON in ``expectations/`` — one per table (``interactions``,
``surveys``, ``agent_activity``, ``agents``, ``costs``, ``qa``), ``cross_table`` for
consistency between tables and ``plausibility`` for completeness (warnings only). Each
expectation's ``meta`` names a ``check`` id, a ``severity`` (``critical`` stops a review,
``warning`` is reported; GX's own ``severity`` field says the same) and a one-line
``description``; expectations that run on a derived frame name it in ``meta.frame``
(``agent_days``, ``daily_volume``, ``weekly_responses``) and the tables they need in
``meta.requires``. The engine that holds the data (DuckDB, or Spark with ``engine="spark"``)
cuts the rows to the review's scope and builds the joined or aggregated frames cross-table
checks need, as views (:mod:`kpitools._validation_frames`); each expectation type has one SQL
definition (:mod:`kpitools._expectations_sql`) with GX's semantics, so every check on a frame
is counted in one scan and only failing checks fetch their first unexpected rows. Nothing
is copied into pandas: memory stays bounded as rows grow (docs/performance.md). GX itself is
the reference the tests compare these results with.

>>> from kpitools.validation import validate
>>> report = validate("data/demo", period="2026-W10")      # doctest: +SKIP
>>> report.ok, len(report.failures), report.rows_checked["interactions"]   # doctest: +SKIP
(True, 0, 15012)
>>> print(report.format_text())                             # doctest: +SKIP

Scope: with a period, the gate checks that period, the previous one and the same period last
year (the comparisons a review shows); survey and QA rows go with their contact's period.
Plausibility checks also read the trailing 8 weeks of daily counts. Without a period every
row is checked.

Malformed input never raises: when :func:`kpitools.load` rejects a folder, the gate stages it
leniently (bad values set aside as text) and reports every problem as a failed expectation
(``<column>_readable``, ``required_columns``, ranges …) with counts and examples; a file that
cannot be read at all becomes a critical ``readable_file`` record.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import _expectations_sql as checks_sql
from . import _gx, strict_json
from . import _validation_data as vd
from . import _validation_frames as vf
from .config import load_config
from .errors import ConfigError, DataError, KpitoolsError, ValidationFailed, shorten
from .loading import Dataset, load
from .periods import Period
from .registry import registry as default_registry
from .schema import TABLES

__all__ = ["ValidationReport", "validate", "run_cli", "scope_periods", "TRAILING_WEEKS"]

# How far back the plausibility checks look for the same weekday (the reviews quote it).
TRAILING_WEEKS = vf.TRAILING_WEEKS

ENGINES = ("duckdb", "spark")  # spark: kpitools/_validation_spark.py, docs/engines.md

# how the stored expectations are evaluated: SQL in the engine, or GX itself on pandas copies
# of the frames (the reference the tests compare with; small data only)
CHECKERS = {"sql": checks_sql.run, "gx": _gx.run_frame}

FRAME_TABLE = {"agent_days": "agent_activity", "daily_volume": "interactions",
               "weekly_responses": "surveys"}
FRAME_NEEDS = {"agent_days": ("interactions", "agent_activity"),
               "daily_volume": ("interactions",), "weekly_responses": ("interactions", "surveys")}


@dataclass
class ValidationReport:
    """What the gate checked and found.

    ``results`` holds one record per stored expectation (also the skipped ones, with
    ``success`` None and a ``skipped`` reason); ``failures`` are those with ``success`` False,
    critical first; ``ok`` is True when no critical expectation failed.
    """

    results: list[dict]
    scope: dict | None
    rows_checked: dict[str, int]
    generated_at: str
    data_path: str | None = None
    load_error: str | None = None
    timings: dict = field(default_factory=dict)
    gx_version: str | None = None
    config: str | None = None  # the configuration file's name, or "defaults"
    overrides: list[dict] = field(default_factory=list)  # quality: entries of the configuration

    @property
    def ok(self) -> bool:
        return not any(r["success"] is False and r["severity"] == "critical" for r in self.results)

    @property
    def failures(self) -> list[dict]:
        failed = [r for r in self.results if r["success"] is False]
        return sorted(failed, key=lambda r: r["severity"] != "critical")  # stable: suite order

    @property
    def warnings(self) -> list[dict]:
        return [r for r in self.results if r["success"] is False and r["severity"] == "warning"]

    @property
    def critical(self) -> list[dict]:
        return [r for r in self.results if r["success"] is False and r["severity"] == "critical"]

    @property
    def passed(self) -> list[dict]:
        return [r for r in self.results if r["success"] is True]

    @property
    def skipped(self) -> list[dict]:
        return [r for r in self.results if r["success"] is None]

    @property
    def verdict(self) -> str:
        if not self.ok:
            return "failed"
        return "passed with warnings" if self.warnings else "passed"

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "verdict": self.verdict,
            "generated_at": self.generated_at,
            "data": self.data_path,
            "scope": self.scope,
            "rows_checked": dict(self.rows_checked),
            "summary": {"checks": len(self.results), "passed": len(self.passed),
                        "critical_failures": len(self.critical), "warnings": len(self.warnings),
                        "skipped": len(self.skipped)},
            "load_error": self.load_error,
            "great_expectations_version": self.gx_version,
            "config": self.config,
            "quality_overrides": [dict(o) for o in self.overrides],
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
            "results": [dict(r) for r in self.results],
        }

    def write_json(self, path, extra: dict | None = None) -> Path:
        """Write :meth:`to_dict` (and ``extra`` keys) as JSON, atomically: a reader never sees
        half a file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                strict_json.dump({**self.to_dict(), **(extra or {})}, fh)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def raise_for_critical(self) -> None:
        """Raise :class:`ValidationFailed` (with the failures listed) unless :attr:`ok`."""
        if not self.ok:
            raise ValidationFailed(self.format_text(include_warnings=False))

    def format_text(self, include_warnings: bool = True) -> str:
        """The human summary the CLI prints: verdict, scope, then one block per failure."""
        lines = []
        n_crit, n_warn = len(self.critical), len(self.warnings)
        head = {"failed": "FAILED", "passed": "PASSED", "passed with warnings": "PASSED"}[self.verdict]
        counts = []
        if n_crit:
            counts.append(f"{n_crit} critical failure{'s' if n_crit != 1 else ''}")
        if n_warn:
            counts.append(f"{n_warn} warning{'s' if n_warn != 1 else ''}")
        lines.append(f"Data-quality gate: {head}" + (f" — {', '.join(counts)}" if counts else "")
                     + (f" ({self.data_path})" if self.data_path else ""))
        if self.scope:
            lines.append(f"Scope: {', '.join(self.scope['periods'])} "
                         f"({self.scope['start']} to {self.scope['end']})")
        else:
            lines.append("Scope: all rows")
        if self.rows_checked:
            lines.append("Rows checked: " + ", ".join(f"{t} {n:,}" for t, n in self.rows_checked.items()))
        for o in self.overrides:
            lines.append(f"Lowered by {self.config}: {o['suite']}.{o['check']} {o['original_severity']} → "
                         f"{o['severity']} ({o['reason']})"
                         + ("" if o["applied"] else " — that check did not run in this scope"))
        lines.append(f"Checks: {len(self.results)} — {len(self.passed)} passed, "
                     f"{n_crit + n_warn} failed, {len(self.skipped)} skipped")
        if self.load_error:
            lines.append("The loader rejected the data, so every check below ran on a lenient read:")
            lines.extend("  " + line for line in self.load_error.splitlines())
        shown = self.failures if include_warnings else self.critical
        for r in shown:
            lines.append("")
            where = r["table"] or "data"
            if r["column"]:
                where += f".{r['column']}"
            count = r["unexpected_count"]
            if r["expectation"] in ("readable_file", "loader_accepts"):
                size = ""
            elif count is None:
                size = " — could not be evaluated"
            elif r["expectation"] == "expect_table_columns_to_match_set":
                size = f" — {count} missing column{'s' if count != 1 else ''}"
            else:
                total = r["element_count"]
                size = f" — {count:,} of {total:,} {'row' if total == 1 else 'rows'}" if total is not None \
                    else f" — {count:,} rows"
            lines.append(f"{r['severity'].upper():8s} {where}: {r['expectation']}{size}")
            if r.get("override"):
                o = r["override"]
                lines.append(f"         lowered from {o['original_severity']} by {o['source']}: {o['reason']}")
            if r["expectation"] in ("readable_file", "loader_accepts"):
                lines.append(f"         {r['description']}")
            else:
                lines.append(f"         expected: {r['description']}")
            if r.get("error"):
                lines.append(f"         error: {r['error']}")
            examples = _example_text(r)
            if examples:
                lines.append(f"         examples: {examples}")
        skipped = self.skipped
        if skipped:
            lines.append("")
            reasons: dict[str, int] = {}
            for r in skipped:
                reasons[r["skipped"]] = reasons.get(r["skipped"], 0) + 1
            lines.append("Not checked: " + "; ".join(f"{reason} ({n})" for reason, n in reasons.items()))
        return "\n".join(lines)


def _example_text(r: dict) -> str:
    out = []
    values = r.get("example_values") or []
    for k, ex in enumerate(r.get("examples") or []):
        value = values[k] if k < len(values) else None
        out.append(f"{ex} ({value})" if value is not None and value != ex else str(ex))
    return ", ".join(out)


# -- scope -------------------------------------------------------------------------------------
def scope_periods(period) -> list[Period]:
    """The period, its previous period and the same period last year (no duplicates)."""
    p = period if isinstance(period, Period) else Period.parse(period)
    out = []
    for q in (p, p.previous(), p.same_last_year()):
        if q not in out:
            out.append(q)
    return out


# -- the gate ----------------------------------------------------------------------------------
def validate(data, period=None, *, suites_dir=None, engine: str | None = None, spark=None,
             spark_master: str | None = None, config=None, checks: str = "sql") -> ValidationReport:
    """Run the stored GX suites on ``data`` (a Dataset or a folder) for ``period``.

    Parameters
    ----------
    data : a :class:`~kpitools.loading.Dataset` or a data folder path
    period : a label (``2026-W10``), a :class:`~kpitools.periods.Period`, or None for all rows
    suites_dir : folder of suite JSON files (default: the project's ``expectations/``)
    engine : ``duckdb`` (default) or ``spark``: the frames are Spark views and Spark SQL runs
        the checks (default ``spark`` for a dataset loaded with ``engine="spark"``);
        ``spark`` / ``spark_master`` as in :func:`kpitools.load`
    config : the center configuration for a folder (path, CenterConfig or mapping; default
        ``<folder>/kpitools.yaml``); a Dataset brings its own. Its ``quality:`` entries lower
        named checks to warnings; each result records the original severity and the reason.
    checks : ``sql`` (default: each check runs as SQL in the engine) or ``gx``: Great
        Expectations itself checks pandas copies of the frames — the independent reference
        the tests compare the SQL checks with; every row is fetched, so small data only.

    Returns
    -------
    ValidationReport — never raises for bad data; raises PeriodError for a bad label and
    ConfigError when the stored suites themselves are broken.
    """
    t0 = time.perf_counter()
    if checks not in CHECKERS:
        raise ConfigError(f"checks must be one of {', '.join(CHECKERS)}, not {shorten(checks)!r}")
    on_spark = (engine or getattr(data, "engine", "duckdb")) == "spark"
    periods = scope_periods(period) if period not in (None, "") else None
    ranges = vf.merge_ranges([(p.start, p.end) for p in periods]) if periods else None
    scope = None
    if periods:
        scope = {"periods": [p.label for p in periods],
                 "start": min(p.start for p in periods).isoformat(),
                 "end": max(p.end for p in periods).isoformat(),
                 "ranges": [[s.isoformat(), e.isoformat()] for s, e in ranges]}
    suites = _gx.load_suites(str(suites_dir) if suites_dir else None)
    generated = dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")
    report = ValidationReport(results=[], scope=scope, rows_checked={}, generated_at=generated)

    staged = None
    if on_spark:
        from . import _validation_spark as vspark

        report.data_path = str(getattr(data, "path", data))
        cfg = getattr(data, "config", None) or load_config(data, config)
        try:
            staged, report.load_error = vspark.stage(data, spark=spark, spark_master=spark_master,
                                                     config=cfg)
        except DataError as exc:
            report.results.append(_unreadable_record(None, str(exc)))
            report.timings["total"] = time.perf_counter() - t0
            return report
    elif isinstance(data, Dataset):
        report.data_path = str(data.path)
        cfg = data.config
        staged = vd.stage_dataset(data)
    else:
        report.data_path = str(data)
        cfg = load_config(data, config)  # a broken configuration is the user's error: raise
        try:
            staged = vd.stage_dataset(load(data, config=cfg))
        except (DataError, ConfigError) as exc:  # e.g. bad values, or a broken targets.yaml
            report.load_error = str(exc)
            timezone = cfg.timezone or default_registry.parameters.get("business_timezone", "UTC")
            try:
                staged = vd.stage_folder(data, timezone)
            except DataError as exc2:
                report.results.append(_unreadable_record(None, str(exc2)))
                report.timings["total"] = time.perf_counter() - t0
                return report
    try:
        for table, message in staged.problems:
            report.results.append(_unreadable_record(table, message))
        primary = (periods[0].start, periods[0].end) if periods else None
        frames = vf.build_frames(staged, ranges, primary)
        t1 = time.perf_counter()
        report.timings["prepare"] = t1 - t0
        report.gx_version = _gx.gx_version()
        run = CHECKERS[checks]
        records, rows = _run_suites(suites, frames, staged, run)
        report.results.extend(records)
        report.rows_checked = {t: rows[t] for t in TABLES if t in frames}
        report.timings["checks"] = time.perf_counter() - t1
        apply_quality_overrides(report, cfg)
        if report.load_error and report.ok:
            # Every stored check passed on the lenient read, yet the loader refuses the data
            # (a duplicated header, a date far from the rest …): kpis and reviews cannot run
            # on it, so the gate must not pass.
            report.results.append(_loader_record(report.load_error))
    finally:
        if on_spark:
            staged.close()
        else:
            vd.drop_views(staged)
            if not isinstance(data, Dataset):  # our own connection (loaded or staged here)
                staged.con.close()
    report.timings["total"] = time.perf_counter() - t0
    return report


def apply_quality_overrides(report: ValidationReport, cfg) -> None:
    """Lower the checks the configuration names (``quality:``) to their new severity, keeping
    the original severity, the reason and the file on each result and on the report."""
    report.config = cfg.name
    for q in cfg.quality:
        applied = False
        for r in report.results:
            if r["suite"] == q.suite and r["check"] == q.check:
                r["override"] = {"original_severity": r["severity"], "severity": q.severity,
                                 "reason": q.reason, "source": cfg.name}
                r["severity"] = q.severity
                applied = True
        original = next((e["meta"]["severity"] for e in _gx.load_suites()[q.suite]["expectations"]
                         if e["meta"]["check"] == q.check), None)
        report.overrides.append({"suite": q.suite, "check": q.check, "original_severity": original,
                                 "severity": q.severity, "reason": q.reason, "applied": applied})


def _table_of(suite_name: str, frame_name: str, exp: dict) -> str:
    return exp["meta"].get("table") or FRAME_TABLE.get(frame_name) or (
        frame_name if frame_name in TABLES else suite_name)


def _run_suites(suites: dict, frames: dict, staged, run) -> tuple[list[dict], dict[str, int]]:
    """One record per stored expectation (suite by suite; within a suite, grouped by frame in
    the order the frames first appear) and the rows of each frame: every runnable check of a
    frame, from any suite, is counted in one pass over that frame."""
    unreadable = {t for t, _ in staged.problems}
    records: list[dict] = []
    runnable: dict[str, list[tuple[dict, dict]]] = {}  # frame -> (record, expectation)
    for name, suite in suites.items():
        groups: dict[str, list[dict]] = {}
        for exp in suite["expectations"]:
            groups.setdefault(_gx.frame_of(name, exp), []).append(exp)
        for frame_name, exps in groups.items():
            for exp in exps:
                rec = _record(name, _table_of(name, frame_name, exp), exp)
                records.append(rec)
                if _runnable(rec, exp, frame_name, frames, staged, unreadable):
                    runnable.setdefault(frame_name, []).append((rec, exp))
    rows = {}
    for frame_name, frame in frames.items():
        pairs = runnable.get(frame_name, [])
        rows[frame_name], results = run(staged, frame, [exp for _, exp in pairs])
        for (rec, exp), result in zip(pairs, results, strict=True):
            _fill(rec, result, exp)
    return records, rows


def _runnable(rec: dict, exp: dict, frame_name: str, frames: dict, staged, unreadable) -> bool:
    """Whether the check can run here; if not, its record says why (``skipped``)."""
    frame = frames.get(frame_name)
    table = rec["table"]
    needs = list(exp["meta"].get("requires", [])) + list(FRAME_NEEDS.get(frame_name, ()))
    if frame_name in TABLES:
        needs.append(frame_name)
    missing_tables = [t for t in dict.fromkeys(needs) if not staged.has(t)]
    if missing_tables:
        bad = [t for t in missing_tables if t in unreadable]
        rec["skipped"] = (f"{bad[0]} could not be read" if bad
                          else f"no {missing_tables[0]} table in the data")
        return False
    if frame is None:
        rec["skipped"] = "nothing to compare in the scope (no days with data)"
        return False
    absent = [c for c in _gx.referenced_columns(exp) if c not in frame.columns]
    if absent:
        base = absent[0].split("__")[0]
        rec["skipped"] = f"column {base} is not in the {table} file"
        return False
    return True


def _record(suite_name: str, table: str, exp: dict) -> dict:
    meta = exp["meta"]
    return {"suite": suite_name, "check": meta["check"], "table": table,
            "column": _gx.reported_column(exp), "expectation": exp["type"],
            "description": meta["description"], "severity": meta["severity"], "success": None,
            "unexpected_count": None, "element_count": None, "unexpected_percent": None,
            "examples": [], "example_values": [], "skipped": None, "error": None,
            "override": None}


def _unreadable_record(table: str | None, message: str) -> dict:
    return {"suite": table or "data", "check": "readable_file", "table": table, "column": None,
            "expectation": "readable_file", "description": message, "severity": "critical",
            "success": False, "unexpected_count": None, "element_count": None,
            "unexpected_percent": None, "examples": [], "example_values": [], "skipped": None,
            "error": None}


def _loader_record(message: str) -> dict:
    rec = _unreadable_record(None, "the loader accepts the data (it refused it: see load_error, "
                                   f"{len(message.splitlines())} problem(s))")
    rec.update(suite="data", check="loader_accepts", expectation="loader_accepts")
    return rec


def _fill(rec: dict, raw: dict, exp: dict) -> None:
    res = raw["result"]
    rec["success"] = raw["success"]
    if raw["error"]:
        rec["success"] = False
        rec["error"] = raw["error"]
        return
    kwargs = exp.get("kwargs", {})
    if "column_set" in kwargs:
        missing = ((res.get("details") or {}).get("mismatched") or {}).get("missing") or []
        if missing:
            rec["column"] = ", ".join(missing)
        rec["unexpected_count"] = len(missing)
        rec["element_count"] = len(kwargs["column_set"])
        rec["examples"] = list(missing)[: _gx.MAX_EXAMPLES]
        return
    rec["element_count"] = _int(res.get("element_count"))
    rec["unexpected_count"] = _int(res.get("unexpected_count"))
    pct = res.get("unexpected_percent")
    rec["unexpected_percent"] = None if pct is None else round(float(pct), 4)
    if rec["success"]:
        return
    values = [_gx.text_value(v) for v in res.get("partial_unexpected_list") or []]
    index = raw.get("index")
    if exp["meta"].get("examples", "keys") == "values" or not index:
        distinct = list(dict.fromkeys(values))[: _gx.MAX_EXAMPLES]
        rec["examples"], rec["example_values"] = distinct, list(distinct)
        return
    keys, shown = [], []
    for row in index:
        key = _gx.text_value(row.get("_key"))
        if key in keys:
            continue
        items = [(k, v) for k, v in row.items() if k != "_key"]
        if len(items) == 1:
            shown.append(_gx.text_value(items[0][1]))
        else:
            shown.append(", ".join(f"{k}={_gx.text_value(v)}" for k, v in items))
        keys.append(key)
        if len(keys) == _gx.MAX_EXAMPLES:
            break
    rec["examples"], rec["example_values"] = keys, shown


def _int(v):
    return None if v is None else int(v)


# -- command line --------------------------------------------------------------------------
def run_cli(args) -> int:
    """``kpitools validate``: print the report (text or JSON); exit 1 on a critical failure."""
    fmt = getattr(args, "format", "text") or "text"
    try:
        report = validate(args.data, period=getattr(args, "period", None),
                          engine=getattr(args, "engine", None),
                          spark_master=getattr(args, "spark_master", None),
                          config=getattr(args, "config", None))
    except KpitoolsError:
        raise  # the CLI prints "error: …" (bad period label, broken suite files)
    except Exception as exc:  # noqa: BLE001 - never a traceback for an analyst
        message = f"the data-quality gate could not run: {type(exc).__name__}: {exc}"
        if fmt == "json":
            strict_json.dump({"ok": False, "error": message, "results": []})
        print(f"error: {message}", file=sys.stderr)
        return 1
    if fmt == "json":
        strict_json.dump(report.to_dict())
    else:
        print(report.format_text())
    return 0 if report.ok else 1
