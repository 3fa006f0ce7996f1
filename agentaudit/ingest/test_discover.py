"""`ingest --discover`: every agent's default locations under a fake home, reported per source."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agentaudit.ingest.discover import discover_sources, discovery_summary, ingest_discovered
from agentaudit.paths import home as home_dir
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


AGENTS = Path(__file__).resolve().parents[2] / "tests" / "data" / "agents"


def fake_home_new_agents(home: Path) -> None:
    """Issue 18's agents at their documented places (fixtures of tests/data/agents)."""
    copy = shutil.copytree
    copy(AGENTS / "copilot-cli/fixture-session-state", home / ".copilot/session-state")
    copy(
        AGENTS / "claude-code/mcp-logs/cache/claude-cli-nodejs",
        home / ".cache/claude-cli-nodejs",
    )
    copy(AGENTS / "cline/globalStorage", home / ".config/Code/User/globalStorage")
    copy(AGENTS / "roo-code/globalStorage", home / ".config/Cursor/User/globalStorage")
    copy(
        AGENTS / "vscode-copilot-chat/workspaceStorage", home / ".config/Code/User/workspaceStorage"
    )
    copy(AGENTS / "amp/threads", home / ".local/share/amp/threads")
    copy(AGENTS / "opencode/storage-json/opencode/storage", home / ".local/share/opencode/storage")
    place(AGENTS / "opencode/sqlite/opencode.db", home / ".local/share/opencode/opencode.db")
    copy(AGENTS / "antigravity/brain", home / ".gemini/antigravity/brain")
    place(AGENTS / "gemini/telemetry/outfile-telemetry.log", home / ".gemini/telemetry.log")
    events = home / ".openhands/sessions/7c41e0b2/events"
    events.mkdir(parents=True)
    action = {"id": 1, "timestamp": "2026-04-24T19:00:00", "source": "agent", "action": "run",
              "args": {"command": "ls"}}  # fmt: skip
    for n in range(3):
        (events / f"{n}.json").write_text(json.dumps({**action, "id": n}))


def fake_shells(corpus: Path, home: Path) -> None:
    place(corpus / "zsh" / "plaso-zsh_extended_history.txt", home / ".zsh_history")
    place(corpus / "bash" / "plaso-bash_history", home / ".bash_history")
    place(corpus / "fish" / "plaso-fish_history", home / ".local/share/fish/fish_history")


def by_collector(rows: list[dict]) -> dict[str, tuple[int, int, int]]:
    """(files, ingested, quarantined) by collector, over its locations' rows."""
    out: dict[str, tuple[int, int, int]] = {}
    for row in rows:
        before = out.get(row["collector"], (0, 0, 0))
        counts = (row["files"], row["ingested"], row["quarantined"])
        out[row["collector"]] = tuple(a + b for a, b in zip(before, counts, strict=True))
    return out


def roots_by_collector(sources) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for source in sources:
        out.setdefault(source.collector, []).extend(source.roots)
    return out


