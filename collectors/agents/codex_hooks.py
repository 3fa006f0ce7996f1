"""Codex hook log: one JSON line per hook payload, as `agentaudit hook codex` writes.

Codex hooks (`~/.codex/hooks.json`, `<repo>/.codex/hooks.json`) use Claude Code's wire format:
`session_id`, `transcript_path`, `cwd`, `hook_event_name`, `model`, and for PreToolUse /
PostToolUse / PermissionRequest `turn_id`, `tool_name` (`Bash`, `apply_patch`,
`mcp__<server>__<tool>`), `tool_input` (Bash and apply_patch carry their text in
`tool_input.command`), `tool_use_id`, and after the call `tool_response`. The reference marks
this field list as taken from documentation diffs, so the parser is lenient: a call row's
`tool_call_id` is `tool_use_id`, the rollout's `call_id` for the same call, which joins hook
and rollout rows; an apply_patch row names the files of its patch.
"""

from __future__ import annotations

from typing import Any

from agentaudit.collectors.agents._shared import exit_code_in, text_of, tool_columns
from agentaudit.collectors.agents.claude_code_hooks import ClaudeCodeHooks
from agentaudit.collectors.agents.codex import _EXITED, _patch_columns
from agentaudit.collectors.base import Location


class CodexHooks(ClaudeCodeHooks):
    name = "codex.hooks"
    source = "codex.hooks"
    version = "1"
    description = "Codex hook payloads recorded by `agentaudit hook codex`"
    locations = (Location("Codex hook log", ("{hooks}",), ("codex-*.jsonl",)),)
    agent = "codex"

    def sniff_bare(self, first: bytes) -> bool:
        """A bare Codex payload: Claude's shape plus `turn_id`, or a rollout transcript path."""
        return b'"hook_event_name"' in first and (b'"turn_id"' in first or b"/.codex/" in first)

    def call_columns(self, tool_name: Any, tool_input: Any) -> dict[str, Any]:
        args = tool_input if isinstance(tool_input, dict) else {}
        command = args.get("command")
        if tool_name == "apply_patch":
            return _patch_columns(command if isinstance(command, str) else "")
        return tool_columns(tool_name, args)

    def call_outcome(self, hook: str, payload: dict[str, Any]) -> dict[str, Any]:
        if hook == "PermissionRequest":
            return {"status": "unknown"}
        if hook != "PostToolUse":
            return super().call_outcome(hook, payload)
        response = payload.get("tool_response")
        if isinstance(response, dict) and isinstance(response.get("exit_code"), int):
            code = response["exit_code"]
        else:
            text = text_of(response) if not isinstance(response, dict) else str(response)
            found = _EXITED.search((text or "")[:500])
            code = int(found.group(1)) if found else exit_code_in(text)
        if code is None:
            return {"status": "success"}
        return {"status": "success" if code == 0 else "failure", "exit_code": code}
