"""The center configuration (kpitools.yaml, SPEC §7), safe YAML, definitions presets, quality
overrides, extra measures/KPIs and a center in America/New_York. Expected values are computed by
hand in the comments."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
import yaml
from conftest import contact, values

import kpitools
from kpitools.cli import main
from kpitools.config import CenterConfig, check_timezone, read_config
from kpitools.errors import ConfigError
from kpitools.validation import validate
from kpitools.yamlfile import read_yaml

W10 = "2026-03-02T09:00:00"


def write_yaml(folder, name, doc_or_text):
    text = doc_or_text if isinstance(doc_or_text, str) else yaml.safe_dump(doc_or_text, sort_keys=False)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- safe YAML -------------------------------------------------------------------------------
BILLION_LAUGHS = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: [*h,*h,*h,*h,*h,*h,*h] #lol
"""


@pytest.mark.parametrize("name", ["targets.yaml", "kpitools.yaml"])
def test_billion_laughs_fails_fast_without_expanding(tmp_path, make_data, name, capsys):
    assert len(BILLION_LAUGHS.encode()) == 338
    data = make_data(interactions=[contact("c1", W10)])
    write_yaml(data, name, BILLION_LAUGHS)
    t0 = time.perf_counter()
    rc = main(["kpis", "--data", str(data), "--period", "2026-W10"])
    elapsed = time.perf_counter() - t0
    err = capsys.readouterr().err
    assert rc == 2 and elapsed < 5
    assert err.startswith("error: ") and "anchors and aliases" in err and name in err
    assert len(err) < 400  # the message never carries the (expanded) content


@pytest.mark.parametrize("text, expected", [
    ("- {kpi: aht, queue: billing, target: 400}\n", "must be a mapping of key: value at the top level"),
    ("overrides: [\n  {kpi: aht\n", "not valid YAML at line"),
    ("overrides: []\noverrides: []\n", "line 2: key 'overrides' is repeated"),
    ("overrides: !!python/object/apply:os.system ['true']\n", "not valid YAML"),
])
def test_bad_yaml_is_one_line_naming_the_file(tmp_path, text, expected):
    path = write_yaml(tmp_path, "targets.yaml", text)
    with pytest.raises(ConfigError, match=expected) as info:
        read_yaml(path, "targets file")
    assert str(path) in str(info.value)


def test_yaml_size_is_capped(tmp_path):
    path = write_yaml(tmp_path, "kpitools.yaml", "# " + "x" * 2_000 + "\n")
    with pytest.raises(ConfigError, match="2,003 bytes; the limit is 1,000 bytes"):
        read_yaml(path, "center configuration", max_bytes=1_000)


# -- targets checked against the KPI's unit ------------------------------------------------------
@pytest.mark.parametrize("override, expected", [
    ({"kpi": "service_level", "channel": "voice", "target": 80}, "did you mean 80 → 0.80"),
    ({"kpi": "fcr", "queue": "billing", "target": "high"}, "'high' is not a number"),
    ({"kpi": "aht", "queue": "billing", "target": -5}, "-5 is negative"),
    ({"kpi": "aht", "queue": "billing", "target": float("nan")}, "not a finite number"),
    ({"kpi": "nps", "queue": "billing", "target": 150}, "outside -100 to 100"),
    ({"kpi": "aht", "qeue": "billing", "target": 400}, "qeue: unknown key"),
])
def test_targets_file_values_fit_the_unit(make_data, override, expected):
    data = make_data(interactions=[contact("c1", W10)])
    write_yaml(data, "targets.yaml", {"overrides": [override]})
    with pytest.raises(ConfigError, match=expected):
        kpitools.load(data)


