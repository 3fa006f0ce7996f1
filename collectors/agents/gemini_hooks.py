"""Gemini CLI hook log: one JSON line per hook payload, as `agentaudit hook gemini` writes.

Gemini CLI hooks (`settings.json` `hooks`) get `session_id`, `transcript_path`, `cwd`,
`hook_event_name`, `timestamp` and, for BeforeTool / AfterTool, `tool_name`
(`run_shell_command`, `read_file`, `mcp__<server>__<tool>`...), `tool_input` and after the
call `tool_response {llmContent, returnDisplay, error}`. The payload carries no tool call id,
so a hook row joins the chat file's rows by `session_id` (the chat's `sessionId`) and time,
not by call; its `timestamp` is the event time. BeforeAgent carries the user's `prompt`.
"""

from __future__ import annotations

from typing import Any

from agentaudit.collectors.agents._shared import exit_code_in, text_of
from agentaudit.collectors.agents.claude_code_hooks import ClaudeCodeHooks
from agentaudit.collectors.base import Location
from agentaudit.schema import parse_time


class GeminiHooks(ClaudeCodeHooks):
    name = "gemini.hooks"
    source = "gemini.hooks"
    version = "1"
    description = "Gemini CLI hook payloads recorded by `agentaudit hook gemini`"
    locations = (Location("Gemini CLI hook log", ("{hooks}",), ("gemini-*.jsonl",)),)
    agent = "gemini"
    call_hooks = frozenset({"BeforeTool", "AfterTool"})
    prompt_hooks = frozenset({"BeforeAgent"})

    def sniff_bare(self, first: bytes) -> bool:
        """A bare Gemini CLI payload: a `timestamp` and a transcript path (Copilot's
        Claude-compatible payloads have the timestamp but no transcript path)."""
        return (
            b'"hook_event_name"' in first
            and b'"timestamp"' in first
            and b'"transcript_path"' in first
            and b"/.copilot/" not in first
        )

    def hook_time(self, record: dict[str, Any], payload: dict[str, Any]) -> tuple[Any, str]:
        stamped = parse_time(payload.get("timestamp"))
        return (stamped, "ms") if stamped else super().hook_time(record, payload)

    def call_outcome(self, hook: str, payload: dict[str, Any]) -> dict[str, Any]:
        if hook != "AfterTool":
            return {"status": "unknown"}
        response = payload.get("tool_response")
        response = response if isinstance(response, dict) else {"llmContent": response}
        error = response.get("error")
        output = text_of(response.get("llmContent")) or text_of(response.get("returnDisplay"))
        code = exit_code_in(output)
        if error:
            message = error.get("message") if isinstance(error, dict) else error
            return {"status": "failure", "exit_code": code, "error": str(message)[:2000]}
        if code is not None:
            return {
                "status": "success" if code == 0 else "failure",
                "exit_code": code,
                "error": None if code == 0 else (output or "")[:2000],
            }
        return {"status": "success"}
