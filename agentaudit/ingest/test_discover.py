"""`ingest --discover`: every agent's default locations under a fake home, reported per source."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agentaudit.ingest.discover import discover_sources, discovery_summary, ingest_discovered
from agentaudit.paths import hook_log_dir
from agentaudit.receivers.hook import record_hook


def place(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def fake_home(corpus: Path, home: Path) -> None:
    claude = home / ".claude" / "projects" / "-home-marco-projects-spotter"
    place(corpus / "claude-code" / "spotter-tool-heavy.jsonl", claude / "d6e0bada.jsonl")
    place(
        corpus / "claude-code" / "spotter-subagents-agent-aac57f5.jsonl",
        claude / "ae4a77f8" / "subagents" / "agent-aac57f5.jsonl",
    )
    (claude / "ae4a77f8" / "tool-results").mkdir()
    (claude / "ae4a77f8" / "tool-results" / "spill.jsonl").write_text("not a transcript\n")
    place(
        corpus / "codex" / "codemie-rollout-2026-05-11T11-26-55-019e1625-head.jsonl",
        home / ".codex/sessions/2026/05/11/rollout-2026-05-11T11-26-55-019e1625.jsonl",
    )
    # an archived rollout and a mid-2025 single-document session (our own small records)
    archived = home / ".codex/archived_sessions/rollout-2026-01-02T10-00-00-0a0a.jsonl"
    archived.parent.mkdir(parents=True)
    archived.write_text(
        json.dumps({"timestamp": "2026-01-02T10:00:00Z", "type": "session_meta", "payload": {}})
        + "\n"
        + json.dumps(
            {
                "timestamp": "2026-01-02T10:00:01Z",
                "type": "response_item",
                "payload": {
                    "type": "function_call",
                    "name": "shell",
                    "arguments": '{"command": ["bash", "-lc", "ls"]}',
                    "call_id": "c1",
                },
            }
        )
        + "\n"
        + json.dumps({"timestamp": "2026-01-02T10:00:02Z", "type": "compacted", "payload": {}})
        + "\n"
    )
    legacy = home / ".codex/sessions/rollout-2025-06-01-0b0b.json"
    items = [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        {"type": "function_call", "name": "shell", "arguments": "{}", "call_id": "c2"},
    ]
    legacy.write_text(json.dumps({"session": {"id": "0b0b", "timestamp": "x"}, "items": items}))
    place(
        corpus / "gemini" / "codemie-gemini-session-2025-12-01T21-45-5b959dae.json",
        home / ".gemini/tmp/fb8e242a/chats/session-2025-12-01T21-45-5b959dae.json",
    )
    place(corpus / "gemini" / "codemie-gemini-logs.json", home / ".gemini/tmp/fb8e242a/logs.json")
    place(
        corpus / "aider" / "aider-tests-fixtures-chat-history-head.md",
        home / "repo" / ".aider.chat.history.md",
    )


def test_discover_finds_and_ingests_each_source(corpus, store, redactor, tmp_path):
    home = tmp_path / "home"
    fake_home(corpus, home)
    payload = {
        "session_id": "s",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "ls"},
        "tool_use_id": "toolu_d",
    }
    record_hook("claude-code", json.dumps(payload).encode())
    record_hook("codex", json.dumps({**payload, "tool_use_id": "call_d"}).encode())
    gemini_payload = {"session_id": "g", "hook_event_name": "BeforeAgent", "prompt": "hi"}
    record_hook("gemini", json.dumps(gemini_payload).encode())
    sources = discover_sources(home=home, env={}, cwd=home / "repo")
    results = ingest_discovered(store, sources, redactor)
    summary = {
        row["source"]: (row["files"], row["ingested"], row["quarantined"])
        for row in discovery_summary(results)
    }
    assert summary == {
        "Claude Code transcripts": (2, 33 + 28, 0),  # tool-results/ is skipped
        "Claude Code hook log": (1, 1, 0),
        "Claude Code OTLP spool": (0, 0, 0),
        "OTLP spool (serve --spool, watch)": (0, 0, 0),
        "Cursor hook log": (0, 0, 0),
        "Codex hook log": (1, 1, 0),
        "Gemini CLI hook log": (1, 1, 0),
        "Codex rollouts": (1 + 1, 110 + 3, 0),  # sessions/ and archived_sessions/
        "Codex legacy sessions": (1, 3, 0),
        "Gemini CLI chats": (2, 16 + 3, 0),
        "Cursor agent transcripts": (0, 0, 0),
        "OpenHands events": (0, 0, 0),
        "Aider chat history": (1, 1001, 0),
    }
    again = discovery_summary(ingest_discovered(store, sources, redactor))
    assert sum(row["ingested"] for row in again) == 0  # nothing new the second time
    assert hook_log_dir().is_dir()


@pytest.mark.slow  # the corpus through the CLI
def test_cli_ingest_discover_json(corpus, tmp_path):
    home = tmp_path / "home"
    fake_home(corpus, home)
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "AGENTAUDIT_HOME": str(tmp_path / "aa")}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "agentaudit"), "ingest", "--discover", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=home / "repo",
        timeout=300,
        check=True,
    )
    rows = {row["source"]: row for row in json.loads(done.stdout)}
    assert rows["Codex rollouts"]["ingested"] == 110 + 3
    assert (rows["Codex legacy sessions"]["files"], rows["Codex legacy sessions"]["ingested"]) == (
        1,
        3,
    )
    assert rows["OpenHands events"]["found"] is False