# -- the configuration file ------------------------------------------------------------------
def test_every_problem_is_reported_at_once_with_key_value_and_allowed(tmp_path):
    path = write_yaml(tmp_path, "kpitools.yaml", {
        "timezone": "Mars/Olympus", "repeat": {"window_h": 0, "scope": "same_customer"},
        "channels": {"realtime": ["voice", "fax"]}, "short_abandon_s": -1,
        "definitions": "avaya", "colour": "x" * 500,
        "targets": {"defaults": {"service_level": 80}},
    })
    with pytest.raises(ConfigError) as info:
        read_config(path)
    msg = str(info.value)
    assert msg.startswith("kpitools.yaml: 8 problems")
    for part in ("timezone: 'Mars/Olympus' is not a time zone",
                 "repeat.window_h: 0 must be > 0",
                 "repeat.scope: 'same_customer' is not allowed; allowed: same_issue, any_issue",
                 "channels.realtime: 'fax' is not a channel; allowed: voice, chat, email, social",
                 "short_abandon_s: -1 must be >= 0",
                 "definitions: 'avaya' is not a preset; allowed: kpitools, amazon-connect, genesys-cloud, cisco",
                 "colour: unknown key", "targets.defaults.service_level: 80 is not a fraction"):
        assert part in msg, part
    assert "x" * 100 not in msg  # values are never echoed in full


def test_unknown_quality_check_lists_close_matches(tmp_path):
    path = write_yaml(tmp_path, "kpitools.yaml", {"quality": [
        {"check": "handled_inbound_has_agnt", "severity": "warning", "reason": "r"}]})
    with pytest.raises(ConfigError, match="close matches: handled_inbound_has_agent"):
        read_config(path)


@pytest.mark.parametrize("zone", ["UTC'; SELECT 1; --", "Europe/../../etc/passwd", "", "x" * 300])
def test_time_zone_injection_is_an_error_everywhere(make_data, capsys, zone):
    data = make_data(interactions=[contact("c1", W10)])
    rc = main(["kpis", "--data", str(data), "--period", "2026-W10", "--timezone", zone])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: --timezone:") and "Traceback" not in err
    write_yaml(data, "kpitools.yaml", {"timezone": zone})
    for argv in (["kpis", "--data", str(data), "--period", "2026-W10"],
                 ["validate", "--data", str(data)]):
        rc = main(argv)
        err = capsys.readouterr().err
        assert rc == 2 and "timezone:" in err and "not a time zone" in err, argv
    with pytest.raises(ConfigError):
        check_timezone(zone)


def test_threshold_channel_names_cannot_reach_sql(make_data):
    # params= bypasses the file's checks: a channel name with a quote is still only SQL text.
    data = make_data(interactions=[contact("c1", W10, wait=10)])
    d = kpitools.load(data, params={"answer_threshold_s": {"voice' THEN 0 END; --": 1}})
    got = values(kpitools.kpis(d, "2026-W10", kpis=["service_level"]))
    assert got["service_level"] == 1.0  # wait 10 <= default threshold 20: the odd key matched nothing


def test_config_maps_onto_params_and_command_line_wins(make_data):
    rows = [contact("c1", W10, wait=25), contact("c2", W10, wait=3, outcome="abandoned")]
    data = make_data(interactions=rows)
    write_yaml(data, "kpitools.yaml", {
        "timezone": "America/New_York", "answer_threshold_s": {"voice": 30}, "short_abandon_s": 2,
        "repeat": {"window_h": 48, "scope": "any_issue"}, "min_sample": 10,
        "currency": {"code": "USD", "symbol": "$"}})
    d = kpitools.load(data)
    assert isinstance(d.config, CenterConfig) and d.config.name == "kpitools.yaml"
    p = d.params
    assert (p["business_timezone"], p["answer_threshold_s"]["voice"], p["answer_threshold_s"]["chat"],
            p["short_abandon_s"], p["repeat_window_h"], p["repeat_scope"], p["min_survey_sample"],
            p["currency_symbol"]) == ("America/New_York", 30, 60, 2, 48, "any_issue", 10, "$")
    assert d.registry["csat"].min_sample == 10
    # wait 25 <= 30 answered within; the abandon (3 s) is not short (< 2 s): SL = 1 / 2
    assert values(kpitools.kpis(d, "2026-W10", kpis=["service_level"]))["service_level"] == 0.5
    assert kpitools.load(data, timezone="Europe/London").params["business_timezone"] == "Europe/London"


