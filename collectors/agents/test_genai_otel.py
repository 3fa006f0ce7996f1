"""OpenTelemetry GenAI events (gen_ai.*), current and v1.36 conventions. The fixture is written
from the semantic conventions' event and message schemas (tests/data/agents/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

from agentaudit.collectors import sniff_collector
from agentaudit.ingest import ingest_paths

FILE = Path(__file__).resolve().parents[2] / "tests/data/agents/genai/otlp-logs-genai-semconv.json"


def test_model_tool_calls_and_their_results(store, redactor):
    assert sniff_collector(FILE, FILE.read_bytes()[:4096]).name == "genai.otel"
    report = ingest_paths(store, [FILE], redactor=redactor)
    # current: a call and the text beside it, then its result (the history's copy of the call
    # is not a new call) and the final text; v1.36: a call, its result, a user message
    assert (report.ingested, report.quarantined) == (7, 0)
    rows = store.rows(
        "SELECT agent, kind, operation, status, tool_call_id, command, destructive, severity "
        "FROM events ORDER BY time, kind"
    )
    assert {r["agent"] for r in rows} == {"gemini"}
    calls = {r["tool_call_id"]: r for r in rows if r["kind"] == "process"}
    assert calls["call-gen-1"]["destructive"] and calls["call-gen-1"]["severity"] == "critical"
    assert calls["call-old-2"]["command"] == "rm -rf /var/lib/postgresql/backups"
    results = [r["tool_call_id"] for r in rows if r["operation"] == "tool_result"]
    assert sorted(results) == ["call-gen-1", "call-old-2"]
