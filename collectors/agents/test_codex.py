"""Codex rollouts: concrete facts from the real corpus files and our own argument shapes."""

from __future__ import annotations

import json
from functools import partial

from agentaudit import testing
from agentaudit.collectors import sniff_collector
from agentaudit.ingest import ingest_paths

NAME = "codex.rollout"
ROLLOUT = "codemie-rollout-2026-05-11T11-26-55-019e1625-head.jsonl"
DESKTOP = "codemie-rollout-2026-05-11T13-28-45-019e1695-head.jsonl"


collect = partial(testing.collect, NAME)


CORPUS_COUNTS = {  # file: (quarantined, events, shell calls)
    "codemie-incremental-turn-1.jsonl": (0, 13, 0),
    "codemie-incremental-turn-2.jsonl": (0, 25, 0),
    ROLLOUT: (0, 110, 24),
    DESKTOP: (0, 54, 31),
}


def test_every_corpus_file_is_sniffed_and_counted(corpus):
    folder = corpus / "codex"
    assert sorted(p.name for p in folder.glob("*.jsonl")) == sorted(CORPUS_COUNTS)
    for name, (quarantined, total, shell) in CORPUS_COUNTS.items():
        path = folder / name
        assert sniff_collector(path, path.read_bytes()[:4096]).name == NAME, name
        events, bad = collect(path)
        assert (len(bad), len(events)) == (quarantined, total), name
        assert len([e for e in events if e["kind"] == "process"]) == shell, name
        assert len({e["event_id"] for e in events}) == len(events), name


def test_exit_codes_come_from_exec_command_end(corpus):
    events, _ = collect(corpus / "codex" / ROLLOUT)
    by_id = {e["tool_call_id"]: e for e in events if e["kind"] == "process"}
    failed = by_id["call_NqXBF7JK4NH5M85YXgojxxmC"]
    assert (failed["status"], failed["exit_code"]) == ("failure", 2)
    assert failed["command"].startswith('rg -n "compact|compaction|compacting|summar|context"')
    assert by_id["call_wAmN401U7zKVZ9wF0d5rGwMP"]["exit_code"] == 1
    first = by_id["call_Y2p6KmqwoTtpi6atpDPuxC5M"]
    assert (first["status"], first["exit_code"]) == ("success", 0)
    assert first["cwd"] == "/Users/Sample_User/repos/codemie-ai/codemie-code"
    raw = json.loads(first["raw"])
    assert raw["call"]["payload"]["name"] == "exec_command"
    assert [o["payload"]["type"] for o in raw["outcomes"]] == [
        "function_call_output",
        "exec_command_end",
    ]
    assert {e["model"] for e in by_id.values()} == {"gpt-5.5"}
    assert {e["agent_version"] for e in by_id.values()} == {"0.125.0"}
    assert {e["session_id"] for e in by_id.values()} == {"019e1625-789d-76c0-80ab-3724b5ddb799"}
    assert len([e for e in events if e["operation"] == "write_stdin"]) == 26


def test_desktop_rollout_namespaced_tools_and_output_exit_codes(corpus):
    events, _ = collect(corpus / "codex" / DESKTOP)
    js = [e for e in events if e["tool_name"] == "mcp__node_repl__js"]
    assert len(js) == 3 and {e["kind"] for e in js} == {"api"}
    shell = [e for e in events if e["kind"] == "process"]
    # no exec_command_end in this file: the exit code is read from "Process exited with code N"
    assert [e["exit_code"] for e in shell].count(0) == 29
    assert [e["command"] for e in shell if e["exit_code"] == 1] == [
        'ps -ef | rg -i "Google Chrome|chrome.*remote|codemie|codemie-ui"'
    ]


def _rec(kind, payload, ts="2026-05-12T10:00:01.000Z"):
    return json.dumps({"timestamp": ts, "type": kind, "payload": payload}).encode() + b"\n"


def test_every_argument_shape_and_cross_read_outcome(store, redactor, tmp_path):
    meta = _rec("session_meta", {"id": "sess-1", "cli_version": "0.50.0", "cwd": "/w"})
    turn = _rec("turn_context", {"model": "gpt-5.1-codex-max", "cwd": "/w"})
    shell = _rec(
        "response_item",
        {
            "type": "function_call",
            "name": "shell",
            "arguments": json.dumps({"command": ["bash", "-lc", "rm -rf build"], "workdir": "/w"}),
            "call_id": "c1",
        },
    )
    local = _rec(
        "response_item",
        {
            "type": "local_shell_call",
            "call_id": "c2",
            "status": "completed",
            "action": {"type": "exec", "command": ["ls", "-la"], "working_directory": "/w/src"},
        },
    )
    legacy_out = _rec(
        "response_item",
        {
            "type": "function_call_output",
            "call_id": "c2",
            "output": json.dumps({"output": "x", "metadata": {"exit_code": 0}}),
        },
    )
    patch = _rec(
        "response_item",
        {
            "type": "custom_tool_call",
            "name": "apply_patch",
            "call_id": "c3",
            "input": "*** Begin Patch\n*** Update File: src/a.py\n@@\n-x\n+y\n*** End Patch",
        },
    )
    live = tmp_path / "rollout-2026-05-12T10-00-00-sess.jsonl"
    live.write_bytes(meta + turn + shell + local + legacy_out + patch)
    first = ingest_paths(store, [live], redactor=redactor)
    assert first.ingested == 5  # meta, turn and three calls (c1 and c3 still open)
    end = _rec(
        "event_msg",
        {
            "type": "exec_command_end",
            "call_id": "c1",
            "exit_code": 1,
            "status": "failed",
            "cwd": "/w",
        },
    )
    with live.open("ab") as fh:
        fh.write(end)
    second = ingest_paths(store, [live], redactor=redactor)
    assert (second.ingested, second.duplicate) == (1, 0)
    rows = store.rows(
        "SELECT tool_call_id, kind, operation, command, status, exit_code, model, session_id, paths "
        "FROM events WHERE tool_call_id IS NOT NULL ORDER BY seq"
    )
    assert [
        (r["tool_call_id"], r["kind"], r["command"], r["status"], r["exit_code"]) for r in rows
    ] == [
        ("c1", "process", "rm -rf build", "unknown", None),
        ("c2", "process", "ls -la", "success", 0),
        ("c3", "file", None, "unknown", None),
        ("c1", "other", None, "failure", 1),  # the outcome, read later, same call id
    ]
    assert rows[2]["paths"] == ["src/a.py"]
    # the appended outcome still knows its session and model from the prefix
    assert (rows[3]["model"], rows[3]["session_id"]) == ("gpt-5.1-codex-max", "sess-1")


def test_incremental_pair_facts(corpus):
    events, bad = collect(corpus / "codex" / "codemie-incremental-turn-2.jsonl")
    assert bad == []
    assert {e["session_id"] for e in events} == {"a1b2c3d4-e5f6-7890-abcd-ef1234567890"}
    assert {e["agent_version"] for e in events} == {"0.129.0"}
    # the model is known from the first turn_context on
    assert [e["model"] for e in events].index("o4-mini") == 4
    prompts = [e["text"] for e in events if e["operation"] == "user_message"]
    assert prompts[1::2] == [
        "Hello, Codex! Please explain what you do.",
        "What languages can you work with?",
    ]
    replies = [e["text"] for e in events if e["operation"] == "assistant_message"]
    assert replies[0] == "I am Codex, an AI coding assistant by OpenAI."
    assert {e["parser_version"] for e in events} == {"codex.rollout/1"}
