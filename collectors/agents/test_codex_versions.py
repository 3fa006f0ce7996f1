"""Codex argument and record shapes across versions: unified-exec polls, escalations, patches,
MCP ends, late outcomes, and the two legacy formats (our own fixtures; facts from the corpus)."""

from __future__ import annotations

import json
from pathlib import Path

from agentaudit import testing
from agentaudit.collectors import sniff_collector
from agentaudit.ingest import ingest_paths

ROLLOUT = "codemie-rollout-2026-05-11T11-26-55-019e1625-head.jsonl"


def collect(path: Path, data: bytes, name: str = "codex.rollout"):
    return testing.collect(name, path, data)


def rec(kind: str, payload: dict, ts: str = "2026-05-12T10:00:01.000Z") -> bytes:
    return json.dumps({"timestamp": ts, "type": kind, "payload": payload}).encode() + b"\n"


def call(name: str, call_id: str, **arguments) -> bytes:
    return rec(
        "response_item",
        {
            "type": "function_call",
            "name": name,
            "arguments": json.dumps(arguments),
            "call_id": call_id,
        },
    )


def output(call_id: str, text: str) -> bytes:
    return rec(
        "response_item", {"type": "function_call_output", "call_id": call_id, "output": text}
    )


META = rec("session_meta", {"id": "sess-v", "cli_version": "0.77.0", "cwd": "/w"})
TURN = rec("turn_context", {"model": "gpt-5-codex", "cwd": "/w"})
NAME = "rollout-2026-05-12T10-00-00-sess-v.jsonl"


def by_call(events):
    return {e["tool_call_id"]: e for e in events if e["tool_call_id"]}


def test_write_stdin_polls_are_the_same_process_in_the_corpus(corpus):
    path = corpus / "codex" / ROLLOUT
    events, bad = collect(path, path.read_bytes())
    assert bad == []
    polls = [e for e in events if e["operation"] == "write_stdin"]
    execs = {e["tool_call_id"] for e in events if e["tool_name"] == "exec_command"}
    assert len(polls) == 26 and len(execs) == 24
    # every poll names the exec_command whose process it polls, and is no process event itself
    assert all(p["target"] in execs and p["kind"] == "other" for p in polls)
    stdin_closed = [p for p in polls if p["text"] == "\u0003"]
    assert len(stdin_closed) == 1
    assert stdin_closed[0]["target"].endswith("2HzUYU") and stdin_closed[0]["status"] == "failure"
    # polls of one process: three polls of the exec call ...2HzUYU
    assert len([p for p in polls if p["target"].endswith("2HzUYU")]) == 3
    # the exec call keeps the exit code of its exec_command_end, not a poll's
    (failed,) = [e for e in events if e["tool_name"] == "exec_command" and e["exit_code"] == 2]
    assert failed["tool_call_id"].endswith("ojxxmC")


def test_poll_exit_code_becomes_the_exec_calls_when_no_end_event(tmp_path):
    data = (
        META
        + TURN
        + call("exec_command", "e1", cmd="npm test", workdir="/w/app", yield_time_ms=1000)
        + output("e1", "Chunk ID: a\nWall time: 1.0 seconds\nProcess running with session ID 77\n")
        + call("write_stdin", "p1", session_id=77, chars="", yield_time_ms=1000)
        + output(
            "p1", "Chunk ID: b\nWall time: 3.0 seconds\nProcess exited with code 3\nOutput:\nF"
        )
    )
    events, bad = collect(tmp_path / NAME, data)
    assert bad == []
    calls = by_call(events)
    exec_call, poll = calls["e1"], calls["p1"]
    assert (exec_call["kind"], exec_call["command"], exec_call["cwd"]) == (
        "process",
        "npm test",
        "/w/app",
    )
    assert (exec_call["status"], exec_call["exit_code"]) == ("failure", 3)
    assert (poll["kind"], poll["operation"], poll["target"]) == ("other", "write_stdin", "e1")
    assert len([e for e in events if e["kind"] == "process"]) == 1