def test_config_targets_and_targets_file_precedence(make_data):
    data = make_data(interactions=[contact("c1", W10, queue="billing", talk=400.0)])
    write_yaml(data, "kpitools.yaml", {"targets": {
        "defaults": {"aht": 500, "service_level": {"target": 0.9, "critical": 0.8}},
        "overrides": [{"kpi": "aht", "queue": "billing", "target": 450}]}})
    d = kpitools.load(data)
    # default target 360 -> 500; warning follows the target (360 -> 500), critical scales 450 * 500/360
    aht = d.registry["aht"]
    assert (aht.target, aht.warning, aht.critical) == (500, 500, pytest.approx(625.0))
    assert (d.registry["service_level"].target, d.registry["service_level"].critical) == (0.9, 0.8)
    by_q = kpitools.kpis(d, "2026-W10", by="queue", kpis=["aht"])
    assert by_q["target"].iloc[0] == 450  # the configuration's override
    write_yaml(data, "targets.yaml", {"overrides": [{"kpi": "aht", "queue": "billing", "target": 420}]})
    by_q = kpitools.kpis(kpitools.load(data), "2026-W10", by="queue", kpis=["aht"])
    assert by_q["target"].iloc[0] == 420  # targets.yaml wins over kpitools.yaml for the same group


def test_repeat_scope_any_issue(make_data):
    rows = [contact("c1", "2026-03-02T09:00:00", customer="u1", issue="bill"),
            contact("c2", "2026-03-03T09:00:00", customer="u1", issue="tech"),
            contact("c3", "2026-03-02T10:00:00", customer="u2", issue="bill")]
    data = make_data(interactions=rows)
    same = kpitools.load(data)
    anyi = kpitools.load(data, config={"repeat": {"scope": "any_issue"}})
    short = kpitools.load(data, config={"repeat": {"scope": "any_issue", "window_h": 12}})
    get = lambda d: values(kpitools.kpis(d, "2026-W10", kpis=["repeat_contact_rate"]))["repeat_contact_rate"]  # noqa: E731
    assert get(same) == 0.0  # c2 has another issue type: no repeat; 0 of 3 eligible
    assert get(anyi) == pytest.approx(1 / 3)  # c1 is followed by c2 24 h later
    assert get(short) == 0.0  # 24 h > 12 h window


def test_staffing_takes_threshold_and_target_from_config(tmp_path, capsys):
    path = write_yaml(tmp_path, "kpitools.yaml", {"answer_threshold_s": {"chat": 45},
                                                  "targets": {"defaults": {"service_level": 0.9}}})
    base = ["staffing", "--contacts", "100", "--interval-s", "1800", "--aht-s", "180"]
    assert main([*base, "--config", str(path), "--channel", "chat"]) == 0
    from_config = json.loads(capsys.readouterr().out)
    assert main([*base, "--answer-within-s", "45", "--target-sl", "0.9"]) == 0
    assert from_config == json.loads(capsys.readouterr().out)
    assert main(base) == 2 and "--answer-within-s and --target-sl are required" in capsys.readouterr().err


# -- definitions presets (docs/definitions.md) ------------------------------------------------
def sl_example(late_and_short: bool):
    """SPEC §4: 70 answered within 20 s, 20 answered after, 10 abandoned within (waited 10 s);
    plus one late abandon (30 s) and one short abandon (2 s, also within the threshold)."""
    rows = [contact(f"w{k}", W10, wait=10) for k in range(70)]
    rows += [contact(f"l{k}", W10, wait=40) for k in range(20)]
    rows += [contact(f"a{k}", W10, wait=10, outcome="abandoned") for k in range(10)]
    if late_and_short:
        rows += [contact("late", W10, wait=30, outcome="abandoned"),
                 contact("short", W10, wait=2, outcome="abandoned")]
    return rows


def test_spec_worked_check(make_data):
    d = kpitools.load(make_data(interactions=sl_example(False)))
    got = {v: values(kpitools.kpis(d, "2026-W10", variant=v, kpis=["service_level"]))["service_level"]
           for v in ("ignore", "ignore_within", "negative", "positive")}
    assert got["ignore"] == pytest.approx(0.778, abs=5e-4)          # 70 / (100 - 10)
    assert got["ignore_within"] == pytest.approx(70 / 90)           # all 10 abandons were within
    assert got["negative"] == pytest.approx(0.700)                  # 70 / 100
    assert got["positive"] == pytest.approx(0.800)                  # (70 + 10) / 100


