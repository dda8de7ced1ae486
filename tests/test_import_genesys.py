"""Genesys Cloud conversation details -> canonical interactions (issue 10, docs/importers.md).

The fixture (tests/fixtures/genesys_cloud/) is written by hand from the documented analytics
conversation-detail schema: two query pages and one job file of JSON Lines. Its traps: g01
delivered twice (an in-progress version first), g02 a transfer chain delivered twice (once in
the job file), g05 IVR-only self-service, g06 a queue flow-out to voicemail, g07 an in-queue
callback, g08 outbound with the system wrap-up code, g10 in progress, g14 internal, g11 a chat
arriving 10 s before midnight UTC on Sunday, g12 a call at 03:30 UTC (Sunday evening in New
York), g13 a Facebook message.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

import kpitools
from kpitools.errors import ConfigError
from kpitools.importers import ImportOptions, RecordError, run_import
from kpitools.importers import genesys_cloud as gc

FIXTURE = Path(__file__).parent / "fixtures" / "genesys_cloud"
KEY = b"test-key-0123456789abcdef"
UTC = "UTC"

# Expected rows, by hand from the fixture's segments (seconds = segmentEnd - segmentStart):
# id: (channel, direction, queue, issue_type, agent, arrived, answered, ended, outcome,
#      talk, hold, acw, transferred)
EXPECTED = {
    # interact 09:00:47-09:04:47 (240) + 09:05:17-09:06:17 (60); hold 30; wrapup 30
    "g01-simple": ("voice", "inbound", "Billing", "wc-billing", "u-ann", "2026-03-02 09:00:30",
                   "2026-03-02 09:00:47", "2026-03-02 09:06:47", "handled", 300, 30, 30, False),
    # ann 120 s + bob 300 s talk; wrapups 30 + 60; last wrap-up code wins; two agents
    "g02-transfer": ("voice", "inbound", "Billing", "wc-tech", "u-ann", "2026-03-02 10:00:00",
                     "2026-03-02 10:00:10", "2026-03-02 10:08:40", "handled", 420, 0, 90, True),
    "g03-abandon": ("voice", "inbound", "Billing", None, None, "2026-03-02 11:00:20", None,
                    "2026-03-02 11:01:05", "abandoned", 0, 0, 0, False),
    "g04-short-abandon": ("voice", "inbound", "Billing", None, None, "2026-03-02 11:30:00", None,
                          "2026-03-02 11:30:03", "abandoned", 0, 0, 0, False),
    # the callback is the contact: callback queue entry 13:02:00, agent interact 13:20:05;
    # talk 25 (callback) + 300 (the call) s, the dialing segment is not talk
    "g07-callback": ("voice", "inbound", "Billing Callbacks", "wc-billing", "u-cat",
                     "2026-03-03 13:02:00", "2026-03-03 13:20:05", "2026-03-03 13:26:10",
                     "handled", 325, 0, 30, False),
    # outbound: arrival = conversation start; ININ-WRAP-UP-TIMEOUT is no issue type;
    # never queued, so the queue is the agent segments' queue id
    "g08-outbound": ("voice", "outbound", "q-bill", None, "u-ann", "2026-03-04 14:00:00",
                     "2026-03-04 14:00:20", "2026-03-04 14:03:50", "handled", 180, 0, 30, False),
    "g11-chat-midnight": ("chat", "inbound", "Chat", "wc-tech", "u-dan", "2026-03-08 23:59:50",
                          "2026-03-09 00:00:30", "2026-03-09 00:11:00", "handled", 600, 0, 30,
                          False),
    "g12-voice-before-dawn": ("voice", "inbound", "Tech Support", "wc-tech", "u-bob",
                              "2026-03-02 03:30:00", "2026-03-02 03:30:25",
                              "2026-03-02 03:36:25", "handled", 300, 0, 60, False),
    "g13-facebook": ("social", "inbound", "Social", None, "u-dan", "2026-03-06 08:00:00",
                     "2026-03-06 08:30:00", "2026-03-06 08:40:30", "handled", 600, 0, 30, False),
}
FIELDS = ("channel", "direction", "queue", "issue_type", "agent_id", "arrived_at",
          "answered_at", "ended_at", "outcome", "talk_s", "hold_s", "acw_s", "transferred")


def _checksums(folder: Path) -> dict:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def result():
    return gc.read(FIXTURE, ImportOptions(pseudonym_key=KEY))


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    out = tmp_path_factory.mktemp("genesys") / "center"
    before = _checksums(FIXTURE)
    summary = run_import("genesys-cloud", FIXTURE, out, ImportOptions(pseudonym_key=KEY))
    return out, summary, before


def test_rows_match_the_hand_computed_contacts(result):
    frame = result.tables["interactions"].set_index("interaction_id")
    assert sorted(frame.index) == sorted(EXPECTED)
    for cid, expected in EXPECTED.items():
        row = frame.loc[cid]
        for name, want in zip(FIELDS, expected, strict=True):
            got = row[name]
            if name.endswith("_at"):
                want = None if want is None else pd.Timestamp(want, tz=UTC)
                got = None if pd.isna(got) else got
            elif want is None:
                got = None if pd.isna(got) else got
            assert got == want, (cid, name, got, want)


def test_columns_the_records_cannot_fill_are_left_out(result):
    frame = result.tables["interactions"]
    assert "escalated" not in frame and "resolved" not in frame
    assert str(frame["arrived_at"].dt.tz) == "UTC"


def test_summary_counts(result):
    s = result.summary
    # 6 conversations on page 1, 5 on page 2, 4 lines in the job file
    assert s.records_read == 15
    # g01 twice (in progress, then complete), g02 twice (page 1 and the job file)
    assert s.duplicates_dropped == 2
    assert s.contacts_written == 9
    assert dict(s.skipped) == {gc.SKIP_SELF_SERVICE: 1, gc.SKIP_FLOW_OUT: 1,
                               gc.SKIP_IN_PROGRESS: 1, gc.SKIP_INTERNAL: 1}


def test_customer_addresses_become_pseudonyms(result):
    frame = result.tables["interactions"].set_index("interaction_id")
    # g01's caller (ani) is g08's called party (dnis): one customer
    assert frame.loc["g01-simple", "customer_id"] == frame.loc["g08-outbound", "customer_id"]
    assert frame.loc["g03-abandon", "customer_id"] == frame.loc["g12-voice-before-dawn", "customer_id"]
    assert frame.loc["g01-simple", "customer_id"] != frame.loc["g03-abandon", "customer_id"]
    assert pd.isna(frame.loc["g11-chat-midnight", "customer_id"])  # web messaging: no address
    assert not frame["customer_id"].astype(str).str.contains("555").any()


def test_import_writes_a_folder_and_leaves_the_input_unchanged(imported):
    out, summary, before = imported
    assert _checksums(FIXTURE) == before
    assert (out / "interactions.parquet").is_file()
    assert summary.contacts_written == 9
    assert json.loads((out / "import.json").read_text())["duplicates_dropped"] == 2
    raw = (out / "interactions.parquet").read_bytes()
    assert b"5550001111" not in raw and b"fb-user" not in raw.lower()


def _kpis(folder, timezone):
    data = kpitools.load(folder, timezone=timezone)
    try:
        frame = kpitools.kpis(data, "2026-W10")
    finally:
        data.close()
    return dict(zip(frame["kpi"], frame["value"], strict=True))


def test_kpis_in_utc(imported):
    k = _kpis(imported[0], "UTC")
    # W10 (2-8 March, UTC) holds all 9 contacts; handled: g01 g02 g07 g08 g11 g12 g13
    assert k["contact_volume"] == 9 and k["handled"] == 7
    # AHT: (360 + 510 + 355 + 210 + 630 + 360 + 630) / 7 = 3055 / 7
    assert k["aht"] == pytest.approx(3055 / 7)
    # ASA over answered inbound voice/chat: g01 17, g02 10, g07 1085, g11 40, g12 25 -> 1177 / 5
    assert k["asa"] == pytest.approx(1177 / 5)
    # offered real-time inbound 7 (g01 g02 g03 g04 g07 g11 g12), short abandon g04 (3 s);
    # within threshold: g01 17<=20, g02 10<=20, g11 chat 40<=60 -> 3 / 6
    assert k["service_level"] == pytest.approx(3 / 6)
    assert k["abandonment_rate"] == pytest.approx(1 / 6)  # g03 only (g04 is short)
    assert k["transfer_rate"] == pytest.approx(1 / 7)  # g02


def test_kpis_of_columns_not_imported_are_null(imported):
    # escalated and resolved are left out of the folder: their KPIs are null, never 0
    # (issue 10 item 1, "missing is null", in the loader/engine).
    k = _kpis(imported[0], "UTC")
    assert pd.isna(k["escalation_rate"]) and pd.isna(k["fcr"])


def test_kpis_in_new_york(imported):
    k = _kpis(imported[0], "America/New_York")
    # g12 (03:30 UTC Monday) is Sunday 22:30 EST: week W09. g11 (23:59:50 UTC Sunday 8 March)
    # is 19:59:50 EDT (DST began that morning): still W10.
    assert k["contact_volume"] == 8 and k["handled"] == 6
    assert k["aht"] == pytest.approx((3055 - 360) / 6)
    assert k["service_level"] == pytest.approx(3 / 5)


def test_mapping_names_queues_issue_types_and_resolution():
    mapping = {"queues": {"q-bill": "Billing (mapped)"},
               "wrapup_codes": {"wc-billing": "billing dispute", "wc-tech": "technical"},
               "resolved": {"billing dispute": True, "wc-tech": False}}
    frame = gc.read(FIXTURE, ImportOptions(mapping=mapping, pseudonym_key=KEY)).tables[
        "interactions"].set_index("interaction_id")
    assert frame.loc["g08-outbound", "queue"] == "Billing (mapped)"
    assert frame.loc["g01-simple", "queue"] == "Billing (mapped)"  # the map wins over the name
    assert frame.loc["g12-voice-before-dawn", "queue"] == "Tech Support"
    assert frame.loc["g01-simple", "issue_type"] == "billing dispute"
    assert frame.loc["g01-simple", "resolved"] == True  # noqa: E712 (pandas boolean)
    assert frame.loc["g02-transfer", "resolved"] == False  # noqa: E712 (by code)
    assert pd.isna(frame.loc["g13-facebook", "resolved"])  # no wrap-up code


def test_callbacks_can_be_skipped():
    result = gc.read(FIXTURE, ImportOptions(mapping={"callbacks": "skip"}, pseudonym_key=KEY))
    assert "g07-callback" not in set(result.tables["interactions"]["interaction_id"])
    assert result.summary.skipped[gc.SKIP_CALLBACK] == 1


@pytest.mark.parametrize("mapping, words", [
    ({"queue": {}}, ["unknown key 'queue'", "queues"]),
    ({"callbacks": "drop"}, ["callbacks", "'contact' or 'skip'", "'drop'"]),
    ({"resolved": {"wc-tech": "yes"}}, ["resolved.wc-tech", "true or false"]),
    ({"queues": ["q-bill"]}, ["queues", "map ids to names"]),
])
def test_mapping_errors_name_the_key(mapping, words):
    with pytest.raises(ConfigError) as err:
        gc.read(FIXTURE, ImportOptions(mapping=mapping, pseudonym_key=KEY))
    for word in words:
        assert word in str(err.value)


def _conv(cid="c1", **changes):
    """A minimal answered inbound call, as one JSON line."""
    conv = {
        "conversationId": cid, "conversationStart": "2026-03-02T09:00:00Z",
        "conversationEnd": "2026-03-02T09:05:00Z", "originatingDirection": "inbound",
        "participants": [
            {"purpose": "customer", "sessions": [{"mediaType": "voice", "ani": "tel:+1555"}]},
            {"purpose": "acd", "participantName": "Q", "sessions": [{"mediaType": "voice", "segments": [
                {"segmentType": "interact", "queueId": "q", "segmentStart": "2026-03-02T09:00:00Z",
                 "segmentEnd": "2026-03-02T09:00:05Z", "disconnectType": "transfer"}]}]},
            {"purpose": "agent", "userId": "u1", "sessions": [{"mediaType": "voice", "segments": [
                {"segmentType": "interact", "segmentStart": "2026-03-02T09:00:05Z",
                 "segmentEnd": "2026-03-02T09:04:05Z"}]}]},
        ],
    }
    conv.update(changes)
    return conv


def test_malformed_timestamp_names_file_line_and_field(tmp_path):
    bad = _conv("c2")
    bad["participants"][2]["sessions"][0]["segments"][0]["segmentStart"] = "2026-03-02 25:00"
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(_conv()) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(RecordError) as err:
        gc.read(src, ImportOptions(pseudonym_key=KEY))
    message = str(err.value)
    assert "in.jsonl, line 2" in message
    assert "participants[2].sessions[0].segments[0].segmentStart" in message
    assert "'2026-03-02 25:00'" in message
    result = gc.read(src, ImportOptions(skip_bad=True, pseudonym_key=KEY))
    assert list(result.tables["interactions"]["interaction_id"]) == ["c1"]
    assert sum(result.summary.skipped.values()) == 1


def test_missing_conversation_id_is_an_error(tmp_path):
    src = tmp_path / "in.json"
    src.write_text(json.dumps({"conversations": [_conv(), _conv(conversationId=None)]}))
    with pytest.raises(RecordError, match=r"in.json, line 1: field conversationId"):
        gc.read(src, ImportOptions(pseudonym_key=KEY))


def _one(conv):
    return gc.conversation_contact(conv, gc.GenesysMapping())


def test_abandon_in_a_second_queue_after_a_flow_out_is_an_abandon():
    conv = _conv()
    acd = conv["participants"][1]
    acd["sessions"][0]["metrics"] = [{"name": "tFlowOut", "value": 5000}]
    del conv["participants"][2]  # no agent
    conv["participants"].append({"purpose": "acd", "participantName": "Overflow", "sessions": [
        {"mediaType": "voice", "metrics": [{"name": "tAbandon", "value": 30000}], "segments": [
            {"segmentType": "interact", "queueId": "q2", "segmentStart": "2026-03-02T09:00:05Z",
             "segmentEnd": "2026-03-02T09:00:35Z", "disconnectType": "peer"}]}]})
    row = _one(conv)
    # arrival = the first queue entry; the contact ends when the caller leaves the second queue
    assert (row["outcome"], row["queue"]) == ("abandoned", "Q")
    assert row["arrived_at"] == pd.Timestamp("2026-03-02T09:00:00Z")
    assert row["ended_at"] == pd.Timestamp("2026-03-02T09:00:35Z")


def test_acw_from_the_tAcw_metric_in_milliseconds_when_no_wrapup_segment():
    conv = _conv()
    conv["participants"][2]["sessions"][0]["metrics"] = [{"name": "tAcw", "value": 45500}]
    row = _one(conv)
    assert (row["talk_s"], row["acw_s"]) == (240.0, 45.5)  # 45 500 ms = 45.5 s


def test_consult_transfer_disconnect_marks_transferred_with_one_agent():
    conv = _conv()
    conv["participants"][2]["sessions"][0]["segments"][0]["disconnectType"] = "consultTransfer"
    assert _one(conv)["transferred"] is True


def test_unknown_media_is_skipped_and_email_maps_to_email():
    conv = _conv()
    conv["participants"][0]["sessions"][0]["mediaType"] = "video"
    with pytest.raises(gc.Skip) as skip:
        _one(conv)
    assert skip.value.reason == gc.SKIP_MEDIA
    conv["participants"][0]["sessions"][0]["mediaType"] = "email"
    assert _one(conv)["channel"] == "email"


def test_the_most_complete_delivery_wins():
    early, late = _conv(conversationEnd=None), _conv()
    assert gc.completeness(late) > gc.completeness(early)  # ended beats in progress
    longer = _conv()
    longer["participants"][2]["sessions"][0]["segments"].append(
        {"segmentType": "wrapup", "segmentStart": "2026-03-02T09:04:05.000Z",
         "segmentEnd": "2026-03-02T09:04:35.000Z"})
    assert gc.completeness(longer) > gc.completeness(late)  # a later segment end wins


def test_a_duplicate_read_later_replaces_an_equal_one(tmp_path):
    first, second = _conv(), _conv()
    second["participants"][2]["userId"] = "u2"  # same completeness, read later
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n")
    result = gc.read(src, ImportOptions(pseudonym_key=KEY))
    assert list(result.tables["interactions"]["agent_id"]) == ["u2"]
    assert result.summary.duplicates_dropped == 1


def test_gzipped_pages_and_arrays_read_the_same(tmp_path):
    import gzip

    page = {"conversations": [_conv("c1"), _conv("c2")], "totalHits": 3}
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "page.json.gz").write_bytes(gzip.compress(json.dumps(page).encode()))
    (tmp_path / "in" / "array.json").write_text(json.dumps([_conv("c3"), _conv("c1")]))
    result = gc.read(tmp_path / "in", ImportOptions(pseudonym_key=KEY))
    assert sorted(result.tables["interactions"]["interaction_id"]) == ["c1", "c2", "c3"]
    assert (result.summary.records_read, result.summary.duplicates_dropped) == (4, 1)


def test_a_mapping_file_is_named_in_its_errors(tmp_path):
    path = tmp_path / "genesys.yaml"
    path.write_text("queues: {q: Billing}\nwrapups: {}\n")
    with pytest.raises(ConfigError, match=r"genesys.yaml: unknown key 'wrapups'"):
        gc.read(FIXTURE, ImportOptions(mapping=str(path), pseudonym_key=KEY))


def test_queue_name_order_mapping_then_queue_name_then_participant_name():
    conv = _conv()
    assert _one(conv)["queue"] == "Q"  # the acd participant's name
    conv["participants"][1]["sessions"][0]["segments"][0]["queueName"] = "Named"
    assert _one(conv)["queue"] == "Named"
    mapped = gc.conversation_contact(conv, gc.GenesysMapping(queues={"q": "Mapped"}))
    assert mapped["queue"] == "Mapped"
    del conv["participants"][1]["participantName"]
    del conv["participants"][1]["sessions"][0]["segments"][0]["queueName"]
    assert _one(conv)["queue"] == "q"  # only the id is left
