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


# One worker runs the module (no batch computed twice); the summary test below still gets
# every batch itself, so it holds in any order.
pytestmark = pytest.mark.xdist_group("validation_sql")
_RUNS: dict[int, tuple] = {}


def _run_batch(batch: int, tmp_path_factory) -> tuple[list[str], object, object]:
    """(seeds applied, SQL report, GX report) of one seeded copy, computed once per process."""
    if batch not in _RUNS:
        fx, applied = _copy(tmp_path_factory.mktemp(f"batch{batch}"), BATCHES[batch])
        _RUNS[batch] = (applied, validate(fx.folder), validate(fx.folder, checks="gx"))
    return _RUNS[batch]


@pytest.mark.parametrize("period", [None, "2026-W03", "2026-W08"])
def test_clean_fixture_same_records_as_gx(period):
    _assert_same(validate(CLEAN, period), validate(CLEAN, period, checks="gx"))


@pytest.mark.parametrize("batch", range(len(BATCHES)))
def test_seeded_defects_same_records_as_gx(batch, tmp_path_factory):
    applied, sql, gx = _run_batch(batch, tmp_path_factory)
    _assert_same(sql, gx)
    failed = {f"{r['suite']}.{r['check']}" for r in sql.failures}
    assert failed & set(applied), "the copy must carry defects the gate finds"


def test_every_expectation_type_was_compared_failing(tmp_path_factory):
    """Each of the eight expectation types the suites use failed, with its counts and
    examples compared, in some copy, and most seeded defects were caught in their copy."""
    failed_types: Counter = Counter()
    applied_checks: set[str] = set()
    for batch in range(len(BATCHES)):
        applied, sql, _ = _run_batch(batch, tmp_path_factory)
        failed = {f"{r['suite']}.{r['check']}" for r in sql.failures}
        failed_types.update(r["expectation"] for r in sql.failures)
        applied_checks.update(failed & set(applied))
    assert set(failed_types) >= {
        "expect_column_values_to_be_between", "expect_column_values_to_be_null",
        "expect_column_values_to_not_be_null", "expect_column_values_to_be_in_set",
        "expect_column_pair_values_a_to_be_greater_than_b", "expect_table_columns_to_match_set",
        "expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
    assert len(applied_checks) >= 0.8 * len(SEEDS)


def test_missing_values_and_repeats_counted_as_gx_counts_them():
    """A five-row frame with NULL and NaN: hand-computed counts, and GX agrees."""
    import duckdb

    from kpitools import _expectations_sql, _gx
    from kpitools._validation_data import Staged
    from kpitools._validation_frames import Frame

    con = duckdb.connect()
    staged = Staged(con=con, present={})
    staged.create_view("_dq_frame_t", """
        SELECT * FROM (VALUES ('a', 1.0, 'p'), ('b', 'NaN'::DOUBLE, 'p'), ('c', NULL, NULL),
                              ('d', -1.0, 'q'), ('e', 5.0, 'q')) v(_key, x, y)""")
    frame = Frame("t", "_dq_frame_t", ["_key", "x", "y"], ["_key"])

    def exp(kind, check, **kwargs):
        return {"type": kind, "kwargs": kwargs,
                "meta": {"check": check, "severity": "critical", "description": check}}

    exps = [exp("expect_column_values_to_be_between", "x_not_negative", column="x", min_value=0),
            exp("expect_column_values_to_not_be_null", "x_present", column="x"),
            exp("expect_column_values_to_be_unique", "y_unique", column="y"),
            exp("expect_column_values_to_be_in_set", "y_allowed", column="y", value_set=["p"],
                row_condition={"column": {"name": "x"}, "operator": ">=", "parameter": 0,
                               "type": "comparison"})]
    rows, got = _expectations_sql.run(staged, frame, exps)
    assert rows == 5
    counts = [(r["result"]["element_count"], r["result"]["unexpected_count"],
               r["result"]["unexpected_percent"]) for r in got]
    assert counts == [
        (5, 1, 1 / 3 * 100),  # NaN and NULL are missing: 3 values checked, -1 fails
        (5, 2, 2 / 5 * 100),  # NaN and NULL both count as null, of all 5 rows
        (5, 4, 4 / 4 * 100),  # p, p, q, q all repeat; the NULL is not checked
        (2, 1, 1 / 2 * 100),  # x >= 0 holds for a and e only (NaN and NULL compare false): e is q
    ]
    assert [r["success"] for r in got] == [False, False, False, False]
    assert [[i["_key"] for i in r["index"]] for r in got] == [["d"], ["b", "c"],
                                                               ["a", "b", "d", "e"], ["e"]]
    _, reference = _gx.run_frame(staged, frame, exps)
    for mine, theirs in zip(got, reference, strict=True):
        assert mine["success"] == theirs["success"]
        for key in ("element_count", "unexpected_count", "unexpected_percent"):
            assert mine["result"][key] == pytest.approx(theirs["result"][key]), key
