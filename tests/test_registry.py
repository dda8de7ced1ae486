"""The registry declares the whole SPEC §4 catalogue once, and its validator catches mistakes."""

from __future__ import annotations

import copy

import pytest
import yaml

import kpitools
from kpitools.errors import ConfigError, UnknownKpiError
from kpitools.registry import check_registry, load_registry, parse_registry

SPEC_KPIS = {
    "contact_volume", "offered", "handled", "aht", "asa", "service_level", "abandonment_rate",
    "answer_rate", "first_response_time", "fcr", "repeat_contact_rate", "transfer_rate",
    "escalation_rate", "csat", "nps", "ces", "occupancy", "utilization", "cost_per_contact",
    "quality_score",
}
SPEC_TARGETS = {"asa": 20, "service_level": 0.80, "abandonment_rate": 0.05, "answer_rate": 0.95,
                "fcr": 0.75, "repeat_contact_rate": 0.20, "transfer_rate": 0.10,
                "escalation_rate": 0.05, "csat": 0.85, "nps": 30, "ces": 3.0,
                "occupancy": [0.75, 0.85], "utilization": [0.75, 0.90], "quality_score": 85,
                "first_response_time": 4 * 3600}


def test_catalogue_covers_the_spec():
    assert SPEC_KPIS <= set(kpitools.registry)
    for kid, target in SPEC_TARGETS.items():
        assert kpitools.registry[kid].target == target, kid
    assert kpitools.registry["service_level"].variants == ["exclude_short", "negative", "ignore",
                                                           "ignore_within", "positive"]
    assert kpitools.registry["abandonment_rate"].variants == ["exclude_short", "include_short"]
    for k in kpitools.registry.values():
        assert k.label and k.description and k.unit and k.direction


def test_packaged_registry_is_sound():
    assert check_registry(kpitools.registry) == []


def _kpi(doc, kid):
    return next(k for k in doc["kpis"] if k["id"] == kid)


def _doc():
    from importlib import resources

    return yaml.safe_load(resources.files("kpitools").joinpath("catalogue.yaml").read_text())


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["kpis"].append(copy.deepcopy(d["kpis"][3])), "declared twice"),
    (lambda d: d["kpis"][3].update(numerator={"no_such_measure": 1}), "measure 'no_such_measure' is not declared"),
    (lambda d: d["kpis"][3].update(unit="furlongs"), "unit 'furlongs'"),
    (lambda d: d["kpis"][3].update(direction="sideways"), "direction 'sideways'"),
    (lambda d: d["kpis"][3].update(label=""), "label is missing"),
    (lambda d: d["measures"]["handled"].update(source="crm"), "source 'crm'"),
    (lambda d: d["triggers"][0].update(kpi="vibes"), "KPI 'vibes' is not declared"),
    (lambda d: d["measures"]["rt_wait_p90"].update(q=1.5), "a quantile needs q between 0 and 1"),
    (lambda d: d["measures"]["rt_wait_p90"].update(aggregate="median"), "aggregate 'median'"),
    (lambda d: d["measures"]["handled"].update(q=0.5), "q is only for aggregate quantile"),
    # a percentile inside a ratio would be summed across groups: refused
    (lambda d: d["kpis"][3].update(numerator={"rt_wait_p90": 1}), "is a quantile, not additive"),
    (lambda d: _kpi(d, "p90_wait").update(statistic="rt_answered"), "must be a quantile or max"),
    (lambda d: _kpi(d, "max_wait").update(sample="rt_wait_p90"), "must be an additive count"),
])
def test_validator_names_each_problem(mutate, message):
    doc = _doc()
    mutate(doc)
    with pytest.raises(ConfigError, match=message):
        parse_registry(doc)


def test_validator_reports_every_problem_at_once():
    doc = _doc()
    doc["kpis"][3]["unit"] = "furlongs"
    doc["kpis"][4]["direction"] = "sideways"
    with pytest.raises(ConfigError) as err:
        parse_registry(doc)
    assert "furlongs" in str(err.value) and "sideways" in str(err.value)


def test_unknown_kpi_error_names_it():
    with pytest.raises(UnknownKpiError, match="unknown KPI 'speed'"):
        kpitools.registry["speed"]


def test_load_registry_from_file(tmp_path):
    path = tmp_path / "cat.yaml"
    path.write_text(yaml.safe_dump(_doc()))
    assert set(load_registry(path)) == set(kpitools.registry)
    path.write_text("kpis: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_registry(path)
