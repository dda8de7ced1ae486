"""The mapped importer: CSV/Parquet exports through a YAML mapping (issue 10, docs/importers.md).

Fixtures (tests/fixtures/mapped/) are written by hand in the layout of a Five9 Call Log report
and a Talkdesk Contacts report, read through the shipped mappings. Five9 traps: a transfer on
two rows (CALL ID 1002, one leg over an hour long), an exact duplicate row, an internal call,
abandons with AGENT [None], a call 10 s before local midnight on the day DST starts (1007) and
one on Sunday evening in New York that is Monday in UTC (1008). Talkdesk traps: a missed
contact followed by an answered one (i-02), a transfer (i-03), voicemail and not-connected
rows, a duplicate, a callback and a contact 2 s before midnight.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

import kpitools
from kpitools.errors import ConfigError, DataError
from kpitools.importers import ImportOptions, RecordError, mapped, run_import
from kpitools.importers.common import pseudonym

FIXTURES = Path(__file__).parent / "fixtures" / "mapped"
FIVE9 = FIXTURES / "five9-call-log.csv"
TALKDESK = FIXTURES / "talkdesk-contacts.csv"
KEY = b"test-key-0123456789abcdef"
FIELDS = ("direction", "queue", "agent_id", "arrived_at", "answered_at", "ended_at", "outcome",
          "talk_s", "hold_s", "acw_s", "transferred", "issue_type")

# Five9 times are New York wall times (EST = UTC-5 until 8 March 02:00, EDT = UTC-4 after).
# arrived = DATE TIME + IVR TIME; answered = arrived + QUEUE WAIT + RING; ended = answered +
# talk + hold.
FIVE9_EXPECTED = {
    # 09:00:00 + 20 s IVR = 09:00:20 EST; +10 +5 = 09:00:35; + 240 + 30 = 09:05:05
    "1001": ("inbound", "Billing", "ann@acme.example", "2026-03-02 14:00:20",
             "2026-03-02 14:00:35", "2026-03-02 14:05:05", "handled", 240, 30, 45, False,
             "Payment question"),
    # leg 1 10:00:15 answered 10:00:23 (120 s talk, 20 s ACW, 1 transfer); leg 2 10:02:23,
    # answered 10:02:57, talk 1:05:00 = 3900 s, hold 60, ACW 60 -> ends 11:08:57.
    # talk 120 + 3900 = 4020; hold 60; ACW 80; the last leg's disposition
    "1002": ("inbound", "Billing", "ann@acme.example", "2026-03-02 15:00:15",
             "2026-03-02 15:00:23", "2026-03-02 16:08:57", "handled", 4020, 60, 80, True, "Fixed"),
    # abandoned after 45 s in queue: no answer, no agent
    "1003": ("inbound", "Billing", None, "2026-03-03 16:00:20", None, "2026-03-03 16:01:05",
             "abandoned", 0, 0, 0, False, "Abandon"),
    "1004": ("inbound", "Billing", None, "2026-03-03 16:30:10", None, "2026-03-03 16:30:13",
             "abandoned", 0, 0, 0, False, "Abandon"),
    # Manual = outbound; SKILL [None] = no queue
    "1006": ("outbound", None, "ann@acme.example", "2026-03-04 19:00:00", "2026-03-04 19:00:00",
             "2026-03-04 19:03:00", "handled", 180, 0, 30, False, "Callback done"),
    # Sunday 8 March 23:59:40 + 10 s IVR = 23:59:50 EDT = Monday 03:59:50 UTC
    "1007": ("inbound", "Billing", "cat@acme.example", "2026-03-09 03:59:50",
             "2026-03-09 04:00:10", "2026-03-09 04:05:10", "handled", 300, 0, 30, False,
             "Payment question"),
    # Sunday 1 March 20:59:50 + 10 s = 21:00:00 EST = Monday 02:00 UTC
    "1008": ("inbound", "Tech", "bob@acme.example", "2026-03-02 02:00:00", "2026-03-02 02:00:25",
             "2026-03-02 02:02:25", "handled", 120, 0, 0, False, "Fixed"),
}

TALKDESK_EXPECTED = {  # times UTC (the shipped mapping's timezone)
    "i-01": ("inbound", "Support", "u-1", "2026-03-02 09:00:00", "2026-03-02 09:00:12",
             "2026-03-02 09:05:12", "handled", 270, 30, 60, False),
    # missed in Support, answered in Overflow: first arrival, first answer, one answered leg
    "i-02": ("inbound", "Support", "u-2", "2026-03-02 10:00:00", "2026-03-02 10:00:50",
             "2026-03-02 10:06:50", "handled", 360, 0, 30, False),
    # transfer: 180 + 420 talk, 20 + 40 ACW
    "i-03": ("inbound", "Support", "u-1", "2026-03-03 11:00:00", "2026-03-03 11:00:05",
             "2026-03-03 11:10:35", "handled", 600, 0, 60, True),
    "i-04": ("inbound", "Support", None, "2026-03-03 12:00:00", None, "2026-03-03 12:00:30",
             "abandoned", 0, 0, 0, False),
    "i-05": ("inbound", "Support", None, "2026-03-03 12:30:00", None, "2026-03-03 12:30:03",
             "abandoned", 0, 0, 0, False),
    "i-07": ("outbound", "Support", "u-1", "2026-03-04 14:00:00", "2026-03-04 14:00:15",
             "2026-03-04 14:02:15", "handled", 120, 0, 30, False),
    "i-09": ("inbound", "Support", "u-2", "2026-03-08 23:59:58", "2026-03-09 00:00:13",
             "2026-03-09 01:00:13", "handled", 3600, 0, 30, False),
    "i-10": ("inbound", "Support", "u-3", "2026-03-05 15:00:00", "2026-03-05 15:10:00",
             "2026-03-05 15:15:00", "handled", 300, 0, 30, False),
}


def _checksums(folder: Path) -> dict:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _read(source, mapping, **options):
    return mapped.read(source, ImportOptions(mapping=mapping, pseudonym_key=KEY, **options))


def _compare(frame, expected, fields):
    frame = frame.set_index("interaction_id")
    assert sorted(frame.index) == sorted(expected)
    for cid, want_row in expected.items():
        for name, want in zip(fields, want_row, strict=False):
            got = frame.loc[cid, name]
            got = None if pd.isna(got) else got
            if name.endswith("_at") and want is not None:
                want = pd.Timestamp(want, tz="UTC")
            assert got == want, (cid, name, got, want)


@pytest.fixture(scope="module")
def five9():
    return _read(FIVE9, "five9")


@pytest.fixture(scope="module")
def talkdesk():
    return _read(TALKDESK, "talkdesk")


def test_five9_rows(five9):
    _compare(five9.tables["interactions"], FIVE9_EXPECTED, FIELDS)


def test_five9_summary_and_columns(five9):
    s = five9.summary
    assert (s.records_read, s.duplicates_dropped, s.contacts_written) == (10, 1, 7)
    assert dict(s.skipped) == {"dropped by mapping: internal or test call (not a customer contact)": 1}
    frame = five9.tables["interactions"]
    assert "escalated" not in frame and "resolved" not in frame
    assert "campaign" in frame and "call_started" not in frame and "queue_wait" not in frame
    assert set(frame["channel"]) == {"voice"}
    by_id = frame.set_index("interaction_id")["customer_id"]
    # 1001 and 1007 have the same ANI; the number itself never appears
    assert by_id["1001"] == by_id["1007"] == pseudonym("5550001111", KEY)
    assert not frame["customer_id"].astype(str).str.contains("555").any()


def test_talkdesk_rows(talkdesk):
    _compare(talkdesk.tables["interactions"], TALKDESK_EXPECTED, FIELDS[:-1])


def test_talkdesk_summary_and_extras(talkdesk):
    s = talkdesk.summary
    assert (s.records_read, s.duplicates_dropped, s.contacts_written) == (13, 1, 8)
    assert s.skipped == {
        "dropped by mapping: voicemail (left the queue without an answer or an abandon)": 1,
        "dropped by mapping: outbound attempt that never connected": 1}
    frame = talkdesk.tables["interactions"].set_index("interaction_id")
    assert frame.loc["i-10", "callback"] == True  # noqa: E712
    assert frame.loc["i-02", "team"] == "Team B"  # the missed leg has no team: the next leg's
    assert "issue_type" not in frame


def _kpis(folder, timezone):
    data = kpitools.load(folder, timezone=timezone)
    try:
        frame = kpitools.kpis(data, "2026-W10")
    finally:
        data.close()
    return dict(zip(frame["kpi"], frame["value"], strict=True))


@pytest.fixture(scope="module")
def five9_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("five9") / "center"
    before = _checksums(FIXTURES)
    run_import("mapped", FIVE9, out, ImportOptions(mapping="five9", pseudonym_key=KEY))
    assert _checksums(FIXTURES) == before  # the input is only read
    return out


def test_five9_kpis_in_new_york(five9_folder):
    k = _kpis(five9_folder, "America/New_York")
    # W10 local: 1001 1002 1003 1004 1006 1007 (1008 is Sunday 1 March, W09)
    assert k["contact_volume"] == 6 and k["handled"] == 4
    # AHT: 1001 315 + 1002 4160 + 1006 210 + 1007 330 = 5015 / 4
    assert k["aht"] == pytest.approx(5015 / 4)
    # ASA: 1001 15, 1002 8, 1007 20 -> 43 / 3
    assert k["asa"] == pytest.approx(43 / 3)
    # offered 5 inbound, short abandon 1004 (3 s): 4; within 20 s: 15, 8, 20 (at the
    # threshold counts) -> 3 / 4
    assert k["service_level"] == pytest.approx(3 / 4)
    assert k["abandonment_rate"] == pytest.approx(1 / 4)
    assert k["transfer_rate"] == pytest.approx(1 / 4)


def test_five9_kpis_in_utc(five9_folder):
    k = _kpis(five9_folder, "UTC")
    # W10 UTC: 1007 moves to W11 (Monday 03:59 UTC), 1008 moves in (Monday 02:00 UTC)
    assert k["contact_volume"] == 6 and k["handled"] == 4
    assert k["aht"] == pytest.approx((315 + 4160 + 210 + 120) / 4)
    # within 20 s: 1001 15, 1002 8; 1008 waited 25 -> 2 / 4
    assert k["service_level"] == pytest.approx(2 / 4)


@pytest.fixture(scope="module")
def talkdesk_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("talkdesk") / "center"
    run_import("mapped", TALKDESK, out, ImportOptions(mapping="talkdesk", pseudonym_key=KEY))
    return out


def test_talkdesk_kpis_of_columns_not_mapped_are_null(talkdesk_folder):
    # escalated, resolved and issue_type are not in the Contacts report: left out, so their
    # KPIs are null, never 0 (issue 10 item 1, "missing is null", in the loader/engine)
    k = _kpis(talkdesk_folder, "UTC")
    assert pd.isna(k["escalation_rate"]) and pd.isna(k["fcr"])


def test_talkdesk_kpis(talkdesk_folder):
    k = _kpis(talkdesk_folder, "UTC")
    assert k["contact_volume"] == 8 and k["handled"] == 6
    # AHT: i-01 360, i-02 390, i-03 660, i-07 150, i-09 3630, i-10 330 = 5520 / 6
    assert k["aht"] == pytest.approx(5520 / 6)
    # ASA: 12, 50, 5, 15, 600 -> 682 / 5
    assert k["asa"] == pytest.approx(682 / 5)
    # offered 7 inbound - short abandon i-05 = 6; within 20 s: i-01, i-03, i-09 -> 3 / 6
    assert k["service_level"] == pytest.approx(3 / 6)
    assert k["abandonment_rate"] == pytest.approx(1 / 6)
    assert k["transfer_rate"] == pytest.approx(1 / 6)


def test_resolve_mapping_short_names_and_paths(tmp_path):
    assert mapped.resolve_mapping("five9").name == "five9-call-log.yaml"
    assert mapped.resolve_mapping("talkdesk-contacts.yaml").name == "talkdesk-contacts.yaml"
    own = tmp_path / "mine.yaml"
    own.write_text("columns: {}\n")
    assert mapped.resolve_mapping(own) == own
    with pytest.raises(ConfigError, match="not a shipped mapping.*five9"):
        mapped.resolve_mapping("genesys")


# --- small hand-made files -----------------------------------------------------------------

BASE = {
    "columns": {
        "interaction_id": "Id",
        "arrived_at": {"column": "Start", "format": "%d/%m/%Y %H:%M:%S"},
        "wait": {"column": "Wait", "duration": "hh:mm:ss", "keep": False},
        "answered_at": {"add": ["arrived_at", "wait"]},
        "outcome": {"column": "Result", "values": {"OK": "handled", "Hung up": "abandoned"}},
        "queue": "Queue",
        "agent_id": "Agent",
        "talk_s": {"column": "Talk", "duration": "seconds"},
        "transferred": {"column": "Xfer", "true_values": ["Yes"], "false_values": ["No"]},
    },
    "constants": {"channel": "voice", "direction": "inbound"},
    "timezone": "Europe/Paris",
}
HEADER = "Id,Start,Wait,Result,Queue,Agent,Talk,Xfer\n"


def _csv(tmp_path, *rows, name="calls.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


def _mapping(tmp_path, changes=None, drop=()):
    raw = json.loads(json.dumps(BASE))
    for key, value in (changes or {}).items():
        raw[key] = value
    for key in drop:
        raw.pop(key)
    path = tmp_path / "map.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def test_a_small_mapping_end_to_end(tmp_path):
    src = _csv(tmp_path, "a,01/03/2026 10:00:00,00:00:12,OK,Q,x,90,No",
               'b,"01/03/2026 10:05:00",00:01:00,Hung up,Q,,0,No')
    frame = _read(src, _mapping(tmp_path)).tables["interactions"].set_index("interaction_id")
    # Paris is UTC+1 in March: 10:00 local = 09:00 UTC; answered 12 s later
    assert frame.loc["a", "arrived_at"] == pd.Timestamp("2026-03-01 09:00:00", tz="UTC")
    assert frame.loc["a", "answered_at"] == pd.Timestamp("2026-03-01 09:00:12", tz="UTC")
    assert frame.loc["a", "talk_s"] == 90 and frame.loc["a", "transferred"] == False  # noqa: E712
    assert frame.loc["b", "outcome"] == "abandoned" and pd.isna(frame.loc["b", "answered_at"])
    assert "ended_at" not in frame  # not mapped: left out, not null


def test_without_a_timezone_naive_times_stay_business_local(tmp_path):
    src = _csv(tmp_path, "a,01/03/2026 10:00:00,00:00:12,OK,Q,x,90,No")
    frame = _read(src, _mapping(tmp_path, drop=["timezone"])).tables["interactions"]
    assert frame["arrived_at"].dt.tz is None
    assert frame["arrived_at"].iloc[0] == pd.Timestamp("2026-03-01 10:00:00")


@pytest.mark.parametrize("row, line_no, column, words", [
    ("b,01/03/2026 10:05:00,1:2:3:4,OK,Q,x,5,No", 3, "Wait", "not a duration hh:mm:ss"),
    ("b,2026-03-01 10:05,00:00:01,OK,Q,x,5,No", 3, "Start", "not a time in the format %d/%m/%Y"),
    ("b,01/03/2026 10:05:00,00:00:01,Maybe,Q,x,5,No", 3, "Result", "not in the mapping's values"),
    ("b,01/03/2026 10:05:00,00:00:01,OK,Q,x,-5,No", 3, "Talk", "negative"),
    ("b,01/03/2026 10:05:00,00:00:01,OK,Q,x,5,Perhaps", 3, "Xfer", "is not one of yes, no"),
    (",01/03/2026 10:05:00,00:00:01,OK,Q,x,5,No", 3, "Id", "is empty"),
    # 29 March 02:30 does not exist in Paris (clocks go from 02:00 to 03:00)
    ("b,29/03/2026 02:30:00,00:00:01,OK,Q,x,5,No", 3, "Start", "does not exist in Europe/Paris"),
])
def test_bad_cells_name_file_line_and_column(tmp_path, row, line_no, column, words):
    src = _csv(tmp_path, "a,01/03/2026 10:00:00,00:00:12,OK,Q,x,90,No", row)
    with pytest.raises(RecordError) as err:
        _read(src, _mapping(tmp_path))
    message = str(err.value)
    assert f"calls.csv, line {line_no}: field {column}:" in message, message
    assert words in message
    result = _read(src, _mapping(tmp_path), skip_bad=True)
    assert list(result.tables["interactions"]["interaction_id"]) == ["a"]
    assert result.summary.skipped == {f"malformed cell ({column})": 1}


def test_line_numbers_count_quoted_newlines(tmp_path):
    src = _csv(tmp_path, 'a,01/03/2026 10:00:00,00:00:12,OK,"Queue\nwith a newline",x,90,No',
               "b,01/03/2026 10:05:00,00:00:99,OK,Q,x,5,No")
    with pytest.raises(RecordError, match=r"calls.csv, line 4: field Wait: '00:00:99'"):
        _read(src, _mapping(tmp_path))


def test_a_short_row_is_an_error_naming_its_line(tmp_path):
    src = _csv(tmp_path, "a,01/03/2026 10:00:00,00:00:12,OK,Q,x,90,No", "b,01/03/2026")
    with pytest.raises(RecordError, match=r"calls.csv, line 3: has 2 fields where the header has 8"):
        _read(src, _mapping(tmp_path))


def test_the_autumn_overlap_takes_the_first_occurrence(tmp_path):
    # 25 October 2026 02:30 happens twice in Paris: first at UTC+2 (00:30 UTC)
    src = _csv(tmp_path, "a,25/10/2026 02:30:00,00:00:12,OK,Q,x,90,No")
    frame = _read(src, _mapping(tmp_path)).tables["interactions"]
    assert frame["arrived_at"].iloc[0] == pd.Timestamp("2026-10-25 00:30:00", tz="UTC")


def test_parquet_input_names_the_row(tmp_path):
    frame = pd.DataFrame({"Id": ["a", "b"], "Start": ["01/03/2026 10:00:00", "01/03/2026 11:00:00"],
                          "Wait": ["00:00:10", "00:00:20"], "Result": ["OK", "OK"],
                          "Queue": ["Q", "Q"], "Agent": ["x", "y"], "Talk": [60.0, -1.0],
                          "Xfer": ["No", "No"]})
    src = tmp_path / "calls.parquet"
    frame.to_parquet(src)
    with pytest.raises(RecordError, match=r"calls.parquet: field Talk \(row 2\): '-1.0' is negative"):
        _read(src, _mapping(tmp_path))
    frame.loc[1, "Talk"] = 30.0
    frame.to_parquet(src)
    out = _read(src, _mapping(tmp_path)).tables["interactions"]
    assert list(out["talk_s"]) == [60.0, 30.0]


@pytest.mark.parametrize("changes, words", [
    ({"colums": {}}, ["map.yaml", "colums", "unknown key", "columns"]),
    ({"timezone": "Mars/Olympus"}, ["map.yaml", "timezone", "Mars/Olympus", "time zone name"]),
    ({"constants": {"channel": "phone", "direction": "inbound"}},
     ["constants.channel", "'phone'", "voice, chat, email, social"]),
    ({"columns": {**BASE["columns"], "talk_s": {"column": "Talk", "duration": "hours"}}},
     ["columns.talk_s.duration", "'hours'", "hh:mm:ss, seconds, milliseconds"]),
    ({"columns": {**BASE["columns"], "outcome": {"column": "Result", "values": {"OK": "done"}}}},
     ["columns.outcome.values.OK", "'done'", "handled, abandoned"]),
    ({"columns": {**BASE["columns"], "answered_at": {"add": ["wait", "arrived_at"]}}},
     ["columns.answered_at.add", "first term must be a timestamp"]),
    ({"columns": {**BASE["columns"], "queue": {"column": "Queue", "colour": "red"}}},
     ["columns.queue.colour", "unknown key", "column, columns, add"]),
    ({"columns": {k: v for k, v in BASE["columns"].items() if k != "queue"}},
     ["required column queue not mapped", "constants:"]),
    ({"columns": {**BASE["columns"], "queue": "Line of business"}},
     ["source column 'Line of business' is not in calls.csv", "Id, Start"]),
    ({"drop_rows": [{"column": "Queue", "like": "Q"}]},
     ["drop_rows[0]", "column, equals, in, empty, reason"]),
])
def test_mapping_problems_are_config_errors_naming_file_and_key(tmp_path, changes, words):
    src = _csv(tmp_path, "a,01/03/2026 10:00:00,00:00:12,OK,Q,x,90,No")
    with pytest.raises(ConfigError) as err:
        _read(src, _mapping(tmp_path, changes))
    for word in words:
        assert word in str(err.value), str(err.value)


def test_an_add_cycle_is_a_config_error(tmp_path):
    columns = {**BASE["columns"], "wait": {"add": ["answered_at", "talk_s"], "keep": False}}
    with pytest.raises(ConfigError, match="circle|must be a timestamp"):
        mapped.parse_mapping({**BASE, "columns": columns}, "map.yaml")


def test_drop_rows_and_null_values(tmp_path):
    src = _csv(tmp_path, "a,01/03/2026 10:00:00,00:00:12,OK,Q,x,90,No",
               "b,01/03/2026 10:05:00,00:00:12,OK,INTERNAL,x,90,No",
               "c,01/03/2026 10:06:00,00:00:12,OK,Q,-,90,No")
    changes = {"drop_rows": [{"column": "Queue", "equals": "INTERNAL", "reason": "internal"}],
               "null_values": ["", "-"]}
    result = _read(src, _mapping(tmp_path, changes))
    frame = result.tables["interactions"].set_index("interaction_id")
    assert list(frame.index) == ["a", "c"]
    assert pd.isna(frame.loc["c", "agent_id"])
    assert result.summary.skipped == {"dropped by mapping: internal": 1}


def test_repeated_ids_without_a_contact_key_are_legs(tmp_path):
    src = _csv(tmp_path, "a,01/03/2026 10:00:00,00:00:12,OK,Q,x,90,Yes",
               "a,01/03/2026 10:02:00,00:00:30,OK,Q2,y,60,No")
    frame = _read(src, _mapping(tmp_path)).tables["interactions"]
    assert len(frame) == 1
    row = frame.iloc[0]
    assert (row["talk_s"], row["agent_id"], row["queue"], row["transferred"]) == (150, "x", "Q", True)


def test_a_folder_must_hold_one_file(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.csv", "b.csv"):
        (folder / name).write_text(HEADER)
    with pytest.raises(ConfigError, match="one CSV or Parquet file"):
        _read(folder, _mapping(tmp_path))


def test_an_empty_file_is_a_data_error(tmp_path):
    src = tmp_path / "calls.csv"
    src.write_text("")
    with pytest.raises(DataError, match="empty file"):
        _read(src, _mapping(tmp_path))


def test_cli_imports_with_a_mapping_file(tmp_path, capsys, monkeypatch):
    from kpitools.cli import main

    monkeypatch.setenv("KPITOOLS_PSEUDONYM_KEY", KEY.decode())  # no key file in $HOME

    shipped = mapped.resolve_mapping("talkdesk")
    out = tmp_path / "center"
    code = main(["import", "mapped", "--from", str(TALKDESK), "--mapping", str(shipped),
                 "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "13 records read" in printed and "8 contacts written" in printed
    assert len(pd.read_parquet(out / "interactions.parquet")) == 8


def test_mapped_without_a_mapping_says_what_is_needed(tmp_path):
    with pytest.raises(ConfigError, match="needs a mapping file with columns"):
        mapped.read(TALKDESK, ImportOptions(pseudonym_key=KEY))


def test_a_long_row_and_bad_bytes_are_data_errors(tmp_path):
    src = _csv(tmp_path, "a,01/03/2026 10:00:00,00:00:12,OK,Q,x,90,No",
               "b,01/03/2026 10:00:00,00:00:12,OK,Q,x,90,No,extra")
    with pytest.raises(RecordError, match=r"calls.csv, line 3: has 9 fields where the header has 8"):
        _read(src, _mapping(tmp_path))
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HEADER + "a,01/03/2026 10:00:00,00:00:12,OK,Qué,x,90,No\n").encode("latin-1"))
    with pytest.raises(DataError, match="not utf-8 text.*csv.encoding"):
        _read(latin, _mapping(tmp_path))
    changes = {"csv": {"encoding": "latin-1"}}
    frame = _read(latin, _mapping(tmp_path, changes)).tables["interactions"]
    assert list(frame["queue"]) == ["Qué"]


@pytest.mark.parametrize("unit, cell, seconds", [
    ("seconds", "90", 90.0),
    ("milliseconds", "90500", 90.5),  # 90 500 ms = 90.5 s
    ("minutes", "1.5", 90.0),  # 1.5 min = 90 s
    ("hh:mm:ss", "25:00:01", 90001.0),  # 25 h 1 s: hours may pass 24
    ("hh:mm:ss", "01:30", 90.0),  # mm:ss
])
def test_duration_units(tmp_path, unit, cell, seconds):
    src = _csv(tmp_path, f"a,01/03/2026 10:00:00,00:00:12,OK,Q,x,{cell},No")
    columns = {**BASE["columns"], "talk_s": {"column": "Talk", "duration": unit}}
    frame = _read(src, _mapping(tmp_path, {"columns": columns})).tables["interactions"]
    assert frame["talk_s"].iloc[0] == seconds


def test_times_with_offsets_are_instants_whatever_the_file_zone(tmp_path):
    src = _csv(tmp_path, "a,2026-03-01T10:00:00+02:00,00:00:12,OK,Q,x,90,No",
               "b,2026-03-01T10:00:00Z,00:00:12,OK,Q,x,90,No")
    columns = {**BASE["columns"], "arrived_at": "Start"}  # ISO 8601
    frame = _read(src, _mapping(tmp_path, {"columns": columns})).tables["interactions"]
    by_id = frame.set_index("interaction_id")["arrived_at"]
    # +02:00 -> 08:00 UTC; Z -> 10:00 UTC (the mapping's Europe/Paris applies to naive times only)
    assert by_id["a"] == pd.Timestamp("2026-03-01 08:00", tz="UTC")
    assert by_id["b"] == pd.Timestamp("2026-03-01 10:00", tz="UTC")
