"""Claude Desktop / Cowork local agent mode sessions (written from uber/ADR's parser, Apache-2.0,
not captured: tests/data/agents/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

from agentaudit.collectors import sniff_collector
from agentaudit.detect.driver import run_detection
from agentaudit.ingest import ingest_paths

DATA = Path(__file__).resolve().parents[2] / "tests/data/agents/claude-desktop"


def test_calls_joined_refusal_and_the_curl_pages(store, redactor):
    (audit,) = DATA.rglob("audit.jsonl")
    assert sniff_collector(audit, audit.read_bytes()[:4096]).name == "claude-desktop.audit"
    report = ingest_paths(store, [DATA], redactor=redactor)
    assert report.quarantined == 0 and {f.status for f in report.files} == {"read", "companion"}
    assert report.ingested == 6  # init, prompt, two calls, rate limit, result
    rows = store.rows(
        "SELECT kind, operation, status, severity, session_id, cwd, model, agent_version, time "
        "FROM events ORDER BY seq"
    )
    calls = [r for r in rows if r["kind"] == "process"]
    assert [(c["status"], c["severity"]) for c in calls] == [
        ("success", "critical"),
        ("denied", "high"),
    ]
    assert {r["session_id"] for r in rows} == {"3e2d1c0b-9a8f-4e7d-b6c5-a4f3e2d1c0b9"}
    assert (calls[0]["cwd"], calls[0]["model"], calls[0]["agent_version"]) == (
        "/home/dev/shop",
        "claude-opus-4-7",
        "2.1.296",
    )
    assert {r["time"] for r in rows} == {None}  # the lines have no times
    run_detection(store)
    assert store.rows("SELECT count(*) AS n FROM findings WHERE severity = 'critical'")[0]["n"] >= 1
