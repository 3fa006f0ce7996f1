"""The OTel log collectors of issue 18 under `agentaudit serve`'s dispatch (`collectors/otlp.py`):
each record of a mixed request goes to the collector that declares it, the rest is rejected
with a reason for `partial_success` (fixtures: tests/data/agents/*/otel, written from vendor
docs and source)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from agentaudit.collectors.otlp import dispatch

DATA = Path(__file__).resolve().parents[2] / "tests/data/agents"


def test_a_mixed_request_is_read_by_each_agents_collector():
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
    outcomes = dispatch("logs", request, "otlp:logs/test")
    events = Counter()
    for outcome in outcomes:
        if outcome.events:
            events[outcome.collector.name] += len(outcome.events)
    assert events == {"claude-code.otel": 12, "codex.otel": 9, "gemini.otel": 6, "genai.otel": 7}
    rejected = [o for o in outcomes if o.rejected]
    assert len(rejected) == 2 and all("acme.deploy" in o.reason for o in rejected)
