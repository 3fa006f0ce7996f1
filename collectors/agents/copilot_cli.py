"""GitHub Copilot CLI sessions: `~/.copilot/session-state/<session>/events.jsonl`.

One JSON line per session event `{"type", "data", "id", "timestamp", "parentId"}` (FORMATS.md
§5.1, checked on a real Copilot CLI 1.0.55 file). `tool.execution_start` is a call
(`toolCallId`, `toolName` bash / view / edit / create / ..., `arguments`) and is joined to its
`tool.execution_complete` (success, result, error): a completion with `error.code` `denied`
was refused (by a preToolUse hook when the message says so); a bash result's
`<exited with exit code N>` gives the exit code. Calls made inside a subagent (`agentId`,
`parentToolCallId`) get session `<session>/agent-<agentId>` with the session as parent.
Prompts and the assistant's text are messages; `hook.start` records which hook ran with which
input; session, model, turn and subagent lifecycle events are `other` rows. Older builds wrote
`session-state/<session>.jsonl`: same lines, the session is the file name.

A call still open when the read ends is emitted with status unknown; its completion read
later is an outcome row (`tool_result`) with the same `tool_call_id`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._shared import decided_by, json_records, text_of, tool_columns
from agentaudit.collectors.base import Collector, Line, Location, Output, SourceInput
from agentaudit.schema import Quarantined, new_event, parse_time

_EXITED = re.compile(r"<exited with exit code (-?\d+)>")


class CopilotCliSession(Collector):
    name = "copilot.session"
    source = "copilot.session"
    version = "1"
    description = "GitHub Copilot CLI session events (~/.copilot/session-state/*/events.jsonl)"
    origin = "agent"
    agent = "copilot"
    locations = (
        Location(
            "Copilot CLI sessions",
            ("${COPILOT_HOME:-~/.copilot}/session-state",),
            ("*/events.jsonl", "*.jsonl"),
        ),
    )

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.split(b"\n", 1)[0]
        if b'"producer":"copilot-agent"' in first.replace(b" ", b""):
            return True
        shaped = all(k in first for k in (b'"type"', b'"data"', b'"id"', b'"timestamp"'))
        return shaped and "session-state" in path.parts

    def companion(self, path: Path) -> str | None:
        beside_events = (path.parent / "events.jsonl").exists()
        if path.name in ("workspace.yaml", "plan.md") and beside_events:
            return "Copilot CLI session metadata; its events.jsonl is read"
        return None

    def collect(self, src: SourceInput) -> Iterator[Output]:
        reader = _Reader(self, src.path)
        for item in json_records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            line, record, text = item
            if not isinstance(record, dict) or not isinstance(record.get("type"), str):
                yield Quarantined(
                    "not a Copilot session event", line.data, line.number, line.offset
                )
                continue
            yield from reader.event(line, record, text)
        yield from reader.still_open()


class _Reader:
    def __init__(self, collector: CopilotCliSession, path: str) -> None:
        self.collector, self.path = collector, path
        file = Path(path)
        self.session: str | None = file.parent.name if file.name == "events.jsonl" else file.stem
        self.model: str | None = None
        self.version: str | None = None
        self.cwd: str | None = None
        self.open: dict[str, dict[str, Any]] = {}

    def event(self, line: Line, record: dict[str, Any], text: str) -> Iterator[dict[str, Any]]:
        kind = record["type"]
        data = record.get("data") if isinstance(record.get("data"), dict) else {}
        if kind == "session.start":
            self.session = data.get("sessionId") or self.session
            self.version = data.get("copilotVersion") or self.version
            context = data.get("context") if isinstance(data.get("context"), dict) else {}
            self.cwd = context.get("cwd") or self.cwd
        if kind == "session.model_change":
            self.model = data.get("newModel") or self.model
        time = parse_time(record.get("timestamp"))
        base: dict[str, Any] = {
            "source_path": self.path,
            "source_offset": line.offset,
            "seq": line.number,
            "parser_version": self.collector.parser_version,
            "time": time,
            "time_precision": "ms" if time else "none",
            "agent": "copilot",
            "agent_version": self.version,
            "model": data.get("model") or self.model,
            "session_id": self.session,
            "cwd": self.cwd,
            "raw": text,
        }
        if record.get("agentId"):
            base["parent_session_id"] = self.session
            base["session_id"] = f"{self.session}/agent-{record['agentId']}"
        key = f"{self.session}:{record.get('id') or line.offset}"
        call_id = data.get("toolCallId")
        if kind == "tool.execution_start" and call_id:
            columns = tool_columns(data.get("toolName"), data.get("arguments"))
            columns["cwd"] = columns.get("cwd") or self.cwd
            call = {**base, **columns, "tool_name": data.get("toolName"), "tool_call_id": call_id}
            call["status"] = "unknown"
            if data.get("toolName") == "task":  # a subagent: its calls carry agentId = this id
                call["target"] = f"{self.session}/agent-{call_id}"
            self.open[call_id] = call
            return
        if kind == "tool.execution_complete" and call_id:
            outcome = _outcome(data)
            call = self.open.pop(call_id, None)
            if call is None:
                columns = {
                    **base,
                    "kind": "other",
                    "operation": "tool_result",
                    "tool_call_id": call_id,
                }
                yield new_event(
                    self.collector.source, f"{self.session}:{call_id}:result", **columns, **outcome
                )
                return
            call.update(outcome, raw=f'{{"start":{call["raw"]},"complete":{text}}}')
            call["model"] = call["model"] or base["model"]
            yield new_event(self.collector.source, f"{self.session}:{call_id}:call", **call)
            return
        if kind == "user.message":
            columns = {
                "kind": "message",
                "operation": "user_prompt",
                "text": text_of(data.get("content")),
            }
        elif kind == "assistant.message":
            said = text_of(data.get("content"))
            if not said:
                return  # only tool requests: each is the call its execution_start records
            columns = {"kind": "message", "operation": "assistant_text", "text": said}
        elif kind in ("hook.start", "hook.end"):
            columns = {
                "kind": "other",
                "operation": f"{kind}:{data.get('hookType')}",
                "status": "unknown",
            }
            hook_input = data.get("input") if isinstance(data.get("input"), dict) else {}
            columns["text"] = hook_input.get("toolName") or None
            if kind == "hook.end" and data.get("success") is False:
                columns["status"] = "failure"
        else:
            columns = {"kind": "other", "operation": kind, "status": "unknown"}
            if kind.startswith("subagent."):
                columns["target"] = f"{self.session}/agent-{data.get('toolCallId')}"
                columns["text"] = data.get("agentName")
            elif kind == "session.shutdown":
                changes = (
                    data.get("codeChanges") if isinstance(data.get("codeChanges"), dict) else {}
                )
                files = changes.get("filesModified") or None
                columns["paths"] = [str(f) for f in files] if isinstance(files, list) else None
                columns["text"] = data.get("shutdownType")
            elif kind == "session.model_change":
                columns["text"] = data.get("newModel")
        yield new_event(self.collector.source, key, **base, **columns)

    def still_open(self) -> Iterator[dict[str, Any]]:
        for call_id, call in self.open.items():
            yield new_event(self.collector.source, f"{self.session}:{call_id}:call", **call)
        self.open.clear()


def _outcome(data: dict[str, Any]) -> dict[str, Any]:
    error = data.get("error") if isinstance(data.get("error"), dict) else None
    if error:
        message = str(error.get("message") or "")
        if error.get("code") == "denied":
            columns = {"status": "denied", "error": message[:2000]}
            return decided_by(columns, "hook" if "hook" in message.lower() else "human")
        return {"status": "failure", "error": message[:2000]}
    result = data.get("result") if isinstance(data.get("result"), dict) else {}
    found = _EXITED.search(str(result.get("content") or "")[-300:])
    if found:
        code = int(found.group(1))
        return {"status": "success" if code == 0 else "failure", "exit_code": code}
    ok = data.get("success")
    return {"status": "success" if ok is True else "failure" if ok is False else "unknown"}
