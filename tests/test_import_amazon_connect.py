"""Amazon Connect importer: the hand-built record tree in tests/fixtures/amazon_connect/ (its
README lists every trap) gives the rows, summary and KPIs computed by hand below."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import kpitools
from kpitools.cli import main
from kpitools.importers import ImportOptions, run_import

TREE = Path(__file__).parent / "fixtures" / "amazon_connect" / "tree"
KEY = "test-key-0123456789abcdef"


def hashed(address: str) -> str:
    """The pseudonym computed independently: HMAC-SHA256 of the trimmed, case-folded address."""
    digest = hmac.new(KEY.encode(), address.strip().casefold().encode(), hashlib.sha256)
    return digest.hexdigest()[:20]


def checksums(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    out = tmp_path_factory.mktemp("ac") / "center"
    before = checksums(TREE)
    summary = run_import("amazon-connect", TREE, out, ImportOptions(pseudonym_key=KEY.encode()))
    assert checksums(TREE) == before  # the input is only read
    return out, summary


def utc(text):
    return None if text is None else pd.Timestamp(text, tz="UTC")


# One row per customer contact, written out from the records by hand (README of the fixture).
# Handle = talk + hold + acw; wait = answered (or ended, for abandons) - arrived.
EXPECTED = {
    # interaction_id: customer address, channel, direction, queue, issue, agent, arrived,
    #   answered, ended, outcome, talk, hold, acw, transferred, resolved
    "ac-015": ("+15550015555", "voice", "inbound", "Billing", "billing", "alice",
               "2026-03-02T04:50:00", "2026-03-02T04:50:05", "2026-03-02T04:51:45", "handled",
               100, 0, 0, False, True),  # wait 5, handle 100
    # latest of two deliveries (LastUpdate 14:07:00 beats 14:05:50 read later): acw 60
    "ac-001": ("+15550001111", "voice", "inbound", "Billing", "billing", "alice",
               "2026-03-02T14:00:30", "2026-03-02T14:00:45", "2026-03-02T14:05:45", "handled",
               300, 0, 60, False, True),  # wait 15, handle 360; MONITOR leg ignored
    # transfer chain: bob (120/30/10) then carol (200/45/30); issue/resolved of the last leg
    "ac-002": ("+15550002222", "voice", "inbound", "Support", "technical", "bob",
               "2026-03-02T15:00:10", "2026-03-02T15:00:40", "2026-03-02T15:07:25", "handled",
               320, 75, 40, True, False),  # wait 30, handle 435
    "ac-014": ("+15550014444", "voice", "inbound", "Billing", "billing", "bob",
               "2026-03-03T04:30:00", "2026-03-03T04:30:10", "2026-03-03T04:33:50", "handled",
               200, 20, 20, False, True),  # wait 10, handle 240
    # queue transfer Sales -> Retention; ended at the last leg's disconnect (not DISCONNECT's)
    "ac-003": ("+15550003333", "voice", "inbound", "Sales", "sales", "dave",
               "2026-03-03T16:00:00", "2026-03-03T16:01:10", "2026-03-03T16:05:10", "handled",
               240, 0, 20, True, True),  # wait 70, handle 260
    # abandon: ended at Queue.DequeueTimestamp 17:00:40 (disconnect 17:00:41)
    "ac-004": ("+15550001111", "voice", "inbound", "Billing", "billing", None,
               "2026-03-03T17:00:00", None, "2026-03-03T17:00:40", "abandoned",
               0, 0, 0, False, None),  # wait 40
    "ac-005": (None, "voice", "inbound", "Support", None, None,
               "2026-03-04T13:00:00", None, "2026-03-04T13:00:03", "abandoned",
               0, 0, 0, False, None),  # wait 3: a short abandon
    # callback joins the original's chain: arrived at the first enqueue, answered on callback
    "ac-006": ("+15550006666", "voice", "inbound", "Billing", "billing", "alice",
               "2026-03-04T14:00:00", "2026-03-04T14:10:00", "2026-03-04T14:13:30", "handled",
               180, 0, 30, False, True),  # wait 600, handle 210
    "ac-011": ("+15550011111", "voice", "outbound", None, None, "erin",
               "2026-03-05T18:00:00", "2026-03-05T18:00:20", "2026-03-05T18:02:50", "handled",
               150, 0, 45, False, None),  # handle 195
    "ac-012": (None, "chat", "inbound", "Chat", "technical", "frank",
               "2026-03-05T19:00:00", "2026-03-05T19:00:50", "2026-03-05T19:10:50", "handled",
               600, 0, 60, False, True),  # wait 50 (chat threshold 60), handle 660
    "ac-013": ("Jane.Doe@Example.com", "email", "inbound", "Email", "billing", "grace",
               "2026-03-05T20:00:00", "2026-03-05T22:00:00", "2026-03-05T22:05:00", "handled",
               300, 0, 0, False, False),  # first response 7200, handle 300
    "ac-016": ("+15550014444", "voice", "inbound", "Billing", None, None,
               "2026-03-09T03:30:00", None, "2026-03-09T03:31:30", "abandoned",
               0, 0, 0, False, None),  # wait 90
}
FIELDS = ["customer_id", "channel", "direction", "queue", "issue_type", "agent_id", "arrived_at",
          "answered_at", "ended_at", "outcome", "talk_s", "hold_s", "acw_s", "transferred",
          "resolved"]


def test_one_row_per_customer_contact_as_worked_by_hand(imported):
    out, _ = imported
    frame = pd.read_parquet(out / "interactions.parquet")
    assert sorted(frame["interaction_id"]) == sorted(EXPECTED)
    for row in frame.to_dict("records"):
        want = dict(zip(FIELDS, EXPECTED[row["interaction_id"]], strict=True))
        want["customer_id"] = hashed(want["customer_id"]) if want["customer_id"] else None
        for column in ("arrived_at", "answered_at", "ended_at"):
            want[column] = utc(want[column])
        got = {k: (None if not isinstance(row[k], str) and pd.isna(row[k]) else row[k])
               for k in FIELDS}
        assert got == want, row["interaction_id"]


def test_columns_timestamps_and_no_escalated(imported):
    out, _ = imported
    schema = pq.read_schema(out / "interactions.parquet")
    assert "escalated" not in schema.names  # not in a contact record: left out, not false
    assert schema.names == ["interaction_id", "customer_id", "channel", "direction", "queue",
                            "issue_type", "agent_id", "arrived_at", "answered_at", "ended_at",
                            "outcome", "talk_s", "hold_s", "acw_s", "transferred", "resolved"]
    for name in ("arrived_at", "answered_at", "ended_at"):
        assert str(schema.field(name).type) == "timestamp[us, tz=UTC]"
    assert sorted(p.name for p in out.iterdir()) == ["import.json", "interactions.parquet"]


def test_summary_counts(imported):
    out, summary = imported
    # 21 records: ac-001 x2, ac-002 x2, ac-003 x2, ac-004 x2, ac-006 x2 and ten single ones
    assert summary.records_read == 21
    assert summary.duplicates_dropped == 2  # stale ac-001, second ac-004
    assert summary.contacts_written == 12  # 13 chains of customer records - 1 self-service
    assert dict(summary.skipped) == {
        "Channel TASK records (tasks are not customer contacts)": 1,
        "InitiationMethod MONITOR records (not customer contacts)": 1,
        "InitiationMethod DISCONNECT records (not customer contacts)": 1,
        "self-service contacts (inbound, never queued, never reached an agent)": 1,
    }
    marker = json.loads((out / "import.json").read_text())
    assert marker["records_read"] == 21 and marker["contacts_written"] == 12


def test_loaded_in_the_centers_time_zone(imported):
    out, _ = imported
    data = kpitools.load(out, timezone="America/New_York")
    arrived = dict(data.con.execute(
        "SELECT interaction_id, CAST(arrived_at AS VARCHAR) FROM interactions").fetchall())
    data.close()
    assert arrived["ac-014"] == "2026-03-02 23:30:00"  # 04:30 UTC - 5 h (EST)
    assert arrived["ac-015"] == "2026-03-01 23:50:00"  # Sunday: week W09 in New York
    assert arrived["ac-016"] == "2026-03-08 23:30:00"  # 03:30 UTC - 4 h (EDT from 8 March)


def kpi_values(capsys, out, *extra) -> dict:
    capsys.readouterr()
    assert main(["kpis", "--data", str(out), "--period", "2026-W10", "--format", "json", *extra]) == 0
    return {r["kpi"]: r["value"] for r in json.loads(capsys.readouterr().out)}


def test_kpis_in_new_york_equal_the_hand_computation(imported, capsys):
    out, _ = imported
    got = kpi_values(capsys, out, "--timezone", "America/New_York")
    # W10 in New York (Mon 2 - Sun 8 March local): every contact but ac-015 (Sunday 1 March).
    # 11 contacts; inbound 10 (not ac-011); handled 8: 001, 002, 014, 003, 006, 011, 012, 013.
    # AHT: (360 + 435 + 240 + 260 + 210 + 195 + 660 + 300) / 8 = 2660 / 8 = 332.5
    # Inbound real-time offered 9 (all inbound but the e-mail ac-013); answered 6 with waits
    #   15, 30, 10, 70, 600, 50 -> ASA 775 / 6; within threshold: 15, 10 (voice 20 s), 50 (chat
    #   60 s) = 3. Abandons 004 (40 s), 005 (3 s, short), 016 (90 s).
    # Service level 3 / (9 - 1) = 0.375; abandonment (3 - 1) / (9 - 1) = 0.25; answer 6/8.
    # First response time: ac-013's 7200 s.
    # FCR: resolved known on handled inbound 001 T, 002 F, 014 T, 003 T, 006 T, 012 T, 013 F
    #   -> 5 / 7.
    # Repeat: handled inbound with a customer: 001, 002, 014, 003, 006, 013 = 6; ac-001 is
    #   followed by ac-004 (same caller, billing, 27 h later) -> 1 / 6. ac-014's caller comes
    #   back as ac-016 without an issue type: not a repeat of billing.
    # Transfer rate: 002 and 003 of 8 handled = 0.25. Escalation: no column -> null.
    assert got["contact_volume"] == 11
    assert got["offered"] == 10
    assert got["handled"] == 8
    assert got["aht"] == pytest.approx(332.5)
    assert got["asa"] == pytest.approx(775 / 6)
    assert got["service_level"] == pytest.approx(0.375)
    assert got["abandonment_rate"] == pytest.approx(0.25)
    assert got["answer_rate"] == pytest.approx(0.75)
    assert got["first_response_time"] == pytest.approx(7200)
    assert got["fcr"] == pytest.approx(5 / 7)
    assert got["repeat_contact_rate"] == pytest.approx(1 / 6)
    assert got["transfer_rate"] == pytest.approx(0.25)
    assert got["escalation_rate"] is None


def test_kpis_in_utc_differ_by_the_midnight_contacts(imported, capsys):
    out, _ = imported
    got = kpi_values(capsys, out, "--timezone", "UTC")
    # W10 in UTC: ac-015 (handled, wait 5, handle 100) is in, ac-016 (abandon) is out.
    # Handled 9; AHT (2660 + 100) / 9; within threshold 4 of (9 - 1); abandons 004, 005 (short).
    assert got["contact_volume"] == 11
    assert got["handled"] == 9
    assert got["aht"] == pytest.approx(2760 / 9)
    assert got["service_level"] == pytest.approx(4 / 8)
    assert got["abandonment_rate"] == pytest.approx(1 / 8)
    assert got["transfer_rate"] == pytest.approx(2 / 9)


def test_customer_addresses_never_reach_the_output(imported):
    out, _ = imported
    addresses = ["+15550001111", "+15550002222", "+15550003333", "+15550006666", "+15550011111",
                 "+15550014444", "+15550015555", "Jane.Doe@Example.com"]
    frame = pd.read_parquet(out / "interactions.parquet")
    text = " ".join(str(v) for v in frame.astype(str).to_numpy().ravel()).casefold()
    blobs = b"".join(p.read_bytes() for p in out.iterdir())
    for address in addresses:
        for form in (address, address.lstrip("+"), address.casefold(), address[-7:]):
            assert form.casefold() not in text
            assert form.encode() not in blobs
            assert form.casefold().encode() not in blobs


# --------------------------------------------------------------------------------------------
# Malformed records, through the CLI

GOOD = {"ContactId": "x-1", "Channel": "VOICE", "InitiationMethod": "INBOUND",
        "InitiationTimestamp": "2026-03-02T14:00:00Z", "DisconnectTimestamp": "2026-03-02T14:03:00Z",
        "LastUpdateTimestamp": "2026-03-02T14:04:00Z",
        "Queue": {"Name": "Billing", "EnqueueTimestamp": "2026-03-02T14:00:05Z",
                  "DequeueTimestamp": "2026-03-02T14:00:15Z"},
        "Agent": {"Username": "alice", "ConnectedToAgentTimestamp": "2026-03-02T14:00:15Z",
                  "AgentInteractionDuration": 150, "CustomerHoldDuration": 0,
                  "AfterContactWorkDuration": 20},
        "CustomerEndpoint": {"Type": "TELEPHONE_NUMBER", "Address": "+15550009999"},
        "Attributes": {"issue_type": "billing", "resolved": "true"}}


def with_changes(changes: dict, contact_id: str) -> dict:
    record = json.loads(json.dumps(GOOD))
    record["ContactId"] = contact_id
    for dotted, value in changes.items():
        *path, last = dotted.split(".")
        target = record
        for part in path:
            target = target[part]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return record


DELETE = object()
BAD_CASES = [
    # (line 2 of the file), what is changed, the field the error must name
    ("bad json", None, "malformed JSON"),
    ("missing ContactId", {"ContactId": DELETE}, "field ContactId"),
    ("missing InitiationTimestamp", {"InitiationTimestamp": DELETE}, "field InitiationTimestamp"),
    ("non-ISO timestamp", {"Queue.EnqueueTimestamp": "03/02/2026 14:00"}, "field Queue.EnqueueTimestamp"),
    ("negative duration", {"Agent.CustomerHoldDuration": -5}, "field Agent.CustomerHoldDuration"),
    ("text duration", {"Agent.AgentInteractionDuration": "long"}, "field Agent.AgentInteractionDuration"),
    ("bad resolved", {"Attributes.resolved": "maybe"}, "field Attributes.resolved"),
]


def bad_export(folder: Path, changes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    second = "{\"ContactId\": \"x-2\", \"Channel\": \"VOICE\",, }" if changes is None \
        else json.dumps(with_changes(changes, "x-2"))
    lines = [json.dumps(GOOD), second, json.dumps(with_changes({}, "x-3"))]
    path = folder / "ctr.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def key_env(monkeypatch):
    monkeypatch.setenv("KPITOOLS_PSEUDONYM_KEY", KEY)


@pytest.mark.parametrize(("case", "changes", "named"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_malformed_record_is_a_one_line_error_naming_file_line_field(tmp_path, capsys, key_env,
                                                                     case, changes, named):
    path = bad_export(tmp_path / "in", changes)
    before = checksums(tmp_path / "in")
    code = main(["import", "amazon-connect", "--from", str(tmp_path / "in"),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"error: {path}, line 2: ")
    assert named in err
    assert not (tmp_path / "out").exists()  # nothing half-written
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]
    assert checksums(tmp_path / "in") == before


@pytest.mark.parametrize(("case", "changes", "named"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_skip_bad_counts_the_malformed_record(tmp_path, capsys, key_env, case, changes, named):
    bad_export(tmp_path / "in", changes)
    code = main(["import", "amazon-connect", "--from", str(tmp_path / "in"),
                 "--out", str(tmp_path / "out"), "--skip-bad"])
    out = capsys.readouterr().out
    assert code == 0
    # 3 lines: x-1 and x-3 are good contacts; the bad line 2 is counted, not written
    assert "  2 contacts written" in out
    reason = "malformed JSON" if changes is None else \
        f"malformed records ({named.removeprefix('field ')})"
    assert f"  1 skipped: {reason}" in out
    frame = pd.read_parquet(tmp_path / "out" / "interactions.parquet")
    assert sorted(frame["interaction_id"]) == ["x-1", "x-3"]
    assert f"wrote {tmp_path / 'out'}" in out


# --------------------------------------------------------------------------------------------
# Options and edge cases


def write_records(folder: Path, records: list[dict], name="ctr.jsonl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


def test_mapping_names_the_attributes(tmp_path, capsys, key_env):
    record = with_changes({"Attributes": {"reason": "card_lost", "resolved_flag": "false",
                                          "issue_type": "ignored"}}, "m-1")
    write_records(tmp_path / "in", [record])
    mapping = tmp_path / "connect.yaml"
    mapping.write_text("attributes: {issue_type: reason, resolved: resolved_flag}\n")
    assert main(["import", "amazon-connect", "--from", str(tmp_path / "in"), "--out",
                 str(tmp_path / "out"), "--mapping", str(mapping)]) == 0
    frame = pd.read_parquet(tmp_path / "out" / "interactions.parquet")
    assert frame.loc[0, "issue_type"] == "card_lost"
    assert not frame.loc[0, "resolved"]


@pytest.mark.parametrize(("text", "named"), [
    ("attribute: {issue_type: reason}\n", "unknown key(s) attribute"),
    ("attributes: {issue: reason}\n", "attributes.issue is not known"),
    ("attributes: [reason]\n", "attributes must be a mapping"),
])
def test_bad_mapping_is_an_error_naming_the_key(tmp_path, capsys, key_env, text, named):
    write_records(tmp_path / "in", [GOOD])
    mapping = tmp_path / "connect.yaml"
    mapping.write_text(text)
    code = main(["import", "amazon-connect", "--from", str(tmp_path / "in"), "--out",
                 str(tmp_path / "out"), "--mapping", str(mapping)])
    assert code == 2
    assert named in capsys.readouterr().err


def test_columns_no_record_fills_are_left_out(tmp_path, key_env):
    bare = with_changes({"Attributes": {}, "CustomerEndpoint": DELETE}, "b-1")
    write_records(tmp_path / "in", [bare])
    summary = run_import("amazon-connect", tmp_path / "in", tmp_path / "out")
    names = pq.read_schema(tmp_path / "out" / "interactions.parquet").names
    # all-null columns would turn the repeat rate and FCR into 0 instead of null
    assert not {"customer_id", "issue_type", "resolved", "escalated"} & set(names)
    assert any(n.startswith("issue_type left out") for n in summary.notes)


def test_unknown_channel_is_skipped_and_counted(tmp_path, key_env):
    records = [GOOD, with_changes({"Channel": "VIDEO"}, "v-1")]
    summary = run_import("amazon-connect", write_records(tmp_path / "in", records), tmp_path / "out")
    assert summary.skipped == {"Channel VIDEO records (no canonical channel)": 1}
    assert summary.contacts_written == 1


def test_outbound_without_agent_and_external_outbound(tmp_path, key_env):
    # EXTERNAL_OUTBOUND is outbound (rule 4); a chain with no agent is abandoned (rule 7) -
    # outbound chains are never self-service (rule 5 is for inbound only).
    dialled = with_changes({"InitiationMethod": "EXTERNAL_OUTBOUND", "Queue": DELETE,
                            "Agent": DELETE}, "o-1")
    run_import("amazon-connect", write_records(tmp_path / "in", [dialled]), tmp_path / "out")
    row = pd.read_parquet(tmp_path / "out" / "interactions.parquet").iloc[0]
    assert (row["direction"], row["outcome"]) == ("outbound", "abandoned")
    assert pd.isna(row["queue"])
    assert row["arrived_at"] == utc("2026-03-02T14:00:00")


def test_same_last_update_keeps_the_copy_read_last(tmp_path, key_env):
    first = with_changes({"Agent.AfterContactWorkDuration": 20}, "d-1")
    again = with_changes({"Agent.AfterContactWorkDuration": 99}, "d-1")  # same LastUpdate
    older = with_changes({"Agent.AfterContactWorkDuration": 5,
                          "LastUpdateTimestamp": "2026-03-02T14:03:30Z"}, "d-1")
    summary = run_import("amazon-connect", write_records(tmp_path / "in", [first, again, older]),
                         tmp_path / "out")
    assert summary.duplicates_dropped == 2
    assert pd.read_parquet(tmp_path / "out" / "interactions.parquet").loc[0, "acw_s"] == 99


def test_single_gzipped_file_and_json_array(tmp_path, key_env):
    gz = tmp_path / "one.jsonl.gz"
    gz.write_bytes(gzip.compress((json.dumps(GOOD) + "\n").encode()))
    assert run_import("amazon-connect", gz, tmp_path / "a").contacts_written == 1
    array = tmp_path / "arr.json"
    array.write_text(json.dumps([GOOD, with_changes({}, "x-2")], indent=1))
    assert run_import("amazon-connect", array, tmp_path / "b").contacts_written == 2


def test_reimport_replaces_an_earlier_import_but_not_other_folders(tmp_path, imported, key_env):
    out = tmp_path / "center"
    shutil.copytree(imported[0], out)
    (out / "kpitools.yaml").write_text("timezone: America/New_York\n")
    run_import("amazon-connect", write_records(tmp_path / "in", [GOOD]), out)
    assert len(pd.read_parquet(out / "interactions.parquet")) == 1
    assert not (out / "kpitools.yaml").exists()  # replaced as a whole, nothing merged
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "plan.md").write_text("mine")
    with pytest.raises(kpitools.errors.ConfigError, match="not an earlier import"):
        run_import("amazon-connect", tmp_path / "in", notes)
    assert (notes / "plan.md").read_text() == "mine"


def test_out_inside_the_input_is_refused(tmp_path, capsys, key_env):
    write_records(tmp_path / "in", [GOOD])
    before = checksums(tmp_path / "in")
    code = main(["import", "amazon-connect", "--from", str(tmp_path / "in"),
                 "--out", str(tmp_path / "in" / "out")])
    assert code == 2 and "overlaps the input" in capsys.readouterr().err
    assert checksums(tmp_path / "in") == before


def test_config_is_copied_as_kpitools_yaml(tmp_path, capsys, key_env):
    config = tmp_path / "center.yaml"
    config.write_text("timezone: America/New_York\n")
    write_records(tmp_path / "in", [GOOD])
    assert main(["import", "amazon-connect", "--from", str(tmp_path / "in"), "--out",
                 str(tmp_path / "out"), "--config", str(config)]) == 0
    assert (tmp_path / "out" / "kpitools.yaml").read_text() == "timezone: America/New_York\n"
