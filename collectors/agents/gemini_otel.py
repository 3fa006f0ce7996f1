"""Gemini CLI telemetry log events (`gemini_cli.*`): OTLP, or its local file exporter.

Gemini CLI's `telemetry` settings send OTLP to an endpoint (`agentaudit serve`) or append
every record to `telemetry.outfile` as pretty-printed OpenTelemetry JS SDK records (not JSON
lines; `_otlp.records` reads both). Events (FORMATS.md §14, from gemini-cli's telemetry
source): `config` (approval mode `yolo` is a `safety_bypass`), `user_prompt`, `tool_call` (the
call: `function_args` as arguments, `decision` accept / reject / modify / auto_accept, MCP
tools with their server), API requests and errors, agent runs and the rest as `other` rows.
A tool call carries no call id: rows join chat and hook rows by session and time.
"""

from __future__ import annotations

from typing import Any

from agentaudit.collectors.agents._otlp import LogRecord, OtelLogCollector, json_object, truthy
from agentaudit.collectors.agents._shared import decided_by, mcp_columns, tool_columns
from agentaudit.collectors.base import Location, OtlpInterest

PREFIX = "gemini_cli."
_DECIDER = {"auto_accept": "setting", "accept": "human", "modify": "human", "reject": "human"}


class GeminiOtel(OtelLogCollector):
    name = "gemini.otel"
    source = "gemini.otel"
    version = "1"
    description = "Gemini CLI telemetry log events (gemini_cli.*; OTLP or telemetry.outfile)"
    origin = "agent"
    locations = (
        Location(
            "Gemini CLI telemetry outfile",
            ("${GEMINI_DIR:-~/.gemini}", "{cwd}/.gemini"),
            ("telemetry.log",),
        ),
    )
    agent = "gemini"
    otlp = OtlpInterest(signals=("logs",), names=(PREFIX,), services=("gemini-cli",))

    def columns(self, record: LogRecord, name: str) -> dict[str, Any] | None:
        attrs = record.attrs
        event = name.removeprefix(PREFIX)
        session = attrs.get("session.id") or record.resource.get("session.id")
        columns: dict[str, Any] = {
            "agent_version": record.resource.get("service.version"),
            "model": attrs.get("model"),
            "session_id": session,
            "actor": attrs.get("user.email"),
            "kind": "other",
            "operation": event,
            "status": "unknown",
        }
        if attrs.get("event.timestamp"):
            columns["_key"] = f"{session}:{attrs['event.timestamp']}:{event}"
        if event == "tool_call":
            columns["operation"] = None  # a call's operation is its command's or its tool's
            function = str(attrs.get("function_name") or "")
            args = json_object(attrs.get("function_args"))
            server = attrs.get("mcp_server_name")
            if server or attrs.get("tool_type") == "mcp":
                server = str(server or function.split("__", 1)[0])
                columns.update(mcp_columns(server, function.removeprefix(f"{server}__"), args))
            else:
                columns.update(tool_columns(function, args), tool_name=function)
            ok = truthy(attrs.get("success"))
            decision = str(attrs.get("decision") or "")
            status = "success" if ok else "failure" if ok is False else "unknown"
            columns["status"] = "denied" if decision == "reject" else status
            error = attrs.get("error")
            columns["error"] = str(error)[:2000] if error and not ok else None
            decided_by(columns, _DECIDER.get(decision))
            columns["_key"] = (
                f"{session}:{attrs.get('prompt_id')}:{attrs.get('event.timestamp')}:{function}"
            )
        elif event == "user_prompt":
            columns.update(kind="message", operation="user_prompt", text=attrs.get("prompt"))
            columns["status"] = None
        elif event == "config":
            mode = attrs.get("approval_mode")
            sandbox = truthy(attrs.get("sandbox_enabled"))
            columns["text"] = f"approval mode {mode}, sandbox {'on' if sandbox else 'off'}"
            if mode == "yolo":
                columns["categories"] = ["safety_bypass"]
                decided_by(columns, "bypass")
        elif event == "api_error":
            error = str(attrs.get("error") or attrs.get("error_type") or "")[:2000]
            columns.update(status="failure", error=error)
        elif event in ("api_request", "api_response"):
            columns["text"] = str(attrs.get("status_code") or "") or None
        elif event.startswith("agent."):
            columns["text"] = (
                " ".join(str(attrs[k]) for k in ("agent_name", "terminate_reason") if attrs.get(k))
                or None
            )
        elif event == "slash_command":
            columns["text"] = " ".join(
                str(attrs[k]) for k in ("command", "subcommand") if attrs.get(k)
            )
        return columns
