"""One review's inputs and numbers, computed once and shared by every section.

:func:`open_review` loads the data folder once, resolves the period, reads the commentary and
the validation summary, and returns a :class:`ReviewContext`. Its frames are cached
properties formed from **one engine pass** (:attr:`ReviewContext.measures`: one query per
source for every grouping at once, over every period the review shows):

* ``totals``   every KPI for the trend window, the previous period and the same period last
  year; ``variants`` every variant of the KPIs that have several (service level, abandonment);
* ``queues``   every KPI by queue for last year, the previous and this period;
* ``channels`` by channel, previous and this period; ``issues`` by issue type;
* ``heat`` volume / service level / abandonment by weekday and hour; ``agents`` occupancy
  and utilization per agent.

``staffing`` (the Erlang C interval profile) needs days as buckets, so it is one more pass
over the contacts (interval measures only) plus a small one over agent activity.

Comparisons are built from those frames by :func:`comparison` with the same
:func:`kpitools.api.compare_tables` that :func:`kpitools.compare` uses (a test checks the two
agree) without running the engine again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from functools import cached_property
from pathlib import Path

import pandas as pd

from ..api import compare_tables, kpi_table, kpis_for_periods
from ..api import load as load_engine
from ..engine import Measures, compute_measure_sets
from ..errors import DataError, PeriodError, quote
from ..periods import Period, latest_complete
from .cadence import LABEL_EXAMPLES, Cadence, get_cadence
from .commentary import Commentary, read_commentary

DEFAULT_DATA_DIR = "data/demo"
NOT_RECORDED = "(not recorded)"

# Headline KPIs on page one (presentation choice; every definition comes from the registry).
HEADLINE = ["contact_volume", "service_level", "asa", "abandonment_rate", "aht", "fcr",
            "repeat_contact_rate", "csat", "nps", "ces"]
HEADLINE_EXTRA = {"monthly": ["cost_per_contact", "occupancy"],
                  "quarterly": ["cost_per_contact", "occupancy"]}
# The groupings of the review's one engine pass (see ReviewContext.measures).
HEAT_GROUPING = ("weekday", "hour")
AGENT_GROUPING = ("agent_id",)  # only for cadences with the workforce section
REVIEW_GROUPINGS = ((), ("queue",), ("channel",), ("issue_type",), HEAT_GROUPING, AGENT_GROUPING)
# KPIs drawn in the trends section.
TREND_KPIS = ["contact_volume", "service_level", "abandonment_rate", "asa", "aht", "fcr",
              "repeat_contact_rate", "csat", "nps"]
TREND_EXTRA = {"monthly": ["cost_per_contact", "occupancy", "utilization"],
               "quarterly": ["cost_per_contact", "occupancy", "utilization"]}


def project_root() -> Path | None:
    """The kpitools checkout this package runs from (editable install), if any."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "pyproject.toml").is_file() else None


def _small_demo() -> Path:
    """A small generated demo set, for running a template where no data folder exists."""
    from ..demo import generate_demo_data

    target = Path(tempfile.gettempdir()) / "kpitools-review-demo"
    if not (target / "interactions.parquet").is_file():
        tmp = Path(tempfile.mkdtemp(prefix="kpitools-review-demo-"))
        generate_demo_data(tmp, weeks=70, contacts_per_week=600)
        try:
            os.replace(tmp, target)
        except OSError:  # another run got there first
            pass
    return target


def resolve_data_dir(data_dir: str | os.PathLike) -> tuple[Path, str | None]:
    """(folder, note). Relative paths are tried from here and from the project root; the
    default ``data/demo`` falls back to a small generated demo set (noted in the review)."""
    p = Path(data_dir).expanduser()
    if p.is_dir():
        return p.resolve(), None
    root = project_root()
    if not p.is_absolute() and root is not None and (root / p).is_dir():
        return (root / p).resolve(), None
    if str(data_dir) in (DEFAULT_DATA_DIR, ""):
        return _small_demo(), (
            f"{DEFAULT_DATA_DIR} does not exist, so this review was run on a small generated "
            "demo data set (run `make demo-data` for the full one)."
        )
    raise DataError(f"data folder {data_dir} does not exist")


