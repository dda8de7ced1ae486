"""Static checks on the investigation notebooks (they are executed by `pytest --nbval-lax
notebooks`, the second step of `make test`).

STYLE: notebooks are named ``NN-short-description.ipynb``, stored without outputs, run on the
"kpitools" kernel, read their data folder from a papermill parameter, and take every formula
from the package. Findings are code cells tagged ``finding`` (their text is computed from the
data; tests/test_notebook_findings.py runs them on two data sets).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))

# Arithmetic that would re-type a KPI: a ratio built from numerator/denominator columns, or a
# mean/ratio of a value column computed in a cell.
RETYPED = [
    re.compile(r"numerator\W*\s*[/*]|[/*]\s*\w*\W*denominator"),
    re.compile(r"\.(mean|median)\(\)"),
    re.compile(r"\]\s*/\s*\w+\["),
]


def test_the_four_investigations_exist():
    assert [p.name for p in PATHS] == [
        "01-getting-started.ipynb",
        "02-aht-fcr-trap.ipynb",
        "03-staffing-erlang-c.ipynb",
        "04-survey-kpis-confidence.ipynb",
    ]


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_notebook_is_stored_clean_and_self_contained(path):
    assert re.fullmatch(r"\d{2}-[a-z0-9]+(-[a-z0-9]+)*\.ipynb", path.name)
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "kpitools"
    code = [c for c in nb.cells if c.cell_type == "code"]
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    assert all(not c.outputs and c.execution_count is None for c in code), "outputs not cleared"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert "What we found" in markdown[-1].source
    # The first code cell is papermill's parameters cell; the second finds and loads the data.
    assert code[0].metadata.get("tags") == ["parameters"]
    assert re.search(r"^data_dir = None\b", code[0].source, re.MULTILINE)
    assert "explore.data_folder(data_dir)" in code[1].source
    # Findings are computed: the closing summary is a tagged code cell, and no markdown prose
    # names a week, month or quarter of the data (`code` spans may show label syntax).
    assert "finding" in nb.cells[-1].metadata.get("tags", [])
    for cell in markdown:
        prose = re.sub(r"`[^`]*`", "", cell.source)
        assert not re.search(r"\b20\d\d-(W\d\d|Q\d|\d\d)\b", prose), cell.source
    for cell in code:
        for pattern in RETYPED:
            assert not pattern.search(cell.source), f"formula typed in a cell: {cell.source!r}"
