"""The pending call, read from each agent's pre-execution hook payload (stdlib only)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from agentaudit.realtime.guard.respond import AGENTS

SHELL_TOOLS = {"Bash", "Shell", "shell", "bash", "local_shell", "exec_command", "run_shell_command"}


@dataclass(frozen=True)
class PendingCall:
    agent: str
    hook_event: str | None
    session_id: str | None
    cwd: str | None
    tool_name: str | None
    tool_use_id: str | None
    command: str | None  # None when the call is not a shell command


def parse_call(agent: str, payload: dict[str, Any]) -> PendingCall:
    """Claude Code / Codex PreToolUse, Cursor beforeShellExecution or preToolUse."""
    if agent not in AGENTS:
        raise ValueError(f"unknown agent {agent!r}; known: {', '.join(AGENTS)}")
    tool_input = payload.get("tool_input")
    if isinstance(tool_input, str):  # Cursor MCP hooks send it as a JSON string
        tool_input = {}
    tool_input = tool_input or {}
    tool_name = payload.get("tool_name")
    hook = payload.get("hook_event_name")
    command: Any = None
    if hook == "beforeShellExecution":
        command, tool_name = payload.get("command"), tool_name or "Shell"
    elif tool_name in SHELL_TOOLS or (tool_name is None and "command" in tool_input):
        command = tool_input.get("command") or tool_input.get("cmd")
    if isinstance(command, list):  # Codex may pass argv
        command = shlex.join(str(word) for word in command)
    roots = payload.get("workspace_roots") or []
    return PendingCall(
        agent=agent,
        hook_event=hook,
        session_id=payload.get("session_id") or payload.get("conversation_id"),
        cwd=payload.get("cwd") or tool_input.get("cwd") or (roots[0] if roots else None),
        tool_name=tool_name,
        tool_use_id=payload.get("tool_use_id"),
        command=str(command) if command else None,
    )
