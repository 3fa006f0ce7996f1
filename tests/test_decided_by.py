"""Who decided each agent call (`decided_by`), read from the agents' real hook formats, and
the detections that use it, on stores written by a real ingest.

The fixtures of tests/data/agents/ are raw hook stdin (one payload a line); the hook log
wraps each as `agentaudit hook <agent>` does.
"""

from __future__ import annotations

import json
from pathlib import Path

from agentaudit.detect.driver import run_detection
from agentaudit.enrich.secrets import Redactor
from agentaudit.ingest import ingest_paths
from agentaudit.scenarios import scenario_path
from agentaudit.store import Store
from agentaudit.testing import TEST_KEY

AGENTS = Path(__file__).parent / "data" / "agents"
OURS = ("denied-then-run", "unattended-destruction")


def hook_log(tmp_path: Path, agent: str, payloads: list[dict]) -> Path:
    path = tmp_path / f"{agent}-hooks.jsonl"
    lines = [
        json.dumps(
            {"received_at": f"2025-11-30T10:20:{i:02d}.000Z", "agent": agent, "payload": p},
            separators=(",", ":"),  # as the hook writes it (the collectors sniff this)
        )
        for i, p in enumerate(payloads)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def fixture(relative: str) -> list[dict]:
    text = (AGENTS / relative).read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def ingest(tmp_path: Path, agent: str, payloads: list[dict]):
    """A new store holding `payloads` as the agent's hook log."""
    folder = tmp_path / f"{agent}-{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    store = Store.open(folder / "store.duckdb")
    ingest_paths(store, [hook_log(folder, agent, payloads)], redactor=Redactor(TEST_KEY))
    return store


def deciders(store) -> dict[str, set[str]]:
    rows = store.rows(
        "SELECT operation, kind, decided_by FROM events WHERE kind IN ('process', 'api', 'file')"
    )
    found: dict[str, set[str]] = {}
    for row in rows:
        # NULL: the collector recorded no decider (the source does not say)
        found.setdefault(row["decided_by"] or "unknown", set()).add(row["kind"])
    return found


def test_claude_code_bypass_mode_and_permission_events_are_mapped(tmp_path):
    with ingest(tmp_path, "claude-code", fixture("claude-code/hooks/all-33-events.jsonl")) as store:
        by_hook = {
            r["raw_hook"]: r["decided_by"]
            for r in store.rows(
                "SELECT json_extract_string(raw, '$.payload.hook_event_name') AS raw_hook, "
                "decided_by FROM events WHERE kind IN ('process', 'api', 'file')"
            )
        }
    assert by_hook["PermissionDenied"] == "classifier"
    assert by_hook["PermissionRequest"] == "human"
    assert by_hook["PreToolUse"] in (None, "bypass", "classifier", "setting")
    with ingest(
        tmp_path, "claude-code", fixture("claude-code/hooks/pocketos-pre-post-batch.jsonl")
    ) as store:
        assert set(deciders(store)) == {"bypass"}
        findings = [f for f in run_detection(store).findings if f["rule_id"] in OURS]
    # the PocketOS volumeDelete ran with permissions off
    assert [f["rule_id"] for f in findings] == ["unattended-destruction"]
    assert findings[0]["severity"] in ("high", "critical")


def test_codex_and_cursor_calls_say_unknown_unless_a_human_is_asked(tmp_path):
    with ingest(tmp_path, "codex", fixture("codex/hooks/codex-hook-payloads.jsonl")) as store:
        found = deciders(store)
    assert set(found) <= {"unknown", "human"} and "unknown" in found
    cursor = (scenario_path("pocketos") / "cursor-hooks.jsonl").read_text().splitlines()
    with ingest(tmp_path, "cursor", [json.loads(line)["payload"] for line in cursor]) as store:
        assert set(deciders(store)) == {"unknown"}  # Cursor's hook input carries no decision


def claude(hook: str, command: str, call_id: str, mode: str = "default", **more) -> dict:
    return {
        "session_id": "9d1c2b7e-3d4a-4e5f-8a6b-000000000017", "transcript_path": "/t.jsonl",
        "cwd": "/home/dev/shop", "permission_mode": mode, "hook_event_name": hook,
        "tool_name": "Bash", "tool_input": {"command": command}, "tool_use_id": call_id, **more,
    }  # fmt: skip


def test_a_call_run_by_another_route_after_its_denial_is_critical(tmp_path):
    drop = "rm -rf /var/lib/postgresql/backups"
    again = "find /var/lib/postgresql/backups -mindepth 1 -delete"
    payloads = [
        claude("PreToolUse", drop, "toolu_1", mode="auto"),
        claude("PermissionDenied", drop, "toolu_1", mode="auto", reason="destroys backups"),
        claude("PreToolUse", again, "toolu_2", mode="auto"),
        claude("PostToolUse", again, "toolu_2", mode="auto", tool_response={"stdout": ""}),
    ]
    with ingest(tmp_path, "claude-code", payloads) as store:
        findings = [f for f in run_detection(store).findings if f["rule_id"] in OURS]
    assert [(f["rule_id"], f["severity"]) for f in findings] == [("denied-then-run", "critical")]
    assert "Refused by classifier" in findings[0]["title"]


def test_a_human_approved_destructive_call_raises_nothing_of_ours(tmp_path):
    drop = "rm -rf /var/lib/postgresql/backups"
    payloads = [
        claude("PreToolUse", drop, "toolu_1"),
        claude("PermissionRequest", drop, "toolu_1"),
        claude("PostToolUse", drop, "toolu_1", tool_response={"stdout": ""}),
    ]
    with ingest(tmp_path, "claude-code", payloads) as store:
        assert "human" in deciders(store)
        assert [f for f in run_detection(store).findings if f["rule_id"] in OURS] == []
    bypassed = [claude(h, drop, "toolu_1", mode="bypassPermissions") for h in ("PreToolUse",)]
    with ingest(tmp_path, "claude-code", bypassed) as store:
        rules = [f["rule_id"] for f in run_detection(store).findings]
    assert "unattended-destruction" in rules


def test_pages_timelines_and_exports_say_who_decided(tmp_path):
    from agentaudit.alert.message import render_body
    from agentaudit.analyst.timeline import session_timeline
    from agentaudit.analyst.timeline_render import to_markdown
    from agentaudit.analyst.timeline_steps import build_report
    from agentaudit.export.ecs import ocsf_to_ecs
    from agentaudit.export.ocsf_activity import event_to_ocsf

    payloads = fixture("claude-code/hooks/pocketos-pre-post-batch.jsonl")
    with ingest(tmp_path, "claude-code", payloads) as store:
        findings = [f for f in run_detection(store).findings if f["rule_id"] in OURS]
        page = render_body(store, findings)
        session = findings[0]["session_id"]
        markdown = to_markdown(build_report("t", {}, session_timeline(store, session)))
        event = store.rows("SELECT * FROM events WHERE decided_by = 'bypass' LIMIT 1")[0]
    assert "[decided by bypass]" in page
    assert "[decided by bypass]" in markdown
    ocsf = event_to_ocsf(event)
    assert ocsf["unmapped"]["agentaudit"]["decided_by"] == "bypass"
    assert ocsf_to_ecs(ocsf)["agentaudit"]["decided_by"] == "bypass"
