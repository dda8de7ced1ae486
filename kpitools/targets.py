"""Targets and RAG status.

Defaults come from the registry; a YAML file overrides them per queue, channel, issue type,
team or agent::

    overrides:
      - {kpi: aht, issue_type: billing_dispute, target: 480}
      - {kpi: service_level, channel: chat, target: 0.70, critical: 0.60}

An override applies to a row whose grouping matches every dimension it names (a row grouped
by channel gets channel overrides; an ungrouped total keeps the default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError
from .registry import Kpi, Registry
from .yamlfile import quote, read_yaml

OVERRIDE_DIMENSIONS = ("queue", "channel", "issue_type", "team", "agent_id")
OVERRIDE_KEYS = ("kpi", *OVERRIDE_DIMENSIONS, "target", "warning", "critical")
MAX_TARGETS_BYTES = 1_000_000


@dataclass(frozen=True)
class Thresholds:
    target: object
    warning: object
    critical: object


def scaled_threshold(default, default_target, new_target):
    """Move a default threshold by the same ratio the target moved."""
    if default is None or default_target in (None, 0) or new_target is None:
        return new_target if default is None else default
    if isinstance(default, list):
        return [d * n / t for d, t, n in zip(default, default_target, new_target, strict=True)]
    return default * new_target / default_target


class Targets:
    def __init__(self, overrides: list[dict], registry: Registry, source: str = ""):
        self.overrides = overrides
        self.registry = registry
        self.source = source

    @classmethod
    def load(cls, path: Path, registry: Registry, before: list[dict] | None = None) -> Targets:
        """Read a targets file; ``before`` are overrides that apply first (so the file's win)."""
        doc = read_yaml(path, "targets file", MAX_TARGETS_BYTES)
        problems = [f"{k}: unknown key; allowed: overrides" for k in doc if k != "overrides"]
        overrides = doc.get("overrides") or []
        problems += [f"overrides{p}" for p in check_overrides(overrides, registry)]
        if problems:
            raise ConfigError(f"{path}: " + "; ".join(problems))
        return cls([*(before or []), *overrides], registry, str(path))

    def for_row(self, kpi: Kpi, group: dict | None = None) -> Thresholds:
        group = group or {}
        base = Thresholds(kpi.target, kpi.warning, kpi.critical)
        for o in self.overrides:
            if o["kpi"] != kpi.id:
                continue
            dims = [d for d in OVERRIDE_DIMENSIONS if d in o]
            if dims and all(d in group and str(group[d]) == str(o[d]) for d in dims):
                t = o["target"]
                base = Thresholds(
                    t,
                    o.get("warning", scaled_threshold(kpi.warning, kpi.target, t)),
                    o.get("critical", scaled_threshold(kpi.critical, kpi.target, t)),
                )
        return base


def check_threshold(kpi: Kpi, value) -> str | None:
    """What is wrong with ``value`` as a target / warning / critical of ``kpi`` (None: fine).

    Numbers must be finite and fit the KPI's unit: a fraction is 0 to 1 (80 meant as 80 %
    gets the fraction suggested), NPS -100 to 100, counts, seconds, scores and money >= 0; a
    band KPI takes [low, high].
    """
    if kpi.direction == "band":
        if not (isinstance(value, list) and len(value) == 2):
            return f"{quote(value)} is not a band; give [low, high], e.g. [0.75, 0.85]"
        for v in value:
            problem = check_threshold(Kpi(kpi.id, kpi.label, "", kpi.unit, "higher", {}), v)
            if problem:
                return problem
        return None if value[0] <= value[1] else f"band {quote(value)}: low is above high"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{quote(value)} is not a number ({kpi.id} is in {kpi.unit})"
    if not math.isfinite(value):
        return f"{quote(value)} is not a finite number"
    if kpi.unit == "fraction" and not 0 <= value <= 1:
        if 1 < value <= 100:
            return (f"{value:g} is not a fraction: {kpi.id} is a share from 0 to 1; did you mean "
                    f"{value:g} → {value / 100:.2f}?")
        return f"{value:g} is outside 0 to 1 ({kpi.id} is a fraction)"
    if kpi.unit == "nps" and not -100 <= value <= 100:
        return f"{value:g} is outside -100 to 100 (NPS points)"
    if kpi.unit in ("count", "seconds", "score", "currency") and value < 0:
        return f"{value:g} is negative; {kpi.id} ({kpi.unit}) cannot be below 0"
    return None


def check_overrides(overrides, registry: Registry) -> list[str]:
    """Problems with a list of per-group target overrides, each starting with its position
    (``[2].target: …``); an empty list when they are fine."""
    if not isinstance(overrides, list):
        return [f": expected a list of {{kpi, <dimension>, target}}, got {quote(overrides)}"]
    problems = []
    for k, o in enumerate(overrides):
        at = f"[{k}]"
        if not isinstance(o, dict):
            problems.append(f"{at}: expected {{kpi, <dimension>, target}}, got {quote(o)}")
            continue
        problems += [f"{at}.{key}: unknown key; allowed: {', '.join(OVERRIDE_KEYS)}"
                     for key in o if key not in OVERRIDE_KEYS]
        kid = o.get("kpi")
        if not isinstance(kid, str) or kid not in registry:
            problems.append(f"{at}.kpi: unknown KPI {quote(kid)}")
            continue
        if not any(d in o for d in OVERRIDE_DIMENSIONS):
            problems.append(f"{at} ({kid}): name one of {', '.join(OVERRIDE_DIMENSIONS)}")
        if "target" not in o:
            problems.append(f"{at} ({kid}): a target is required")
        for name in ("target", "warning", "critical"):
            if name in o:
                problem = check_threshold(registry[kid], o[name])
                if problem:
                    problems.append(f"{at}.{name} ({kid}): {problem}")
    return problems


def _met(direction: str, value, line) -> bool:
    """Whether ``value`` is on the right side of ``line`` (a band: inside it)."""
    if direction == "higher":
        return value >= line
    if direction == "lower":
        return value <= line
    return line[0] <= value <= line[1]


def rag_status(direction: str, value, th: Thresholds) -> str | None:
    """'green' only when the target is met; 'amber' when it is missed but the value is not
    past the critical line (:func:`status_text` says whether it is within the warning
    line's tolerance); 'red' past the critical line. None without a value or a target.

    >>> rag_status("lower", 28, Thresholds(20, 30, 45))  # ASA 0:28, target 0:20
    'amber'
    """
    if value is None or th.target is None or direction not in ("higher", "lower", "band") \
            or value != value:
        return None
    if _met(direction, value, th.target):
        return "green"
    if th.critical is not None and not _met(direction, value, th.critical):
        return "red"
    return "amber"


def within_tolerance(direction: str, value, th: Thresholds) -> bool:
    """True when a missed target is still within the warning line (the tolerance)."""
    return (rag_status(direction, value, th) == "amber" and th.warning is not None
            and th.warning != th.target and _met(direction, value, th.warning))


STATUS_WORDS = {"green": "On target", "tolerance": "Within tolerance", "amber": "Off target",
                "red": "Critical"}


def status_text(direction: str, value, th: Thresholds) -> str | None:
    """The status in words: On target, Within tolerance, Off target, Critical (None: no status)."""
    status = rag_status(direction, value, th)
    if status is None:
        return None
    return STATUS_WORDS["tolerance" if within_tolerance(direction, value, th) else status]
