"""The page names the session's agent and gives that agent's restore or undo advice.

Each agent's own record format is ingested (hook logs as `agentaudit hook` writes them, an
Aider chat history, an OpenHands trajectory, or a built-in scenario), detected, and the page
rendered with `agentaudit.alert.message.render_body`. No page may name an agent as the
provider to ask ("Check Codex's restore options" was what a Codex session got).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agentaudit.alert.message import render_body
from agentaudit.detect.driver import run_detection
from agentaudit.ingest import ingest_paths
from agentaudit.paths import hook_log_dir
from agentaudit.receivers.hook import record_hook
from agentaudit.scenarios.replay import replay
from agentaudit.taxonomy import AGENTS, severity_rank

CWD = "/home/dev/src/webapp"
DELETE = "rm -rf ~/src/billing-api"  # another project in the home directory: local damage
PROMPT = "clean up the build output of this repo"
# what only that agent's advice says
DISTINCT = {
    "claude-code": "/rewind",
    "codex": "keeps no checkpoint",
    "cursor": "Restore Checkpoint",
    "gemini": "/restore",
    "aider": "/undo",
    "openhands": "no undo of its own",
}
AGENT_AS_PROVIDER = re.compile(
    r"Check (?:" + "|".join(re.escape(a.name) for a in AGENTS.values()) + r")'s restore"
)


def page(store, agent: str) -> str:
    """The page for the findings of the agent's session (most severe first)."""
    run_detection(store)
    [session] = store.rows(
        "SELECT DISTINCT session_id FROM events WHERE agent = ? AND session_id IS NOT NULL "
        "AND session_id IN (SELECT session_id FROM findings)",
        [agent],
    )
    findings = store.rows("SELECT * FROM findings WHERE session_id = ?", [session["session_id"]])
    findings.sort(key=lambda f: (-severity_rank(f["severity"]), f["first_seen"]))
    body = render_body(store, findings)
    assert not AGENT_AS_PROVIDER.search(body), body
    return body


def hook_log(agent: str, payloads: list[dict]) -> Path:
    for payload in payloads:
        record_hook(agent, json.dumps(payload).encode())
    return hook_log_dir()


def claude_style_hooks(agent: str, session: str) -> list[dict]:
    """Claude Code's hook wire format, which Codex hooks use too."""
    call = {"tool_name": "Bash", "tool_input": {"command": DELETE}, "tool_use_id": "call_1"}
    base = {"session_id": session, "cwd": CWD}
    return [
        {**base, "hook_event_name": "UserPromptSubmit", "prompt": PROMPT},
        {**base, "hook_event_name": "PreToolUse", **call},
        {**base, "hook_event_name": "PostToolUse", **call, "tool_response": {"stdout": ""}},
    ]


def claude_code(tmp_path: Path) -> list[Path]:
    return [hook_log("claude-code", claude_style_hooks("claude-code", "cc-1"))]


def codex(tmp_path: Path) -> list[Path]:
    return [hook_log("codex", claude_style_hooks("codex", "019e-codex-1"))]


def gemini(tmp_path: Path) -> list[Path]:
    base = {"session_id": "gem-1", "cwd": CWD, "timestamp": "2026-06-01T10:00:00Z"}
    call = {"tool_name": "run_shell_command", "tool_input": {"command": DELETE}}
    return [
        hook_log(
            "gemini",
            [
                {**base, "hook_event_name": "BeforeAgent", "prompt": PROMPT},
                {**base, "hook_event_name": "BeforeTool", **call},
            ],
        )
    ]


def cursor(tmp_path: Path) -> list[Path]:
    base = {"conversation_id": "cur-1", "generation_id": "g1", "workspace_roots": [CWD]}
    return [
        hook_log(
            "cursor",
            [
                {**base, "hook_event_name": "beforeSubmitPrompt", "prompt": PROMPT},
                {**base, "hook_event_name": "beforeShellExecution", "command": DELETE, "cwd": CWD},
            ],
        )
    ]


def aider(tmp_path: Path) -> list[Path]:
    history = tmp_path / "webapp" / ".aider.chat.history.md"
    history.parent.mkdir()
    history.write_text(
        "\n# aider chat started at 2026-06-01 10:00:00\n\n"
        "> Aider v0.86.1\n> Main model: anthropic/claude-sonnet-4-5\n\n"
        f"#### {PROMPT}\n\nI'll remove the old checkout.\n\n"
        f"> Run shell command? (Y)es/(N)o [Yes]: y\n> Running {DELETE}\n",
        encoding="utf-8",
    )
    return [history]


def openhands(tmp_path: Path) -> list[Path]:
    events = [
        {"id": 0, "timestamp": "2026-06-01T10:00:00", "source": "user", "message": PROMPT,
         "action": "message", "args": {"content": PROMPT}},
        {"id": 1, "timestamp": "2026-06-01T10:00:05", "source": "agent",
         "message": f"Running command: {DELETE}", "action": "run",
         "tool_call_metadata": {"function_name": "execute_bash", "tool_call_id": "toolu_1"},
         "args": {"command": DELETE, "is_input": False, "thought": "", "blocking": False}},
        {"id": 2, "timestamp": "2026-06-01T10:00:06", "source": "agent", "cause": 1,
         "message": f"Command `{DELETE}` executed with exit code 0.", "observation": "run",
         "tool_call_metadata": {"function_name": "execute_bash", "tool_call_id": "toolu_1"},
         "content": "", "extras": {"command": DELETE, "metadata": {"exit_code": 0}}},
    ]  # fmt: skip
    path = tmp_path / "oh-session-1.json"
    path.write_text(json.dumps(events), encoding="utf-8")
    return [path]


@pytest.mark.parametrize("make", [claude_code, codex, gemini, cursor, aider, openhands])
def test_local_damage_page_gives_the_agents_own_undo(store, redactor, tmp_path, make):
    agent = AGENTS[make.__name__.replace("_", "-")]
    report = ingest_paths(store, make(tmp_path), redactor=redactor)
    assert report.quarantined == 0 and report.ingested >= 2
    body = page(store, agent.id)
    assert f"Agent: {agent.name} " in body
    assert f"Undo on this machine: {agent.undo}" in body
    assert DISTINCT[agent.id] in body
    assert "restore options" not in body  # local files: no provider holds them


@pytest.mark.parametrize(
    ("scenario", "agent", "advice"),
    [
        # terraform destroy: AWS holds what it deleted (named once its records are linked)
        ("codex-terraform-destroy", "codex", r"(Check AWS's|Ask the provider about) restore"),
        ("gemini-cloudsql-drop", "gemini", r"Check Google Cloud's restore options"),
        ("openhands-eks-delete", "openhands", r"restore options for checkout-canary"),
        ("cursor-github-protection", "cursor", r"Check GitHub's restore options"),
        ("pocketos", "cursor", r"Check Railway's restore options for 3d2c42fb"),
    ],
)
def test_provider_damage_page_names_the_agent_and_the_provider(tmp_path, scenario, agent, advice):
    from agentaudit.store import Store

    with Store.open(tmp_path / "s.duckdb") as store:
        replay(scenario, store)
        body = page(store, agent)
    assert f"Agent: {AGENTS[agent].name} " in body
    assert re.search(advice, body), body
    assert "Undo on this machine" not in body  # nothing local was destroyed