def test_every_shell_argument_shape_and_escalation(tmp_path):
    data = (
        META
        + TURN
        + call(
            "shell",
            "s1",
            command=["bash", "-lc", "git push --force"],
            workdir="/w",
            sandbox_permissions="require_escalated",
            justification="push needs network",
        )
        + call("container.exec", "s2", command=["zsh", "-c", "ls /"], workdir="/w/x")
        + call("shell_command", "s3", command="cat .env", workdir="/w", login=True)
        + call("exec_command", "s4", cmd="psql -c 'drop table t'", workdir="/w")
        + call(
            "shell",
            "s5",
            command=["rm", "-rf", "dist"],
            with_escalated_permissions=True,
            justification="old flag",
        )
        + rec(
            "response_item",
            {
                "type": "local_shell_call",
                "call_id": "s6",
                "status": "completed",
                "action": {"type": "exec", "command": ["/bin/sh", "-c", "whoami"], "timeout_ms": 5},
            },
        )
        + rec(
            "event_msg",
            {
                "type": "exec_approval_request",
                "call_id": "s1",
                "command": ["bash", "-lc", "git push --force"],
                "cwd": "/w",
                "reason": "push needs network",
            },
        )
    )
    events, bad = collect(tmp_path / NAME, data)
    assert bad == []
    calls = {e["tool_call_id"]: e for e in events if e["kind"] == "process"}
    assert {k: (v["command"], v["cwd"]) for k, v in calls.items()} == {
        "s1": ("git push --force", "/w"),
        "s2": ("ls /", "/w/x"),
        "s3": ("cat .env", "/w"),
        "s4": ("psql -c 'drop table t'", "/w"),
        "s5": ("rm -rf dist", "/w"),
        "s6": ("whoami", "/w"),
    }
    assert calls["s1"]["text"] == "escalation requested: push needs network"
    assert calls["s5"]["text"] == "escalation requested: old flag"
    assert calls["s2"]["text"] is None
    (approval,) = [e for e in events if e["operation"] == "exec_approval_request"]
    assert (approval["tool_call_id"], approval["command"], approval["text"]) == (
        "s1",
        "git push --force",
        "push needs network",
    )
    assert {e["model"] for e in calls.values()} == {"gpt-5-codex"}


def test_apply_patch_in_every_shape_names_the_files_it_writes(tmp_path):
    patch = (
        "*** Begin Patch\n*** Add File: src/new.py\n+x\n*** Update File: src/old.py\n"
        "*** Move to: src/renamed.py\n@@\n-a\n+b\n*** End Patch"
    )
    delete = "*** Begin Patch\n*** Delete File: secrets/prod.env\n*** End Patch"
    data = (
        META
        + rec(
            "response_item",
            {"type": "custom_tool_call", "name": "apply_patch", "call_id": "a1", "input": patch},
        )
        + rec(
            "response_item",
            {
                "type": "custom_tool_call_output",
                "call_id": "a1",
                "output": json.dumps({"output": "Success", "metadata": {"exit_code": 0}}),
            },
        )
        + call("apply_patch", "a2", input=delete)
        + call("shell", "a3", command=["apply_patch", patch], workdir="/w")
        + call("exec_command", "a4", cmd="apply_patch <<'EOF'\n...\nEOF", workdir="/w")
        + rec(
            "event_msg",
            {
                "type": "patch_apply_end",
                "call_id": "a4",
                "success": True,
                "changes": {"/w/b.py": {"type": "update", "unified_diff": "-"}},
            },
        )
        + rec(
            "event_msg",
            {"type": "patch_apply_end", "call_id": "a2", "success": False, "stderr": "no file"},
        )
    )
    events, bad = collect(tmp_path / NAME, data)
    assert bad == []
    calls = by_call(events)
    assert (calls["a1"]["kind"], calls["a1"]["operation"], calls["a1"]["status"]) == (
        "file",
        "edit",
        "success",
    )
    assert calls["a1"]["paths"] == ["src/new.py", "src/old.py", "src/renamed.py"]
    assert (calls["a2"]["operation"], calls["a2"]["paths"], calls["a2"]["status"]) == (
        "delete",
        ["secrets/prod.env"],
        "failure",
    )
    assert calls["a2"]["error"] == "no file"
    assert (calls["a3"]["kind"], calls["a3"]["paths"]) == ("file", calls["a1"]["paths"])
    # a heredoc apply_patch through exec: the canonical patch_apply_end names the file
    assert (calls["a4"]["kind"], calls["a4"]["paths"], calls["a4"]["target"]) == (
        "file",
        ["/w/b.py"],
        "/w/b.py",
    )
    assert calls["a4"]["command"].startswith("apply_patch <<'EOF'")


