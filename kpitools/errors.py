"""The kpitools exception tree.

Every error an analyst can meet derives from :class:`KpitoolsError`, so the CLI can turn
any of them into a one-line message instead of a traceback. Messages name the thing that
is wrong (file, column, row, value, period, KPI id) and, where possible, what would be right.
"""

from __future__ import annotations

QUOTE_LIMIT = 60


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters (ending in "..."): messages never echo unbounded
    input (a 5 MB cell must not become a 5 MB error line). The one cut every message uses."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def quote(value, limit: int = QUOTE_LIMIT) -> str:
    """``repr`` of a value as text, cut to ``limit`` characters (:func:`shorten`)."""
    return repr(shorten("" if value is None else str(value), limit))


class KpitoolsError(Exception):
    """Base class of every error kpitools raises on purpose."""


class DataError(KpitoolsError):
    """Input data is unreadable or breaks the canonical schema (SPEC §2)."""


class PeriodError(KpitoolsError):
    """A period label cannot be parsed or is outside what the data covers."""


class UnknownKpiError(KpitoolsError, KeyError):
    """A KPI id that is not in the registry."""

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0]) if self.args else "unknown KPI"


class ConfigError(KpitoolsError):
    """A registry, targets file or option is invalid."""


class ValidationFailed(KpitoolsError):
    """The data-quality gate found a critical problem; the review must not be built."""


class RenderError(KpitoolsError):
    """A review could not be executed or rendered."""
