"""`agentaudit hook`: real subprocesses writing the hook log, concurrently; ingest and join."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from agentaudit.ingest import ingest_paths
from agentaudit.paths import hook_log_dir
from agentaudit.receivers.hook import hook_log_path

BIN = Path(sys.executable).parent


def run_hook(agent: str, payload: bytes, *, cli: bool = False) -> subprocess.CompletedProcess:
    command = (
        [str(BIN / "agentaudit"), "hook", agent]
        if cli
        else [sys.executable, "-m", "agentaudit.receivers.hook", agent]
    )
    # a bound for a hang: on a busy machine the full CLI's start-up alone passed 60 s
    return subprocess.run(command, input=payload, capture_output=True, timeout=300)


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


@pytest.mark.slow  # CLI processes
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


@pytest.mark.slow  # a CLI process per payload
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


def codex_hook(event: str, call_id: str, tool: str, tool_input: dict, **extra) -> dict:
    return {
        "session_id": "019e2000-aaaa-bbbb-cccc-000000000001",
        "transcript_path": "/home/dev/.codex/sessions/2026/05/12/rollout-x.jsonl",
        "cwd": "/home/dev/app",
        "hook_event_name": event,
        "model": "gpt-5.5",
        "turn_id": "t1",
        "tool_name": tool,
        "tool_input": tool_input,
        "tool_use_id": call_id,
        **extra,
    }


@pytest.mark.slow  # a CLI process per payload
def test_codex_hook_rows_join_rollout_rows_on_call_id(store, redactor, tmp_path):
    patch = "*** Begin Patch\n*** Delete File: migrations/0001.sql\n*** End Patch"
    payloads = [
        codex_hook("PreToolUse", "call_rm", "Bash", {"command": "rm -rf data/"}),
        codex_hook(
            "PostToolUse",
            "call_rm",
            "Bash",
            {"command": "rm -rf data/"},
            tool_response="Process exited with code 1\nrm: data/: Permission denied",
        ),
        codex_hook("PreToolUse", "call_patch", "apply_patch", {"command": patch}),
        codex_hook("PermissionRequest", "call_net", "Bash", {"command": "curl https://x.test"}),
        {
            "session_id": "019e2000-aaaa-bbbb-cccc-000000000001",
            "hook_event_name": "UserPromptSubmit",
            "cwd": "/home/dev/app",
            "prompt": "delete the data dir",
        },
    ]
    for payload in payloads:
        assert run_hook("codex", json.dumps(payload).encode(), cli=True).returncode == 0
    rollout = tmp_path / "rollout-2026-05-12T10-00-00-019e2000-aaaa-bbbb-cccc-000000000001.jsonl"
    lines = [
        {
            "timestamp": "2026-05-12T10:00:00.000Z",
            "type": "session_meta",
            "payload": {"id": "019e2000-aaaa-bbbb-cccc-000000000001", "cli_version": "0.130.0"},
        },
        {
            "timestamp": "2026-05-12T10:00:01.000Z",
            "type": "response_item",
            "payload": {
                "type": "function_call",
                "name": "exec_command",
                "arguments": json.dumps({"cmd": "rm -rf data/"}),
                "call_id": "call_rm",
            },
        },
    ]
    rollout.write_text("".join(json.dumps(line) + "\n" for line in lines))
    report = ingest_paths(store, [hook_log_dir(), rollout], redactor=redactor)
    assert [(f.source, f.status) for f in report.files] == [
        ("codex.hooks", "read"),
        ("codex.rollout", "read"),
    ]
    assert report.quarantined == 0
    rows = store.rows(
        "SELECT source, agent, kind, status, exit_code, command, session_id FROM event_sessions "
        "WHERE call_key = 'call_rm' ORDER BY source, status"
    )
    assert [(r["source"], r["status"], r["exit_code"], r["command"]) for r in rows] == [
        ("codex.hooks", "failure", 1, "rm -rf data/"),
        ("codex.hooks", "unknown", None, "rm -rf data/"),
        ("codex.rollout", "unknown", None, "rm -rf data/"),
    ]
    assert {(r["agent"], r["kind"], r["session_id"]) for r in rows} == {
        ("codex", "process", "019e2000-aaaa-bbbb-cccc-000000000001")
    }
    others = store.rows(
        "SELECT tool_call_id, kind, operation, paths, model, text FROM events "
        "WHERE source = 'codex.hooks' AND tool_call_id IS DISTINCT FROM 'call_rm' ORDER BY seq"
    )
    assert [(r["tool_call_id"], r["kind"], r["operation"]) for r in others] == [
        ("call_patch", "file", "delete"),
        ("call_net", "process", "curl"),
        (None, "message", "user_prompt"),
    ]
    assert others[0]["paths"] == ["migrations/0001.sql"] and others[0]["model"] == "gpt-5.5"
    assert others[2]["text"] == "delete the data dir"


def test_gemini_hook_rows_share_the_chat_session(store, redactor):
    base = {
        "session_id": "5b959dae-0000-4000-8000-000000000000",
        "transcript_path": "/home/dev/.gemini/tmp/app/chats/session-x.json",
        "cwd": "/home/dev/app",
        "timestamp": "2026-05-12T10:00:02.123Z",
    }
    shell = {"command": "gcloud sql instances delete prod-db", "directory": "/home/dev/app"}
    payloads = [
        {**base, "hook_event_name": "BeforeAgent", "prompt": "drop the old db"},
        {
            **base,
            "hook_event_name": "BeforeTool",
            "tool_name": "run_shell_command",
            "tool_input": shell,
        },
        {
            **base,
            "hook_event_name": "AfterTool",
            "tool_name": "run_shell_command",
            "tool_input": shell,
            "tool_response": {"llmContent": "Command: gcloud ...\nExit Code: 1\nERROR: denied"},
        },
        {
            **base,
            "hook_event_name": "AfterTool",
            "tool_name": "read_file",
            "tool_input": {"file_path": "/home/dev/app/.env"},
            "tool_response": {"llmContent": "", "error": {"message": "File not found"}},
        },
        {**base, "hook_event_name": "SessionEnd", "reason": "exit"},
    ]
    for payload in payloads:
        assert run_hook("gemini", json.dumps(payload).encode()).returncode == 0
    run_hook("gemini", b"{broken")  # kept in the log, quarantined on ingest
    report = ingest_paths(store, [hook_log_dir()], redactor=redactor)
    assert (report.files[0].source, report.ingested, report.quarantined) == ("gemini.hooks", 5, 1)
    rows = store.rows(
        "SELECT agent, kind, operation, status, exit_code, command, paths, error, text, "
        "session_id, time_precision, strftime(time, '%H:%M:%S.%g') AS t FROM events ORDER BY seq"
    )
    assert [(r["kind"], r["operation"], r["status"], r["exit_code"]) for r in rows] == [
        ("message", "user_prompt", None, None),
        ("process", "gcloud sql instances delete", "unknown", None),
        ("process", "gcloud sql instances delete", "failure", 1),
        ("file", "read", "failure", None),
        ("other", "SessionEnd", "unknown", None),
    ]
    assert {r["agent"] for r in rows} == {"gemini"}
    assert {r["session_id"] for r in rows} == {base["session_id"]}
    assert {(r["time_precision"], r["t"]) for r in rows} == {("ms", "10:00:02.123")}
    assert rows[1]["command"] == "gcloud sql instances delete prod-db"
    assert rows[3]["paths"] == ["/home/dev/app/.env"] and rows[3]["error"] == "File not found"
    assert rows[0]["text"] == "drop the old db"


def test_each_cursor_corpus_file_alone(corpus):
    from agentaudit.collectors import get_collector
    from agentaudit.collectors.base import SourceInput
    from agentaudit.receivers.hook import hook_line
    from agentaudit.schema import Quarantined

    expected = {  # file: (kind, tool, command or path, agent version, session)
        "fusengine-afterShellExecution-01-synthetic.json": (
            "process",
            "Shell",
            "ls -la",
            "3.18.25",
            "00000000-0000-4000-8000-000000000201",
        ),
        "fusengine-beforeShellExecution-01-synthetic.json": (
            "process",
            "Shell",
            "ls -la",
            "3.18.25",
            "00000000-0000-4000-8000-000000000101",
        ),
        "fusengine-preToolUse-02-shell-authentic.json": (
            "process",
            "Shell",
            "wc -l /Users/user/project/index.html",
            "3.18.9",
            "897ad3e3-43d7-54d9-a5e6-3f19d6f0e2b3",
        ),
        "fusengine-preToolUse-03-write-newline-tool-use-id-authentic.json": (
            "file",
            "Write",
            "/Users/user/project/index.html",
            "3.18.9",
            "4e622770-b0a0-5ef2-99de-dbbfa2d0a243",
        ),
    }
    folder = corpus / "cursor"
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)
    for name, (kind, tool, what, version, session) in expected.items():
        stdin = json.loads((folder / name).read_text())["stdin"]
        line = hook_line("cursor", json.dumps(stdin).encode())
        src = SourceInput.from_bytes(name, line)
        outputs = list(get_collector("cursor.hooks").collect(src))
        assert [o for o in outputs if isinstance(o, Quarantined)] == [], name
        (event,) = outputs
        found = event["command"] if kind == "process" else event["target"]
        assert (event["kind"], event["tool_name"], event["agent_version"]) == (kind, tool, version)
        assert found.startswith(what) and event["session_id"] == session, name
        assert (event["model"], event["cwd"]) == ("cursor-grok-4.6-medium", "/Users/user/project")
