"""Claude Code hooks: every event of tests/data/agents/claude-code/hooks (payloads written from
the documented hook schema, not captured: see tests/data/agents/SOURCES.md), bare and as the
hook recorder logs them; ConfigChange through the real recorder and the detectors."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import partial
from pathlib import Path

from agentaudit.collectors import sniff_collector
from agentaudit.collectors.agents._shared import CLAUDE_HOOK_EVENTS
from agentaudit.detect.driver import run_detection
from agentaudit.ingest import ingest_paths
from agentaudit.paths import hook_log_dir
from agentaudit.testing import collect as collect_with

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "agents" / "claude-code" / "hooks"
SESSION = "9f1c2b7e-3d4a-4e5f-8a6b-7c8d9e0f1a2b"


collect = partial(collect_with, "claude-code.hooks")  # (path, data=None) -> events, quarantined


def wrapped(path: Path) -> bytes:
    """The fixture's raw payloads as the hook recorder logs them."""
    lines = path.read_text().splitlines()
    return "".join(
        json.dumps(
            {
                "received_at": f"2025-11-30T10:20:{i:02d}.000000Z",
                "agent": "claude-code",
                "payload": json.loads(line),
            }
        )
        + "\n"
        for i, line in enumerate(lines)
    ).encode()


def test_every_documented_event_is_in_the_fixture_and_sniffed_bare():
    path = DATA / "all-33-events.jsonl"
    names = {json.loads(line)["hook_event_name"] for line in path.read_text().splitlines()}
    assert names == set(CLAUDE_HOOK_EVENTS) and len(names) == 33
    for file in sorted(DATA.glob("*.jsonl")):
        assert sniff_collector(file, file.read_bytes()[:4096]).name == "claude-code.hooks", file


def test_all_33_events_give_usable_rows():
    events, bad = collect(DATA / "all-33-events.jsonl")
    assert bad == []
    # 35 payloads; the PostToolBatch one holds two calls
    assert len(events) == 36 and len({e["event_id"] for e in events}) == 36
    by_op = {}
    for e in events:
        by_op.setdefault(e["operation"], e)
    assert {e["kind"] for e in events} == {"process", "file", "api", "message", "other"}
    assert by_op["InstructionsLoaded"]["paths"] == ["/home/dev/shop/CLAUDE.md"]
    assert by_op["CwdChanged"]["cwd"] == "/home/dev/shop/infra"
    watched = by_op["watched_change"]
    assert (watched["kind"], watched["paths"]) == ("file", ["/home/dev/shop/.env"])
    assert by_op["WorktreeRemove"]["paths"] == [
        "/home/dev/shop/.claude/worktrees/fix-staging-volume"
    ]
    assert by_op["WorktreeCreate"]["target"] == "fix-staging-volume"
    assert by_op["DirectoryAdded"]["paths"] == ["/home/dev/shared-infra"]
    assert by_op["PostModelSwitch"]["model"] == "claude-sonnet-4-6"
    assert by_op["SessionStart"]["model"] == "claude-opus-4-7"
    assert (
        by_op["StopFailure"]["status"] == "failure"
        and "rate_limit" in by_op["StopFailure"]["error"]
    )
    assert by_op["Elicitation"]["target"] == "railway" and "confirm" in by_op["Elicitation"]["text"]
    assert by_op["prompt_expansion"]["text"] == "/deploy-check staging"
    assert by_op["notification:permission_prompt"]["kind"] == "message"
    assert by_op["assistant_text"]["text"] == "The staging volume was not deleted."
    assert by_op["TaskCreated"]["text"] == "Remove the staging volume"
    assert by_op["PostCompact"]["text"].startswith("User asked to clean up")
    # subagent rows: own session, the main session as parent
    sub = [e for e in events if e["parent_session_id"]]
    assert {e["session_id"] for e in sub} == {f"{SESSION}/agent-a7c41e09b2d35f681"}
    assert {e["operation"] for e in sub} == {"SubagentStart", "search", "SubagentStop"}
    # the calls: PermissionDenied is denied, PermissionRequest awaits a human
    calls = {(e["command"], e["status"]) for e in events if e["tool_call_id"]}
    assert ("railway volume delete --volume vol-staging-7f3a --yes", "denied") in calls
    denied = next(e for e in events if e["status"] == "denied")
    assert "destructive" in denied["error"]
    request = next(e for e in events if '"PermissionRequest"' in e["raw"])
    assert (request["kind"], request["status"]) == ("process", "unknown")
    assert request["command"] == "railway volume delete --volume vol-staging-7f3a"


def test_post_tool_batch_elements_are_calls_joined_by_tool_use_id():
    events, _ = collect(DATA / "all-33-events.jsonl")
    batch = [e for e in events if '"PostToolBatch"' in e["raw"]]
    assert [(e["kind"], e["tool_name"], e["status"]) for e in batch] == [
        ("file", "Read", "success"),
        ("process", "Bash", "success"),
    ]
    assert batch[0]["paths"] == ["/home/dev/shop/.env"]
    assert batch[1]["command"] == "git status --short"
    assert batch[1]["tool_call_id"] == "toolu_01Wd9Ls4Pt2Xq6Mb8Yk3Rn7C"


