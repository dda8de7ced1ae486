"""The importer framework: JSON record reading, pseudonyms and their key, the folder writer."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

import kpitools
from kpitools.errors import ConfigError, DataError
from kpitools.importers.common import (
    ImportSummary,
    RecordError,
    iter_json_records,
    parse_seconds,
    parse_timestamp,
    pseudonym,
    pseudonym_key,
    write_data_folder,
)


def records(path, **kwargs):
    return [(Path(f).name, line, rec) for f, line, rec in iter_json_records(path, **kwargs)]


def test_json_lines_concatenated_pretty_and_arrays(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"n": 1}\n\n{"n": 2}{"n": 3}\n')
    (tmp_path / "b.json").write_text('{\n  "n": 4\n}\n{\n  "n": 5\n}\n')  # pretty, concatenated
    (tmp_path / "c.json").write_text('[\n {"n": 6},\n {"n":\n  7}\n]\n')
    (tmp_path / "d.json").write_text("[]")
    assert records(tmp_path) == [
        ("a.jsonl", 1, {"n": 1}), ("a.jsonl", 3, {"n": 2}), ("a.jsonl", 3, {"n": 3}),
        ("b.json", 1, {"n": 4}), ("b.json", 4, {"n": 5}),
        ("c.json", 2, {"n": 6}), ("c.json", 3, {"n": 7}),
    ]


def test_folder_tree_gzip_by_magic_and_non_data_files(tmp_path):
    deep = tmp_path / "2026" / "03" / "02" / "14"
    deep.mkdir(parents=True)
    # gzip recognised by its bytes, whatever the name (Firehose objects have no suffix)
    (deep / "stream-1-2026-03-02-14-00-00-abc").write_bytes(gzip.compress(b'{"n": 1}\n'))
    (deep / "part.jsonl.gz").write_bytes(gzip.compress(b'{"n": 2}\n'))
    (tmp_path / "_SUCCESS").write_text("")
    (tmp_path / "README.md").write_text("# not records {")
    (tmp_path / "manifest.csv").write_text("a,b\n")
    (tmp_path / ".hidden.jsonl").write_text("not json")
    (tmp_path / "_tmp").mkdir()
    (tmp_path / "_tmp" / "x.jsonl").write_text("not json")
    assert records(tmp_path) == [("part.jsonl.gz", 1, {"n": 2}),
                                 ("stream-1-2026-03-02-14-00-00-abc", 1, {"n": 1})]


@pytest.mark.parametrize(("text", "line", "what"), [
    ('{"n": 1}\n{"n": 2,}\n{"n": 3}\n', 2, "malformed JSON"),
    ('{"n": 1}\n"just text"\n', 2, "a JSON str where a record (an object) was expected"),
    ('[{"n": 1},\n {"n": 2} {"n": 3}]', 2, "expected , or ]"),
])
def test_malformed_json_names_file_and_line(tmp_path, text, line, what):
    path = tmp_path / "x.jsonl"
    path.write_text(text)
    with pytest.raises(RecordError) as err:
        records(path)
    assert str(err.value).startswith(f"{path}, line {line}: ")
    assert what in str(err.value)


def test_skip_bad_counts_malformed_json_and_goes_on(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"n": 1}\n{"n": 2,,\n{"n": 3}\n7\n{"n": 4}\n')
    summary = ImportSummary("test")
    got = records(path, skip_bad=True, summary=summary)
    assert [r for _, _, r in got] == [{"n": 1}, {"n": 3}, {"n": 4}]
    assert summary.skipped == {"malformed JSON": 2}  # line 2 and the bare number on line 4


def test_unreadable_files_are_errors_naming_them(tmp_path):
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(RecordError, match="not UTF-8 text"):
        records(tmp_path / "bin")
    (tmp_path / "trunc.gz").write_bytes(gzip.compress(b'{"n": 1}\n')[:12])
    with pytest.raises(RecordError, match="not a readable gzip file"):
        records(tmp_path / "trunc.gz")
    with pytest.raises(DataError, match="no such file or folder"):
        records(tmp_path / "absent")


def test_timestamps_and_durations():
    assert parse_timestamp("2026-03-02T14:00:02.250Z", "f", 1, "X") == \
        pd.Timestamp("2026-03-02 14:00:02.250", tz="UTC")
    assert parse_timestamp("2026-03-02T09:00:00-05:00", "f", 1, "X") == \
        pd.Timestamp("2026-03-02 14:00:00", tz="UTC")
    assert parse_timestamp("2026-03-02T14:00:00", "f", 1, "X") == \
        pd.Timestamp("2026-03-02 14:00:00", tz="UTC")  # naive: UTC, as Amazon Connect writes
    assert parse_timestamp(None, "f", 1, "X") is None
    with pytest.raises(RecordError, match=r"f, line 3: field Queue.X: '1741000000' is not an ISO"):
        parse_timestamp(1741000000, "f", 3, "Queue.X")
    assert parse_seconds("12", "f", 1, "D") == 12.0
    assert parse_seconds(None, "f", 1, "D") is None
    for bad in (-1, "ten", True, float("nan")):
        with pytest.raises(RecordError, match="field D"):
            parse_seconds(bad, "f", 1, "D")


def test_long_values_are_capped_in_messages():
    err = RecordError("f.jsonl", 9, "ContactId", "x" * 500, "is wrong")
    assert len(str(err)) < 120 and "..." in str(err)


def test_pseudonym_is_a_keyed_hash_of_the_normalised_address():
    key = b"k" * 32
    expected = hmac.new(key, b"jane.doe@example.com", hashlib.sha256).hexdigest()[:20]
    assert pseudonym("  Jane.Doe@Example.COM ", key) == expected
    assert pseudonym("Jane.Doe@Example.COM", b"another key 0123") != expected
    assert pseudonym(None, key) is None and pseudonym("  ", key) is None


def test_pseudonym_key_from_environment_or_a_file_created_once(tmp_path, monkeypatch):
    monkeypatch.delenv("KPITOOLS_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("KPITOOLS_PSEUDONYM_KEY_FILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    first = pseudonym_key()
    path = tmp_path / "cfg" / "kpitools" / "pseudonym.key"
    assert path.is_file() and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(bytes.fromhex(path.read_text().strip())) == 32
    assert pseudonym_key() == first  # stable across runs
    monkeypatch.setenv("KPITOOLS_PSEUDONYM_KEY", "x" * 20)
    assert pseudonym_key() == b"x" * 20
    assert pseudonym_key(b"given-key-bytes!") == b"given-key-bytes!"
    monkeypatch.setenv("KPITOOLS_PSEUDONYM_KEY", "short")
    with pytest.raises(ConfigError, match="at least 16"):
        pseudonym_key()


def frame(**overrides):
    base = {
        "interaction_id": ["a", "b"], "channel": ["voice", "chat"],
        "direction": ["inbound", "inbound"], "queue": ["q", None],
        "arrived_at": pd.to_datetime(["2026-03-02T03:30:00Z", "2026-03-02T12:00:00Z"]),
        "answered_at": pd.to_datetime(["2026-03-02T03:30:10Z", None], utc=True),
        "ended_at": pd.to_datetime(["2026-03-02T03:40:00Z", "2026-03-02T12:01:00Z"]),
        "outcome": ["handled", "abandoned"], "talk_s": [100.0, 0.0],
        "transferred": [True, False], "priority": ["high", "low"],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def test_written_folder_loads_in_local_time_with_extras_kept(tmp_path):
    (tmp_path / "in").mkdir()
    write_data_folder({"interactions": frame()}, tmp_path / "out", input_path=tmp_path / "in")
    data = kpitools.load(tmp_path / "out", timezone="America/New_York")
    rows = data.con.execute("SELECT interaction_id, CAST(arrived_at AS VARCHAR), "
                            "CAST(answered_at AS VARCHAR) FROM interactions ORDER BY 1").fetchall()
    data.close()
    # 03:30 UTC is 22:30 the day before in New York (EST, UTC-5)
    assert rows == [("a", "2026-03-01 22:30:00", "2026-03-01 22:30:10"),
                    ("b", "2026-03-02 07:00:00", None)]
    import pyarrow.parquet as pq

    names = pq.read_schema(tmp_path / "out" / "interactions.parquet").names
    assert names[-1] == "priority" and "escalated" not in names


def test_a_frame_that_does_not_load_is_an_importer_bug_and_writes_nothing(tmp_path):
    (tmp_path / "in").mkdir()
    bad = frame(outcome=["handled", "lost"])
    with pytest.raises(DataError, match="importer bug.*outcome"):
        write_data_folder({"interactions": bad}, tmp_path / "out", input_path=tmp_path / "in")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]
    with pytest.raises(DataError, match="importer bug: interactions lacks required column"):
        write_data_folder({"interactions": frame().drop(columns="outcome")}, tmp_path / "out",
                          input_path=tmp_path / "in")


def test_output_location_rules(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "ctr.jsonl").write_text("{}")
    tables = {"interactions": frame()}
    for out in (inp, inp / "sub", tmp_path):  # the input, inside it, around it
        with pytest.raises(ConfigError, match="overlaps the input"):
            write_data_folder(tables, out, input_path=inp)
    with pytest.raises(ConfigError, match="overlaps the input"):
        write_data_folder(tables, tmp_path, input_path=inp / "ctr.jsonl")
    (tmp_path / "empty").mkdir()
    write_data_folder(tables, tmp_path / "empty", input_path=inp)  # an empty folder is fine
    assert json.loads((tmp_path / "empty" / "import.json").read_text())["input"] == str(inp)
    handmade = tmp_path / "handmade"
    handmade.mkdir()
    frame().to_csv(handmade / "interactions.csv", index=False)
    with pytest.raises(ConfigError, match="not an earlier import"):
        write_data_folder(tables, handmade, input_path=inp)
    assert sorted(p.name for p in handmade.iterdir()) == ["interactions.csv"]
    with pytest.raises(ConfigError, match="--config .* does not exist"):
        write_data_folder(tables, tmp_path / "new", input_path=inp, config=tmp_path / "nope.yaml")
    assert not (tmp_path / "new").exists()


def test_import_help_explains_with_an_example(capsys):
    from kpitools.cli import main

    with pytest.raises(SystemExit) as done:
        main(["import", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "kpitools import amazon-connect --from" in text
    assert "--skip-bad" in text and "KPITOOLS_PSEUDONYM_KEY" in text
