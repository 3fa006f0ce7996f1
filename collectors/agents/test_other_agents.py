"""Gemini CLI, OpenHands, Aider and Cursor agent transcripts: facts from the corpus files."""

from __future__ import annotations

import json

from agentaudit.collectors import sniff_collector
from agentaudit.ingest import ingest_paths
from agentaudit.testing import collect


def check_folder(folder, name, expected):
    """Every file is sniffed as `name`, with the expected (quarantined, events) counts."""
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)
    for file, counts in expected.items():
        path = folder / file
        assert sniff_collector(path, path.read_bytes()[:4096]).name == name, file
        events, bad = collect(name, path)
        assert (len(bad), len(events)) == counts, file
        assert len({e["event_id"] for e in events}) == len(events), file


GEMINI_CHAT = "codemie-gemini-session-2025-12-01T21-45-5b959dae.json"


def test_gemini_corpus(corpus):
    check_folder(
        corpus / "gemini",
        "gemini.chat",
        {
            "codemie-gemini-logs.json": (0, 3),
            GEMINI_CHAT: (0, 16),
            "codemie-gemini-session-2026-01-16T11-01-file-ops-37b7abef.json": (0, 24),
        },
    )
    events, _ = collect("gemini.chat", corpus / "gemini" / GEMINI_CHAT)
    calls = [e for e in events if e["tool_call_id"]]
    assert [e["tool_name"] for e in calls].count("read_file") == 7
    (write,) = [e for e in calls if e["tool_name"] == "write_file"]
    assert write["operation"] == "write" and write["paths"] == [
        "/Users/Jane_Smith/Documents/projects/epm-cdme/assistants/lead_gemini.txt"
    ]
    assert write["tool_call_id"] == "write_file-1764625701890-a743f9e75c7ca8"
    assert {e["model"] for e in calls} == {"gemini-3-pro-image-preview"}
    assert {e["session_id"] for e in events} == {"5b959dae-8655-4cd1-b10f-720b8c336ea2"}


