"""Google Antigravity transcripts and hook payloads (written from keys seen in public tests;
the command-in-content layout is a guess: tests/data/agents/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

from agentaudit.collectors import sniff_collector
from agentaudit.ingest import ingest_paths

DATA = Path(__file__).resolve().parents[2] / "tests/data/agents/antigravity"
SESSION = "aaaa1111-bbbb-2222-cccc-333344445555"


def test_transcript_steps_and_the_command_exit_code(store, redactor):
    (transcript,) = DATA.rglob("transcript.jsonl")
    assert (
        sniff_collector(transcript, transcript.read_bytes()[:4096]).name == "antigravity.transcript"
    )
    report = ingest_paths(store, [transcript], redactor=redactor)
    assert (report.ingested, report.quarantined) == (6, 0)
    rows = store.rows(
        "SELECT kind, operation, status, exit_code, paths, severity, session_id FROM events ORDER BY seq"
    )
    assert [r["kind"] for r in rows] == [
        "message",
        "message",
        "file",
        "process",
        "message",
        "message",
    ]
    assert rows[2]["paths"] == ["/home/dev/shop/railway.json"]
    assert (rows[3]["status"], rows[3]["exit_code"], rows[3]["severity"]) == (
        "success",
        0,
        "critical",
    )
    assert {r["session_id"] for r in rows} == {SESSION}


def test_both_hook_shapes(store, redactor):
    path = DATA / "hooks" / "antigravity-hook-payloads.jsonl"
    assert sniff_collector(path, path.read_bytes()[:4096]).name == "antigravity.hooks"
    report = ingest_paths(store, [path], redactor=redactor)
    assert (report.ingested, report.quarantined) == (2, 0)
    rows = store.rows("SELECT kind, cwd, severity, session_id FROM events ORDER BY seq")
    assert (
        rows
        == [
            {
                "kind": "process",
                "cwd": "/home/dev/shop",
                "severity": "critical",
                "session_id": SESSION,
            }
        ]
        * 2
    )
