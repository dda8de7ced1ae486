"""Great Expectations glue for the data-quality gate (private; see :mod:`kpitools.validation`).

The stored suites in ``expectations/`` are GX JSON, read and checked here. The gate runs them
as SQL (:mod:`kpitools._expectations_sql`) and never imports GX; GX itself runs only as the
reference the tests compare with (:func:`run_frame`, ``validate(checks="gx")``): the offline
set-up, one ephemeral context per run, GX results as plain records.

GX 1.x costs seconds to import, so it is imported only when needed, on a background thread
(:func:`start_import`).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import importlib
import importlib.util
import json
import logging
import math
import os
import sys
import threading
import types
import warnings
from pathlib import Path

from ._validation_frames import fetch
from .errors import ConfigError, shorten

SUITES_DIR = Path(__file__).resolve().parents[1] / "expectations"
SUITE_NAMES = ("interactions", "surveys", "agent_activity", "agents", "costs", "qa",
               "cross_table", "plausibility")
SEVERITIES = ("critical", "warning")
MAX_EXAMPLES = 5
# Enough unexpected rows to find MAX_EXAMPLES distinct ids or values among them.
PARTIAL_COUNT = 20


# -- offline import ------------------------------------------------------------------------
_import_state: dict = {}
_import_lock = threading.Lock()

# GX imports these at start-up for distribution expectations and Data Docs charts, which the
# gate never runs; together they are about a third of GX's import time.
DEFERRED_MODULES = ("altair", "scipy.stats")


class _Deferred(types.ModuleType):
    """Stands in for a module until code first reads one of its attributes, then imports the
    real module (which takes over in ``sys.modules``) and serves it from then on."""

    def __getattr__(self, attr):
        if attr.startswith("__"):  # the import system probing: not a use
            raise AttributeError(attr)
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        real = importlib.import_module(name)
        self.__dict__.update(real.__dict__)
        return getattr(real, attr)


def _defer(names) -> None:
    for name in names:
        if name in sys.modules:
            continue
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if found:
            sys.modules[name] = _Deferred(name)


def _do_import() -> None:
    # GX probes for pyspark at import time. We only use its pandas engine, and importing
    # pyspark is slow and, where __main__ has no spec (pytest-xdist workers, some kernels),
    # pyspark.sql.connect calls sys.exit(0). So GX sees pyspark as absent; the block is
    # lifted right after, so `import pyspark` works again for anyone who needs it.
    # When pyspark is already imported, only Spark Connect, which kpitools never uses,
    # stays hidden.
    blocked = "pyspark" not in sys.modules
    hidden = "pyspark" if blocked else "pyspark.sql.connect"
    block = hidden not in sys.modules
    if block:
        sys.modules[hidden] = None  # type: ignore[assignment]
    try:
        _defer(DEFERRED_MODULES)
        os.environ["GX_ANALYTICS_ENABLED"] = "False"  # no usage statistics, ever
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig
        for name in ("great_expectations", "great_expectations.core", "great_expectations.expectations"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        _import_state["gx"] = gx
        _import_state["ProgressBarsConfig"] = ProgressBarsConfig
    except BaseException as exc:  # noqa: BLE001 - reported by gx() in the caller's thread
        _import_state["error"] = exc
    finally:
        if block and sys.modules.get(hidden, 0) is None:
            del sys.modules[hidden]


def start_import() -> None:
    """Begin importing GX on a background thread (idempotent)."""
    with _import_lock:
        if "thread" in _import_state or "gx" in _import_state:
            return
        thread = threading.Thread(target=_do_import, name="kpitools-gx-import", daemon=True)
        _import_state["thread"] = thread
        thread.start()


def gx():
    """The ``great_expectations`` module, imported once, offline."""
    if "gx" not in _import_state:
        start_import()
        _import_state["thread"].join()
    if "error" in _import_state:
        exc = _import_state["error"]
        raise ConfigError(f"Great Expectations cannot be imported ({type(exc).__name__}: {exc}); "
                          "run `make install`") from exc
    return _import_state["gx"]


# -- stored suites -------------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def load_suites(folder: str | None = None) -> dict[str, dict]:
    """Read and check the stored suites: name -> GX suite JSON (``expectations/<name>.json``)."""
    base = Path(folder) if folder else SUITES_DIR
    suites = {}
    for name in SUITE_NAMES:
        path = base / f"{name}.json"
        try:
            suite = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"expectation suite {path} is missing") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"expectation suite {path} is not valid JSON: {exc}") from None
        seen = set()
        for k, exp in enumerate(suite.get("expectations", [])):
            meta = exp.get("meta") or {}
            where = f"{path}, expectation {k + 1} ({exp.get('type')})"
            for key in ("check", "severity", "description"):
                if not meta.get(key):
                    raise ConfigError(f"{where}: meta.{key} is required")
            if meta["severity"] not in SEVERITIES:
                raise ConfigError(f"{where}: meta.severity must be critical or warning, "
                                  f"not {meta['severity']!r}")
            if meta["check"] in seen:
                raise ConfigError(f"{where}: meta.check {meta['check']!r} is used twice")
            seen.add(meta["check"])
            if name in SUITE_NAMES[:6] and meta.get("frame", name) != name:
                raise ConfigError(f"{where}: a table suite runs on its own table only")
            if "max_days_after_today" in meta:
                # "plausible date" moves with the calendar: the stored bound is a day count.
                latest = dt.date.today() + dt.timedelta(days=int(meta["max_days_after_today"]))
                exp.setdefault("kwargs", {})["max_value"] = f"{latest.isoformat()}T00:00:00"
        suites[name] = suite
    return suites


def frame_of(suite_name: str, exp: dict) -> str:
    return exp["meta"].get("frame", suite_name)


def referenced_columns(exp: dict) -> list[str]:
    """Every column an expectation reads, including those in its row condition."""
    kw = exp.get("kwargs", {})
    cols = [kw[k] for k in ("column", "column_A", "column_B") if kw.get(k)]
    cols += list(kw.get("column_list") or [])

    def walk(node):
        if isinstance(node, dict):
            col = node.get("column")
            if isinstance(col, dict) and "name" in col:
                cols.append(col["name"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(kw.get("row_condition"))
    return list(dict.fromkeys(cols))


def reported_column(exp: dict) -> str | None:
    meta, kw = exp["meta"], exp.get("kwargs", {})
    if meta.get("column"):
        return meta["column"]
    if kw.get("column"):
        return kw["column"]
    if kw.get("column_A"):
        return f"{kw['column_A']}, {kw['column_B']}"
    if kw.get("column_list"):
        return ", ".join(kw["column_list"])
    return None


# -- running ---------------------------------------------------------------------------------
class Runner:
    """One ephemeral GX context, one pandas data source, one asset per frame."""

    def __init__(self):
        mod = gx()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.context = mod.get_context(mode="ephemeral")
            try:
                self.context.enable_analytics(False)
            except Exception:  # noqa: BLE001 - older/newer GX: the env variable already did it
                pass
            self.context.variables.progress_bars = _import_state["ProgressBarsConfig"](
                globally=False, metric_calculations=False)
            source = self.context.data_sources.add_pandas("kpitools")
            # One asset and batch definition serve every frame: each addition makes the
            # context re-serialise its whole config, which costs more than the checks.
            asset = source.add_dataframe_asset(name="frames in scope")
            self._definition = asset.add_batch_definition_whole_dataframe("whole frame")
        self._batches = {}

    def _batch(self, frame_name: str, frame):
        if frame_name not in self._batches:
            self._batches[frame_name] = self._definition.get_batch(
                batch_parameters={"dataframe": frame})
        return self._batches[frame_name]

    def run(self, suite_name: str, frame_name: str, frame, expectations: list[dict]) -> dict[str, dict]:
        """Validate ``expectations`` (stored JSON) on ``frame``; check id -> raw GX result dict.

        A first pass counts (BASIC); the expectations that fail and report row ids are run
        again with the ``_key`` column so their examples name rows.
        """
        mod = gx()
        if not expectations:
            return {}
        with warnings.catch_warnings(), _memoised_configuration():
            warnings.simplefilter("ignore")
            suite = mod.ExpectationSuite(name=f"{suite_name}:{frame_name}",
                                         expectations=[copy.deepcopy(e) for e in expectations])
            if len(suite.expectations) != len(expectations):
                raise ConfigError(f"suite {suite_name}: GX rejected "
                                  f"{len(expectations) - len(suite.expectations)} expectation(s)")
            batch = self._batch(frame_name, frame)
            first = batch.validate(suite, result_format={"result_format": "BASIC",
                                                         "partial_unexpected_count": PARTIAL_COUNT})
            out = {r.expectation_config.meta["check"]: _plain(r) for r in first.results}
            again = [e for e in expectations
                     if out[e["meta"]["check"]]["success"] is False
                     and e["meta"].get("examples", "keys") == "keys"
                     and "column_set" not in e.get("kwargs", {})
                     and not out[e["meta"]["check"]].get("error")]
            if again:
                suite2 = mod.ExpectationSuite(name=f"{suite_name}:{frame_name}:examples",
                                              expectations=[copy.deepcopy(e) for e in again])
                second = batch.validate(suite2, result_format={
                    "result_format": "SUMMARY", "partial_unexpected_count": PARTIAL_COUNT,
                    "unexpected_index_column_names": ["_key"],
                    "return_unexpected_index_query": False})
                for r in second.results:
                    check = r.expectation_config.meta["check"]
                    out[check]["index"] = r.result.get("partial_unexpected_index_list") or []
        return out


_memo_lock = threading.Lock()


@contextlib.contextmanager
def _memoised_configuration():
    """Memoise ``Expectation.configuration`` while a suite runs.

    GX 1.x rebuilds that property (a pydantic dump into a new ExpectationConfiguration) on
    every access, about 90 times per expectation per run: a third of the gate's time. The
    expectations do not change during a run, so each is built once; the class property is
    restored afterwards, so GX behaves exactly as shipped outside the gate.
    """
    from great_expectations.expectations.expectation import Expectation

    original = Expectation.__dict__.get("configuration")
    if not isinstance(original, property):  # a GX that changed shape: run it as it is
        yield
        return
    memo: dict[int, tuple] = {}

    def configuration(self):
        hit = memo.get(id(self))
        if hit is None or hit[0] is not self:
            hit = (self, original.fget(self))
            memo[id(self)] = hit
        return hit[1]

    with _memo_lock:
        Expectation.configuration = property(configuration, doc=original.__doc__)
        try:
            yield
        finally:
            Expectation.configuration = original


def _plain(result) -> dict:
    info = result.exception_info or {}
    error = None
    if info.get("raised_exception"):
        error = str(info.get("exception_message") or "GX raised an exception")
    return {"success": bool(result.success), "result": dict(result.result or {}), "error": error}


def gx_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("great_expectations")
    except Exception:  # noqa: BLE001
        return None


def text_value(value) -> str:
    """A value as a short string for examples (NaN/NaT/None -> 'empty')."""
    if value is None:
        return "empty"
    if hasattr(value, "item") and not isinstance(value, str):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, float):
        if math.isnan(value):
            return "empty"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:.1f}"
    text = str(value)
    if text in ("NaT", "nan", "<NA>", "None"):
        return "empty"
    return shorten(text)


def run_frame(staged, frame, expectations: list[dict]) -> tuple[int, list[dict]]:
    """GX itself (pandas) on a gate frame: the independent reference for the SQL checks.

    Same contract as :func:`kpitools._expectations_sql.run`, but the frame's rows are fetched
    into pandas in frame order first, so use it on small data only (the tests do)."""
    df = fetch(staged, frame)
    if not expectations:
        return len(df), []
    renamed = []  # check ids are unique per suite; a frame may carry several suites' checks
    for k, exp in enumerate(expectations):
        exp = copy.deepcopy(exp)
        exp["meta"]["check"] = f"{k}:{exp['meta']['check']}"
        renamed.append(exp)
    raw = Runner().run("reference", frame.name, df, renamed)
    return len(df), [raw[e["meta"]["check"]] for e in renamed]
