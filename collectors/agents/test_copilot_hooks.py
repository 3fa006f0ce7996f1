"""Copilot CLI hook payloads in both formats (written from GitHub's CLI hooks reference:
tests/data/agents/SOURCES.md), bare and through the real hook recorder with its event name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from agentaudit.collectors import sniff_collector
from agentaudit.ingest import ingest_paths
from agentaudit.paths import hook_log_dir

HOOKS = Path(__file__).resolve().parents[2] / "tests/data/agents/copilot-cli/hooks"


def calls(store):
    return store.rows(
        "SELECT kind, status, exit_code, tool_call_id, severity FROM events "
        "WHERE kind = 'process' ORDER BY source_path, seq"
    )


def test_both_formats_pair_pre_and_post(store, redactor):
    for path in HOOKS.iterdir():
        assert sniff_collector(path, path.read_bytes()[:4096]).name == "copilot.hooks", path
    for name, count in (("camelcase-payloads.jsonl", 9), ("vscode-compatible-payloads.jsonl", 6)):
        report = ingest_paths(store, [HOOKS / name], redactor=redactor)
        assert (report.ingested, report.quarantined) == (count, 0)
    rows = calls(store)
    assert [(r["status"], r["exit_code"], r["severity"]) for r in rows] == [
        ("unknown", None, "critical"),
        ("success", None, "critical"),
        ("failure", 1, "info"),
    ] * 2
    assert rows[0]["tool_call_id"] == rows[1]["tool_call_id"] != rows[2]["tool_call_id"]
    ops = [
        r["operation"] for r in store.rows("SELECT operation FROM events ORDER BY source_path, seq")
    ]
    assert ops[:2] == ["sessionStart", "user_prompt"] and "errorOccurred" in ops


def test_recorder_keeps_the_event_a_camelcase_payload_does_not_name(store, redactor):
    lines = (HOOKS / "camelcase-payloads.jsonl").read_bytes().splitlines()
    for event, line in (("preToolUse", lines[2]), ("postToolUse", lines[3])):
        done = subprocess.run(
            [sys.executable, "-m", "agentaudit.receivers.hook", "copilot", event],
            input=line,
            capture_output=True,
            timeout=60,
        )
        assert (done.returncode, done.stdout) == (0, b"")
    report = ingest_paths(store, [hook_log_dir()], redactor=redactor)
    assert (report.files[0].source, report.ingested) == ("copilot.hooks", 2)
    assert [r["status"] for r in calls(store)] == ["unknown", "success"]
