"""`codex exec --json` output (fixtures written from codex-rs exec_events.rs and public tests'
lines, not captured: tests/data/agents/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

from agentaudit.collectors import get_collector, sniff_collector
from agentaudit.collectors.base import SourceInput
from agentaudit.detect.driver import run_detection
from agentaudit.ingest import ingest_paths

EXEC = Path(__file__).resolve().parents[2] / "tests/data/agents/codex/exec-json"


def test_items_joined_by_id_and_the_curl_pages(store, redactor):
    for path in EXEC.iterdir():
        assert sniff_collector(path, path.read_bytes()[:4096]).name == "codex.exec"
    report = ingest_paths(store, [EXEC / "exec-pocketos.jsonl"], redactor=redactor)
    assert (report.ingested, report.quarantined) == (14, 0)  # 17 lines, 3 started+completed
    rows = store.rows(
        "SELECT kind, status, exit_code, tool_call_id, command, paths, operation, severity "
        "FROM events WHERE tool_call_id IS NOT NULL ORDER BY seq"
    )
    by_id = {r["tool_call_id"]: r for r in rows}
    assert by_id["item_1"]["command"] == "railway volume list --json"  # bash -lc unwrapped
    assert (by_id["item_2"]["status"], by_id["item_2"]["severity"]) == ("success", "critical")
    assert by_id["item_3"]["status"] == "denied"  # declined
    assert (by_id["item_4"]["status"], by_id["item_4"]["exit_code"]) == ("failure", 1)
    assert (
        by_id["item_5"]["operation"] == "delete"
        and "/home/dev/shop/.env.example" in by_id["item_5"]["paths"]
    )
    assert by_id["item_6"]["operation"] == "mcp__railway__volume_delete"
    run_detection(store)
    criticals = store.rows("SELECT rule_id FROM findings WHERE severity = 'critical'")
    assert {"destructive-provider-http", "data-and-backups-destroyed"} <= {
        r["rule_id"] for r in criticals
    }


def test_failed_turn_and_a_tailed_file(store, redactor, tmp_path):
    events = list(
        get_collector("codex.exec").collect(
            SourceInput.from_bytes("x", (EXEC / "exec-turn-failed.jsonl").read_bytes())
        )
    )
    assert [(e["operation"], e["status"]) for e in events] == [
        ("thread.started", "unknown"),
        ("turn.started", "unknown"),
        ("error", "failure"),
        ("turn.failed", "failure"),
    ]
    assert "401 Unauthorized" in events[-1]["error"]
    lines = (EXEC / "exec-pocketos.jsonl").read_bytes().splitlines(keepends=True)
    run = tmp_path / "run.jsonl"
    run.write_bytes(b"".join(lines[:6]))  # ends after item_2 started
    ingest_paths(store, [run], redactor=redactor)
    run.write_bytes(b"".join(lines))
    ingest_paths(store, [run], redactor=redactor)
    curl = store.rows(
        "SELECT status, session_id FROM events WHERE tool_call_id = 'item_2' ORDER BY seq"
    )
    assert [r["status"] for r in curl] == ["unknown", "success"]  # open, then its completion
    assert {r["session_id"] for r in curl} == {"019e8a41-2c7d-7b10-9f3e-5a6b7c8d9e0f"}