def test_discover_finds_and_ingests_each_source(corpus, store, redactor, tmp_path):
    home = tmp_path / "home"
    fake_home(corpus, home)
    fake_home_new_agents(home)
    fake_shells(corpus, home)
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
    windsurf = (AGENTS / "windsurf/hooks/cascade-hook-payloads.jsonl").read_bytes().splitlines()
    record_hook("windsurf", windsurf[3])
    copilot = (AGENTS / "copilot-cli/hooks/camelcase-payloads.jsonl").read_bytes().splitlines()
    record_hook("copilot", copilot[2], event="preToolUse")
    guard_log = home_dir() / "guard" / "decisions.jsonl"
    guard_log.parent.mkdir(parents=True, exist_ok=True)
    guard_log.write_text(json.dumps({"guard_decision": "deny", "decided_at": "2026-01-01T00:00:00Z",
                                     "agent": "claude-code", "command": "rm -rf /"}) + "\n")  # fmt: skip
    sources = discover_sources(home=home, env={}, cwd=home / "repo", platform="linux")
    results = ingest_discovered(store, sources, redactor)
    summary = by_collector(discovery_summary(results))
    found = {name: counts for name, counts in summary.items() if counts[0]}
    assert found == {
        "claude-code.transcript": (2, 33 + 28, 0),  # tool-results/ is skipped
        "claude-code.hooks": (1, 1, 0),
        "codex.hooks": (1, 1, 0),
        "gemini.hooks": (1, 1, 0),
        "codex.rollout": (1 + 1, 110 + 3, 0),  # sessions/ and archived_sessions/
        "codex.session_json": (1, 3, 0),
        "gemini.chat": (2, 16 + 3, 0),
        "aider.history": (1, 1001, 0),
        # issue 18
        "agentaudit.guard": (1, 1, 0),
        "amp.thread": (1, 5, 0),
        "antigravity.transcript": (1, 6, 0),
        "claude-code.mcp": (1, 10, 0),
        "cline.task": (1, 7, 0),
        "copilot.hooks": (1, 1, 0),
        "copilot.session": (1, 9, 0),
        "gemini.otel": (1, 6, 0),
        "opencode.db": (1, 5, 0),
        "opencode.storage": (8, 6, 0),  # the session and its 7 parts (2 say nothing)
        "openhands.trajectory": (3, 3, 0),
        "roo-code.task": (1, 7, 0),
        "vscode-copilot.chat": (2, 8, 0),
        "windsurf.hooks": (1, 1, 0),
        "shell.zsh": (1, summary["shell.zsh"][1], 0),
        "shell.bash": (1, summary["shell.bash"][1], 0),
        "shell.fish": (1, summary["shell.fish"][1], 0),
    }
    assert min(summary[s][1] for s in ("shell.zsh", "shell.bash", "shell.fish")) > 0
    assert store.rows(
        "SELECT count(DISTINCT session_id) AS n FROM events WHERE source = 'openhands.trajectory'"
    ) == [{"n": 1}]
    # every collector with a Linux location was looked for, found or not
    looked = set(summary)
    assert {
        "cursor.hooks",
        "cursor.transcript",
        "claude-code.otel",
        "otlp.spool",
        "shell.atuin",
    } <= looked
    assert "claude-desktop.audit" not in looked  # no Linux app
    again = discovery_summary(ingest_discovered(store, sources, redactor))
    assert sum(row["ingested"] for row in again) == 0  # nothing new the second time
    assert hook_log_dir().is_dir()


def test_platforms_and_variables_move_the_roots(tmp_path):
    home = tmp_path / "home"
    mac = roots_by_collector(discover_sources(home=home, env={}, cwd=home, platform="darwin"))
    assert (
        home / "Library/Application Support/Claude/local-agent-mode-sessions"
        in mac["claude-desktop.audit"]
    )
    assert home / "Library/Caches/claude-cli-nodejs" in mac["claude-code.mcp"]
    win = roots_by_collector(
        discover_sources(
            home=home, env={"APPDATA": "C:/Users/d/AppData/Roaming"}, cwd=home, platform="win32"
        )
    )
    assert Path("C:/Users/d/AppData/Roaming/Code/User") in win["vscode-copilot.chat"]
    moved = roots_by_collector(discover_sources(
        home=home, env={"CODEX_HOME": "/srv/codex", "CLAUDE_CONFIG_DIR": "/a,/b", "XDG_DATA_HOME": "/x"},
        cwd=home, platform="linux"))  # fmt: skip
    assert moved["codex.rollout"] == [
        Path("/srv/codex/sessions"),
        Path("/srv/codex/archived_sessions"),
    ]
    assert moved["claude-code.transcript"][:2] == [Path("/a/projects"), Path("/b/projects")]
    assert moved["amp.thread"] == [Path("/x/amp/threads")]


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
    rows = {row["source"]: row for row in json.loads(done.stdout)}  # one row a location's label
    assert rows["Codex rollouts"]["ingested"] == 110 + 3
    assert (rows["Codex legacy sessions"]["files"], rows["Codex legacy sessions"]["ingested"]) == (
        1,
        3,
    )
    assert rows["OpenHands events"]["found"] is False
    assert rows["Copilot CLI sessions"]["collector"] == "copilot.session"


ISSUE_18 = {
    "claude-code.mcp", "claude-desktop.audit", "cline.task", "roo-code.task", "amp.thread",
    "opencode.db", "opencode.storage", "antigravity.transcript", "antigravity.hooks",
    "copilot.session", "copilot.hooks", "vscode-copilot.chat", "windsurf.hooks", "codex.exec",
    "codex.otel", "gemini.otel", "genai.otel",
}  # fmt: skip


def test_cli_sources_lists_every_agent_and_where_it_looks(tmp_path):
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "AGENTAUDIT_HOME": str(tmp_path / "aa")}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "agentaudit"), "sources", "--json"],
        capture_output=True, text=True, env=env, timeout=300, check=True,
    )  # fmt: skip
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert set(rows) >= ISSUE_18
    assert str(tmp_path / ".copilot/session-state") in rows["copilot.session"]["locations"]
    assert str(tmp_path / ".bash_history").rsplit("/", 1)[0] in rows["shell.bash"]["locations"]
    assert rows["codex.exec"]["locations"] == []  # its output goes where the user sends it