def resolve_period(cadence: Cadence, label: str | None, data) -> Period:
    """The period to review: ``label``, or the latest complete one in the data."""
    first, last = data.coverage
    if first is None:
        raise DataError(f"{data.path}: the interactions table has no contacts")
    if not label:
        return latest_complete(first, last, cadence.grain, data.gaps)
    p = Period.parse(label)
    if p.grain != cadence.grain:
        raise PeriodError(
            f"the {cadence.name} review needs a {cadence.grain} label such as "
            f"{LABEL_EXAMPLES[cadence.grain]}, not {quote(label)}"
        )
    if p.end < first or p.start > last:
        raise PeriodError(f"{p.label} is outside the data, which runs from {first} to {last}")
    return p


def comparison(frame: pd.DataFrame, period: Period, other: Period, coverage,
               by: tuple[str, ...] = (), gaps=()) -> pd.DataFrame:
    """Rows of ``period`` in ``frame`` compared with its rows of ``other``: the one
    comparison of :func:`kpitools.api.compare_tables`, without running the engine again.
    ``gaps``: days inside the coverage without contacts (they make their periods partial)."""
    return compare_tables(frame[frame["period"] == period.label],
                          frame[frame["period"] == other.label], by, other=other,
                          coverage=coverage, gaps=gaps)


