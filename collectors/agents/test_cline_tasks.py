"""Cline and Roo Code task folders (written from Cline's ExtensionMessage types; no licensed
real folder was found: tests/data/agents/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

from agentaudit.collectors import sniff_collector
from agentaudit.ingest import ingest_paths

DATA = Path(__file__).resolve().parents[2] / "tests/data/agents"


def test_asks_runs_and_refusals(store, redactor):
    report = ingest_paths(store, [DATA / "cline", DATA / "roo-code"], redactor=redactor)
    assert report.quarantined == 0
    read = {
        (Path(f.path).name, f.source, f.status) for f in report.files if f.status != "companion"
    }
    assert read == {
        ("ui_messages.json", "cline.task", "read"),
        ("ui_messages.json", "roo-code.task", "read"),
    }
    companions = {(Path(f.path).name, f.source) for f in report.files if f.status == "companion"}
    assert ("taskHistory.json", "cline.task") in companions
    assert ("api_conversation_history.json", "roo-code.task") in companions
    for source, session, cwd in (
        ("cline.task", "1764498000000", "/home/dev/shop"),
        ("roo-code.task", "7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", None),
    ):
        rows = store.rows(
            "SELECT kind, operation, status, severity, error, session_id, cwd, model, agent_version "
            "FROM events WHERE source = ? ORDER BY seq",
            [source],
        )
        calls = [r for r in rows if r["kind"] == "process"]
        assert [(c["status"], c["severity"]) for c in calls] == [
            ("unknown", "critical"),
            ("denied", "high"),
        ]
        assert calls[1]["error"] == "no, keep the backups"
        assert {r["session_id"] for r in rows} == {session} and rows[0]["cwd"] == cwd
        assert rows[0]["operation"] == "user_prompt" and rows[0]["agent_version"]
    for path in (DATA / "cline").rglob("ui_messages.json"):
        assert sniff_collector(path, path.read_bytes()[:4096]).name == "cline.task"
