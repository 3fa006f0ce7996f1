"""Claude Code OTel events in both namings (fixtures written from the monitoring docs and the
OTLP/JSON mapping, not captured: tests/data/agents/SOURCES.md), pretty-printed or one a line."""

from __future__ import annotations

import json
from pathlib import Path

from agentaudit.collectors import sniff_collector
from agentaudit.ingest import ingest_paths

OTEL = Path(__file__).resolve().parents[2] / "tests/data/agents/claude-code/otel"
NAMINGS = ("otlp-logs-body-prefixed.json", "otlp-logs-eventname-prefixed.json")


def test_both_namings_give_the_same_rows(store, redactor, tmp_path):
    for name in NAMINGS:
        path = OTEL / name
        assert sniff_collector(path, path.read_bytes()[:4096]).name == "claude-code.otel"
    report = ingest_paths(store, [OTEL / n for n in NAMINGS], redactor=redactor)
    # the same 12 events (same session and sequence) whichever naming: stored once
    assert [(f.ingested, f.duplicate, f.quarantined) for f in report.files] == [
        (12, 0, 0),
        (0, 12, 0),
    ]
    rows = store.rows(
        "SELECT operation, kind, status, tool_call_id, destructive, severity, categories "
        "FROM events ORDER BY seq"
    )
    by_call = {r["tool_call_id"]: r for r in rows if r["kind"] != "other" and r["tool_call_id"]}
    curl = by_call["toolu_01PqR4sT6uV8wX0yZ2aB4cD6"]
    assert (curl["status"], curl["destructive"], curl["severity"]) == ("success", True, "critical")
    assert by_call["toolu_01Hc2mV9pQx4Lr7sTk3Wn8Ud"]["status"] == "denied"
    assert by_call["toolu_01Bf6sK2dTq8Wm4Xz1Ly9Rc"]["status"] == "failure"
    mcp = by_call["toolu_01Mc8Tp2Gx5Lw3Nk7Hv9Rb4Q"]
    assert (mcp["operation"], mcp["severity"]) == ("mcp__railway__volume_delete", "critical")
    (mode,) = [r for r in rows if r["operation"] == "permission_mode_changed"]
    assert mode["categories"] == ["safety_bypass"]
    ops = [r["operation"] for r in rows]
    assert {
        "user_prompt",
        "api_request",
        "hook_execution_start",
        "mcp_server_connection",
        "api_error",
    } <= set(ops)


def test_one_request_a_line_and_records_of_other_agents(store, redactor, tmp_path):
    request = json.loads((OTEL / NAMINGS[0]).read_text())
    codex = json.loads((OTEL.parents[1] / "codex/otel/otlp-logs-codex-bounded.json").read_text())
    spool = tmp_path / "claude-code-otel-2025-11-30.jsonl"
    spool.write_text(json.dumps(request) + "\n" + json.dumps(codex) + "\n")
    report = ingest_paths(store, [spool], redactor=redactor)
    assert (report.ingested, report.quarantined) == (12, 3)
    reasons = {r["reason"] for r in store.rows("SELECT reason FROM quarantine")}
    assert reasons == {
        "an OTLP record of codex.otel (codex.tool_decision): read it with --source codex.otel",
        "an OTLP record of codex.otel (codex.sandbox_outcome): read it with --source codex.otel",
    }
    again = ingest_paths(store, [spool], source="codex.otel", redactor=redactor)
    assert (again.ingested, again.quarantined) == (3, 12)