class ReviewContext:
    """Everything one review needs; frames are computed on first use and cached."""

    def __init__(self, cadence: Cadence, period: Period, data, *, data_dir: Path,
                 commentary: Commentary, validation: dict | None, validation_path: Path | None,
                 generated_at: dt.datetime, targets_file: Path | None, formats: list[str],
                 data_note: str | None = None):
        self.cadence = cadence
        self.period = period
        self.data = data
        self.data_dir = data_dir
        self.commentary = commentary
        self.validation = validation
        self.validation_path = validation_path
        self.generated_at = generated_at
        self.targets_file = targets_file
        self.formats = formats
        self.data_note = data_note
        self.registry = data.registry

    # -- periods -------------------------------------------------------------------------
    @property
    def label(self) -> str:
        return self.period.label

    @property
    def previous(self) -> Period:
        return self.period.previous()

    @property
    def last_year(self) -> Period:
        return self.period.same_last_year()

    @property
    def coverage(self):
        return self.data.coverage

    @property
    def gaps(self) -> tuple[dt.date, ...]:
        return self.data.gaps

    @property
    def partial(self) -> bool:
        first, last = self.coverage
        return not self.period.is_covered_by(first, last, self.gaps)

    @property
    def partial_reason(self) -> str:
        """Why this period is partial, in words ("" when it is not)."""
        if not self.partial:
            return ""
        first, last = self.coverage
        inside = [d for d in self.gaps if self.period.start <= d <= self.period.end]
        if first is not None and first <= self.period.start and self.period.end <= last and inside:
            days = ", ".join(d.isoformat() for d in inside[:5]) + (" …" if len(inside) > 5 else "")
            return (f"the data has no contacts on {days} (a gap between exports, treated as "
                    "missing data)")
        return f"the data covers {first} to {last}, not the whole of {self.label}"

    def in_data(self, p: Period) -> bool:
        """True when ``p`` overlaps the data's coverage at all."""
        first, last = self.coverage
        return first is not None and p.end >= first and p.start <= last

    @property
    def trend_window(self) -> list[Period]:
        return [p for p in self.period.history(self.cadence.trend_periods) if self.in_data(p)]

    @property
    def draft(self) -> bool:
        """A review without reviewed analyst commentary is a draft."""
        return not self.commentary.reviewed

    @property
    def headline_kpis(self) -> list[str]:
        return [k for k in HEADLINE + HEADLINE_EXTRA.get(self.cadence.name, []) if k in self.registry]

    @property
    def trend_kpis(self) -> list[str]:
        return [k for k in TREND_KPIS + TREND_EXTRA.get(self.cadence.name, []) if k in self.registry]

    # -- frames (from one engine pass) --------------------------------------------------
    @property
    def review_periods(self) -> list[Period]:
        """Every period a frame of the review shows: the trend window (before it is cut to
        the data), the previous period and the same period last year."""
        return sorted({*self.period.history(self.cadence.trend_periods), self.previous,
                       self.last_year})

    @property
    def breakdown_periods(self) -> list[Period]:
        """The periods shown by group: the same period last year, the previous and this one."""
        return sorted({self.last_year, self.previous, self.period})

    @property
    def groupings(self) -> tuple[tuple[str, ...], ...]:
        """The groupings of the shared pass: ``REVIEW_GROUPINGS``, without the per-agent one
        when the cadence has no workforce section."""
        shows_agents = "cost_workforce" in self.cadence.sections
        return tuple(g for g in REVIEW_GROUPINGS if g != AGENT_GROUPING or shows_agents)

    @cached_property
    def measures(self) -> dict[tuple, Measures]:
        """The measures of every grouping the review shows (:attr:`groupings`: total, by
        queue, channel, issue type, weekday and hour, agent), shared by every frame below.

        One engine pass over :attr:`review_periods` (one query per source for all groupings)
        when only the breakdown periods hold data. Each grouping costs DuckDB about one
        aggregation over every row of the pass, so when the trend window holds more data (a
        weekly review's 13 weeks), the total is a pass of its own over the window and the
        groupings one pass over the three breakdown periods: two passes, rather than every
        trend period's rows aggregated once per grouping."""
        extra = [p for p in self.review_periods
                 if p not in self.breakdown_periods and self.in_data(p)]
        if not extra:
            return compute_measure_sets(self.data, self.review_periods, self.groupings)
        total = compute_measure_sets(self.data, self.review_periods, [()])
        groups = [by for by in self.groupings if by]
        # A pass spans its first to its last period (the repeat window reads every contact
        # in between): leave out a breakdown period without data (it has no groups anyway),
        # so last year outside the data does not stretch this pass over a year.
        periods = [p for p in self.breakdown_periods if self.in_data(p)]
        return {**total, **compute_measure_sets(self.data, periods, groups)}

    def kpi_frame(self, by: tuple[str, ...], periods: list[Period], kpis: list[str] | None = None,
                  variant: str | None = None) -> pd.DataFrame:
        """The KPI table of ``periods`` grouped ``by`` (one of :attr:`groupings`) from the
        shared pass: what :func:`kpitools.kpis_for_periods` returns, without a new pass."""
        if by not in self.groupings:  # not in the shared pass: a pass of its own
            return kpis_for_periods(self.data, periods, by, variant, kpis)
        m = self.measures[by]
        rows = m.frame[m.frame["period"].isin([p.label for p in periods])].reset_index(drop=True)
        return kpi_table(self.data, rows, periods, by, kpis, variant, m.unavailable, m.notes)

    @cached_property
    def totals(self) -> pd.DataFrame:
        """Every KPI for each of :attr:`review_periods`."""
        return self.kpi_frame((), self.review_periods)

    @cached_property
    def current(self) -> pd.DataFrame:
        return self.totals[self.totals["period"] == self.label].reset_index(drop=True)

    @cached_property
    def vs_previous(self) -> pd.DataFrame:
        return comparison(self.totals, self.period, self.previous, self.coverage, gaps=self.gaps)

    @cached_property
    def vs_last_year(self) -> pd.DataFrame:
        return comparison(self.totals, self.period, self.last_year, self.coverage, gaps=self.gaps)

    @cached_property
    def trend(self) -> pd.DataFrame:
        labels = [p.label for p in self.trend_window]
        return self.totals[self.totals["period"].isin(labels)].reset_index(drop=True)

    @cached_property
    def queues(self) -> pd.DataFrame:
        return self.kpi_frame(("queue",), self.breakdown_periods)

    @cached_property
    def channels(self) -> pd.DataFrame:
        return self.kpi_frame(("channel",), [self.previous, self.period])

    @cached_property
    def issues(self) -> pd.DataFrame:
        return self.kpi_frame(("issue_type",), [self.previous, self.period],
                              kpis=["handled", "aht", "fcr", "repeat_contact_rate"])

    def by(self, dim: str, against: str = "previous") -> pd.DataFrame:
        """This period by ``dim`` (queue, channel, issue_type) compared with another period."""
        frame = {"queue": self.queues, "channel": self.channels, "issue_type": self.issues}[dim]
        other = self.previous if against == "previous" else self.last_year
        out = comparison(frame, self.period, other, self.coverage, by=(dim,), gaps=self.gaps)
        out[dim] = out[dim].astype(object).where(out[dim].notna(), NOT_RECORDED)
        return out

    @cached_property
    def variants(self) -> pd.DataFrame:
        """Each KPI with variants under each of them, previous and this period; ``kpi`` is
        ``<id>:<variant>``."""
        periods = [self.previous, self.period]
        frame = pd.concat([self.kpi_frame((), periods, [kpi.id], v)
                           for kpi in self.registry.kpis.values() for v in kpi.variants],
                          ignore_index=True)
        return comparison(frame.assign(kpi=frame["kpi"] + ":" + frame["variant"]),
                          self.period, self.previous, self.coverage, gaps=self.gaps)

    @cached_property
    def heat(self) -> pd.DataFrame:
        from .heat import HEAT_KPIS, heat_frame

        return heat_frame(self.data, self.period,
                          self.kpi_frame(HEAT_GROUPING, [self.period], HEAT_KPIS))

    @cached_property
    def agents(self) -> pd.DataFrame:
        if not self.data.has("agent_activity"):
            return pd.DataFrame(columns=["agent_id", "kpi", "value", "n"])
        return self.kpi_frame(AGENT_GROUPING, [self.period], ["occupancy", "utilization"])

    @cached_property
    def staffing(self) -> dict:
        from .staffing_view import staffing_profile

        return staffing_profile(self)

    # -- derived results -----------------------------------------------------------------
    @cached_property
    def guardrail(self):
        from .guardrail import evaluate_guardrail

        return evaluate_guardrail(self)

    @cached_property
    def triggers(self):
        from .triggers import evaluate_triggers

        return evaluate_triggers(self)

    @cached_property
    def observations(self) -> dict[str, list[str]]:
        from .observations import observations

        return observations(self)

    # -- helpers -------------------------------------------------------------------------
    def row(self, kpi: str, frame: pd.DataFrame | None = None) -> dict | None:
        frame = self.vs_previous if frame is None else frame
        sel = frame[frame["kpi"] == kpi]
        return None if sel.empty else sel.iloc[0].to_dict()

    def kpi_label(self, kpi: str) -> str:
        return self.registry[kpi].label


