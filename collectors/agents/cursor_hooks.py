"""Cursor hook log: one JSON object a line, as `agentaudit hook cursor` records it.

Each line is `{"received_at": ISO-8601, "agent": "cursor", "payload": <hook stdin>}`; bare
payloads (no envelope) are accepted too, with no time. Cursor's shell hooks carry no call id
and `afterShellExecution` no exit code, so a before/after pair is joined on (generation,
command) and the outcome is read from the output only when it says the call was refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.base import Collector, Location, Output, SourceInput, decode_json_line
from agentaudit.schema import Quarantined, new_event, parse_time, raw_json, stable_id

_AUTH_FAILURE = re.compile(
    r"(?i)\b(unauthori[sz]ed|forbidden|permission denied|not authori[sz]ed|invalid token|"
    r"authentication failed|access denied)\b"
)
_FILE_TOOLS = {"Read": "read", "Write": "write", "StrReplace": "edit", "Edit": "edit"}


class CursorHooks(Collector):
    name = "cursor.hooks"
    source = "cursor.hooks"
    version = "1"
    description = "Cursor hook payloads recorded by `agentaudit hook cursor` (JSON lines)"
    origin = "agent"
    agent = "cursor"
    locations = (Location("Cursor hook log", ("{hooks}",), ("cursor-*.jsonl",)),)

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.split(b"\n", 1)[0]
        return b'"hook_event_name"' in first and (
            b'"conversation_id"' in first or b'"cursor_version"' in first
        )

    def collect(self, src: SourceInput) -> Iterator[Output]:
        pending: dict[tuple[str, str, str], list[str]] = {}
        for line in src.lines():
            objects, problem = decode_json_line(line)
            if problem:
                yield Quarantined(problem, line.data, line.number, line.offset)
                continue
            for record in objects:
                if not isinstance(record, dict):
                    yield Quarantined("not a JSON object", line.data, line.number, line.offset)
                    continue
                payload = record.get("payload", record)
                if not isinstance(payload, dict) or "hook_event_name" not in payload:
                    yield Quarantined("no hook_event_name", line.data, line.number, line.offset)
                    continue
                yield self._event(record, payload, line.number, line.offset, src.path, pending)

    def _event(
        self,
        record: dict[str, Any],
        payload: dict[str, Any],
        number: int,
        offset: int,
        path: str,
        pending: dict[tuple[str, str, str], list[str]],
    ) -> dict[str, Any]:
        hook = str(payload.get("hook_event_name"))
        received = parse_time(record.get("received_at"))
        session = payload.get("conversation_id") or payload.get("session_id")
        roots = payload.get("workspace_roots") or []
        cwd = payload.get("cwd") or (roots[0] if roots else None)
        columns: dict[str, Any] = {
            "source_path": path,
            "source_offset": offset,
            "seq": number,
            "parser_version": self.parser_version,
            "time": received,
            "time_precision": "ms" if received else "none",
            "agent": "cursor",
            "agent_version": payload.get("cursor_version"),
            "model": payload.get("model"),
            "session_id": session,
            "actor": payload.get("user_email"),
            "cwd": cwd,
            "tool_call_id": payload.get("tool_use_id"),
            "status": "unknown",
            "raw": raw_json(record),
        }
        tool_input = (
            payload.get("tool_input") if isinstance(payload.get("tool_input"), dict) else {}
        )
        command = payload.get("command") or tool_input.get("command")
        if hook in ("beforeShellExecution", "afterShellExecution") or (
            hook in ("preToolUse", "postToolUse", "postToolUseFailure") and command
        ):
            columns.update(kind="process", tool_name=payload.get("tool_name", "Shell"))
            columns["command"] = command
            if not columns["tool_call_id"]:
                columns["tool_call_id"] = _shell_call_id(payload, str(command), hook, pending)
            if hook in ("afterShellExecution", "postToolUse"):
                columns.update(_outcome(payload))
            if hook == "postToolUseFailure":
                columns.update(status="failure", error=str(payload.get("error") or "")[:2000])
        elif hook in ("beforeReadFile", "afterFileEdit") or payload.get("tool_name") in _FILE_TOOLS:
            file_path = payload.get("file_path") or tool_input.get("file_path")
            operation = "read" if hook == "beforeReadFile" else "edit"
            operation = _FILE_TOOLS.get(str(payload.get("tool_name")), operation)
            columns.update(
                kind="file",
                tool_name=payload.get("tool_name") or ("Read" if operation == "read" else "Edit"),
                operation=operation,
                paths=[file_path] if file_path else None,
                target=file_path,
            )
        elif hook in ("beforeMCPExecution", "afterMCPExecution", "preToolUse", "postToolUse"):
            columns.update(kind="api", tool_name=payload.get("tool_name"), url=payload.get("url"))
            columns["operation"] = payload.get("tool_name")
        elif hook == "beforeSubmitPrompt":
            columns.update(kind="message", operation="user_prompt", text=payload.get("prompt"))
        else:
            columns.update(kind="other", operation=hook)
        columns.setdefault("operation", None)
        return new_event(self.source, record_key=raw_json(record), **columns)


def _shell_call_id(
    payload: dict[str, Any], command: str, hook: str, pending: dict[tuple[str, str, str], list[str]]
) -> str:
    """Join before/after of one shell call: Cursor gives them no shared id."""
    key = (str(payload.get("conversation_id")), str(payload.get("generation_id")), command)
    if hook.startswith("before") or hook == "preToolUse":
        call_id = "cursor-shell-" + stable_id(*key, len(pending.get(key, [])))[:16]
        pending.setdefault(key, []).append(call_id)
        return call_id
    waiting = pending.get(key)
    if waiting:
        return waiting.pop(0)
    # Its before-line was read in an earlier pass (a tailed file is read in pieces): the
    # first call with this key, the same id the before-line got.
    return "cursor-shell-" + stable_id(*key, 0)[:16]


def _outcome(payload: dict[str, Any]) -> dict[str, Any]:
    if isinstance(payload.get("exit_code"), int):
        code = payload["exit_code"]
        return {"exit_code": code, "status": "success" if code == 0 else "failure"}
    output = str(payload.get("output") or "")
    refused = _AUTH_FAILURE.search(output)
    if refused:
        line = next((ln for ln in output.splitlines() if refused.group(0) in ln), output)
        return {"status": "failure", "error": line[:500]}
    return {"status": "unknown"}
