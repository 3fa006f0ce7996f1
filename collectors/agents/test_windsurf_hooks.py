"""Windsurf Cascade hook payloads (written from docs.windsurf.com's hooks page as adapters
quote it, not captured: tests/data/agents/SOURCES.md), bare and through the hook recorder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from agentaudit.collectors import sniff_collector
from agentaudit.ingest import ingest_paths
from agentaudit.paths import hook_log_dir

FILE = (
    Path(__file__).resolve().parents[2]
    / "tests/data/agents/windsurf/hooks/cascade-hook-payloads.jsonl"
)


def test_actions_paired_and_classified(store, redactor):
    assert sniff_collector(FILE, FILE.read_bytes()[:4096]).name == "windsurf.hooks"
    report = ingest_paths(store, [FILE], redactor=redactor)
    assert (report.ingested, report.quarantined) == (10, 0)
    rows = store.rows(
        "SELECT kind, operation, status, tool_call_id, paths, severity, session_id, model "
        "FROM events ORDER BY seq"
    )
    assert [r["kind"] for r in rows] == ["message"] + ["file"] * 2 + ["process"] * 2 + [
        "file"
    ] * 2 + ["api"] * 2 + ["message"]
    pairs = [(rows[i]["tool_call_id"], rows[i + 1]["tool_call_id"]) for i in (1, 3, 5, 7)]
    assert all(a == b for a, b in pairs) and len({a for a, _ in pairs}) == 4
    assert [r["severity"] for r in rows[3:5]] == ["critical", "critical"]  # the curl
    assert [(r["operation"], r["status"], r["severity"]) for r in rows[7:9]] == [
        ("mcp__railway__volume_delete", "unknown", "critical"),
        ("mcp__railway__volume_delete", "success", "critical"),
    ]
    assert {r["session_id"] for r in rows} == {"3b8f1d6e-2c4a-4b9e-8f7d-1a2b3c4d5e6f"}
    assert rows[1]["paths"] == ["/home/dev/shop/.env"] and rows[0]["model"] == "SWE-1.5"


def test_through_the_recorder(store, redactor):
    for line in FILE.read_bytes().splitlines()[3:5]:
        done = subprocess.run(
            [sys.executable, "-m", "agentaudit.receivers.hook", "windsurf"],
            input=line, capture_output=True, timeout=60,
        )  # fmt: skip
        assert (done.returncode, done.stdout) == (0, b"")
    report = ingest_paths(store, [hook_log_dir()], redactor=redactor)
    assert (report.files[0].source, report.ingested, report.quarantined) == ("windsurf.hooks", 2, 0)