def test_batch_only_pocketos_curl_is_critical_like_pre_tool_use(store, redactor, tmp_path):
    for name in ("pocketos-posttoolbatch-only.jsonl", "pocketos-pre-post-batch.jsonl"):
        log = tmp_path / f"claude-code-{name}"
        log.write_bytes(wrapped(DATA / name))
        ingest_paths(store, [log], redactor=redactor)
    rows = store.rows(
        "SELECT source_path, raw LIKE '%\"PostToolBatch\"%' AS batch, kind, destructive, severity, "
        "operation, tool_call_id FROM events ORDER BY source_path, seq"
    )
    # Pre, Post and Batch rows of one call; the batch-only file's payload is the same batch
    # (same session, call and event): stored once
    assert len(rows) == 3 and sum(r["batch"] for r in rows) == 1
    assert {(r["kind"], r["destructive"], r["severity"]) for r in rows} == {
        ("process", True, "critical")
    }
    assert {r["tool_call_id"] for r in rows} == {"toolu_01PqR4sT6uV8wX0yZ2aB4cD6"}
    assert "6f0c2b9e-41d7-4c3a-a8e5-d2b7f19c0e84" not in str(store.rows("SELECT * FROM events"))


def test_mcp_call_in_pre_tool_use_is_a_destructive_call_with_its_server():
    events, _ = collect(DATA / "all-33-events.jsonl")
    (mcp,) = [e for e in events if e["tool_name"] == "mcp__railway__volume_delete"]
    assert (mcp["kind"], mcp["target"]) == ("api", "3d2c42fb-6c1e-4a55-9d5f-8b7e2f0a9c13")
    assert json.loads(mcp["text"]) == {"volumeId": "3d2c42fb-6c1e-4a55-9d5f-8b7e2f0a9c13"}


def test_config_change_of_settings_without_content_is_a_safety_bypass_signal():
    events, bad = collect(DATA / "configchange-sources.jsonl")
    assert bad == [] and len(events) == 6
    assert [(e["operation"], e["categories"]) for e in events] == [
        ("ConfigChange", ["safety_bypass"]),
        ("ConfigChange", ["safety_bypass"]),
        ("ConfigChange", ["safety_bypass"]),
        ("ConfigChange", ["safety_bypass"]),
        ("ConfigChange", None),  # skills: instructions, not approvals
        ("ConfigChange", ["safety_bypass"]),
    ]
    assert events[0]["paths"] == ["/home/dev/.claude/settings.json"]


def run_recorder(payload: dict) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "agentaudit.receivers.hook", "claude-code"],
        input=json.dumps(payload).encode(),
        capture_output=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (0, b"")


def test_config_change_recorder_says_what_was_switched_off(store, redactor, tmp_path):
    settings = tmp_path / "settings.json"
    change = {
        "session_id": "s-cfg",
        "transcript_path": "/home/dev/.claude/projects/-x/s-cfg.jsonl",
        "cwd": str(tmp_path),
        "hook_event_name": "ConfigChange",
        "source": "project_settings",
        "file_path": str(settings),
    }
    hooked = {
        "PreToolUse": [{"hooks": [{"type": "command", "command": "agentaudit-hook claude-code"}]}]
    }
    settings.write_text(
        json.dumps({"permissions": {"allow": ["Bash(make test)"]}, "hooks": hooked})
    )
    run_recorder(change)  # a harmless edit: the first snapshot
    settings.write_text(
        json.dumps(
            {
                "permissions": {"allow": ["Bash(make test)"]},
                "hooks": hooked,
                "env": {"TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"},
            }
        )
    )
    run_recorder(change)  # still harmless (and the env value is not copied)
    settings.write_text(
        json.dumps({"permissions": {"defaultMode": "bypassPermissions"}, "disableAllHooks": True})
    )
    run_recorder(change)
    log = hook_log_dir()
    assert "ghp_" not in "".join(p.read_text() for p in log.glob("*.jsonl"))
    report = ingest_paths(store, [log], redactor=redactor)
    assert (report.ingested, report.quarantined) == (3, 0)
    rows = store.rows("SELECT categories, text FROM events ORDER BY seq")
    assert [r["categories"] for r in rows] == [None, None, ["audit_tamper", "safety_bypass"]]
    assert "defaultMode bypassPermissions" in rows[2]["text"]
    assert "all hooks disabled" in rows[2]["text"] and "agentaudit hooks removed" in rows[2]["text"]
    run_detection(store)
    found = {
        r["rule_id"]: r["severity"] for r in store.rows("SELECT rule_id, severity FROM findings")
    }
    assert found.get("audit-tamper") == "critical" and found.get("safety-bypass") == "high"
