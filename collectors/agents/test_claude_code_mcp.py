"""Claude Code MCP server logs (fixture written from line shapes quoted in public parsers and
issues, not a capture: tests/data/agents/SOURCES.md): calls joined to their answers, classified
with their server, and tied to the hook row of the same call."""

from __future__ import annotations

import json
from pathlib import Path

from agentaudit.collectors import sniff_collector
from agentaudit.detect.driver import run_detection
from agentaudit.detect.link import link_events
from agentaudit.detect.window import Window
from agentaudit.ingest import ingest_paths

LOGS = (
    Path(__file__).resolve().parents[2]
    / "tests/data/agents/claude-code/mcp-logs/cache/claude-cli-nodejs/-home-dev-shop"
)
FILE = LOGS / "mcp-logs-railway" / "2026-11-30T10-47-32-359Z.jsonl"
SESSION = "6c47fe2e-6c0c-4e6b-be7e-c24aed120241"


def test_each_call_joined_to_its_answer(store, redactor):
    assert sniff_collector(FILE, FILE.read_bytes()[:4096]).name == "claude-code.mcp"
    report = ingest_paths(store, [LOGS], redactor=redactor)
    assert (report.ingested, report.quarantined) == (
        10,
        0,
    )  # 14 lines: 3 calls of 2 lines, 1 progress
    calls = store.rows(
        "SELECT tool_name, kind, status, error, text, destructive, severity, categories "
        "FROM events WHERE tool_name IS NOT NULL ORDER BY seq"
    )
    assert [(c["tool_name"], c["status"], c["text"]) for c in calls] == [
        ("mcp__railway__list_volumes", "success", "completed in 505ms"),
        ("mcp__railway__volume_delete", "success", "completed in 31s"),
        ("mcp__railway__service_delete", "failure", "failed after 0s"),
    ]
    assert [(c["destructive"], c["severity"]) for c in calls] == [
        (False, "info"),
        (True, "critical"),  # Railway's volumeDelete: data and its backups
        (True, "high"),
    ]
    assert "Service not found" in calls[2]["error"]
    others = store.rows("SELECT operation, status FROM events WHERE tool_name IS NULL ORDER BY seq")
    assert [o["operation"] for o in others] == [
        "connecting",
        "connected",
        "capabilities",
        "server_stderr",
        "server_error",
        "disconnected",
        "terminated",
    ]
    assert {r["session_id"] for r in store.rows("SELECT session_id FROM events")} == {SESSION}


def test_a_call_still_open_at_the_end_is_kept_and_its_answer_later_is_an_outcome(
    store, redactor, tmp_path
):
    folder = tmp_path / "mcp-logs-github"
    folder.mkdir()
    log = folder / "2026-01-01T00-00-00-000Z.jsonl"
    line = {"timestamp": "2026-01-01T00:00:01.000Z", "sessionId": "s", "cwd": "/w"}
    log.write_text(json.dumps({**line, "debug": "Calling MCP tool: delete_repository"}) + "\n")
    ingest_paths(store, [log], redactor=redactor)
    with log.open("a") as out:
        answer = {**line, "debug": "Tool 'delete_repository' completed successfully in 2s"}
        out.write(json.dumps(answer) + "\n")
    ingest_paths(store, [log], redactor=redactor)
    rows = store.rows("SELECT kind, operation, status, destructive FROM events ORDER BY seq")
    assert rows == [
        {
            "kind": "api",
            "operation": "mcp__github__delete_repository",
            "status": "unknown",
            "destructive": True,
        },
        {"kind": "other", "operation": "tool_result", "status": "success", "destructive": False},
    ]


def hook_line(tmp_path: Path) -> Path:
    pre = {
        "session_id": SESSION,
        "transcript_path": f"/home/dev/.claude/projects/-home-dev-shop/{SESSION}.jsonl",
        "cwd": "/home/dev/shop",
        "hook_event_name": "PreToolUse",
        "tool_name": "mcp__railway__volume_delete",
        "tool_input": {"volumeId": "3d2c42fb-6c1e-4a55-9d5f-8b7e2f0a9c13"},
        "tool_use_id": "toolu_mcp_1",
    }
    hooks = tmp_path / "claude-code-2026-11-30.jsonl"
    line = {"received_at": "2026-11-30T10:49:57.900000Z", "agent": "claude-code", "payload": pre}
    hooks.write_text(json.dumps(line) + "\n")
    return hooks


def mcp_call_keys(store) -> list[dict]:
    return store.rows(
        "SELECT source, call_key FROM event_sessions "
        "WHERE tool_name = 'mcp__railway__volume_delete' ORDER BY source"
    )


ONE_CALL = [
    {"source": "claude-code.hooks", "call_key": "toolu_mcp_1"},
    {"source": "claude-code.mcp", "call_key": "toolu_mcp_1"},
]


def test_log_call_is_linked_to_the_hook_call_of_the_same_session_and_tool(
    store, redactor, tmp_path
):
    ingest_paths(store, [hook_line(tmp_path), LOGS], redactor=redactor)
    assert link_events(store) >= 1
    assert mcp_call_keys(store) == ONE_CALL


def test_watch_links_a_log_call_arriving_after_its_hook_call(store, redactor, tmp_path):
    """`watch` detects a window at a time: the MCP log's batch holds no shell line or
    provider record, and its call is still tied to the hook call of an earlier batch."""
    ingest_paths(store, [hook_line(tmp_path)], redactor=redactor)
    run_detection(store, [])
    ingest_paths(store, [LOGS], redactor=redactor)
    (batch,) = store.rows("SELECT min(ingested_at) AS t FROM events WHERE source LIKE '%.mcp'")
    report = run_detection(store, [], window=Window(batch["t"], settle_seconds=0))
    assert report.links_added >= 1
    assert mcp_call_keys(store) == ONE_CALL
