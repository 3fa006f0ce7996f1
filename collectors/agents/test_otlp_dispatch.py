"""`split_by_collector`: what `agentaudit serve` uses to hand each OTel collector its records
and report the rest through `partial_success` (fixtures: tests/data/agents/*/otel)."""

from __future__ import annotations

import json
from pathlib import Path

from agentaudit.collectors import get_collector
from agentaudit.collectors.agents._otlp import split_by_collector
from agentaudit.collectors.base import SourceInput
from agentaudit.ingest import ingest_source

DATA = Path(__file__).resolve().parents[2] / "tests/data/agents"


def test_a_mixed_request_is_split_by_agent_and_the_unread_rest_counted(store, redactor):
    parts = [
        json.loads((DATA / f).read_text())
        for f in (
            "claude-code/otel/otlp-logs-eventname-prefixed.json",
            "codex/otel/otlp-logs-codex-with-call-id.json",
            "gemini/telemetry/otlp-logs-gemini-cli.json",
            "genai/otlp-logs-genai-semconv.json",
        )
    ]
    stranger = {"attributes": [{"key": "event.name", "value": {"stringValue": "acme.deploy"}}]}
    parts.append(
        {"resourceLogs": [{"resource": {}, "scopeLogs": [{"logRecords": [stranger] * 2}]}]}
    )
    request = {"resourceLogs": [rl for p in parts for rl in p["resourceLogs"]]}
    by_collector, rejected = split_by_collector(request)
    assert rejected == {"no collector reads acme.deploy events": 2}
    counts = {}
    for name, sub in by_collector.items():
        src = SourceInput.from_bytes("otlp:test", json.dumps(sub).encode() + b"\n")
        report = ingest_source(store, get_collector(name), src, redactor)
        counts[name] = (report.ingested, report.quarantined)
    assert counts == {
        "claude-code.otel": (12, 0),
        "codex.otel": (9, 0),
        "gemini.otel": (6, 0),
        "genai.otel": (7, 0),
    }
