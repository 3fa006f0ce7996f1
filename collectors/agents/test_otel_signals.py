"""Agents' OTel metrics and spans (`otel_metrics.py`, `otel_traces.py`), read as `serve` reads
them: one record per line through dispatch. The Claude Code fixtures are written from the
monitoring docs (tests/data/agents/SOURCES.md); the Codex and GenAI records below from the
codex-rs metric names and the OTel GenAI semantic conventions."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from agentaudit.collectors.otlp import dispatch

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "agents" / "claude-code" / "otel"


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def events(outcomes) -> list[dict]:
    return [e for o in outcomes for e in o.events]


def test_claude_code_metrics_fixture_is_stored_point_by_point():
    outcomes = dispatch("metrics", load("otlp-metrics.json"), "otlp:metrics/t")
    assert [o.collector.name for o in outcomes] == ["agent.otel-metrics"] * 6
    assert not any(o.rejected for o in outcomes)
    rows = events(outcomes)
    assert [r["operation"] for r in rows] == [
        "session_start",
        "token_usage",
        "token_usage",
        "token_usage",
        "cost_usage",
        "tool_decision",
    ]
    assert {r["agent"] for r in rows} == {"claude-code"}
    assert {r["session_id"] for r in rows} == {"9f1c2b7e-3d4a-4e5f-8a6b-7c8d9e0f1a2b"}
    decision = rows[-1]
    assert (decision["tool_name"], decision["status"]) == ("Edit", "unknown")  # accepted
    assert "decision=accept" in decision["text"] and rows[1]["model"] == "claude-opus-4-7"
    assert len({r["event_id"] for r in rows}) == 6


def test_a_cumulative_counter_resent_unchanged_adds_nothing_and_a_change_is_one_event():
    first = load("otlp-metrics.json")
    later = copy.deepcopy(first)
    changed = copy.deepcopy(first)
    for document, value in ((later, None), (changed, 99.0)):
        for metric in document["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]:
            for point in metric["sum"]["dataPoints"]:
                point["timeUnixNano"] = "1764498065000000000"  # the next export, a minute on
                if value is not None and metric["name"] == "claude_code.cost.usage":
                    point["asDouble"] = value
    ids = [
        {e["event_id"] for e in events(dispatch("metrics", d, "p"))}
        for d in (first, later, changed)
    ]
    assert ids[0] == ids[1]
    assert len(ids[2] - ids[0]) == 1


def test_metrics_without_audit_meaning_are_quarantined_with_the_reason():
    request = {
        "resourceMetrics": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "codex_exec"}}]
                },
                "scopeMetrics": [
                    {
                        "metrics": [
                            {
                                "name": "codex.tool.call",
                                "sum": {
                                    "aggregationTemporality": 2,
                                    "dataPoints": [
                                        {
                                            "attributes": [
                                                {"key": "tool", "value": {"stringValue": "shell"}},
                                                {
                                                    "key": "success",
                                                    "value": {"stringValue": "false"},
                                                },
                                            ],
                                            "timeUnixNano": "1764498005000000000",
                                            "asInt": "3",
                                        }
                                    ],
                                },
                            },
                            {
                                "name": "codex.websocket.request.duration_ms",
                                "histogram": {"dataPoints": [{"count": "4", "sum": 812.0}]},
                            },
                        ]
                    }
                ],
            }
        ]
    }
    tool, latency = dispatch("metrics", request, "otlp:metrics/c")
    (event,) = tool.events
    assert (event["agent"], event["operation"], event["tool_name"], event["status"]) == (
        "codex",
        "tool_call",
        "shell",
        "failure",
    )
    assert latency.rejected and latency.reason == (
        "metric codex.websocket.request.duration_ms carries no audit meaning (not stored)"
    )


def test_claude_code_spans_fixture_tool_call_decision_and_execution():
    outcomes = dispatch("traces", load("otlp-traces.json"), "otlp:traces/t")
    assert not any(o.rejected for o in outcomes)
    rows = {e["operation"] or e["kind"]: e for e in events(outcomes)}  # enrichment names commands
    assert set(rows) == {"interaction", "api_request", "process", "tool_decision", "tool_execution"}
    tool = rows["process"]
    assert (tool["kind"], tool["tool_name"], tool["tool_call_id"]) == (
        "process",
        "Bash",
        "toolu_01PqR4sT6uV8wX0yZ2aB4cD6",
    )
    assert "volumeDelete" in tool["command"]
    assert rows["tool_execution"]["status"] == "success"
    assert rows["api_request"]["model"] == "claude-opus-4-7"


def gen_ai_span(operation: str, **extra: str) -> dict:
    attributes = {"gen_ai.operation.name": operation, **extra}
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "gemini-cli"}}]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b180",
                                "name": f"{operation} x",
                                "startTimeUnixNano": "1764498004000000000",
                                "attributes": [
                                    {"key": k, "value": {"stringValue": v}}
                                    for k, v in attributes.items()
                                ],
                                "status": {"code": 2, "message": "exit status 1"},
                            }
                        ]
                    }
                ],
            }
        ]
    }


def test_gen_ai_execute_tool_span_is_a_tool_call_and_embeddings_are_rejected():
    (call,) = dispatch(
        "traces",
        gen_ai_span(
            "execute_tool",
            **{
                "gen_ai.tool.name": "run_shell_command",
                "gen_ai.tool.call.id": "call_7",
                "gen_ai.tool.call.arguments": json.dumps({"command": "rm -rf /srv/data"}),
                "gen_ai.conversation.id": "conv-1",
            },
        ),
        "p",
    )
    (event,) = call.events
    assert (event["kind"], event["command"], event["tool_call_id"], event["agent"]) == (
        "process",
        "rm -rf /srv/data",
        "call_7",
        "gemini",
    )
    assert (event["status"], event["error"], event["session_id"]) == (
        "failure",
        "exit status 1",
        "conv-1",
    )
    (embeddings,) = dispatch("traces", gen_ai_span("embeddings"), "p")
    assert embeddings.rejected
    assert embeddings.reason == "span embeddings carries no audit meaning (not stored)"
