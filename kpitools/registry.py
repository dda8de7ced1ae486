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

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, UnknownKpiError

UNITS = ("count", "fraction", "seconds", "score", "nps", "currency")
DIRECTIONS = ("higher", "lower", "band", "none")
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


@dataclass(frozen=True)
class Measure:
    name: str
    source: str
    when: str | None
    value: str
    description: str


@dataclass(frozen=True)
class Formula:
    """``scale * sum(coef * measure for numerator) / sum(coef * measure for denominator)``."""

    numerator: dict[str, float]
    denominator: dict[str, float] | None  # None: the KPI is the numerator itself (a count)
    scale: float = 1.0
    description: str = ""

    @property
    def measures(self) -> list[str]:
        return list(self.numerator) + list(self.denominator or {})


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

    def __getitem__(self, kpi_id: str) -> Kpi:
        try:
            return self.kpis[kpi_id]
        except KeyError:
            raise UnknownKpiError(
                f"unknown KPI {kpi_id!r}; known KPIs: {', '.join(self.kpis)}"
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


def _terms(raw: Any, where: str) -> dict[str, float]:
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"{where}: expected a mapping of measure: coefficient, got {raw!r}")
    return {str(k): float(v) for k, v in raw.items()}


def _formula(raw: dict, where: str) -> Formula:
    den = raw.get("denominator")
    return Formula(
        numerator=_terms(raw.get("numerator"), f"{where}.numerator"),
        denominator=None if den is None else _terms(den, f"{where}.denominator"),
        scale=float(raw.get("scale", 1)),
        description=str(raw.get("description", "")),
    )


def parse_registry(doc: dict) -> Registry:
    """Build a Registry from the parsed catalogue YAML and check it."""
    measures = {}
    for name, raw in (doc.get("measures") or {}).items():
        measures[name] = Measure(
            name=name,
            source=raw.get("source", ""),
            when=raw.get("when"),
            value=str(raw.get("value", 1)),
            description=raw.get("description", ""),
        )
    kpis = {}
    problems = []
    for raw in doc.get("kpis") or []:
        kid = raw.get("id", "<missing id>")
        if kid in kpis:
            problems.append(f"KPI id {kid!r} is declared twice")
        if "variants" in raw:
            formulas = {
                name: _formula({**v, "scale": raw.get("scale", 1)}, f"{kid}.variants.{name}")
                for name, v in raw["variants"].items()
            }
            variant = raw.get("variant") or next(iter(formulas))
        else:
            formulas = {"default": _formula(raw, kid)}
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
    reg = Registry(kpis=kpis, measures=measures, parameters=dict(doc.get("parameters") or {}),
                   triggers=triggers)
    problems += check_registry(reg)
    if problems:
        raise ConfigError("the KPI catalogue is invalid:\n  - " + "\n  - ".join(problems))
    return reg


def check_registry(reg: Registry) -> list[str]:
    """Every problem with a registry, one message each (empty list: the registry is sound)."""
    problems = []
    for m in reg.measures.values():
        if m.source not in SOURCES:
            problems.append(f"measure {m.name!r}: source {m.source!r} is not one of {SOURCES}")
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
    for t in reg.triggers:
        if t.kpi not in reg.kpis:
            problems.append(f"trigger {t.id!r}: KPI {t.kpi!r} is not declared")
        if (t.below is None) == (t.above is None):
            problems.append(f"trigger {t.id!r}: give exactly one of below / above")
        if t.on not in ("value", "change"):
            problems.append(f"trigger {t.id!r}: on must be value or change")
    return problems


def load_registry(path: str | Path | None = None) -> Registry:
    """Load the packaged catalogue, or another catalogue file."""
    if path is None:
        text = resources.files("kpitools").joinpath("catalogue.yaml").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path or 'catalogue.yaml'} is not valid YAML: {exc}") from None
    return parse_registry(doc)


registry: Registry = load_registry()
