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

from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import ConfigError
from .registry import Kpi, Registry

OVERRIDE_DIMENSIONS = ("queue", "channel", "issue_type", "team", "agent_id")


@dataclass(frozen=True)
class Thresholds:
    target: object
    warning: object
    critical: object


def _scaled(default, default_target, new_target):
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
    def load(cls, path: Path, registry: Registry) -> Targets:
        try:
            doc = yaml.safe_load(Path(path).read_text("utf-8")) or {}
        except FileNotFoundError:
            raise ConfigError(f"targets file {path} does not exist") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc})") from None
        overrides = doc.get("overrides") or []
        problems = []
        for k, o in enumerate(overrides, 1):
            if not isinstance(o, dict) or o.get("kpi") not in registry:
                problems.append(f"entry {k}: unknown KPI {o.get('kpi') if isinstance(o, dict) else o!r}")
                continue
            dims = [d for d in OVERRIDE_DIMENSIONS if d in o]
            if not dims:
                problems.append(f"entry {k} ({o['kpi']}): name one of {', '.join(OVERRIDE_DIMENSIONS)}")
            if "target" not in o:
                problems.append(f"entry {k} ({o['kpi']}): a target is required")
        if problems:
            raise ConfigError(f"{path}: " + "; ".join(problems))
        return cls(overrides, registry, str(path))

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
                    o.get("warning", _scaled(kpi.warning, kpi.target, t)),
                    o.get("critical", _scaled(kpi.critical, kpi.target, t)),
                )
        return base


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
