"""OpenTelemetry GenAI semantic-convention events (`gen_ai.*`) from any agent.

Agents that follow the GenAI conventions (newer Gemini CLI builds, SDK-instrumented agents)
report model turns rather than tool executions. Both generations of the conventions are read:
- `gen_ai.client.inference.operation.details` (current): `gen_ai.output.messages` holds the
  model's `tool_call` parts (`id`, `name`, `arguments`) - each is a call the model asked for -
  and `gen_ai.input.messages` the `tool_call_response` parts that answered earlier calls;
- v1.36 and before: `gen_ai.choice` / `gen_ai.assistant.message` with `tool_calls[]`
  (`{id, function: {name, arguments}}`), `gen_ai.tool.message` (`{id, content}`: a result),
  `gen_ai.user.message` / `gen_ai.system.message` (messages).
A call is what the model requested (status unknown until a result row with its id arrives);
the chat history repeats in every request, so rows are keyed by conversation and call id and
stored once. The agent is the resource's `service.name` (gemini-cli is `gemini`).
"""

from __future__ import annotations

import json
from typing import Any

from agentaudit.collectors.agents._otlp import LogRecord, OtelLogCollector
from agentaudit.collectors.agents._shared import text_of, tool_columns
from agentaudit.collectors.base import OtlpInterest, loads_json

_AGENTS = {"gemini-cli": "gemini", "claude-code": "claude-code", "codex_cli_rs": "codex",
           "codex_exec": "codex", "codex-tui": "codex"}  # fmt: skip


class GenAiOtel(OtelLogCollector):
    name = "genai.otel"
    source = "genai.otel"
    version = "1"
    description = "OpenTelemetry GenAI events (gen_ai.*) from any agent: model tool calls"
    agent = "unknown"
    otlp = OtlpInterest(signals=("logs",), names=("gen_ai.",))

    def columns(self, record: LogRecord, name: str) -> list[dict[str, Any]]:
        attrs = record.attrs
        service = str(record.resource.get("service.name") or "")
        session = (
            attrs.get("gen_ai.conversation.id")
            or attrs.get("session.id")
            or record.resource.get("session.id")
        )
        common = {
            "agent": _AGENTS.get(service, service or "unknown"),
            "agent_version": record.resource.get("service.version"),
            "model": attrs.get("gen_ai.response.model") or attrs.get("gen_ai.request.model"),
            "session_id": session,
        }
        body = record.body if isinstance(record.body, dict) else {}
        rows: list[dict[str, Any]] = []
        if name == "gen_ai.client.inference.operation.details":
            said = []
            for message in _messages(attrs.get("gen_ai.output.messages")):
                rows += [_call(part, session) for part in _parts(message, "tool_call")]
                said += [str(p.get("content") or "") for p in _parts(message, "text")]
            if any(said):
                rows.append(
                    {"kind": "message", "operation": "assistant_text", "text": "\n".join(said)}
                )
            for message in _messages(attrs.get("gen_ai.input.messages")):
                rows += [_result(part, session) for part in _parts(message, "tool_call_response")]
        elif name in ("gen_ai.choice", "gen_ai.assistant.message"):
            message = body.get("message") if isinstance(body.get("message"), dict) else body
            for call in message.get("tool_calls") or []:
                if isinstance(call, dict):
                    function = (
                        call.get("function") if isinstance(call.get("function"), dict) else {}
                    )
                    part = {"id": call.get("id"), "name": function.get("name"),
                            "arguments": function.get("arguments")}  # fmt: skip
                    rows.append(_call(part, session))
            if not rows and message.get("content"):
                rows.append(
                    {
                        "kind": "message",
                        "operation": "assistant_text",
                        "text": text_of(message["content"]),
                    }
                )
        elif name == "gen_ai.tool.message":
            rows.append(_result({"id": body.get("id"), "response": body.get("content")}, session))
        elif name in ("gen_ai.user.message", "gen_ai.system.message"):
            operation = "user_prompt" if name == "gen_ai.user.message" else "system_prompt"
            rows.append(
                {"kind": "message", "operation": operation, "text": text_of(body.get("content"))}
            )
        if not rows:  # an event of the conventions with no call in it
            rows.append({"kind": "other", "operation": name, "status": "unknown"})
        return [{**common, **row} for row in rows]


def _messages(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        try:
            value = loads_json(value)
        except ValueError:
            return []
    return [m for m in value if isinstance(m, dict)] if isinstance(value, list) else []


def _parts(message: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    parts = message.get("parts")
    return (
        [p for p in parts if isinstance(p, dict) and p.get("type") == kind]
        if isinstance(parts, list)
        else []
    )


def _call(part: dict[str, Any], session: Any) -> dict[str, Any]:
    arguments = part.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = loads_json(arguments)
        except ValueError:
            arguments = {"command": arguments}
    name = str(part.get("name") or "")
    columns = {**tool_columns(name, arguments), "tool_name": name, "status": "unknown"}
    columns["tool_call_id"] = part.get("id")
    if part.get("id"):
        columns["_key"] = f"{session}:{part['id']}:call"
    return columns


def _result(part: dict[str, Any], session: Any) -> dict[str, Any]:
    response = part.get("response")
    text = response if isinstance(response, str) else json.dumps(response, default=str)
    columns = {
        "kind": "other",
        "operation": "tool_result",
        "status": "unknown",
        "tool_call_id": part.get("id"),
    }
    columns["text"] = (text or "")[:2000] or None
    if part.get("id"):
        columns["_key"] = f"{session}:{part['id']}:result"
    return columns
