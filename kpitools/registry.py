"""The KPI registry: every measure and KPI declared once, in ``catalogue.yaml``.

>>> from kpitools.registry import registry
>>> registry["fcr"].label
'First contact resolution'
>>> registry["service_level"].formula("negative").denominator
{'rt_offered': 1}

The registry is data, not code: the engine turns measures into SQL, :mod:`kpitools.formulas`
turns measures into KPI values, and the reviews print the same descriptions in their appendix.
:func:`check_registry` reports every problem with the catalogue at once.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, UnknownKpiError, quote, shorten
from .schema import TABLES
from .sqlexpr import expression_identifiers

UNITS = ("count", "fraction", "seconds", "score", "nps", "currency")
DIRECTIONS = ("higher", "lower", "band", "none")
AGGREGATES = ("sum", "quantile", "max")  # quantile and max are not additive: see Measure
SOURCES = ("interactions", "repeats", "surveys", "agent_activity", "costs", "qa")
# Which optional input table each measure source needs (None: always there).
SOURCE_TABLE = {
    "interactions": "interactions",
    "repeats": "interactions",
    "surveys": "surveys",
    "agent_activity": "agent_activity",
    "costs": "costs",
    "qa": "qa",
}


_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def referenced_columns(source: str, *expressions: str | None) -> set[str]:
    """Optional input columns of ``source``'s table named directly in SQL ``expressions``
    (string literals are ignored). Derived columns such as ``wait_s`` are not input columns:
    what they need is declared on the measure (``needs`` / ``partial_without``)."""
    table = TABLES.get(SOURCE_TABLE.get(source, ""))
    if table is None:
        return set()
    optional = {c.name for c in table.columns if not c.required}
    found = set()
    for expr in expressions:
        if expr:
            found |= set(_IDENTIFIER.findall(_STRING_LITERAL.sub("", expr))) & optional
    return found


_NEEDS = re.compile(r"^needs the (.+) columns?, which (\w+) does not have$")


def needs_columns_reason(table: str, columns) -> str:
    """Why a measure or KPI is null: 'needs the transferred column, which interactions does
    not have'. :func:`merge_reasons` reads these sentences back to combine them."""
    cols = sorted(set(columns))
    names = " and ".join([", ".join(cols[:-1]), cols[-1]] if len(cols) > 1 else cols)
    return f"needs the {names} column{'s' if len(cols) > 1 else ''}, which {table} does not have"


def merge_reasons(reasons) -> str:
    """One reason for a KPI from its measures' reasons: missing columns of one table are
    named together ('needs the customer_id and issue_type columns, …'), others listed once."""
    columns: dict[str, set[str]] = {}
    others = []
    for reason in reasons:
        m = _NEEDS.match(reason)
        if m:
            names = m[1].replace(" and ", ", ").split(", ")
            columns.setdefault(m[2], set()).update(names)
        elif reason not in others:
            others.append(reason)
    merged = [needs_columns_reason(t, cols) for t, cols in sorted(columns.items())]
    return "; ".join(sorted(others) + merged)


