"""The store: idempotent, private, and nothing lost on bad input."""

from __future__ import annotations

import stat

from agentaudit.ingest import ingest_paths
from agentaudit.scenarios import scenario_files
from agentaudit.store import Store

GOOD = (
    b'{"received_at":"2026-04-24T19:00:00.000Z","agent":"cursor","payload":{"conversation_id":"c1",'
    b'"generation_id":"g1","hook_event_name":"beforeShellExecution","command":"ls","cwd":"/w"}}'
)


def test_store_file_is_private(tmp_path):
    path = tmp_path / "sub" / "a.duckdb"
    Store.open(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_ingesting_twice_changes_no_row_count(store, redactor):
    first = ingest_paths(store, scenario_files("pocketos"), redactor=redactor)
    counts = store.counts()
    second = ingest_paths(store, scenario_files("pocketos"), redactor=redactor)
    assert first.ingested == 33 and first.quarantined == 0
    assert second.ingested == 0
    counts["ingest_runs"] += 1  # the run log has a row per run, by design
    assert store.counts() == counts


def test_rewritten_file_is_reread_without_duplicates(store, redactor, tmp_path):
    path = tmp_path / "hooks.jsonl"
    path.write_bytes(GOOD + b"\n")
    assert ingest_paths(store, [path], redactor=redactor).ingested == 1
    path.write_bytes(GOOD + b"\n" + GOOD.replace(b'"ls"', b'"pwd"') + b"\n")
    again = ingest_paths(store, [path], redactor=redactor)
    assert (again.ingested, again.duplicate) == (1, 0)
    path.write_bytes(GOOD.replace(b'"ls"', b'"pwd"') + b"\n")  # shrunk: read from the start
    third = ingest_paths(store, [path], redactor=redactor)
    assert (third.ingested, third.duplicate) == (0, 1)
    assert store.count("events") == 2


def test_garbage_lines_are_quarantined_with_reasons(store, redactor, tmp_path):
    path = tmp_path / "hooks.jsonl"
    spliced = GOOD[:60] + GOOD.replace(b'"ls"', b'"whoami"')
    lines = [
        GOOD,
        b"this is not json",
        b"\x00\x00\x00\x00",
        b'{"received_at": "x", "payload": {"hook_event_name": "stop", "bad": "\xff\xfe"}}',
        b"[1, 2, 3]",
        spliced,
        b'{"payload": {"no_event_name": true}, "token": "Bearer sk_live_abcdefghijklmnop1234"}',
        GOOD.replace(b'"ls"', b'"id"'),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = ingest_paths(store, [path], source="cursor.hooks", redactor=redactor)
    assert report.ingested == 3  # first, the recovered half of the spliced line, last
    assert report.quarantined == 5
    rows = store.rows("SELECT line, byte_offset, reason, raw FROM quarantine ORDER BY line")
    assert [r["line"] for r in rows] == [2, 3, 4, 5, 7]
    reasons = {r["line"]: r["reason"] for r in rows}
    assert reasons[2].startswith("invalid JSON")
    assert reasons[3] == "only NUL bytes"
    assert reasons[4].startswith("invalid UTF-8")
    assert reasons[5] == "not a JSON object"
    assert reasons[7] == "no hook_event_name"
    assert rows[0]["byte_offset"] == len(GOOD) + 1
    assert "\\xff" in rows[2]["raw"]  # the bad bytes are kept visibly, not dropped
    assert "sk_live_abcdefghijklmnop1234" not in rows[4]["raw"]


def test_unknown_files_are_reported_not_fatal(store, redactor, tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n")
    report = ingest_paths(store, [tmp_path], redactor=redactor)
    assert report.files[0].status == "skipped"
