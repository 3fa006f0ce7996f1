"""A bad record is one bad record: a damaged file keeps every intact record, a poisoned line
costs that line and nothing after it, a corrupt database is reported. Real corpus files
(skipped when the corpus is absent), a real DuckDB store."""

from __future__ import annotations

import json
from pathlib import Path

from agentaudit.ingest import ingest_paths
from agentaudit.store import Store


def _ingest_one(store, redactor, path: Path, source: str | None = None):
    (report,) = ingest_paths(store, [path], source=source, redactor=redactor).files
    return report


def _kept(report) -> int:
    """Records stored from a file, counting those already stored from an intact copy."""
    return report.ingested + report.duplicate


def _quarantine(store, path: Path) -> list[dict]:
    sql = "SELECT line, byte_offset, reason FROM quarantine WHERE source_path = ? ORDER BY line"
    return store.rows(sql, [str(path)])


def test_a_github_export_whose_first_line_is_cut_keeps_the_other_eleven(
    store, redactor, corpus, tmp_path
):
    data = (corpus / "github" / "sentinel-github-audit-subset.jsonl").read_bytes()
    assert data.count(b"\n") == 12
    path = tmp_path / "github-audit.jsonl"
    path.write_bytes(data[data.index(b"\n") // 2 :])  # starts in the middle of record 1
    report = _ingest_one(store, redactor, path, source="github.audit")
    assert (report.ingested, report.quarantined) == (11, 1)
    (bad,) = _quarantine(store, path)
    assert (bad["line"], bad["byte_offset"]) == (1, 0)


def test_one_changed_byte_in_the_teardown_file_keeps_184_of_185_records(
    store, redactor, corpus, tmp_path
):
    data = (corpus / "cloudtrail" / "invictus-stratus-teardown-1235Z.json").read_bytes()
    assert len(json.loads(data)["Records"]) == 185
    # the `{` opening record 105 becomes a `[`: the document no longer parses as JSON
    starts = [i for i in range(len(data)) if data.startswith(b'{"eventVersion"', i)]
    damaged = bytearray(data)
    damaged[starts[104]] = ord("[")
    path = tmp_path / "teardown.json"
    path.write_bytes(bytes(damaged))
    report = _ingest_one(store, redactor, path, source="aws.cloudtrail")
    assert (report.ingested, report.quarantined) == (184, 1)
    (bad,) = _quarantine(store, path)
    assert bad["byte_offset"] is not None and starts[104] - 50 <= bad["byte_offset"] <= starts[105]


def test_a_poisoned_zsh_line_costs_that_line_only(store, redactor, tmp_path):
    path = tmp_path / ".zsh_history"
    lines = [b": 1714000000:0;ls", b": 300000000000:0;x", b": 1714000002:0;rm -rf ./build"]
    lines += [b": 1714000003:0;terraform destroy -auto-approve"]
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = _ingest_one(store, redactor, path, source="shell.zsh")
    commands = [r["command"] for r in store.rows("SELECT command FROM events ORDER BY seq")]
    assert "rm -rf ./build" in commands and "terraform destroy -auto-approve" in commands
    assert report.ingested + report.quarantined == 4 and "x" not in commands[:1]


def test_a_claude_transcript_line_cut_in_an_emoji_is_quarantined_and_later_lines_stored(
    store, redactor, corpus, tmp_path
):
    source = sorted((corpus / "claude-code").glob("*.jsonl"))[0]
    lines = source.read_bytes().splitlines()
    middle = len(lines) // 2
    cut = json.dumps({"type": "user", "message": {"content": "done 🔥"}}).encode()
    # a JSON line cut inside the escape of a surrogate pair: half an emoji, no closing quote
    poisoned = cut[: cut.index(b"\\ud83d") + 6]
    path = tmp_path / "session.jsonl"
    path.write_bytes(b"\n".join([*lines[:middle], poisoned, *lines[middle:]]) + b"\n")
    with Store.open(tmp_path / "clean.duckdb") as clean_store:
        expected = _ingest_one(clean_store, redactor, source, source="claude-code.transcript")
    report = _ingest_one(store, redactor, path, source="claude-code.transcript")
    # every intact record, before and after the cut one, and the cut line is one more
    # quarantine row, not a junk event
    assert report.ingested == expected.ingested
    assert report.quarantined == expected.quarantined + 1
    assert middle + 1 in [b["line"] for b in _quarantine(store, path)]


def test_a_poisoned_line_in_a_cloudtrail_jsonl_file_costs_that_line_only(
    store, redactor, corpus, tmp_path
):
    lines = (corpus / "cloudtrail" / "panther-destructive-tests.jsonl").read_bytes().splitlines()
    middle = len(lines) // 2
    poison = b'{"eventVersion": "1.08", "eventTime": "99999-01-01T00:00:00Z", "eventID": [1]'
    path = tmp_path / "trail.jsonl"
    path.write_bytes(b"\n".join([*lines[:middle], poison, *lines[middle:]]) + b"\n")
    clean = tmp_path / "clean.jsonl"
    clean.write_bytes(b"\n".join(lines) + b"\n")
    expected = _ingest_one(store, redactor, clean, source="aws.cloudtrail")
    report = _ingest_one(store, redactor, path, source="aws.cloudtrail")
    assert _kept(report) == _kept(expected) and report.quarantined == expected.quarantined + 1
    assert [b["line"] for b in _quarantine(store, path)] == [middle + 1]


def test_a_corrupt_atuin_database_is_reported_not_read_as_empty(store, redactor, corpus, tmp_path):
    data = (corpus / "atuin" / "generated-atuin-history-schema-sample.db").read_bytes()
    path = tmp_path / "atuin" / "history.db"
    path.parent.mkdir()
    path.write_bytes(data[: len(data) // 2])  # cut mid-page
    report = _ingest_one(store, redactor, path, source="shell.atuin")
    assert report.ingested == 0 and report.quarantined == 1
    assert report.status in ("damaged", "error") and report.detail
    (bad,) = _quarantine(store, path)
    assert "malformed" in bad["reason"] or "not a database" in bad["reason"]
