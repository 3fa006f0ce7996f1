"""Claude Code hook log: one JSON line per hook payload, as `agentaudit hook claude-code` writes.

Each line is `{"received_at", "agent": "claude-code", "payload": <hook stdin>}`. PreToolUse,
PostToolUse, PostToolUseFailure and PermissionDenied records become call events with the
payload's `tool_use_id` as `tool_call_id`: the same id the transcript's `tool_use` carries,
so hook and transcript rows of one call share `tool_call_id` (and the `call_key` of the
`event_sessions` view). A PreToolUse row is the call as it was about to run (status unknown);
the Post* row carries its outcome. Other hook events are messages (UserPromptSubmit) or
`other` rows with the hook name as operation.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._shared import exit_code_in, json_records, tool_columns
from agentaudit.collectors.base import Collector, Location, Output, SourceInput
from agentaudit.schema import Quarantined, new_event, parse_time

_CALL_HOOKS = frozenset(
    {
        "PreToolUse",
        "PostToolUse",
        "PostToolUseFailure",
        "PermissionDenied",
        "PermissionRequest",
    }
)


class ClaudeCodeHooks(Collector):
    name = "claude-code.hooks"
    source = "claude-code.hooks"
    version = "1"
    description = "Claude Code hook payloads recorded by `agentaudit hook claude-code`"
    origin = "agent"
    locations = (Location("Claude Code hook log", ("{hooks}",), ("claude-code-*.jsonl",)),)
    agent = "claude-code"  # the `agent` the hook command was given (and the canonical column)
    call_hooks = _CALL_HOOKS
    prompt_hooks = frozenset({"UserPromptSubmit"})

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.split(b"\n", 1)[0]
        return f'"agent":"{self.agent}"'.encode() in first and b'"received_at"' in first

    def call_columns(self, tool_name: Any, tool_input: Any) -> dict[str, Any]:
        return tool_columns(tool_name, tool_input)

    def call_outcome(self, hook: str, payload: dict[str, Any]) -> dict[str, Any]:
        return _outcome(hook, payload)

    def hook_time(self, record: dict[str, Any], payload: dict[str, Any]) -> tuple[Any, str]:
        """(time, precision): when the hook command received the payload."""
        received = parse_time(record.get("received_at"))
        return received, "us" if received else "none"

    def collect(self, src: SourceInput) -> Iterator[Output]:
        for item in json_records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            line, record, text = item
            payload = record.get("payload") if isinstance(record, dict) else None
            if not isinstance(payload, dict) or not payload.get("hook_event_name"):
                reason = (record or {}).get("payload_error") if isinstance(record, dict) else None
                yield Quarantined(reason or "no hook payload", line.data, line.number, line.offset)
                continue
            yield self._event(record, payload, text, line.number, line.offset, src.path)

    def _event(
        self,
        record: dict[str, Any],
        payload: dict[str, Any],
        text: str,
        number: int,
        offset: int,
        path: str,
    ) -> dict[str, Any]:
        hook = str(payload["hook_event_name"])
        received, precision = self.hook_time(record, payload)
        session = payload.get("session_id")
        parent = None
        if payload.get("agent_id"):
            parent, session = session, f"{session}/agent-{payload['agent_id']}"
        columns: dict[str, Any] = {
            "source_path": path,
            "source_offset": offset,
            "seq": number,
            "parser_version": self.parser_version,
            "time": received,
            "time_precision": precision,
            "agent": self.agent,
            "model": payload.get("model"),
            "session_id": session,
            "parent_session_id": parent,
            "cwd": payload.get("cwd"),
            "raw": text,
        }
        if hook in self.call_hooks and payload.get("tool_name"):
            call = self.call_columns(payload.get("tool_name"), payload.get("tool_input"))
            call["cwd"] = call.get("cwd") or columns["cwd"]
            columns.update(call)
            columns.update(
                tool_name=payload.get("tool_name"),
                tool_call_id=payload.get("tool_use_id"),
                **self.call_outcome(hook, payload),
            )
            if columns["kind"] == "other":
                columns["operation"] = f"{hook}:{payload.get('tool_name')}"
        elif hook in self.prompt_hooks:
            columns.update(kind="message", operation="user_prompt", text=payload.get("prompt"))
        else:
            columns.update(kind="other", operation=hook, status="unknown")
        key = (
            f"{session}:{payload.get('tool_use_id')}:{hook}" if payload.get("tool_use_id") else text
        )
        return new_event(self.source, key, **columns)


def _outcome(hook: str, payload: dict[str, Any]) -> dict[str, Any]:
    if hook == "PostToolUse":
        response = payload.get("tool_response")
        if isinstance(response, dict) and response.get("interrupted") is True:
            return {"status": "failure", "error": "interrupted"}
        code = 0 if isinstance(response, dict) and "stdout" in response else None
        return {"status": "success", "exit_code": code}
    if hook == "PostToolUseFailure":
        error = str(payload.get("error") or "")
        return {"status": "failure", "exit_code": exit_code_in(error), "error": error[:2000]}
    if hook == "PermissionDenied":
        return {"status": "denied", "error": str(payload.get("reason") or "")[:2000] or None}
    return {"status": "unknown"}
