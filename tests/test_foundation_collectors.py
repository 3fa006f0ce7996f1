"""The Foundation's collectors on their own fixtures (and the corpus when present)."""

from __future__ import annotations

import json

from agentaudit.collectors import get_collector, sniff_collector
from agentaudit.collectors.base import SourceInput
from agentaudit.collectors.shell.zsh import unmetafy


def collect(name, data: bytes):
    return list(get_collector(name).collect(SourceInput.from_bytes("mem", data)))


def test_zsh_metafied_multiline_round_trip():
    command = 'for f in a b\ndo echo "Straße $f"\ndone'
    body = command.replace("\n", "\\\n").encode()
    metafied = bytes(b for c in body for b in ((0x83, c ^ 0x20) if 0x83 <= c <= 0xA2 else (c,)))
    data = b": 1700000000:2;" + metafied + b"\n: 1700000005:0;ls\n"
    events = collect("shell.zsh", data)
    assert [e["command"] for e in events] == [command, "ls"]
    assert events[0]["time"].timestamp() == 1700000000
    assert json.loads(events[0]["raw"])["elapsed"] == 2


def test_zsh_trailing_backslash_space_rule_and_invalid_utf8():
    data = b": 1:0;echo foo\\\\ \n: 2:0;echo \xff\xfe\n"
    first, second = collect("shell.zsh", data)
    assert first["command"] == "echo foo\\\\"
    assert "\ufffd" in second["command"]
    assert (
        json.loads(second["raw"])["command"]
        .encode("utf-8", "surrogateescape")
        .endswith(b"\xff\xfe")
    )


def test_unmetafy():
    assert unmetafy(b"\xc3\x83\xbf") == "ß".encode()


def test_zsh_corpus_file(corpus):
    path = corpus / "zsh" / "generated-zsh5.9-extended-history-metafied"
    events = collect("shell.zsh", path.read_bytes())
    commands = [e["command"] for e in events]
    assert any("ß" in c for c in commands)
    assert any("volumeDelete" in c for c in commands)
    assert all("\ufffd" not in c for c in commands)


def test_cursor_before_and_after_share_a_call_id():
    line = {
        "received_at": "2026-04-24T19:00:00.000Z",
        "agent": "cursor",
        "payload": {
            "conversation_id": "c",
            "generation_id": "g",
            "command": "ls",
            "hook_event_name": "beforeShellExecution",
        },
    }
    after = dict(
        line,
        payload=dict(line["payload"], hook_event_name="afterShellExecution", output="Unauthorized"),
    )
    data = (json.dumps(line) + "\n" + json.dumps(after) + "\n").encode()
    before_ev, after_ev = collect("cursor.hooks", data)
    assert before_ev["tool_call_id"] == after_ev["tool_call_id"]
    assert after_ev["status"] == "failure"


def test_cursor_authentic_pretooluse_corpus_file(corpus):
    raw = json.loads(
        (corpus / "cursor" / "fusengine-preToolUse-02-shell-authentic.json").read_text()
    )
    payload = raw.get("stdin", raw)
    (event,) = collect("cursor.hooks", (json.dumps(payload) + "\n").encode())
    assert event["kind"] == "process"
    assert event["command"].startswith("wc -l")
    assert event["cwd"] == "/Users/user/project"  # cwd "" falls back to workspace_roots[0]


def test_railway_errors_and_bad_edges_are_quarantined():
    page = {
        "errors": [{"message": "Not Authorized"}],
        "data": {
            "auditLogs": {
                "edges": [
                    {
                        "node": {
                            "id": "n1",
                            "eventType": "volume.deleted",
                            "createdAt": "2026-04-24T19:00:00Z",
                        }
                    },
                    {"node": {"eventType": "no id"}},
                ]
            }
        },
    }
    out = collect("railway.audit", json.dumps(page).encode())
    events = [o for o in out if isinstance(o, dict)]
    problems = [o.reason for o in out if not isinstance(o, dict)]
    assert len(events) == 1 and events[0]["operation"] == "volume.deleted"
    assert problems[0].startswith("GraphQL errors") and "no node id" in problems[1]


def test_sniffing_picks_the_right_collector(tmp_path):
    from pathlib import Path

    assert sniff_collector(Path("h"), b": 1700000000:0;ls\n").name == "shell.zsh"
    assert sniff_collector(Path("r.json"), b'{"data":{"auditLogs":{}}}').name == "railway.audit"
    assert sniff_collector(Path("x"), b"hello") is None
