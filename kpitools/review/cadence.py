"""The three review cadences and the sections each one shows (SPEC §6).

Sections are shared: a cadence is a grain, a trend depth and a list of section keys. The
commentary file uses the section titles as its ``#`` headings.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError


@dataclass(frozen=True)
class Section:
    key: str
    title: str


# Catalogue order is page order. Titles double as commentary headings.
SECTIONS: dict[str, Section] = {s.key: s for s in [
    Section("executive_summary", "Executive summary"),
    Section("scorecard", "Scorecard"),
    Section("trends", "Trends"),
    Section("breakdowns", "Breakdowns by queue and channel"),
    Section("issue_types", "AHT by issue type"),
    Section("heatmap", "Hour of day and weekday"),
    Section("cost_workforce", "Cost and workforce"),
    Section("staffing", "Staffing (Erlang C)"),
    Section("guardrail", "Experience vs efficiency"),
    Section("triggers", "Action triggers"),
    Section("data_quality", "Data quality"),
    Section("appendix", "Appendix"),
]}

_COMMON = ("executive_summary", "scorecard", "trends", "breakdowns", "issue_types", "heatmap")
_CLOSING = ("guardrail", "triggers", "data_quality", "appendix")


@dataclass(frozen=True)
class Cadence:
    """A review cadence: ``grain`` of its periods, ``trend_periods`` shown in trends."""

    name: str
    grain: str
    trend_periods: int
    title: str
    sections: tuple[str, ...]

    @property
    def period_word(self) -> str:
        return self.grain

    def section_titles(self) -> list[str]:
        return [SECTIONS[k].title for k in self.sections]


CADENCES: dict[str, Cadence] = {
    "weekly": Cadence("weekly", "week", 13, "Weekly review", _COMMON + _CLOSING),
    "monthly": Cadence("monthly", "month", 12, "Monthly review",
                       _COMMON + ("cost_workforce",) + _CLOSING),
    "quarterly": Cadence("quarterly", "quarter", 8, "Quarterly review",
                         _COMMON + ("cost_workforce", "staffing") + _CLOSING),
}

LABEL_EXAMPLES = {"week": "2026-W10", "month": "2026-03", "quarter": "2026-Q1"}


def get_cadence(name: str) -> Cadence:
    try:
        return CADENCES[name]
    except KeyError:
        raise ConfigError(
            f"unknown review cadence {name!r}; choose one of {', '.join(CADENCES)}"
        ) from None
