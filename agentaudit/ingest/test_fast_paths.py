"""The ingest hot path's faster parts give exactly what the plain ones gave.

msgspec decoding (`loads_json`), whole-document decoding of provider files, access-key-id
masking, the zstd `raw` column and one-statement checkpoints; the speed itself is measured in
bench/ (transcript_ingest, cloudtrail_ingest), never here.
"""

from __future__ import annotations

import io
import json
import math
import random

import pytest

from agentaudit.collectors.base import SourceInput, loads_json
from agentaudit.collectors.providers import _shared as _provider
from agentaudit.enrich import secrets
from agentaudit.store import Store


@pytest.mark.parametrize(
    "text",
    [
        b'{"a": 12345678901234567890123, "b": -9223372036854775809}',  # beyond 64 bits: exact
        b'{"a": 1, "a": 2}',
        b'[1.5, 1e16, -0, "\\u00e9", "\\ud83d\\ude00"]',
        b'"\\ud800"',  # a lone surrogate escape: msgspec refuses, the stdlib keeps it
        b"NaN",
        b"[1.0e400]",
        b"\xef\xbb\xbf{}",  # a BOM
    ],
)
def test_loads_json_gives_what_json_loads_gives(text):
    ours, theirs = loads_json(text), json.loads(text)
    assert repr(ours) == repr(theirs) or (
        isinstance(ours, float) and math.isnan(ours) and math.isnan(theirs)
    )


@pytest.mark.parametrize("text", [b'{"a": ', b"{'a': 1}", b"\xff\xfe", b""])
def test_loads_json_raises_what_json_loads_raises(text):
    with pytest.raises(ValueError) as ours:
        loads_json(text)
    with pytest.raises(ValueError) as theirs:
        json.loads(text)
    assert type(ours.value) is type(theirs.value) and str(ours.value) == str(theirs.value)


def _records(document: bytes, monkeypatch=None, whole: int | None = None):
    if monkeypatch is not None and whole is not None:
        monkeypatch.setattr(_provider, "WHOLE_DOCUMENT_BYTES", whole)
    src = SourceInput.from_bytes("trail.json", document)
    return [
        (r.value, r.index) if isinstance(r, _provider.Record) else ("Q", r.reason)
        for r in _provider.json_records(src, ("Records",))
    ]


@pytest.mark.parametrize("big", [2**40, 2**70])  # 2**70: past yajl's 64-bit integers
def test_a_small_document_decoded_whole_equals_the_stream(monkeypatch, big):
    rows = [{"eventName": f"E{i}", "n": big + i, "x": 1.25, "s": "é"} for i in range(50)]
    document = json.dumps({"Records": rows}).encode()
    whole = _records(document, monkeypatch, whole=1_000_000)
    streamed = _records(document, monkeypatch, whole=10)  # forces ijson
    assert whole == streamed and len(whole) == 50
    assert whole[49] == (rows[49], 49)  # exact, nothing quarantined


def test_a_damaged_small_document_keeps_the_records_before_the_damage(monkeypatch):
    good = json.dumps({"eventName": "A"})
    document = ('{"Records": [' + good + "," + good + ', {"eventName": "B", ').encode()
    out = _records(document, monkeypatch, whole=1_000_000)
    assert [value for value, _index in out[:2]] == [{"eventName": "A"}] * 2
    assert len(out) == 3 and out[2][0] == "Q" and out[2][1].startswith("invalid JSON")


def test_key_id_masking_equals_the_regex_substitution():
    def reference(text: str) -> str:
        return secrets._KEY_ID_FIELD_RE.sub(rf"\g<1>{secrets._KEY_ID_MASK}\g<2>", text)

    atoms = ['"accessKeyId"', '"AccessKeyId"', '\\"accessKeyId\\"', "ccessKeyId", ":", " "]
    atoms += ['"', '\\"', "\\", "AKIA", "ASIA", "ABCDEFGHIJ012345", "x", ","]
    rng = random.Random(7)
    for _ in range(20_000):
        text = "".join(rng.choice(atoms) for _ in range(rng.randint(1, 14)))
        if rng.random() < 0.5:
            text += ' "accessKeyId": "AKIA' + "".join(rng.choices("ABCDEFXYZ0123456789", k=16))
            text += '"'
        assert secrets.mask_key_id_fields(text) == reference(text), text


def test_raw_is_stored_with_zstd_and_checkpoints_in_one_statement(tmp_path):
    from agentaudit.schema import new_event, to_arrow

    with Store.open(tmp_path / "store.duckdb") as store:
        events = [
            new_event("test", str(i), kind="message", raw=json.dumps({"n": i, "pad": "x" * 300}))
            for i in range(3000)
        ]
        assert store.append("events", to_arrow(events)) == 3000
        store.con.execute("CHECKPOINT")
        used = store.con.execute(
            "SELECT DISTINCT compression FROM pragma_storage_info('events') "
            "WHERE column_name = 'raw' AND segment_type = 'VARCHAR'"
        ).fetchall()
        assert used == [("ZSTD",)]
        identity = {"collector": "c", "device": 1, "inode": 2, "size": 3, "head_hash": "h"}
        store.save_checkpoints(
            [{"path": f"/p{i}", **identity, "byte_offset": i, "line": i} for i in range(3)]
        )
        store.save_checkpoint("/p1", **identity, byte_offset=10, line=11)  # replaces
        assert store.checkpoint("/p1")["byte_offset"] == 10
        assert store.checkpoint("/p2")["line"] == 2
        assert store.count("checkpoints") == 3


def test_the_prefilter_scans_lone_surrogates_rather_than_skipping_them():
    assert secrets.may_contain_secrets(["plain \udcff text", "plain text"]) == [True, False]


def test_small_documents_stream_from_gzip_too(tmp_path):
    import gzip

    document = json.dumps({"Records": [{"eventName": "A"}, {"eventName": "B"}]}).encode()
    src = SourceInput("t.json.gz", io.BytesIO(gzip.compress(document)))
    names = [r.value["eventName"] for r in _provider.json_records(src, ("Records",))]
    assert names == ["A", "B"]


def test_a_streamed_document_keeps_records_after_a_huge_integer(monkeypatch):
    rows = [{"eventName": f"E{i}", "n": 2**70 if i == 30 else i} for i in range(50)]
    out = _records(json.dumps({"Records": rows}).encode(), monkeypatch, whole=10)
    assert out == [(row, i) for i, row in enumerate(rows)]


def test_appends_insert_new_keys_once_whether_or_not_the_batch_meets_stored_ones(tmp_path):
    from agentaudit.schema import new_event, to_arrow

    def events(keys, path="/a"):
        return to_arrow([new_event("test", k, kind="message", source_path=path) for k in keys])

    with Store.open(tmp_path / "store.duckdb") as store:
        assert store.append_events_by_path(events(["1", "2"])) == {"/a": 2}  # all new
        assert store.append_events_by_path(events(["2", "3", "3"], "/b")) == {"/b": 1}
        assert store.append("events", events(["4", "5"])) == 2  # all new: plain insert
        assert store.append("events", events(["5", "6"])) == 1  # meets a stored key
        assert store.append_events_by_path(events(["1", "6"])) == {}
        ids = store.con.execute("SELECT count(*), count(DISTINCT event_id) FROM events").fetchall()
        assert ids == [(6, 6)]
