"""The weekly, monthly and quarterly reviews (SPEC §6).

Templates in ``report_templates/`` are thin: a parameters cell, then::

    from kpitools import review
    ctx = review.open_review("weekly", period=period, data_dir=data_dir, ...)
    review.section_title(ctx)
    review.section_executive_summary(ctx)
    ...

``kpitools report weekly`` (:func:`run_cli`) validates the data, executes the template with
papermill and renders HTML (nbconvert, custom template) and PDF (WeasyPrint), publishing into
``reports/<cadence>/<period>/`` only when everything succeeded.
"""

from importlib import import_module

from .cadence import CADENCES, SECTIONS, get_cadence

ENGINES = ("duckdb", "spark")  # where the review's KPI SQL can run (docs/engines.md)

# Sections, charts and the context pull in pandas, matplotlib and seaborn; the `kpitools
# report` process itself needs none of them, so they load on first use (PEP 562).
_LAZY = {
    "ReviewContext": "context", "comparison": "context", "open_review": "context",
    "parse_commentary": "commentary", "read_commentary": "commentary",
    "render_markdown": "commentary", "stub_text": "commentary", "write_stub": "commentary",
    "SECTION_FUNCTIONS": "sections", "render_all": "sections",
    **{name: "sections" for name in (
        "section_appendix", "section_breakdowns", "section_cost_workforce",
        "section_data_quality", "section_executive_summary", "section_guardrail",
        "section_heatmap", "section_issue_types", "section_scorecard", "section_staffing",
        "section_title", "section_trends", "section_triggers")},
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kpitools.review' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def run_cli(args) -> int:
    """Entry point of ``kpitools report`` (see :mod:`kpitools.review.cli`)."""
    from .cli import run_cli as _run

    return _run(args)


__all__ = [
    "CADENCES", "SECTIONS", "SECTION_FUNCTIONS", "ReviewContext", "comparison", "get_cadence",
    "open_review", "parse_commentary", "read_commentary", "render_all", "render_markdown",
    "run_cli", "section_appendix", "section_breakdowns", "section_cost_workforce",
    "section_data_quality", "section_executive_summary", "section_guardrail", "section_heatmap",
    "section_issue_types", "section_scorecard", "section_staffing", "section_title",
    "section_trends", "section_triggers", "stub_text", "write_stub",
]