# offered 102 = 90 answered + 12 abandoned; abandoned within 20 s = 10 + short = 11; short = 1
PRESETS = {
    "kpitools": {"service_level": ("exclude_short", 70 / 101), "abandonment_rate": ("exclude_short", 11 / 101)},
    "amazon-connect": {"service_level": ("positive", 81 / 102), "abandonment_rate": ("include_short", 12 / 102)},
    "genesys-cloud": {"service_level": ("negative", 70 / 102), "abandonment_rate": ("include_short", 12 / 102)},
    "cisco": {"service_level": ("ignore_within", 70 / 91), "abandonment_rate": ("exclude_short", 11 / 101)},
}


def test_presets_change_exactly_the_documented_variants(make_data):
    data = make_data(interactions=sl_example(True))
    frames = {}
    for preset, expected in PRESETS.items():
        write_yaml(data, "kpitools.yaml", {"definitions": preset})
        frame = kpitools.kpis(kpitools.load(data), "2026-W10").set_index("kpi")
        for kid, (variant, value) in expected.items():
            assert frame.loc[kid, "variant"] == variant, (preset, kid)
            assert frame.loc[kid, "value"] == pytest.approx(value), (preset, kid)
        frames[preset] = frame
    base = frames["kpitools"].drop(index=["service_level", "abandonment_rate"])
    for preset, frame in frames.items():  # every other KPI is untouched by the preset
        other = frame.drop(index=["service_level", "abandonment_rate"])
        assert other["value"].equals(base["value"]) and other["variant"].equals(base["variant"]), preset
    # --variant on the command line wins over the preset
    write_yaml(data, "kpitools.yaml", {"definitions": "cisco"})
    frame = kpitools.kpis(kpitools.load(data), "2026-W10", variant="negative").set_index("kpi")
    assert frame.loc["service_level", "value"] == pytest.approx(70 / 102)


def test_definitions_mapping_picks_a_variant_per_kpi(make_data):
    data = make_data(interactions=sl_example(True))
    d = kpitools.load(data, config={"definitions": {"preset": "genesys-cloud",
                                                    "service_level": "exclude_short"}})
    got = values(kpitools.kpis(d, "2026-W10", kpis=["service_level", "abandonment_rate"]))
    assert got == {"service_level": pytest.approx(70 / 101), "abandonment_rate": pytest.approx(12 / 102)}


# -- extra measures and KPIs -------------------------------------------------------------------
EXTRA = {
    "measures": {"long_holds": {"source": "interactions", "when": "is_handled AND hold_s > 60",
                                "description": "handled contacts held over a minute"}},
    "kpis": [{"id": "long_hold_rate", "label": "Long-hold rate",
              "description": "Handled contacts held more than 60 s.",
              "numerator": {"long_holds": 1}, "denominator": {"handled": 1},
              "unit": "fraction", "direction": "lower", "target": 0.2, "ci": "wilson"}],
}


def test_extra_kpi_is_computed_like_a_built_in_one(make_data, capsys):
    rows = [contact("h1", W10, hold=90.0, queue="billing"), contact("h2", W10, hold=30.0, queue="billing"),
            contact("h3", W10, hold=61.0, queue="tech"), contact("h4", W10, hold=0.0, queue="tech"),
            contact("ab", W10, wait=30, outcome="abandoned", queue="tech")]
    data = make_data(interactions=rows)
    write_yaml(data, "kpitools.yaml", EXTRA)
    assert main(["kpis", "--data", str(data), "--period", "2026-W10", "--by", "queue",
                 "--format", "json", "--kpi", "long_hold_rate"]) == 0
    recs = {r["queue"]: r for r in json.loads(capsys.readouterr().out)}
    assert recs["billing"]["value"] == pytest.approx(1 / 2)  # h1 (90 s) of h1, h2
    assert recs["tech"]["value"] == pytest.approx(1 / 2)     # h3 (61 s) of h3, h4; the abandon is not handled
    # 0.5 misses the 0.2 target (the warning line); no critical line is declared: amber
    assert recs["tech"]["status"] == "amber" and recs["tech"]["label"] == "Long-hold rate"
    total = values(kpitools.kpis(kpitools.load(data), "2026-W10", kpis=["long_hold_rate"]))
    assert total["long_hold_rate"] == pytest.approx(2 / 4)


