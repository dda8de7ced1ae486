"""The gate's SQL checks against Great Expectations itself.

The gate evaluates the stored GX suites as SQL in the engine (kpitools/_expectations_sql.py).
Here GX (pandas) checks pandas copies of the very same frames (``validate(checks="gx")``)
and every record must be identical: success, counts, percentages, examples, skips, errors.
The fixtures are the clean one and copies carrying the seeded defects of
tests/test_validation.py, several defects per copy so the whole list costs a handful of GX
runs instead of one per defect.
"""

from __future__ import annotations

import shutil
from collections import Counter

import pytest
from test_validation import CLEAN, SEEDS, Fixture

from kpitools.validation import validate

FIELDS = ["suite", "check", "table", "column", "expectation", "severity", "success",
          "unexpected_count", "element_count", "unexpected_percent", "examples",
          "example_values", "skipped", "error", "description"]
COPIES = 9
# every ninth seed in one copy: neighbouring seeds often edit the same row
BATCHES = [SEEDS[k::COPIES] for k in range(COPIES)]


def _copy(tmp_path, seeds) -> tuple[Fixture, list[str]]:
    folder = tmp_path / "data"
    shutil.copytree(CLEAN, folder, ignore=shutil.ignore_patterns("*.py", "*.md", "__pycache__"))
    fx = Fixture(folder)
    applied = []
    for seed in seeds:
        try:
            seed.edit(fx)
        except (AssertionError, KeyError):  # an earlier defect took the row or column
            continue
        applied.append(seed.check)
    return fx, applied


def _assert_same(sql, gx) -> None:
    assert sql.rows_checked == gx.rows_checked
    assert sql.load_error == gx.load_error
    assert len(sql.results) == len(gx.results) > 100
    for s, g in zip(sql.results, gx.results, strict=True):
        assert {k: s[k] for k in FIELDS} == {k: g[k] for k in FIELDS}, g["check"]


failed_types: Counter = Counter()  # expectation type -> failures compared (non-vacuity check)
applied_checks: set[str] = set()


@pytest.mark.parametrize("period", [None, "2026-W03", "2026-W08"])
def test_clean_fixture_same_records_as_gx(period):
    _assert_same(validate(CLEAN, period), validate(CLEAN, period, checks="gx"))


@pytest.mark.parametrize("batch", range(len(BATCHES)))
def test_seeded_defects_same_records_as_gx(batch, tmp_path):
    fx, applied = _copy(tmp_path, BATCHES[batch])
    sql = validate(fx.folder)
    gx = validate(fx.folder, checks="gx")
    _assert_same(sql, gx)
    failed = {f"{r['suite']}.{r['check']}" for r in sql.failures}
    assert failed & set(applied), "the copy must carry defects the gate finds"
    for r in sql.failures:
        failed_types[r["expectation"]] += 1
    applied_checks.update(failed & set(applied))


def test_every_expectation_type_was_compared_failing():
    """Runs after the batches (file order): each of the eight expectation types the suites
    use failed, with its counts and examples compared, in some copy, and most seeded
    defects were caught in their copy."""
    assert set(failed_types) >= {
        "expect_column_values_to_be_between", "expect_column_values_to_be_null",
        "expect_column_values_to_not_be_null", "expect_column_values_to_be_in_set",
        "expect_column_pair_values_a_to_be_greater_than_b", "expect_table_columns_to_match_set",
        "expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
    assert len(applied_checks) >= 0.8 * len(SEEDS)