def _read_validation(path: str | os.PathLike | None) -> tuple[dict | None, Path | None]:
    if not path:
        return None, None
    p = Path(path)
    try:
        return json.loads(p.read_text("utf-8")), p
    except FileNotFoundError:
        raise DataError(f"validation summary {p} does not exist") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"validation summary {p} is not valid JSON: {exc}") from None


def validate_here(data, label: str) -> dict | None:
    """Run the data-quality gate in this (notebook) process; None when it is not installed.
    `kpitools report` runs it once in its own process instead and passes the JSON."""
    try:
        from ..validation import validate
    except ImportError:
        return None
    return validate(data, period=label).to_dict()


def open_review(cadence: str, period: str = "", data_dir: str = DEFAULT_DATA_DIR,
                targets_file: str = "", commentary_dir: str = "", validation_json: str = "",
                generated_at: str = "", output_formats: str = "html,pdf",
                run_gate: bool = True, engine: str = "duckdb",
                spark_master: str = "", config_file: str = "") -> ReviewContext:
    """Load the data once and set up a review (the first cell of every template).

    Parameters
    ----------
    cadence : "weekly", "monthly" or "quarterly"
    period : period label; "" takes the latest complete period in the data
    data_dir : data folder; the default ``data/demo`` falls back to a small generated set
    targets_file : targets YAML; "" uses ``<data_dir>/targets.yaml`` when present
    commentary_dir : folder of ``<period>.md`` files; "" uses ``<data_dir>/commentary``
    validation_json : summary written by ``kpitools report``; "" runs the gate here
    generated_at : ISO timestamp shown on the title page; "" is now
    output_formats : the formats being rendered (recorded in the appendix)
    engine : where the KPI SQL runs, ``duckdb`` (embedded) or ``spark``; ``spark_master`` as in
        :func:`kpitools.load`
    config_file : center configuration; "" uses ``<data_dir>/kpitools.yaml`` when present
    """
    cad = get_cadence(cadence)
    folder, note = resolve_data_dir(data_dir)
    validation, vpath = _read_validation(validation_json)
    # Files `kpitools report` loaded and checked moments ago are not checked again here.
    checked = (validation or {}).get("input_checks") or []
    data = load_engine(folder, targets=targets_file or None, engine=engine,
                       spark_master=spark_master or None, config=config_file or None,
                       checked=checked)
    p = resolve_period(cad, period, data)
    cdir = Path(commentary_dir) if commentary_dir else folder / "commentary"
    commentary = read_commentary(cdir / f"{p.label}.md", cad)
    if validation is None and run_gate:
        validation = validate_here(data, p.label)
    when = dt.datetime.fromisoformat(generated_at) if generated_at else dt.datetime.now()
    tfile = Path(targets_file) if targets_file else (
        folder / "targets.yaml" if (folder / "targets.yaml").is_file() else None)
    return ReviewContext(
        cad, p, data, data_dir=folder, commentary=commentary, validation=validation,
        validation_path=vpath, generated_at=when.replace(microsecond=0), targets_file=tfile,
        formats=[f.strip() for f in output_formats.split(",") if f.strip()], data_note=note,
    )