@pytest.mark.parametrize("when, expected", [
    ("is_handled; DROP TABLE interactions", "has ';'"),
    ("hold_s > (SELECT 1)", "uses 'SELECT'"),
    ("read_csv('/etc/passwd') IS NOT NULL", "calls read_csv()"),
])
def test_extra_measure_sql_is_checked(tmp_path, when, expected):
    doc = json.loads(json.dumps(EXTRA))
    doc["measures"]["long_holds"]["when"] = when
    path = write_yaml(tmp_path, "kpitools.yaml", doc)
    with pytest.raises(ConfigError, match=expected):
        read_config(path)


def test_extra_measure_problems_all_at_once(tmp_path, make_data):
    doc = json.loads(json.dumps(EXTRA))
    doc["kpis"][0]["unit"] = "percent"
    doc["kpis"][0]["numerator"] = {"long_hols": 1}
    doc["kpis"].append({"id": "aht", "label": "x"})
    with pytest.raises(ConfigError) as info:
        read_config(write_yaml(tmp_path, "kpitools.yaml", doc))
    msg = str(info.value)
    assert "kpis[1].id: 'aht' is a built-in KPI" in msg
    assert "unit 'percent' is not one of" in msg and "measure 'long_hols' is not declared" in msg
    doc = json.loads(json.dumps(EXTRA))
    doc["measures"]["long_holds"]["when"] = "is_handled AND priority = 'high'"
    data = make_data(interactions=[contact("c1", W10)])
    write_yaml(data, "kpitools.yaml", doc)
    with pytest.raises(ConfigError, match="measures.long_holds: column 'priority' is not in the interactions"):
        kpitools.load(data)


# -- data-quality overrides ------------------------------------------------------------------
def defect_rows():
    rows = [contact(f"c{k}", W10) for k in range(5)]
    rows.append(contact("noagent", W10, agent=None))  # a served call without an agent id
    return rows


QUALITY = {"quality": [{"check": "handled_inbound_has_agent", "severity": "warning",
                        "reason": "The PBX export drops agent ids on overflow calls (ticket OPS-12)."}]}


