"""Claude Code OpenTelemetry events, as OTLP/JSON log exports (one request per line).

Input lines are `ExportLogsServiceRequest` objects in OTLP/JSON (`{"resourceLogs": [...]}`),
which is what `agentaudit serve` hands over for every POST /v1/logs (protobuf bodies are
converted first) and what an OpenTelemetry Collector file exporter writes. Only
`claude_code.*` events are read (other services' records are skipped): tool_result,
tool_decision, user_prompt, api_request and the rest, each keyed by `session.id` and
`event.sequence`. `tool_use_id` becomes `tool_call_id`, the id the transcript and hooks carry.
Attribute values may be typed (`intValue` as number or string) or pre-stringified
(`success: "true"`); both are read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._shared import exit_code_in, json_records, tool_columns
from agentaudit.collectors.base import (
    Collector,
    Location,
    OtlpInterest,
    Output,
    SourceInput,
    loads_json,
)
from agentaudit.schema import Quarantined, new_event, parse_time, raw_json, stable_id

PREFIX = "claude_code."


class ClaudeCodeOtel(Collector):
    name = "claude-code.otel"
    source = "claude-code.otel"
    version = "1"
    description = "Claude Code OpenTelemetry log events (OTLP/JSON lines; `agentaudit serve`)"
    origin = "agent"
    agent = "claude-code"
    locations = (
        Location("Claude Code OTLP spool", ("{data}/otlp",), ("claude-code-otel-*.jsonl",)),
    )
    otlp = OtlpInterest(
        signals=("logs",),
        names=(PREFIX,),
        scopes=("com.anthropic.claude_code",),
        services=("claude-code",),
    )

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.lstrip().startswith(b'{"resourceLogs"') and b"claude" in head

    def collect(self, src: SourceInput) -> Iterator[Output]:
        for item in json_records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            line, request, _text = item
            if not isinstance(request, dict) or not isinstance(request.get("resourceLogs"), list):
                yield Quarantined("not an OTLP logs request", line.data, line.number, line.offset)
                continue
            for resource_logs in _objects(request["resourceLogs"]):
                resource = attributes(_object(resource_logs.get("resource")).get("attributes"))
                for scope_logs in _objects(resource_logs.get("scopeLogs")):
                    scope = _object(scope_logs.get("scope"))
                    for record in _objects(scope_logs.get("logRecords")):
                        event = self._event(
                            resource, scope, record, src.path, line.number, line.offset
                        )
                        if event is not None:
                            yield event

    def _event(
        self,
        resource: dict[str, Any],
        scope: dict[str, Any],
        record: dict[str, Any],
        path: str,
        number: int,
        offset: int,
    ) -> dict[str, Any] | None:
        attrs = attributes(record.get("attributes"))
        body = value_of(record.get("body"))
        name = str(attrs.get("event.name") or record.get("eventName") or body or "")
        claude = (
            name.startswith(PREFIX)
            or str(body or "").startswith(PREFIX)
            or str(scope.get("name") or "").startswith("com.anthropic.claude_code")
            or str(resource.get("service.name") or "").startswith("claude-code")
        )
        if not claude or not name:
            return None
        event_name = name.removeprefix(PREFIX)
        time = (
            parse_time(attrs.get("event.timestamp"))
            or _nanos(record.get("timeUnixNano"))
            or _nanos(record.get("observedTimeUnixNano"))
        )
        session = attrs.get("session.id")
        columns: dict[str, Any] = {
            "source_path": path,
            "source_offset": offset,
            "seq": number,
            "parser_version": self.parser_version,
            "time": time,
            "time_precision": "ms" if attrs.get("event.timestamp") else ("us" if time else "none"),
            "host": resource.get("host.name"),
            "agent": "claude-code",
            "agent_version": attrs.get("app.version") or resource.get("service.version"),
            "model": attrs.get("model"),
            "session_id": session,
            "actor": attrs.get("user.email")
            or attrs.get("user.account_uuid")
            or attrs.get("user.id"),
            "tool_call_id": attrs.get("tool_use_id"),
            "raw": raw_json({"resource": resource, "scope": scope.get("name"), "record": record}),
        }
        tool = attrs.get("tool_name")
        params = _json_object(attrs.get("tool_parameters")) or _json_object(attrs.get("tool_input"))
        if event_name in ("tool_result", "tool_decision") and tool:
            call_input = dict(params)
            command = (
                params.get("full_command") or params.get("bash_command") or params.get("command")
            )
            if command:
                call_input["command"] = command
            columns.update(tool_columns(str(tool), call_input))
            columns["tool_name"] = tool
            if columns["kind"] == "other":
                columns["operation"] = event_name
            if event_name == "tool_result":
                ok = _truthy(attrs.get("success"))
                error = attrs.get("error") or attrs.get("error_type")
                columns.update(
                    status="success" if ok else ("failure" if ok is False else "unknown"),
                    error=str(error)[:2000] if error and not ok else None,
                    exit_code=exit_code_in(str(error)) if error and not ok else None,
                )
            else:
                reject = str(attrs.get("decision")) == "reject"
                columns.update(
                    status="denied" if reject else "unknown",
                    text=f"decision: {attrs.get('decision')} ({attrs.get('source')})",
                )
        elif event_name == "user_prompt":
            columns.update(kind="message", operation="user_prompt", text=attrs.get("prompt"))
        elif event_name == "api_error":
            columns.update(
                kind="other",
                operation=event_name,
                status="failure",
                error=str(attrs.get("error") or "")[:2000],
            )
        else:
            columns.update(kind="other", operation=event_name, status="unknown")
            if event_name == "permission_mode_changed":
                columns["text"] = f"{attrs.get('from_mode')} -> {attrs.get('to_mode')}"
        sequence = attrs.get("event.sequence")
        key = (
            f"{session}:{sequence}:{event_name}"
            if session and sequence is not None
            else stable_id(raw_json(record))
        )
        return new_event(self.source, key, **columns)


def value_of(value: Any) -> Any:
    """An OTLP AnyValue (`{"stringValue": ...}`, `{"intValue": "42"}`, ...) as a Python value."""
    if not isinstance(value, dict):
        return value
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            return value["intValue"]
    if "doubleValue" in value:
        return value["doubleValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "arrayValue" in value:
        return [value_of(v) for v in _objects(_object(value["arrayValue"]).get("values"))]
    if "kvlistValue" in value:
        return attributes(_object(value["kvlistValue"]).get("values"))
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def _objects(value: Any) -> list[dict[str, Any]]:
    """The objects of a JSON list (a sender's wrong types are skipped, not a crash)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def attributes(items: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in _objects(items):
        if "key" in item:
            out[str(item["key"])] = value_of(item.get("value"))
    return out


def _nanos(value: Any) -> datetime | None:
    try:
        nanos = int(value)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(nanos / 1e9, tz=UTC) if nanos > 0 else None


def _truthy(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1"):
        return True
    if str(value).lower() in ("false", "0"):
        return False
    return None


def _json_object(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.startswith("{"):
        try:
            parsed = loads_json(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}
