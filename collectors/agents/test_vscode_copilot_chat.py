"""VS Code Copilot Chat sessions: the real operation-log lines of a 0.49 session (MIT,
qiaolei81/copilot-session-viewer; its snapshot line is not copied) and sessions written from it
and VS Code's ToolConfirmKind (tests/data/agents/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

from agentaudit.collectors import sniff_collector
from agentaudit.ingest import ingest_paths

DATA = Path(__file__).resolve().parents[2] / "tests/data/agents/vscode-copilot-chat"
SESSIONS = DATA / "workspaceStorage/3f9a1c2b7d4e/chatSessions"


def test_operation_log_replayed_into_calls(store, redactor):
    for path in [*SESSIONS.iterdir(), DATA / "qiaolei81-chatsession-patches-only.jsonl"]:
        assert sniff_collector(path, path.read_bytes()[:4096]).name == "vscode-copilot.chat", path
    report = ingest_paths(
        store, [SESSIONS / "0885a5a2-5c49-4a15-b22a-15d9ec401051.jsonl"], redactor=redactor
    )
    assert (report.ingested, report.quarantined) == (5, 0)
    rows = store.rows(
        "SELECT kind, tool_name, status, exit_code, command, severity, model, agent_version "
        "FROM events ORDER BY seq"
    )
    assert [(r["tool_name"], r["status"], r["severity"]) for r in rows] == [
        (None, None, "info"),  # the prompt
        ("run_in_terminal", "success", "critical"),  # the curl, clicked through
        ("run_in_terminal", "success", "info"),  # auto-approved by a setting
        ("run_in_terminal", "denied", "high"),  # refused by the user
        ("mcp__railway__volume_delete", "success", "critical"),
    ]
    assert (rows[1]["model"], rows[1]["agent_version"]) == ("copilot/claude-sonnet-4.5", "0.49.0")


def test_real_patches_without_their_snapshot_and_the_legacy_document(store, redactor):
    real = ingest_paths(
        store, [DATA / "qiaolei81-chatsession-patches-only.jsonl"], redactor=redactor
    )
    assert (real.ingested, real.quarantined) == (3, 0)
    tools = store.rows(
        "SELECT tool_name, operation, text FROM events WHERE tool_call_id IS NOT NULL ORDER BY seq"
    )
    assert [(t["tool_name"], t["operation"]) for t in tools] == [
        ("manage_todo_list", "manage_todo_list"),
        ("runSubagent", "subagent"),
    ]
    assert tools[1]["text"].startswith("Execute single task directly")
    legacy = ingest_paths(store, [SESSIONS / "legacy-5a6b7c8d.json"], redactor=redactor)
    assert (legacy.ingested, legacy.quarantined) == (3, 0)
