"""Claude Code OpenTelemetry log events (OTLP/JSON; `agentaudit serve`, a file exporter).

Both namings Claude Code has used are read (FORMATS.md §4): the event in `body`
(`claude_code.tool_result`) with `event.name` = `tool_result`, and `event.name` =
`claude_code.tool_result` with no body. tool_result / tool_decision are the call (command from
`tool_parameters`, truncated by Claude Code at 512 characters), with `tool_use_id` as
`tool_call_id`, the id hooks and the transcript carry; user_prompt is a message; api_error a
failure; `permission_mode_changed` to bypassPermissions is a `safety_bypass` signal; hook
executions and MCP connections say which hooks ran and which servers were connected. Each
event is keyed by `session.id` and `event.sequence`. Attribute values may be typed or strings.
"""

from __future__ import annotations

from typing import Any

from agentaudit.collectors.agents._otlp import (
    LogRecord,
    OtelLogCollector,
    json_object,
    truthy,
)
from agentaudit.collectors.agents._shared import (
    CLAUDE_DECISION_SOURCE,
    decided_by,
    exit_code_in,
    mcp_columns,
    tool_columns,
)
from agentaudit.collectors.base import Location, OtlpInterest

PREFIX = "claude_code."


class ClaudeCodeOtel(OtelLogCollector):
    name = "claude-code.otel"
    source = "claude-code.otel"
    version = "2"
    description = "Claude Code OpenTelemetry log events (OTLP/JSON; `agentaudit serve`)"
    origin = "agent"
    agent = "claude-code"
    locations = (  # spools before serve's
        Location("Claude Code OTLP spool", ("{data}/otlp",), ("claude-code-otel-*.jsonl",)),
    )
    otlp = OtlpInterest(
        signals=("logs",),
        names=(PREFIX,),
        scopes=("com.anthropic.claude_code",),
        services=("claude-code",),
    )

    def columns(self, record: LogRecord, name: str) -> dict[str, Any] | None:
        attrs = record.attrs
        event = (name if name.startswith(PREFIX) else str(record.body or name)).removeprefix(PREFIX)
        event = str(attrs.get("event.name") or event).removeprefix(PREFIX)
        session = attrs.get("session.id")
        columns: dict[str, Any] = {
            "agent_version": attrs.get("app.version") or record.resource.get("service.version"),
            "model": attrs.get("model"),
            "session_id": session,
            "actor": attrs.get("user.email")
            or attrs.get("user.account_uuid")
            or attrs.get("user.id"),
            "tool_call_id": attrs.get("tool_use_id"),
        }
        tool = attrs.get("tool_name")
        params = json_object(attrs.get("tool_parameters")) or json_object(attrs.get("tool_input"))
        if event in ("tool_result", "tool_decision") and tool:
            columns.update(_call(str(tool), params))
            columns["tool_name"] = tool
            if columns["kind"] == "other":
                columns["operation"] = event
            if event == "tool_result":
                ok = truthy(attrs.get("success"))
                error = attrs.get("error") or attrs.get("error_type")
                columns.update(
                    status="success" if ok else ("failure" if ok is False else "unknown"),
                    error=str(error)[:2000] if error and not ok else None,
                    exit_code=exit_code_in(str(error)) if error and not ok else None,
                )
                decided_by(columns, CLAUDE_DECISION_SOURCE.get(str(attrs.get("decision_source"))))
            else:
                reject = str(attrs.get("decision")) == "reject"
                columns["status"] = "denied" if reject else "unknown"
                said = f"decision: {attrs.get('decision')} ({attrs.get('source')})"
                columns["text"] = columns.get("text") or said
                decided_by(columns, CLAUDE_DECISION_SOURCE.get(str(attrs.get("source"))))
        elif event == "user_prompt":
            columns.update(kind="message", operation="user_prompt", text=attrs.get("prompt"))
        elif event == "api_error":
            error = str(attrs.get("error") or "")[:2000]
            columns.update(kind="other", operation=event, status="failure", error=error)
        elif event == "permission_mode_changed":
            to_mode = attrs.get("to_mode")
            columns.update(kind="other", operation=event, status="unknown")
            columns["text"] = f"{attrs.get('from_mode')} -> {to_mode}"
            if to_mode == "bypassPermissions":
                columns["categories"] = ["safety_bypass"]
        elif event.startswith("hook_"):
            columns.update(kind="other", operation=event, status="unknown")
            columns["text"] = " ".join(
                str(attrs[k]) for k in ("hook_event", "hook_name") if attrs.get(k)
            )
            if attrs.get("num_blocking") not in (None, "0", 0):
                columns["text"] += f" (blocking: {attrs['num_blocking']})"
        elif event == "mcp_server_connection":
            columns.update(kind="other", operation=event, text=attrs.get("status"))
            columns["status"] = "failure" if attrs.get("status") == "failed" else "unknown"
        else:
            columns.update(kind="other", operation=event, status="unknown")
        sequence = attrs.get("event.sequence")
        if session and sequence is not None:
            columns["_key"] = f"{session}:{sequence}:{event}"
        return columns


def _call(tool: str, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("mcp_server_name") and params.get("mcp_tool_name"):
        return mcp_columns(str(params["mcp_server_name"]), str(params["mcp_tool_name"]))
    call_input = dict(params)
    command = params.get("full_command") or params.get("bash_command") or params.get("command")
    if command:
        call_input["command"] = command
    return tool_columns(tool, call_input)
