"""Codex OpenTelemetry log events (`[otel]` in `~/.codex/config.toml`; OTLP/JSON lines).

Read from codex-rs's `otel` emitters in both generations (FORMATS.md §13.1): the older one
names every record's `conversation.id` and each call's `call_id` (the rollout's and hooks' id,
so rows join); the newer one bounds the data (no call id, no conversation id, the tool reduced
to a category), so its decisions are kept but cannot be joined to a call. Events:
`conversation_starts` (approval and sandbox policy: `never` with `danger-full-access` is a
`safety_bypass`), `user_prompt`, `tool_decision` (`denied` / `abort` is a refusal; who decided
is `source`), `tool_result` (the call with its arguments and outcome), `sandbox_outcome`, and
the API and stream events as `other` rows.
"""

from __future__ import annotations

from typing import Any

from agentaudit.collectors.agents._otlp import LogRecord, OtelLogCollector, json_object, truthy
from agentaudit.collectors.agents._shared import decided_by, tool_columns
from agentaudit.collectors.agents.codex import _command, _patch_columns
from agentaudit.collectors.base import OtlpInterest

PREFIX = "codex."
_DECIDER = {"Config": "setting", "User": "human", "AutomatedReviewer": "classifier"}
_REFUSED = {"denied", "abort", "rejected"}


class CodexOtel(OtelLogCollector):
    name = "codex.otel"
    source = "codex.otel"
    version = "1"
    description = "Codex OpenTelemetry log events (codex.*; OTLP/JSON, `agentaudit serve`)"
    agent = "codex"
    otlp = OtlpInterest(signals=("logs",), names=(PREFIX,))

    def columns(self, record: LogRecord, name: str) -> dict[str, Any] | None:
        attrs = record.attrs
        event = name.removeprefix(PREFIX)
        session = attrs.get("conversation.id")
        call_id = attrs.get("call_id")
        columns: dict[str, Any] = {
            "agent_version": attrs.get("app.version") or record.resource.get("service.version"),
            "model": attrs.get("model"),
            "session_id": session,
            "actor": attrs.get("user.email") or attrs.get("user.account_id"),
            "tool_call_id": call_id,
            "kind": "other",
            "operation": event,
            "status": "unknown",
        }
        tool = attrs.get("tool_name")
        if event == "tool_result" and tool:
            columns.update({"operation": None, **_call(str(tool), attrs.get("arguments"))})
            columns["tool_name"] = tool
            ok = truthy(attrs.get("success"))
            output = str(attrs.get("output") or "")
            columns["status"] = "success" if ok else "failure" if ok is False else "unknown"
            columns["error"] = output[:2000] if ok is False else None
        elif event == "tool_decision" and tool:
            columns.update({"operation": None, **_call(str(tool), None)}, tool_name=tool)
            decision = str(attrs.get("decision") or "")
            columns["status"] = "denied" if decision in _REFUSED else "unknown"
            columns["text"] = f"decision: {decision} ({attrs.get('source') or 'source not said'})"
            decided_by(columns, _DECIDER.get(str(attrs.get("source"))))
        elif event == "user_prompt":
            columns.update(kind="message", operation="user_prompt", text=attrs.get("prompt"))
            columns["status"] = None
        elif event == "conversation_starts":
            policy = (attrs.get("approval_policy"), attrs.get("sandbox_policy"))
            columns["text"] = f"approval {policy[0]}, sandbox {policy[1]}"
            if policy == ("never", "danger-full-access"):
                columns["categories"] = ["safety_bypass"]
                decided_by(columns, "bypass")
        elif event == "sandbox_outcome":
            columns["text"] = attrs.get("outcome")
        elif event in ("api_request", "sse_event"):
            code = attrs.get("http.response.status_code") or attrs.get("error.message")
            columns["text"] = attrs.get("event.kind") or (str(code) if code else None)
            if attrs.get("error.message"):
                columns.update(status="failure", error=str(attrs["error.message"])[:2000])
        if session and call_id:
            columns["_key"] = f"{session}:{call_id}:{event}"
        return columns


def _call(tool: str, arguments: Any) -> dict[str, Any]:
    args = json_object(arguments)
    if tool == "apply_patch":
        patch = (
            args.get("input")
            or args.get("patch")
            or (arguments if isinstance(arguments, str) else "")
        )
        return _patch_columns(str(patch))
    if tool in ("exec_command", "shell", "local_shell", "container.exec"):
        command = args.get("cmd") or args.get("command")
        cwd = args.get("workdir") or args.get("cwd")
        return {"kind": "process", "command": _command(command), "cwd": cwd}
    return tool_columns(tool, args)
