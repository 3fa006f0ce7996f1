"""GitHub Copilot CLI hook payloads, as `agentaudit hook copilot <event>` records them.

Copilot CLI sends one of two payload formats, chosen by how the event is named in the hooks
file (FORMATS.md §5.2, from GitHub's CLI hooks reference): camelCase events (`preToolUse`)
get camelCase fields (`sessionId`, `timestamp` in epoch ms, `toolName`, `toolArgs` as JSON
text, `toolResult`) and **no event name**: the recorder keeps the event it was installed for
(`event` in the log line), else it is inferred from the fields; PascalCase events get the
Claude-compatible format (`hook_event_name`, `session_id`, ISO `timestamp`, `tool_name`,
`tool_input`, `tool_result`). Neither carries a call id: a pre and a post payload of the same
session, tool and arguments are one call (`CallPairs`). A post payload's `resultType`
`denied` is a refusal, `failure` a failure; `postToolUseFailure` carries the error text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._shared import (
    CallPairs,
    decided_by,
    exit_code_in,
    json_records,
    tool_columns,
)
from agentaudit.collectors.base import Collector, Location, Output, SourceInput, loads_json
from agentaudit.schema import Quarantined, new_event, parse_time

_PRE = {"preToolUse", "PreToolUse", "permissionRequest", "PermissionRequest"}
_POST = {"postToolUse", "PostToolUse", "postToolUseFailure", "PostToolUseFailure"}
_PROMPT = {"userPromptSubmitted", "UserPromptSubmit", "UserPromptSubmitted"}
_ENVELOPE = re.compile(rb'"agent":\s*"copilot"')


class CopilotHooks(Collector):
    name = "copilot.hooks"
    source = "copilot.hooks"
    version = "1"
    description = "GitHub Copilot CLI hook payloads (`agentaudit hook copilot <event>`)"
    origin = "agent"
    agent = "copilot"
    locations = (Location("Copilot CLI hook log", ("{hooks}",), ("copilot-*.jsonl",)),)

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.split(b"\n", 1)[0]
        if b'"received_at"' in first:
            return _ENVELOPE.search(first) is not None
        camel = b'"sessionId"' in first and re.search(rb'"timestamp":\s*\d', first) is not None
        claude_shaped = (
            b'"hook_event_name"' in first
            and b'"timestamp"' in first
            and (b'"transcript_path"' not in first or b"/.copilot/" in first)
        )
        return b'"cwd"' in first and (camel or claude_shaped)

    def collect(self, src: SourceInput) -> Iterator[Output]:
        pairs = CallPairs("copilot-")
        for item in json_records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            line, record, text = item
            if not isinstance(record, dict):
                yield Quarantined("not a JSON object", line.data, line.number, line.offset)
                continue
            enveloped = "received_at" in record
            payload = record.get("payload") if enveloped else record
            if not isinstance(payload, dict):
                reason = record.get("payload_error") or "no hook payload"
                yield Quarantined(reason, line.data, line.number, line.offset)
                continue
            event = record.get("event") or payload.get("hook_event_name") or _infer(payload)
            stamped = payload.get("timestamp")
            time = parse_time(stamped / 1000 if isinstance(stamped, int | float) else stamped)
            time = time or parse_time(record.get("received_at"))
            session = payload.get("sessionId") or payload.get("session_id")
            columns: dict[str, Any] = {
                "source_path": src.path,
                "source_offset": line.offset,
                "seq": line.number,
                "parser_version": self.parser_version,
                "time": time,
                "time_precision": "ms" if time else "none",
                "agent": "copilot",
                "session_id": session,
                "cwd": payload.get("cwd"),
                "raw": text,
            }
            tool = payload.get("toolName") or payload.get("tool_name")
            if tool and event in _PRE | _POST:
                columns.update(_call(str(tool), payload, event, pairs, session))
            elif event in _PROMPT:
                columns.update(kind="message", operation="user_prompt", text=payload.get("prompt"))
            else:
                columns.update(kind="other", operation=event, status="unknown", text=_said(payload))
                error = payload.get("error")
                if error:
                    message = error.get("message") if isinstance(error, dict) else error
                    columns.update(status="failure", error=str(message)[:2000])
            yield new_event(self.source, f"{session}:{event}:{text}", **columns)


def _call(
    tool: str, payload: dict[str, Any], event: str, pairs: CallPairs, session: Any
) -> dict[str, Any]:
    args = payload.get("toolArgs", payload.get("tool_input"))
    if isinstance(args, str):
        try:
            args = loads_json(args)
        except ValueError:
            args = {"command": args}
    columns = tool_columns(tool, args)
    columns["cwd"] = columns.get("cwd") or payload.get("cwd")
    key = (session, tool, json.dumps(args, sort_keys=True, default=str))
    columns["tool_name"] = tool
    columns["tool_call_id"] = pairs.before(*key) if event in _PRE else pairs.after(*key)
    if event in _PRE:
        columns["status"] = "unknown"
        return columns
    result = payload.get("toolResult") or payload.get("tool_result")
    result = result if isinstance(result, dict) else {}
    kind = result.get("resultType") or result.get("result_type")
    said = str(result.get("textResultForLlm") or result.get("text_result_for_llm") or "")
    error = payload.get("error")
    if "Failure" in event or error:
        message = error.get("message") if isinstance(error, dict) else str(error or said)
        columns.update(status="failure", error=message[:2000], exit_code=exit_code_in(message))
        if columns["exit_code"] is None:
            found = re.search(r"exit code (-?\d+)", message)
            columns["exit_code"] = int(found.group(1)) if found else None
    elif kind in ("denied", "rejected"):
        decided_by(columns, "hook" if "hook" in said.lower() else "human")
        columns.update(status="denied", error=said[:2000] or None)
    elif kind == "failure":
        columns.update(status="failure", error=said[:2000] or None)
    else:
        columns["status"] = "success" if kind == "success" else "unknown"
    return columns


def _infer(payload: dict[str, Any]) -> str:
    """The event of a camelCase payload recorded without one (FORMATS.md §5.2)."""
    if "toolResult" in payload:
        return "postToolUse"
    if payload.get("toolName") and isinstance(payload.get("error"), str):
        return "postToolUseFailure"
    if payload.get("toolName"):
        return "preToolUse"
    if "initialPrompt" in payload or "source" in payload:
        return "sessionStart"
    if "prompt" in payload:
        return "userPromptSubmitted"
    if "stopReason" in payload:
        return "agentStop"
    if "errorContext" in payload or isinstance(payload.get("error"), dict):
        return "errorOccurred"
    if "reason" in payload:
        return "sessionEnd"
    return "unknown"


def _said(payload: dict[str, Any]) -> str | None:
    for key in ("initialPrompt", "message", "stopReason", "stop_reason", "reason", "source"):
        if isinstance(payload.get(key), str) and payload[key]:
            return payload[key]
    return None
