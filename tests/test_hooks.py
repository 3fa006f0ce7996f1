"""`agentaudit hook`: real subprocesses writing the hook log, concurrently; ingest and join."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agentaudit.hooks import hook_log_path
from agentaudit.ingest import ingest_paths
from agentaudit.paths import hook_log_dir

BIN = Path(sys.executable).parent


def run_hook(agent: str, payload: bytes, *, cli: bool = False) -> subprocess.CompletedProcess:
    command = (
        [str(BIN / "agentaudit"), "hook", agent]
        if cli
        else [sys.executable, "-m", "agentaudit.hooks", agent]
    )
    return subprocess.run(command, input=payload, capture_output=True, timeout=60)


def pre_tool_use(call_id: str, command: str, **extra) -> dict:
    return {
        "session_id": "sess-h",
        "transcript_path": "/home/dev/.claude/projects/-home-dev-app/sess-h.jsonl",
        "cwd": "/home/dev/app",
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": command, "description": "x"},
        "tool_use_id": call_id,
        **extra,
    }


def test_hook_prints_nothing_exits_zero_and_appends_one_line():
    payload = json.dumps(pre_tool_use("toolu_1", "ls")).encode()
    done = run_hook("claude-code", payload)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    via_cli = run_hook("claude-code", payload, cli=True)
    assert (via_cli.returncode, via_cli.stdout) == (0, b"")
    lines = hook_log_path("claude-code").read_bytes().splitlines()
    assert len(lines) == 2
    record = json.loads(lines[0])
    assert record["agent"] == "claude-code" and record["payload"]["tool_use_id"] == "toolu_1"
    assert record["received_at"].endswith("Z")
    assert oct(hook_log_path("claude-code").stat().st_mode & 0o777) == "0o600"


def test_concurrent_hooks_never_interleave():
    big = "x" * 200_000  # far above PIPE_BUF: atomicity comes from O_APPEND on a regular file
    payloads = [
        json.dumps(pre_tool_use(f"toolu_{i}", f"echo {i} {big}")).encode() for i in range(16)
    ]
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda p: run_hook("claude-code", p), payloads))
    assert {r.returncode for r in results} == {0}
    lines = hook_log_path("claude-code").read_bytes().splitlines()
    ids = sorted(json.loads(line)["payload"]["tool_use_id"] for line in lines)
    assert ids == sorted(f"toolu_{i}" for i in range(16))


def test_broken_payload_is_kept_and_quarantined(store, redactor):
    assert run_hook("claude-code", b'{"hook_event_name": "PreToolUse", trunc').returncode == 0
    report = ingest_paths(store, [hook_log_dir()], redactor=redactor)
    assert (report.ingested, report.quarantined) == (0, 1)
    (row,) = store.rows("SELECT reason, raw FROM quarantine")
    assert row["reason"].startswith("not JSON") and "trunc" in row["raw"]


def test_hook_rows_join_transcript_rows_on_tool_use_id(store, redactor, tmp_path):
    pre = pre_tool_use("toolu_j", "git push --force origin main")
    post = {
        **pre,
        "hook_event_name": "PostToolUseFailure",
        "error": "Exit code 1\nremote: rejected",
        "duration_ms": 812,
    }
    for payload in (pre, post):
        assert run_hook("claude-code", json.dumps(payload).encode()).returncode == 0
    transcript = tmp_path / "sess-h.jsonl"
    use = {
        "parentUuid": None,
        "sessionId": "sess-h",
        "type": "assistant",
        "uuid": "u1",
        "timestamp": "2026-04-24T19:00:00.000Z",
        "message": {
            "model": "claude-opus-4-6",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_j",
                    "name": "Bash",
                    "input": {"command": "git push --force origin main"},
                }
            ],
        },
    }
    transcript.write_text(json.dumps(use) + "\n")
    report = ingest_paths(store, [hook_log_dir(), transcript], redactor=redactor)
    assert [f.source for f in report.files] == ["claude-code.hooks", "claude-code.transcript"]
    rows = store.rows(
        "SELECT source, status, exit_code, command FROM event_sessions "
        "WHERE call_key = 'toolu_j' ORDER BY source, status"
    )
    assert [(r["source"], r["status"], r["exit_code"]) for r in rows] == [
        ("claude-code.hooks", "failure", 1),
        ("claude-code.hooks", "unknown", None),
        ("claude-code.transcript", "unknown", None),
    ]
    assert {r["command"] for r in rows} == {"git push --force origin main"}


def test_cursor_corpus_payloads_through_the_hook_command(corpus, store, redactor):
    folder = corpus / "cursor"
    for path in sorted(folder.glob("*.json")):
        stdin = json.loads(path.read_text())["stdin"]  # the fixture author's wrapper
        assert run_hook("cursor", json.dumps(stdin).encode(), cli=True).returncode == 0
    report = ingest_paths(store, [hook_log_dir()], redactor=redactor)
    assert (report.files[0].source, report.ingested, report.quarantined) == ("cursor.hooks", 4, 0)
    rows = store.rows("SELECT operation, kind, command, tool_call_id, cwd FROM events ORDER BY seq")
    shells = [r for r in rows if r["kind"] == "process"]
    assert [r["command"] for r in shells][:2] == ["ls -la", "ls -la"]
    assert all(r["tool_call_id"] for r in shells)  # Cursor gives shell hooks no id: one is made
    assert shells[2]["command"].startswith("wc -l /Users/user/project/index.html")
    assert shells[2]["cwd"] == "/Users/user/project"  # cwd "" falls back to workspace_roots[0]
    (write,) = [r for r in rows if r["kind"] == "file"]
    assert "\n" in write["tool_call_id"]  # the literal newline in the id is preserved