def test_quality_override_lowers_the_check_and_records_why(make_data, capsys):
    data = make_data(interactions=defect_rows())
    strict = validate(str(data), period="2026-W10")
    bad = [r for r in strict.results if r["check"] == "handled_inbound_has_agent"][0]
    assert not strict.ok and bad["severity"] == "critical" and bad["unexpected_count"] == 1
    write_yaml(data, "kpitools.yaml", QUALITY)
    report = validate(str(data), period="2026-W10")
    rec = [r for r in report.results if r["check"] == "handled_inbound_has_agent"][0]
    assert report.ok and rec["success"] is False and rec["severity"] == "warning"
    assert rec["override"] == {"original_severity": "critical", "severity": "warning",
                               "reason": QUALITY["quality"][0]["reason"], "source": "kpitools.yaml"}
    assert report.to_dict()["quality_overrides"][0]["applied"] is True
    assert main(["validate", "--data", str(data), "--period", "2026-W10"]) == 0
    text = capsys.readouterr().out
    assert "lowered from critical by kpitools.yaml: The PBX export drops agent ids" in text
    assert main(["validate", "--data", str(data), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["config"] == "kpitools.yaml" and out["quality_overrides"][0]["original_severity"] == "critical"


def test_review_sections_show_override_config_and_extra_kpi(make_data):
    from kpitools import review

    data = make_data(interactions=defect_rows())
    write_yaml(data, "kpitools.yaml", {**QUALITY, **EXTRA, "timezone": "America/New_York",
                                       "definitions": "cisco"})
    ctx = review.open_review("weekly", period="2026-W10", data_dir=str(data))
    dq_html = str(review.section_data_quality(ctx))
    assert "Accepted by kpitools.yaml" in dq_html and "ticket OPS-12" in dq_html
    assert "lowered from critical by kpitools.yaml" in dq_html
    appendix = str(review.section_appendix(ctx))
    assert "Configuration in force (kpitools.yaml)" in appendix and "America/New_York" in appendix
    assert "preset cisco: service_level ignore_within; abandonment_rate exclude_short" in appendix
    assert "Long-hold rate" in appendix and str(data) not in appendix  # file names only
    scorecard = str(review.section_scorecard(ctx))
    assert "Long-hold rate" in scorecard and "[ignore_within]" in scorecard and "[exclude_short]" in scorecard
    # the other definitions are shown for reference, labelled, for both KPIs with variants
    assert 'Abandonment rate <span class="variant">[include_short]</span>' in scorecard
    assert 'Service level <span class="variant">[positive]</span>' in scorecard


# -- a center in America/New_York ------------------------------------------------------------
# DST starts Sunday 2026-03-08 02:00 local. Weeks are local: W10 = Mar 2-8, W11 = Mar 9-15.
NY_ROWS = [
    contact("x4", "2026-03-02T04:30:00Z", queue="x4", customer="c4"),  # Sun Mar 1 23:30 EST -> W09 (UTC: W10)
    contact("x5", "2026-03-02T05:00:00Z", queue="x5", customer="c5"),  # Mon Mar 2 00:00 EST -> W10
    contact("x1", "2026-03-09T03:30:00Z", queue="x1", customer="r1"),  # Sun Mar 8 23:30 EDT -> W10 (UTC: W11)
    contact("x1b", "2026-03-09T05:30:00Z", queue="x1b", customer="r1"),  # Mon 01:30 EDT, 2 h later: a repeat
    contact("x3", "2026-03-09T04:00:00Z", queue="x3", customer="c3"),  # Mon Mar 9 00:00 EDT -> W11
    contact("x2", "2026-03-16T03:59:00Z", queue="x2", customer="c2"),  # Sun Mar 15 23:59 EDT -> W11 (UTC: W12)
]


def test_new_york_weeks_cross_dst_in_local_time(make_data):
    data = make_data(interactions=NY_ROWS)
    write_yaml(data, "kpitools.yaml", {"timezone": "America/New_York"})
    local = kpitools.load(data)
    queues = lambda d, p: sorted(kpitools.kpis(d, p, by="queue", kpis=["contact_volume"])["queue"])  # noqa: E731
    assert queues(local, "2026-W10") == ["x1", "x5"]
    assert queues(local, "2026-W11") == ["x1b", "x2", "x3"]
    assert queues(local, "2026-W09") == ["x4"]
    utc = kpitools.load(data, timezone="UTC")  # the command line wins: the same data in UTC weeks
    assert queues(utc, "2026-W11") == ["x1", "x1b", "x3"]
    # The repeat x1 -> x1b (2 h later) counts for the contact's local week W10.
    rep = kpitools.kpis(local, "2026-W10", kpis=["repeat_contact_rate"])
    assert (rep["numerator"].iloc[0], rep["denominator"].iloc[0]) == (1, 2)  # x1 repeated; x5 not
    assert local.coverage == (dt.date(2026, 3, 1), dt.date(2026, 3, 15))


def test_new_york_validate_scope_is_local(make_data, capsys):
    data = make_data(interactions=NY_ROWS)
    write_yaml(data, "kpitools.yaml", {"timezone": "America/New_York"})
    # W12 scope = W12, W11 and 2025-W12: local W11 holds x1b, x3, x2; UTC would give x1, x1b, x3, x2
    assert main(["validate", "--data", str(data), "--period", "2026-W12", "--format", "json"]) in (0, 1)
    out = json.loads(capsys.readouterr().out)
    assert out["rows_checked"]["interactions"] == 3
    assert main(["kpis", "--data", str(data), "--period", "2026-W11", "--format", "json",
                 "--kpi", "contact_volume"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["value"] == 3


def test_data_folder_with_a_quote_in_its_name_is_read_not_spliced(tmp_path):
    from conftest import write_data

    folder = write_data(tmp_path / "it's data'; SELECT 1; --", interactions=[contact("c1", W10)])
    d = kpitools.load(folder)
    assert values(kpitools.kpis(d, "2026-W10", kpis=["contact_volume"]))["contact_volume"] == 1


def test_one_channel_list_puts_every_other_channel_in_the_other(make_data):
    rows = [contact("v", W10, wait=10), contact("c", W10, wait=600, channel="chat")]
    d = kpitools.load(make_data(interactions=rows), config={"channels": {"realtime": ["voice"]}})
    assert d.params["async_channels"] == ["chat", "email", "social"]
    got = values(kpitools.kpis(d, "2026-W10", kpis=["asa", "first_response_time"]))
    assert got == {"asa": 10.0, "first_response_time": 600.0}  # chat now waits as an async channel
