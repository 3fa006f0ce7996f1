"""Issue 18: a Claude Code setup that hooks only PostToolBatch still pages the PocketOS curl.

End to end with real parts: the payloads go through the real hook recorder (a subprocess, as
Claude Code runs it), into a DuckDB file, through detection and alerting to a real HTTP
receiver on 127.0.0.1. The payloads are written from the documented hook schema
(tests/data/agents/claude-code/hooks, see SOURCES.md), not captured from Claude Code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agentaudit.paths import hook_log_dir
from agentaudit.pipeline import run_pipeline
from agentaudit.receiver import LocalReceiver
from agentaudit.store import Store

HOOKS = Path(__file__).parent / "data" / "agents" / "claude-code" / "hooks"
TOKEN = "6f0c2b9e-41d7-4c3a-a8e5-d2b7f19c0e84"


def payloads(event: str) -> list[bytes]:
    lines = (HOOKS / "pocketos-pre-post-batch.jsonl").read_text().splitlines()
    return [line.encode() for line in lines if json.loads(line)["hook_event_name"] == event]


def record(payload: bytes) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "agentaudit.receivers.hook", "claude-code"],
        input=payload,
        capture_output=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (0, b"")


@pytest.mark.parametrize("event", ["PostToolBatch", "PreToolUse"])
def test_the_curl_pages_critical_whichever_hook_saw_it(tmp_path, event, redactor):
    (payload,) = payloads(event)
    record(payload)
    with LocalReceiver() as receiver, Store.open(tmp_path / "s.duckdb") as store:
        result = run_pipeline(
            store, [hook_log_dir()], notify_urls=[receiver.url()], redactor=redactor
        )
        assert (result.ingest.ingested, result.ingest.quarantined) == (1, 0)
        (row,) = store.rows("SELECT kind, destructive, severity, tool_call_id FROM events")
        assert row == {
            "kind": "process",
            "destructive": True,
            "severity": "critical",
            "tool_call_id": "toolu_01PqR4sT6uV8wX0yZ2aB4cD6",
        }
        critical = [f for f in result.detect.findings if f["severity"] == "critical"]
        assert critical, result.detect.findings
    titles = [r["body"]["title"] for r in receiver.received]
    assert len(titles) == 1 and titles[0].startswith("[CRITICAL]"), titles
    assert "volumeDelete" in receiver.received[0]["body"]["message"]
    assert TOKEN not in str(receiver.received)
