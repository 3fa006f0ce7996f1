"""Amp threads (written from shapes public readers report, not captured:
tests/data/agents/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

from agentaudit.collectors import sniff_collector
from agentaudit.ingest import ingest_paths

THREADS = Path(__file__).resolve().parents[2] / "tests/data/agents/amp/threads"


def test_calls_joined_to_results_with_exit_codes_and_refusals(store, redactor):
    (path,) = THREADS.iterdir()
    assert sniff_collector(path, path.read_bytes()[:4096]).name == "amp.thread"
    report = ingest_paths(store, [THREADS], redactor=redactor)
    assert (report.ingested, report.quarantined) == (5, 0)
    rows = store.rows(
        "SELECT kind, operation, status, exit_code, command, cwd, severity, model, session_id, "
        "agent_version FROM events ORDER BY seq"
    )
    calls = [r for r in rows if r["kind"] == "process"]
    assert [(c["status"], c["exit_code"], c["severity"]) for c in calls] == [
        ("success", 0, "critical"),
        ("denied", None, "high"),
    ]
    assert calls[0]["cwd"] == "/home/dev/shop" and calls[0]["model"] == "claude-sonnet-4-5-20250929"
    assert {r["session_id"] for r in rows} == {"T-4f1c2b7e-3d4a-4e5f-8a6b-7c8d9e0f1a2b"}
    assert [r["operation"] for r in rows if r["kind"] == "message"] == [
        "user_prompt",
        "thinking",
        "assistant_text",
    ]
