"""Coding agents' OpenTelemetry spans: Claude Code's `claude_code.*` and GenAI `gen_ai.*` ones.

Input: one-record OTLP/JSON traces requests, as `agentaudit serve` hands them over (one span
per line). Claude Code (beta tracing) emits `claude_code.interaction` > `llm_request`,
`tool` (tool name, `tool_use_id`, the command or file) > `tool.blocked_on_user` (the
permission decision) and `tool.execution` (success, error). Any agent following the OTel
GenAI conventions emits spans with `gen_ai.operation.name`: `execute_tool` (tool name, call
id, arguments) is a tool call like a hook's; model and agent invocations are kept with their
model; embeddings and retrieval carry no audit meaning and are quarantined with that reason
(the client sees them rejected, never dropped). A span's id is its trace and span id.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._shared import json_records, tool_columns
from agentaudit.collectors.base import Collector, OtlpInterest, Output, SourceInput, loads_json
from agentaudit.collectors.otlp import SIGNALS, attribute_map, one_record, unix_nanos
from agentaudit.schema import Quarantined, new_event, raw_json

CLAUDE = "claude_code."
STATUS_ERROR = 2  # STATUS_CODE_ERROR
# gen_ai.operation.name values kept as model or agent activity (execute_tool is a tool call)
GEN_AI_ACTIVITY = {
    "chat",
    "text_completion",
    "generate_content",
    "invoke_agent",
    "create_agent",
    "invoke_workflow",
}
# resource service.name -> the canonical `agent` value
AGENTS = {"claude-code": "claude-code", "gemini-cli": "gemini", "codex": "codex"}
# attribute names a span may carry a tool's input under (Claude Code's are flat)
_INPUT_KEYS = ("full_command", "command", "file_path", "path", "url", "pattern", "query")


class AgentOtelSpans(Collector):
    name = "agent.otel-spans"
    source = "agent.otel-spans"
    version = "1"
    description = "Claude Code and GenAI-convention OpenTelemetry spans (tool calls, decisions, model requests; via `agentaudit serve`)"
    otlp = OtlpInterest(signals=("traces",), names=(CLAUDE,), attributes=("gen_ai.operation.name",))
    origin = "agent"  # several agents' spans: each event names its agent

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.lstrip().startswith(b'{"resourceSpans"') and (
            b'"claude_code.' in head or b'"gen_ai.operation.name"' in head
        )

    def collect(self, src: SourceInput) -> Iterator[Output]:
        for item in json_records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            line, request, _text = item
            found = one_record(SIGNALS["traces"], request)
            if found is None:
                yield Quarantined("not an OTLP traces request", line.data, line.number, line.offset)
                continue
            resource, scope, span = found
            attrs = attribute_map(span.get("attributes"))
            name = str(span.get("name") or "")
            if name.startswith(CLAUDE):
                columns = _claude_span(name.removeprefix(CLAUDE), attrs)
            else:
                columns = _gen_ai_span(attrs)
            if columns is None:
                operation = attrs.get("gen_ai.operation.name") or name or "(unnamed)"
                reason = f"span {operation} carries no audit meaning (not stored)"
                yield Quarantined(reason, line.data, line.number, line.offset)
                continue
            yield self._event(resource, scope, span, attrs, columns, src.path, line)

    def _event(
        self,
        resource: dict[str, Any],
        scope: dict[str, Any],
        span: dict[str, Any],
        attrs: dict[str, Any],
        columns: dict[str, Any],
        path: str,
        line: Any,
    ) -> dict[str, Any]:
        status = span.get("status") if isinstance(span.get("status"), dict) else {}
        failed = status.get("code") == STATUS_ERROR
        service = str(resource.get("service.name") or "")
        columns = {
            "source_path": path,
            "source_offset": line.offset,
            "seq": line.number,
            "parser_version": self.parser_version,
            "time": unix_nanos(span.get("startTimeUnixNano")),
            "time_precision": "us",
            "host": resource.get("host.name"),
            "agent": AGENTS.get(service, service or None),
            "agent_version": attrs.get("app.version") or resource.get("service.version"),
            "model": attrs.get("model")
            or attrs.get("gen_ai.request.model")
            or attrs.get("gen_ai.response.model"),
            "session_id": attrs.get("session.id") or attrs.get("gen_ai.conversation.id"),
            "actor": attrs.get("user.email")
            or attrs.get("user.account_uuid")
            or attrs.get("user.id"),
            "status": "unknown",
            "raw": raw_json({"resource": resource, "scope": scope.get("name"), "span": span}),
            **columns,
        }
        if failed:
            columns["status"] = "failure"
            columns["error"] = str(status.get("message") or attrs.get("error.type") or "error")[
                :2000
            ]
        key = f"{span.get('traceId')}:{span.get('spanId')}"
        return new_event(self.source, key, **columns)


def _claude_span(name: str, attrs: dict[str, Any]) -> dict[str, Any] | None:
    if name == "tool":
        tool = str(attrs.get("tool_name") or "")
        call_input = {k: attrs[k] for k in _INPUT_KEYS if attrs.get(k)}
        if "full_command" in call_input:
            call_input["command"] = call_input["full_command"]
        columns = tool_columns(tool, call_input)
        columns.update(tool_name=tool or None, tool_call_id=attrs.get("tool_use_id"))
        if columns["kind"] == "other":
            columns["operation"] = "tool"
        return columns
    if name == "tool.blocked_on_user":
        decision = str(attrs.get("decision") or "")
        return {
            "kind": "other",
            "operation": "tool_decision",
            "status": "denied" if decision == "reject" else "unknown",
            "text": f"decision: {decision} ({attrs.get('source')})",
        }
    if name == "tool.execution":
        success = str(attrs.get("success") or "").lower()
        columns: dict[str, Any] = {"kind": "other", "operation": "tool_execution"}
        if success in ("true", "false"):
            columns["status"] = "success" if success == "true" else "failure"
        if attrs.get("error") and success != "true":
            columns["error"] = str(attrs["error"])[:2000]
        return columns
    if name == "interaction":
        return {"kind": "message", "operation": "interaction", "text": attrs.get("user_prompt")}
    if name == "llm_request":
        return {"kind": "other", "operation": "api_request"}
    return None


def _gen_ai_span(attrs: dict[str, Any]) -> dict[str, Any] | None:
    operation = str(attrs.get("gen_ai.operation.name") or "")
    if operation == "execute_tool":
        tool = str(attrs.get("gen_ai.tool.name") or "")
        arguments = _json_object(attrs.get("gen_ai.tool.call.arguments"))
        columns = tool_columns(tool, arguments)
        columns.update(tool_name=tool or None, tool_call_id=attrs.get("gen_ai.tool.call.id"))
        if columns["kind"] == "other":
            columns["operation"] = tool or "execute_tool"
        return columns
    if operation in GEN_AI_ACTIVITY:
        text = attrs.get("gen_ai.agent.name")
        return {"kind": "other", "operation": operation, "text": text}
    return None


def _json_object(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            parsed = loads_json(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}