def test_gemini_shell_exit_code_and_bad_document(tmp_path):
    chat = {
        "sessionId": "g1",
        "projectHash": "abc",
        "messages": [
            {
                "id": "m1",
                "type": "gemini",
                "timestamp": "2026-04-24T19:00:00Z",
                "model": "gemini-2.5-pro",
                "toolCalls": [
                    {
                        "id": "run_shell_command-1",
                        "name": "run_shell_command",
                        "args": {
                            "command": "terraform destroy -auto-approve",
                            "directory": "infra",
                        },
                        "status": "success",
                        "result": [
                            {
                                "functionResponse": {
                                    "response": {"output": "Command: x\nExit Code: 1"}
                                }
                            }
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "session-2026-04-24T19-00-g1.json"
    events, _ = collect("gemini.chat", path, json.dumps(chat).encode())
    (call,) = events
    assert (call["kind"], call["command"], call["cwd"]) == (
        "process",
        "terraform destroy -auto-approve",
        "infra",
    )
    assert (call["status"], call["exit_code"]) == ("failure", 1)
    _, bad = collect("gemini.chat", path, b'{"sessionId": "g1", "projectHash": ')
    assert len(bad) == 1 and bad[0].reason.startswith("invalid JSON document")


def test_openhands_corpus(corpus):
    folder = corpus / "openhands"
    check_folder(
        folder,
        "openhands.trajectory",
        {
            "openhands-trajs-basic.json": (0, 3),
            "openhands-trajs-basic_gui_mode.json": (0, 11),
            "openhands-trajs-basic_interactions.json": (0, 6),
            "openhands-trajs-wrong_initial_state.json": (0, 5),
        },
    )
    events, _ = collect("openhands.trajectory", folder / "openhands-trajs-basic_gui_mode.json")
    runs = [e for e in events if e["kind"] == "process"]
    assert [(e["command"], e["status"], e["exit_code"]) for e in runs] == [
        ("mkdir -p /workspace/todo-app", "success", 0),
        # exit_code -1: the server is still running, so the outcome is unknown
        ("cd /workspace/todo-app && python3 -m http.server 8000", "unknown", None),
    ]
    assert runs[0]["tool_call_id"] == "toolu_01W9Z8jBctr8X2frZV9p1RYs"
    assert runs[0]["model"] == "claude-3-5-sonnet-20241022"
    assert runs[0]["cwd"] == "/workspace"
    assert json.loads(runs[0]["raw"])["observation"]["cause"] == 7
    moved, _ = collect("openhands.trajectory", folder / "openhands-trajs-wrong_initial_state.json")
    assert [e["command"] for e in moved if e["kind"] == "process"] == [
        "mv /workspace/game_2048.py /workspace/2048.py"
    ]


def test_aider_corpus_and_incremental_context(corpus, store, redactor, tmp_path):
    path = corpus / "aider" / "aider-tests-fixtures-chat-history-head.md"
    check_folder(corpus / "aider", "aider.history", {path.name: (0, 1001)})
    events, _ = collect("aider.history", path)
    assert len([e for e in events if e["operation"] == "session_start"]) == 176
    edits = [e for e in events if e["operation"] == "edit"]
    assert len(edits) == 46 and edits[0]["paths"] == ["aider/utils.py"]
    assert edits[0]["model"] == "claude-3-5-sonnet-20240620"
    assert edits[0]["agent_version"] == "0.47.2-dev"
    commands = [(e["tool_name"], e["command"]) for e in events if e["kind"] == "process"]
    assert ("test", "pytest tests/basic/test_repomap.py") in commands
    assert len(commands) == 7
    # append a session: the second read knows the new session's model from its own header
    live = tmp_path / ".aider.chat.history.md"
    live.write_bytes(path.read_bytes())
    first = ingest_paths(store, [live], redactor=redactor)
    with live.open("a") as fh:
        fh.write(
            "\n# aider chat started at 2026-04-24 19:00:00\n\n> Main model: gpt-5 with diff\n"
            "#### /run rm -rf dist\n> Running rm -rf /tmp/cache\n"
        )
    second = ingest_paths(store, [live], redactor=redactor)
    assert first.ingested == 1001 and second.ingested == 3
    rows = store.rows(
        "SELECT command, model, actor FROM events WHERE kind = 'process' AND seq > 12796 ORDER BY seq"
    )
    assert rows == [
        {"command": "rm -rf dist", "model": "gpt-5", "actor": "user"},
        {"command": "rm -rf /tmp/cache", "model": "gpt-5", "actor": None},
    ]


def test_cursor_agent_transcript_has_no_time_and_survives_rewrites(store, redactor, tmp_path):
    folder = tmp_path / "projects" / "Users-dev-app" / "agent-transcripts" / "c1"
    folder.mkdir(parents=True)
    path = folder / "c1.jsonl"
    user = {"role": "user", "message": {"content": [{"type": "text", "text": "clean up"}]}}
    shell = {
        "role": "assistant",
        "message": {
            "content": [
                {"type": "text", "text": "Removing the build."},
                {"type": "tool_use", "name": "Shell", "input": {"command": "rm -rf ./build"}},
            ]
        },
    }
    lines = [json.dumps(r) for r in (user, shell, {"type": "turn_ended", "status": "success"})]
    path.write_text("\n".join(lines) + "\n")
    assert sniff_collector(path, path.read_bytes()).name == "cursor.transcript"
    first = ingest_paths(store, [path], redactor=redactor)
    assert first.ingested == 4
    rows = store.rows("SELECT kind, command, time, time_precision FROM events ORDER BY seq")
    assert {(r["time"], r["time_precision"]) for r in rows} == {(None, "none")}
    assert [r["command"] for r in rows if r["kind"] == "process"] == ["rm -rf ./build"]
    # Cursor prunes the head and rewrites the file: only the genuinely new line is added
    path.write_text("\n".join([*lines[1:], json.dumps(user)]) + "\n")
    second = ingest_paths(store, [path], redactor=redactor)
    assert (second.ingested, second.duplicate) == (0, 4)
    path.write_text("\n".join([*lines, json.dumps(user)]) + "\n")
    third = ingest_paths(store, [path], redactor=redactor)
    assert third.ingested == 1  # the second "clean up" prompt is a new occurrence


def test_gemini_jsonl_recorder_keeps_the_last_copy_of_a_message(tmp_path):
    call = {
        "id": "run_shell_command-9",
        "name": "run_shell_command",
        "args": {"command": "make deploy"},
    }
    lines = [
        {
            "sessionId": "g2",
            "projectHash": "p",
            "startTime": "2026-04-24T19:00:00Z",
            "kind": "main",
        },
        {"id": "m1", "type": "user", "timestamp": "2026-04-24T19:00:01Z", "content": "deploy it"},
        {
            "id": "m2",
            "type": "gemini",
            "timestamp": "2026-04-24T19:00:02Z",
            "content": "",
            "toolCalls": [{**call, "status": "executing"}],
        },
        {"$set": {"lastUpdated": "2026-04-24T19:00:09Z"}},
        {
            "id": "m2",
            "type": "gemini",
            "timestamp": "2026-04-24T19:00:02Z",
            "content": "",
            "toolCalls": [{**call, "status": "error", "result": "Exit Code: 2"}],
        },
    ]
    path = tmp_path / "session-2026-04-24T19-00-g2.jsonl"
    data = "\n".join(json.dumps(line) for line in lines).encode() + b"\n"
    events, bad = collect("gemini.chat", path, data)
    assert bad == []
    (shell,) = [e for e in events if e["kind"] == "process"]
    assert (shell["command"], shell["status"], shell["exit_code"]) == ("make deploy", "failure", 2)
    assert shell["session_id"] == "g2" and shell["seq"] == 3
    assert [e["text"] for e in events if e["operation"] == "user_prompt"] == ["deploy it"]


def test_gemini_file_ops_session_facts(corpus):
    path = corpus / "gemini" / "codemie-gemini-session-2026-01-16T11-01-file-ops-37b7abef.json"
    events, bad = collect("gemini.chat", path)
    assert bad == []
    calls = [e for e in events if e["tool_call_id"]]
    assert [(e["operation"], e["paths"]) for e in calls if e["kind"] == "file"] == [
        ("read", ["SECURITY.md"]),
        ("read", ["scripts/validate-secrets.js"]),
        ("read", ["src/env/manager.ts"]),
        ("search", None),
        ("read", [".husky/pre-commit"]),
        ("write", ["hello.md"]),
        ("read", ["hello.md"]),
        ("write", ["hello.md"]),
        ("read", ["hello.md"]),
        ("write", ["hello.md"]),
    ]
    assert [e["tool_name"] for e in calls if e["kind"] == "other"] == [
        "write_todos",
        "delegate_to_agent",
        "write_todos",
        "write_todos",
    ]
    assert {(e["status"], e["model"]) for e in calls} == {("success", "gemini-3-pro")}
    assert {e["session_id"] for e in events} == {"37b7abef-713d-4522-85f0-8ff15a4e6d17"}
    assert {e["parser_version"] for e in events} == {"gemini.chat/1"}


def test_openhands_basic_trajectories_facts(corpus):
    folder = corpus / "openhands"
    basic, _ = collect("openhands.trajectory", folder / "openhands-trajs-basic.json")
    assert [(e["kind"], e["operation"]) for e in basic] == [
        ("message", "user_prompt"),
        ("file", "edit"),
        ("message", "agent_finish"),
    ]
    edit = basic[1]
    assert (edit["paths"], edit["status"], edit["model"]) == (
        ["/workspace/game_2048.py"],
        "success",
        "claude-3-5-sonnet-20241022",
    )
    # OpenHands times have microseconds and no zone (read as UTC)
    assert {e["time_precision"] for e in basic} == {"us"}
    chat, _ = collect("openhands.trajectory", folder / "openhands-trajs-basic_interactions.json")
    assert [e["operation"] for e in chat] == [
        "user_prompt",
        "agent_message",
        "user_prompt",
        "agent_message",
        "user_prompt",
        "agent_finish",
    ]
    assert chat[0]["text"] == "what's 1+1?" and chat[5]["model"] == "gpt-4o-2024-08-06"
    assert not [e for e in chat if e["kind"] in ("process", "file")]


def test_openhands_per_event_files_are_one_session(store, redactor, tmp_path):
    """~/.openhands/sessions/<id>/events/<n>.json: our own two small events (V0 shapes)."""
    events = tmp_path / "sessions" / "7c41e0b2" / "events"
    events.mkdir(parents=True)
    action = {"id": 1, "timestamp": "2026-04-24T19:00:00", "source": "agent", "action": "run",
              "args": {"command": "ls"}}  # fmt: skip
    observation = {"id": 2, "timestamp": "2026-04-24T19:00:01", "source": "agent",
                   "observation": "run", "cause": 1, "content": "a b", "extras": {}}  # fmt: skip
    (events / "1.json").write_text(json.dumps(action))
    (events / "2.json").write_text(json.dumps(observation))
    report = ingest_paths(store, [tmp_path / "sessions"], redactor=redactor)
    assert (report.ingested, report.quarantined) == (2, 0)
    assert store.rows("SELECT DISTINCT session_id FROM events") == [{"session_id": "7c41e0b2"}]
