"""Codex OTel events, both generations (fixtures written from codex-rs's otel emitters, not
captured: tests/data/agents/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

from agentaudit.collectors import sniff_collector
from agentaudit.ingest import ingest_paths

OTEL = Path(__file__).resolve().parents[2] / "tests/data/agents/codex/otel"


def test_calls_joined_on_call_id_and_decisions_kept(store, redactor):
    path = OTEL / "otlp-logs-codex-with-call-id.json"
    assert sniff_collector(path, path.read_bytes()[:4096]).name == "codex.otel"
    report = ingest_paths(store, [path], redactor=redactor)
    assert (report.ingested, report.quarantined) == (9, 0)
    rows = store.rows(
        "SELECT kind, operation, status, tool_call_id, session_id, destructive, severity, text "
        "FROM events ORDER BY seq"
    )
    assert {r["session_id"] for r in rows} == {"019e8a41-2c7d-7b10-9f3e-5a6b7c8d9e0f"}
    curl = [r for r in rows if r["tool_call_id"] == "call_Rk3pW9mXn2Qs4Rt6YuV8wX0y"]
    assert [(r["kind"], r["status"]) for r in curl] == [
        ("process", "unknown"),  # the decision
        ("process", "success"),  # the result, with the command
        ("other", "unknown"),  # the sandbox outcome
    ]
    assert curl[1]["destructive"] and curl[1]["severity"] == "critical"
    denied = [r for r in rows if r["status"] == "denied"]
    assert [r["text"] for r in denied] == ["decision: denied (AutomatedReviewer)"]
    assert rows[0]["text"] == "approval on-request, sandbox workspace-write"


def test_bounded_generation_keeps_decisions_without_ids(store, redactor):
    report = ingest_paths(store, [OTEL / "otlp-logs-codex-bounded.json"], redactor=redactor)
    assert (report.ingested, report.quarantined) == (3, 0)
    rows = store.rows("SELECT tool_call_id, session_id, text FROM events ORDER BY seq")
    assert all(r["tool_call_id"] is None and r["session_id"] is None for r in rows)
    assert rows[1]["text"] == "decision: approved (source not said)"
