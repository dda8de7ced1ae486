"""kpitools — contact-center KPIs from one registry, reviews you can trust.

Quick start::

    import kpitools
    data = kpitools.load("data/demo")
    kpitools.kpis(data, period="2026-W10", by="queue")
    kpitools.trend(data, "fcr", grain="week", periods=13)
    kpitools.compare(data, "2026-W10", against="previous")
    kpitools.registry["service_level"].description
"""

from .api import compare, kpis, kpis_for_periods, load, trend
from .errors import (
    ConfigError,
    DataError,
    KpitoolsError,
    PeriodError,
    RenderError,
    UnknownKpiError,
    ValidationFailed,
)
from .loading import Dataset
from .periods import Period
from .registry import registry

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataError",
    "Dataset",
    "KpitoolsError",
    "Period",
    "PeriodError",
    "RenderError",
    "UnknownKpiError",
    "ValidationFailed",
    "compare",
    "kpis",
    "kpis_for_periods",
    "load",
    "registry",
    "trend",
]
