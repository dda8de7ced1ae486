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


def rag_status(direction: str, value, th: Thresholds) -> str | None:
    """'green' (meets warning line), 'amber' (past warning, not past critical) or 'red'.

    The warning line defaults to the target, so amber means "missed target". None when there
    is no value or no target.
    """
    if value is None or th.target is None or direction == "none" or value != value:
        return None
    warning = th.warning if th.warning is not None else th.target
    critical = th.critical
    if direction == "higher":
        if value >= warning:
            return "green"
        return "amber" if critical is None or value >= critical else "red"
    if direction == "lower":
        if value <= warning:
            return "green"
        return "amber" if critical is None or value <= critical else "red"
    if direction == "band":
        lo, hi = warning
        if lo <= value <= hi:
            return "green"
        if critical is None:
            return "amber"
        return "amber" if critical[0] <= value <= critical[1] else "red"
    return None