@dataclass(frozen=True)
class Measure:
    """A base aggregate. ``sum`` measures (counts and sums) add up across groups and periods;
    ``quantile`` (at ``q``) and ``max`` measures do not, so they are always computed from the
    rows of the group itself and never summed or averaged afterwards.

    ``needs``: optional input columns without which the measure cannot be computed (its KPIs
    are null with a reason); ``partial_without``: optional columns it adds up when present and
    leaves out when absent (its KPIs keep a value, with a note and no RAG status). Columns
    named in ``when`` / ``value`` count as needed without being declared
    (:attr:`required_columns`)."""

    name: str
    source: str
    when: str | None
    value: str
    description: str
    aggregate: str = "sum"
    q: float | None = None
    needs: tuple[str, ...] = ()
    partial_without: tuple[str, ...] = ()

    @property
    def additive(self) -> bool:
        return self.aggregate == "sum"

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Every optional input column this measure cannot do without, sorted."""
        inferred = referenced_columns(self.source, self.when, self.value)
        return tuple(sorted((set(self.needs) | inferred) - set(self.partial_without)))


@dataclass(frozen=True)
class Formula:
    """``scale * sum(coef * measure for numerator) / sum(coef * measure for denominator)``."""

    numerator: dict[str, float]
    denominator: dict[str, float] | None  # None: the KPI is the numerator itself (a count)
    scale: float = 1.0
    description: str = ""
    # A statistic (``type: statistic``): the value is the one non-additive numerator measure
    # itself (a percentile, a maximum); the denominator is its sample, which gives ``n``.
    statistic: bool = False
    # The count a ratio's minimum sample is judged on when it is not the denominator: occupancy
    # is a ratio of seconds, but its evidence is the number of agent-days behind it.
    sample: str | None = None

    @property
    def measures(self) -> list[str]:
        return list(self.numerator) + list(self.denominator or {}) + ([self.sample] if self.sample else [])


@dataclass(frozen=True)
class Kpi:
    id: str
    label: str
    description: str
    unit: str
    direction: str
    formulas: dict[str, Formula]  # variant name -> formula; "default" when there are no variants
    variant: str = "default"
    target: Any = None
    warning: Any = None
    critical: Any = None
    ci: str | None = None
    ci_squares: str | None = None
    min_sample: int | None = None

    def formula(self, variant: str | None = None) -> Formula:
        name = variant or self.variant
        if name not in self.formulas:
            raise ConfigError(
                f"KPI {self.id!r} has no variant {name!r}; choose one of {', '.join(self.formulas)}"
            )
        return self.formulas[name]

    @property
    def variants(self) -> list[str]:
        return [] if list(self.formulas) == ["default"] else list(self.formulas)

    @property
    def is_count(self) -> bool:
        return self.formula().denominator is None

    @property
    def is_statistic(self) -> bool:
        """A percentile or maximum: computed from rows, never a ratio of sums."""
        return self.formula().statistic


def _min_sample(raw, parameters: dict, kid: str) -> int | None:
    """A KPI's minimum sample: a number, or a unit word (``survey``, ``contact``,
    ``evaluation``) naming the parameter ``min_<word>_sample`` (default 30)."""
    if raw is None or isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.isidentifier():
        return int(parameters.get(f"min_{raw}_sample", 30))
    raise ConfigError(f"KPI {kid!r}: min_sample must be a number or a unit word such as "
                      f"'contact' or 'survey', not {str(raw)[:40]!r}")


@dataclass(frozen=True)
class Trigger:
    id: str
    kpi: str
    on: str  # "value" or "change"
    below: float | None
    above: float | None
    action: str

    def fires(self, number: float | None) -> bool:
        if number is None or (isinstance(number, float) and math.isnan(number)):
            return False
        return (self.below is not None and number < self.below) or (
            self.above is not None and number > self.above
        )

    @property
    def rule(self) -> str:
        what = "change in " + self.kpi if self.on == "change" else self.kpi
        if self.below is not None:
            return f"{what} < {self.below:g}"
        return f"{what} > {self.above:g}"


@dataclass
class Registry(Mapping):
    """The catalogue: ``registry[kpi_id]`` gives a :class:`Kpi`; iteration is catalogue order."""

    kpis: dict[str, Kpi]
    measures: dict[str, Measure]
    parameters: dict[str, Any]
    triggers: list[Trigger] = field(default_factory=list)
    # preset name -> {kpi id: variant}: the definitions each platform documents (SPEC §7)
    presets: dict[str, dict[str, str]] = field(default_factory=dict)

    def __getitem__(self, kpi_id: str) -> Kpi:
        try:
            return self.kpis[kpi_id]
        except KeyError:
            raise UnknownKpiError(
                f"unknown KPI {quote(kpi_id)}; known KPIs: {', '.join(self.kpis)}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.kpis)

    def __len__(self) -> int:
        return len(self.kpis)

    def select(self, ids: list[str] | None) -> list[Kpi]:
        return [self[i] for i in ids] if ids else list(self.kpis.values())

    def table_for(self, kpi_id: str, variant: str | None = None) -> set[str]:
        """Input tables a KPI needs."""
        kpi = self[kpi_id]
        return {SOURCE_TABLE[self.measures[m].source] for m in kpi.formula(variant).measures}


def _short(value) -> str:
    return shorten(repr(value))


def _terms(raw: Any, where: str, problems: list[str]) -> dict[str, float]:
    if not isinstance(raw, dict) or not raw:
        problems.append(f"{where}: expected a mapping of measure: coefficient, got {_short(raw)}")
        return {}
    out = {}
    for k, v in raw.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            problems.append(f"{where}.{k}: coefficient must be a number, got {_short(v)}")
            continue
        out[str(k)] = float(v)
    return out


def _columns(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (raw,)
    return tuple(str(c) for c in raw) if isinstance(raw, (list, tuple)) else (repr(raw),)


def _formula(raw: dict, where: str, problems: list[str]) -> Formula:
    if raw.get("type") == "statistic":
        return Formula(
            numerator={str(raw.get("statistic")): 1.0},
            denominator={str(raw.get("sample")): 1.0},
            description=str(raw.get("description", "")),
            statistic=True,
        )
    den = raw.get("denominator")
    scale = raw.get("scale", 1)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)):
        problems.append(f"{where}.scale: must be a number, got {_short(scale)}")
        scale = 1
    sample = raw.get("sample")
    if sample is not None and den is None:
        problems.append(f"{where}.sample: only a ratio (a KPI with a denominator) takes a sample")
    return Formula(
        numerator=_terms(raw.get("numerator"), f"{where}.numerator", problems),
        denominator=None if den is None else _terms(den, f"{where}.denominator", problems),
        scale=float(scale),
        description=str(raw.get("description", "")),
        sample=None if sample is None else str(sample),
    )


def parse_registry(doc: dict, what: str = "the KPI catalogue") -> Registry:
    """Build a Registry from the parsed catalogue YAML and check it.

    Every problem is collected and reported at once in one ConfigError naming ``what``.
    """
    measures = {}
    problems: list[str] = []
    for name, raw in (doc.get("measures") or {}).items():
        if not isinstance(raw, dict):
            problems.append(f"measure {name!r}: expected a mapping (source, when, value, "
                            f"description), got {_short(raw)}")
            continue
        measures[name] = Measure(
            name=str(name),
            source=raw.get("source", ""),
            when=raw.get("when"),
            value=str(raw.get("value", 1)),
            description=raw.get("description", ""),
            aggregate=str(raw.get("aggregate", "sum")),
            q=None if raw.get("q") is None else float(raw["q"]),
            needs=_columns(raw.get("needs")),
            partial_without=_columns(raw.get("partial_without")),
        )
    kpis = {}
    for raw in doc.get("kpis") or []:
        if not isinstance(raw, dict):
            problems.append(f"a KPI must be a mapping with id, label, numerator …, got {_short(raw)}")
            continue
        kid = raw.get("id", "<missing id>")
        if kid in kpis:
            problems.append(f"KPI id {kid!r} is declared twice")
        if "variants" in raw:
            if not isinstance(raw["variants"], dict) or not raw["variants"]:
                problems.append(f"KPI {kid!r}: variants must be a mapping of name: formula")
                continue
            formulas = {
                name: _formula({**v, "scale": raw.get("scale", 1)} if isinstance(v, dict) else {},
                               f"{kid}.variants.{name}", problems)
                for name, v in raw["variants"].items()
            }
            variant = raw.get("variant") or next(iter(formulas))
        else:
            formulas = {"default": _formula(raw, kid, problems)}
            variant = "default"
        kpis[kid] = Kpi(
            id=kid,
            label=raw.get("label", ""),
            description=raw.get("description", ""),
            unit=raw.get("unit", ""),
            direction=raw.get("direction", ""),
            formulas=formulas,
            variant=variant,
            target=raw.get("target"),
            warning=raw.get("warning", raw.get("target")),
            critical=raw.get("critical"),
            ci=raw.get("ci"),
            ci_squares=raw.get("ci_squares"),
            min_sample=_min_sample(raw.get("min_sample"), doc.get("parameters", {}), kid),
        )
    triggers = [
        Trigger(
            id=t["id"],
            kpi=t["kpi"],
            on=t.get("on", "value"),
            below=t.get("below"),
            above=t.get("above"),
            action=t.get("action", ""),
        )
        for t in doc.get("triggers") or []
    ]
    presets = {str(name): dict(choice or {}) for name, choice in (doc.get("presets") or {}).items()}
    reg = Registry(kpis=kpis, measures=measures, parameters=dict(doc.get("parameters") or {}),
                   triggers=triggers, presets=presets)
    problems += check_registry(reg)
    if problems:
        raise ConfigError(f"{what} is invalid:\n  - " + "\n  - ".join(problems))
    return reg


def check_registry(reg: Registry) -> list[str]:
    """Every problem with a registry, one message each (empty list: the registry is sound)."""
    problems = []
    for m in reg.measures.values():
        if m.source not in SOURCES:
            problems.append(f"measure {m.name!r}: source {m.source!r} is not one of {SOURCES}")
            continue
        if m.aggregate not in AGGREGATES:
            problems.append(f"measure {m.name!r}: aggregate {m.aggregate!r} is not one of {AGGREGATES}")
        if m.aggregate == "quantile" and not (m.q is not None and 0 < m.q < 1):
            problems.append(f"measure {m.name!r}: a quantile needs q between 0 and 1, got {m.q!r}")
        if m.aggregate != "quantile" and m.q is not None:
            problems.append(f"measure {m.name!r}: q is only for aggregate quantile")
        table = TABLES[SOURCE_TABLE[m.source]]
        optional = [c.name for c in table.columns if not c.required]
        for key in ("needs", "partial_without"):
            for col in getattr(m, key):
                if col not in optional:
                    problems.append(
                        f"measure {m.name!r}: {key} names {col!r}, which is not an optional "
                        f"column of {table.name} ({', '.join(optional) or 'it has none'})")
    for k in reg.kpis.values():
        if not k.id or not k.id.isidentifier():
            problems.append(f"KPI id {k.id!r} must be a lowercase identifier")
        if not k.label:
            problems.append(f"KPI {k.id!r}: label is missing")
        if not k.description:
            problems.append(f"KPI {k.id!r}: description is missing")
        if k.unit not in UNITS:
            problems.append(f"KPI {k.id!r}: unit {k.unit!r} is not one of {UNITS}")
        if k.direction not in DIRECTIONS:
            problems.append(f"KPI {k.id!r}: direction {k.direction!r} is not one of {DIRECTIONS}")
        if k.variant not in k.formulas:
            problems.append(f"KPI {k.id!r}: default variant {k.variant!r} is not declared")
        for vname, f in k.formulas.items():
            for m in f.measures:
                if m not in reg.measures:
                    problems.append(f"KPI {k.id!r} ({vname}): measure {m!r} is not declared")
            problems += _check_additivity(reg, k.id, vname, f)
            sources = {reg.measures[m].source for m in f.measures if m in reg.measures}
            tables = {SOURCE_TABLE[s] for s in sources if s in SOURCE_TABLE} - {"interactions"}
            if len(tables) > 1:
                problems.append(f"KPI {k.id!r} mixes optional tables {sorted(tables)}")
        if k.direction == "band":
            for name in ("target", "warning", "critical"):
                v = getattr(k, name)
                if v is not None and not (isinstance(v, list) and len(v) == 2 and v[0] <= v[1]):
                    problems.append(f"KPI {k.id!r}: band {name} must be [low, high], got {v!r}")
        elif k.direction in ("higher", "lower"):
            for name in ("target", "warning", "critical"):
                v = getattr(k, name)
                if v is not None and not isinstance(v, (int, float)):
                    problems.append(f"KPI {k.id!r}: {name} must be a number, got {v!r}")
        if k.ci not in (None, "wilson", "nps", "mean"):
            problems.append(f"KPI {k.id!r}: ci {k.ci!r} must be wilson, nps or mean")
        if k.ci == "mean" and k.ci_squares not in reg.measures:
            problems.append(f"KPI {k.id!r}: ci mean needs ci_squares naming a measure")
    for name, choice in reg.presets.items():
        for kid, variant in choice.items():
            if kid not in reg.kpis:
                problems.append(f"preset {name!r}: KPI {kid!r} is not declared")
            elif variant not in reg.kpis[kid].formulas:
                problems.append(f"preset {name!r}: KPI {kid!r} has no variant {variant!r}")
    for m in reg.measures.values():
        for field_name, text in (("when", m.when), ("value", m.value)):
            if text is None:
                continue
            try:
                expression_identifiers(str(text))
            except ValueError as exc:
                problems.append(f"measure {m.name!r}: {field_name} {_short(text)} {exc}")
    for t in reg.triggers:
        if t.kpi not in reg.kpis:
            problems.append(f"trigger {t.id!r}: KPI {t.kpi!r} is not declared")
        if (t.below is None) == (t.above is None):
            problems.append(f"trigger {t.id!r}: give exactly one of below / above")
        if t.on not in ("value", "change"):
            problems.append(f"trigger {t.id!r}: on must be value or change")
    return problems


def _check_additivity(reg: Registry, kid: str, vname: str, f: Formula) -> list[str]:
    """Non-additive measures only as the value of a statistic; never inside a ratio."""
    known = [m for m in f.measures if m in reg.measures]
    non_additive = [m for m in known if not reg.measures[m].additive]
    where = f"KPI {kid!r} ({vname})"
    if not f.statistic:  # f.measures includes a ratio's sample: it must be an additive count
        return [f"{where}: measure {m!r} is a {reg.measures[m].aggregate}, not additive; "
                "use it as the statistic of a type: statistic KPI" for m in non_additive]
    problems = []
    stat = next(iter(f.numerator))
    if stat in reg.measures and reg.measures[stat].additive:
        problems.append(f"{where}: statistic {stat!r} must be a quantile or max measure")
    sample = next(iter(f.denominator or {}), None)
    if sample in reg.measures and not reg.measures[sample].additive:
        problems.append(f"{where}: sample {sample!r} must be an additive count")
    if stat in reg.measures and sample in reg.measures \
            and reg.measures[stat].source != reg.measures[sample].source:
        problems.append(f"{where}: statistic and sample must come from one source")
    return problems
_PACKAGED_DOC: dict | None = None


def catalogue_doc() -> dict:
    """A fresh copy of the packaged catalogue as parsed YAML (to extend, then parse_registry)."""
    global _PACKAGED_DOC
    if _PACKAGED_DOC is None:
        text = resources.files("kpitools").joinpath("catalogue.yaml").read_text("utf-8")
        _PACKAGED_DOC = yaml.safe_load(text)
    return copy.deepcopy(_PACKAGED_DOC)


def load_registry(path: str | Path | None = None) -> Registry:
    """Load the packaged catalogue, or another catalogue file."""
    if path is None:
        return parse_registry(catalogue_doc())
    from .yamlfile import read_yaml

    return parse_registry(read_yaml(path, "KPI catalogue"), f"the KPI catalogue {path}")


registry: Registry = load_registry()