def test_mcp_tool_call_end_results(tmp_path):
    def end(call_id, result):
        return rec("event_msg", {"type": "mcp_tool_call_end", "call_id": call_id, "result": result})

    data = (
        META
        + call("mcp__github__create_issue", "m1", title="x")
        + call("mcp__github__delete_repo", "m2", repo="x")
        + call("mcp__db__query", "m3", sql="select 1")
        + end("m1", {"Ok": {"content": [{"type": "text", "text": "created"}], "isError": False}})
        + end("m2", {"Ok": {"content": [{"type": "text", "text": "forbidden"}], "isError": True}})
        + end("m3", {"Err": "tool call timed out"})
    )
    events, _ = collect(tmp_path / NAME, data)
    calls = by_call(events)
    assert {k: (v["kind"], v["status"], v["error"]) for k, v in calls.items()} == {
        "m1": ("api", "success", None),
        "m2": ("api", "failure", "forbidden"),
        "m3": ("api", "failure", "tool call timed out"),
    }


def test_late_outcome_and_its_mirror_are_one_event(store, redactor, tmp_path):
    live = tmp_path / NAME
    live.write_bytes(META + TURN + call("exec_command", "c9", cmd="make deploy", workdir="/w"))
    first = ingest_paths(store, [live], redactor=redactor)
    assert (first.ingested, first.quarantined) == (3, 0)
    with live.open("ab") as fh:
        fh.write(output("c9", "Chunk ID: x\nProcess exited with code 2\nOutput:\nboom"))
        fh.write(
            rec(
                "event_msg",
                {"type": "exec_command_end", "call_id": "c9", "exit_code": 2, "status": "failed"},
            )
        )
        fh.write(rec("compacted", {"message": "summary of the work so far"}))
    second = ingest_paths(store, [live], redactor=redactor)
    assert (second.ingested, second.duplicate, second.quarantined) == (2, 0, 0)
    rows = store.rows(
        "SELECT kind, operation, status, exit_code, raw, text FROM events "
        "WHERE seq > 3 ORDER BY seq"
    )
    assert [(r["kind"], r["operation"], r["status"], r["exit_code"]) for r in rows] == [
        ("other", "tool_result", "failure", 2),
        ("message", "compacted", None, None),
    ]
    outcomes = json.loads(rows[0]["raw"])["outcomes"]
    assert [o["payload"]["type"] for o in outcomes] == ["function_call_output", "exec_command_end"]
    assert rows[1]["text"] == "summary of the work so far"


EARLY_META = {
    "id": "4b7e1f0a-1111-2222-3333-444455556666",
    "timestamp": "2025-04-18T09:12:33.100Z",
    "instructions": "be careful",
}
EARLY_ITEMS = [
    {"record_type": "state"},
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "clean up"}]},
    {
        "type": "function_call",
        "id": "fc_1",
        "name": "shell",
        "arguments": json.dumps({"command": ["bash", "-lc", "rm -rf /tmp/x"], "workdir": "/repo"}),
        "call_id": "call_early_1",
    },
    {
        "type": "function_call_output",
        "call_id": "call_early_1",
        "output": json.dumps({"output": "rm: denied", "metadata": {"exit_code": 1}}),
    },
]


def test_early_jsonl_with_bare_meta_and_bare_items(store, redactor, tmp_path):
    path = tmp_path / "rollout-2025-04-18-4b7e1f0a-1111-2222-3333-444455556666.jsonl"
    lines = [json.dumps(EARLY_META)] + [json.dumps(item) for item in EARLY_ITEMS[:3]]
    path.write_text("\n".join(lines) + "\n")
    assert sniff_collector(path, path.read_bytes()[:4096]).name == "codex.rollout"
    first = ingest_paths(store, [path], redactor=redactor)
    assert (first.ingested, first.quarantined) == (4, 0)  # meta, state, message, open call
    with path.open("a") as fh:  # appended: the session comes from the bare first line
        fh.write(json.dumps(EARLY_ITEMS[3]) + "\n")
    second = ingest_paths(store, [path], redactor=redactor)
    assert (second.ingested, second.quarantined) == (1, 0)
    rows = store.rows(
        "SELECT kind, operation, command, cwd, status, exit_code, session_id, time_precision, "
        "time FROM events ORDER BY seq"
    )
    assert [(r["kind"], r["operation"]) for r in rows] == [
        ("other", "session_meta"),
        ("other", "legacy_state:legacy_state"),
        ("message", "user_message"),
        ("process", "rm"),  # the program, as enrichment names it
        ("other", "tool_result"),
    ]
    assert {r["session_id"] for r in rows} == {EARLY_META["id"]}
    assert (rows[3]["command"], rows[3]["cwd"]) == ("rm -rf /tmp/x", "/repo")
    assert (rows[4]["status"], rows[4]["exit_code"]) == ("failure", 1)
    # bare items carry no time of their own
    assert rows[0]["time_precision"] == "ms" and rows[0]["time"] is not None
    assert {r["time_precision"] for r in rows[1:]} == {"none"}


