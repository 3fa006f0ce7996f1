"""Copilot CLI session events: a real 1.0.55 session (MIT, qiaolei81/copilot-session-viewer)
and a session written from it and the CLI docs (tests/data/agents/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

from agentaudit.collectors import sniff_collector
from agentaudit.ingest import ingest_paths

DATA = Path(__file__).resolve().parents[2] / "tests/data/agents/copilot-cli"
REAL = DATA / "qiaolei81-session-demo-events.jsonl"
WRITTEN = DATA / "fixture-session-state"


def test_real_session_calls_subagent_and_hooks(store, redactor):
    assert sniff_collector(REAL, REAL.read_bytes()[:4096]).name == "copilot.session"
    report = ingest_paths(store, [REAL], redactor=redactor)
    assert (report.ingested, report.quarantined) == (24, 0)  # 31 lines: 4 calls of 2, 3 silent
    calls = store.rows(
        "SELECT tool_name, kind, status, paths, session_id, parent_session_id, target "
        "FROM events WHERE tool_call_id IS NOT NULL ORDER BY seq"
    )
    assert [(c["tool_name"], c["status"]) for c in calls] == [
        ("view", "success"),
        ("report_intent", "success"),
        ("task", "success"),
        ("view", "success"),
        ("view", "success"),
    ]
    session = "030f200c-c26f-4ef0-9099-6d1156c83631"
    sub = f"{session}/agent-toolu_vrtx_01TxUTxpA98CaQcbRogpf822"
    assert calls[2]["target"] == sub
    assert [(c["session_id"], c["parent_session_id"]) for c in calls[3:]] == [(sub, session)] * 2
    assert calls[3]["paths"] == ["/Users/testuser/workspace/demo-project/hello.py"]
    hooks = store.rows("SELECT operation FROM events WHERE operation LIKE 'hook.%'")
    assert len(hooks) == 6


def test_written_session_exit_code_and_hook_denial(store, redactor):
    report = ingest_paths(store, [WRITTEN], redactor=redactor)
    by_status = {f.status for f in report.files}
    assert by_status == {"read", "companion"} and report.quarantined == 0
    rows = store.rows(
        "SELECT command, status, exit_code, error, severity, model, agent_version, cwd "
        "FROM events WHERE kind = 'process' ORDER BY seq"
    )
    assert [(r["status"], r["exit_code"], r["severity"]) for r in rows] == [
        ("success", 0, "critical"),
        ("denied", None, "high"),
    ]
    assert "Denied by preToolUse hook" in rows[1]["error"]
    assert (rows[0]["model"], rows[0]["agent_version"], rows[0]["cwd"]) == (
        "claude-sonnet-4.6",
        "1.0.55-1",
        "/home/dev/shop",
    )