def test_legacy_json_document_session(store, redactor, tmp_path):
    path = tmp_path / "rollout-2025-06-02-4b7e1f0a.json"
    doc = {"session": EARLY_META, "items": [*EARLY_ITEMS[1:], "not an item"]}
    path.write_text(json.dumps(doc, indent=2))
    assert sniff_collector(path, path.read_bytes()[:4096]).name == "codex.session_json"
    events, bad = collect(path, path.read_bytes(), "codex.session_json")
    assert [q.reason for q in bad] == ["item is not a ResponseItem"]
    assert [(e["kind"], e["operation"]) for e in events] == [
        ("other", "session_meta"),
        ("message", "user_message"),
        ("process", None),
    ]
    shell = events[2]
    assert (shell["command"], shell["status"], shell["exit_code"]) == (
        "rm -rf /tmp/x",
        "failure",
        1,
    )
    assert (shell["session_id"], shell["source"], shell["source_offset"]) == (
        EARLY_META["id"],
        "codex.rollout",
        None,
    )
    # the document is rewritten as the session grows: a re-read adds only the new item
    first = ingest_paths(store, [path], redactor=redactor)
    assert (first.ingested, first.quarantined) == (3, 1)
    doc["items"] = [
        *EARLY_ITEMS[1:],
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "ok"}],
        },
    ]
    path.write_text(json.dumps(doc, indent=2))
    second = ingest_paths(store, [path], redactor=redactor)
    assert (second.ingested, second.duplicate, second.quarantined) == (1, 3, 0)
    broken = tmp_path / "rollout-2025-06-03-x.json"
    broken.write_text('{"session": {"id": "x"}, "items": [')
    _, bad = collect(broken, broken.read_bytes(), "codex.session_json")
    assert len(bad) == 1 and bad[0].reason.startswith("invalid JSON document")


def test_damaged_lines_and_unknown_record_types(tmp_path):
    spliced = call("exec_command", "d1", cmd="ls")
    result = output("d1", "Process exited with code 0")
    data = (
        META
        + spliced[:50]
        + result  # a partial record with the next one glued on: the whole one is recovered
        + b"\x00\x00\x00"
        + call("exec_command", "d2", cmd="pwd")  # NUL run before a record
        + b'{"timestamp":"2026-05-12T10:00:02.000Z","type":"event_msg","payload":{"type":"x\xff"}}\n'
        + b'{"timestamp": "2026-05-12T10:00:03.000Z", "type": "response_item", "payl\n'
        + rec("world_state", {"type": "snapshot", "files": 3})
        + rec("inter_agent_communication", {"from": "a", "to": "b"})
        + json.dumps(
            {"type": "response_item", "ordinal": 9, "payload": {"type": "ghost_snapshot"}}
        ).encode()
        + b"\n"
        + b'["not", "a", "record"]\n'
    )
    events, bad = collect(tmp_path / NAME, data)
    assert [(q.line, q.reason.split(" at ")[0]) for q in bad] == [
        (4, "invalid UTF-8"),
        (5, "invalid JSON: Unterminated string starting"),
        (9, "not a rollout record"),
    ]
    calls = by_call(events)
    assert (calls["d2"]["command"], calls["d2"]["status"]) == ("pwd", "unknown")
    # d1's call line was cut off: its outcome survives as a tool_result of the same call id
    assert (calls["d1"]["operation"], calls["d1"]["exit_code"]) == ("tool_result", 0)
    kept = [e["operation"] for e in events if e["kind"] == "other" and not e["tool_call_id"]]
    assert kept == [
        "session_meta",
        "world_state:snapshot",
        "inter_agent_communication:inter_agent_communication",
        "response_item:ghost_snapshot",
    ]
    (unknown,) = [e for e in events if e["operation"] == "world_state:snapshot"]
    assert json.loads(unknown["raw"])["payload"]["files"] == 3
