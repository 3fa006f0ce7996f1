"""Claude Code MCP server logs: `<cache>/claude-cli-nodejs/<project>/mcp-logs-<server>/*.jsonl`.

One file per connection to one server (the directory names it), one JSON line per message
Claude Code logged about it: `{"debug"|"error": text, "timestamp", "sessionId", "cwd"}`. The
lines are Claude Code's own sentences, not JSON-RPC (FORMATS.md §3): no arguments, no
results. What they add is every `tools/call` with its server, outcome, duration and error:
"Calling MCP tool: X" is joined to the "Tool 'X' completed successfully in 505ms" or
"Tool 'X' failed after 0s: ..." that answers it, and becomes one call event named
`mcp__<server>__X`, classified like any MCP call (a `volume_delete` on Railway is critical
even without arguments). The log carries no call id: detection links each call to the
transcript or hook row of the same session and tool nearest in time (`detect/link.py`).
Connection, capability and stderr lines are `other` events.

A call still open when the read ends is emitted with status unknown; its answer, read later
(a tailed file), becomes an outcome row (operation `tool_result`) for the same tool.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._shared import json_records, mcp_columns
from agentaudit.collectors.base import (
    LOCALAPPDATA,
    MAC_CACHES,
    XDG_CACHE,
    Collector,
    Line,
    Location,
    Output,
    SourceInput,
)
from agentaudit.schema import Quarantined, new_event, parse_time

_CALLING = re.compile(r"^Calling MCP tool: (?P<tool>\S+)")
_DONE = re.compile(r"^Tool '(?P<tool>[^']+)' completed successfully in (?P<took>\S+)")
_FAILED = re.compile(r"^Tool '(?P<tool>[^']+)' failed after (?P<took>\S+?):? (?P<error>.*)$", re.S)
_RUNNING = re.compile(r"^Tool '(?P<tool>[^']+)' still running")
_LIFECYCLE = (
    (re.compile(r"^Starting connection"), "connecting"),
    (re.compile(r"^Successfully connected"), "connected"),
    (re.compile(r"^Connection established with capabilities"), "capabilities"),
    (re.compile(r"(?i)connection (dropped|closed)|disconnected"), "disconnected"),
    (re.compile(r"^Terminating MCP server"), "terminated"),
    (re.compile(r"(?i)^connection failed|failed to connect"), "connection_failed"),
)


class ClaudeCodeMcpLogs(Collector):
    name = "claude-code.mcp"
    source = "claude-code.mcp"
    version = "1"
    description = "Claude Code MCP server logs (mcp-logs-<server>/*.jsonl): every tools/call"
    origin = "agent"
    agent = "claude-code"
    locations = (
        Location(
            "Claude Code MCP logs",
            (f"{XDG_CACHE}/claude-cli-nodejs",),
            ("*/mcp-logs-*/*.jsonl",),
            platforms=("linux",),
        ),
        Location(
            "Claude Code MCP logs",
            (f"{MAC_CACHES}/claude-cli-nodejs",),
            ("*/mcp-logs-*/*.jsonl",),
            platforms=("darwin",),
        ),
        Location(
            "Claude Code MCP logs",
            (f"{LOCALAPPDATA}/claude-cli-nodejs/Cache",),
            ("*/mcp-logs-*/*.jsonl",),
            platforms=("win32",),
        ),
    )

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.split(b"\n", 1)[0]
        return (
            path.parent.name.startswith("mcp-logs-")
            and b'"timestamp"' in first
            and (b'"debug"' in first or b'"error"' in first)
        )

    def collect(self, src: SourceInput) -> Iterator[Output]:
        server = Path(src.path).parent.name.removeprefix("mcp-logs-")
        open_calls: dict[str, list[dict[str, Any]]] = {}
        for item in json_records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            line, record, text = item
            message = (
                record.get("debug") or record.get("error") if isinstance(record, dict) else None
            )
            if not isinstance(message, str):
                yield Quarantined("no debug or error text", line.data, line.number, line.offset)
                continue
            base = self._base(src.path, line, record, text)
            yield from self._message(server, message, "error" in record, base, open_calls)
        for waiting in open_calls.values():
            yield from (new_event(self.source, call.pop("_key"), **call) for call in waiting)

    def _message(
        self,
        server: str,
        message: str,
        is_error: bool,
        base: dict[str, Any],
        open_calls: dict[str, list[dict[str, Any]]],
    ) -> Iterator[dict[str, Any]]:
        key = f"{base['source_path']}:{base['source_offset']}"
        calling = _CALLING.match(message)
        if calling:
            tool = calling.group("tool")
            call = {**base, **mcp_columns(server, tool), "status": "unknown", "_key": key}
            call["text"] = None  # the log has no arguments
            open_calls.setdefault(tool, []).append(call)
            return
        answer = _DONE.match(message) or _FAILED.match(message)
        if answer:
            tool = answer.group("tool")
            took = answer.group("took")
            outcome: dict[str, Any] = {"status": "success", "text": f"completed in {took}"}
            if "error" in answer.groupdict():
                outcome = {"status": "failure", "error": answer.group("error")[:2000]}
                outcome["text"] = f"failed after {took}"
            waiting = open_calls.get(tool)
            if waiting:
                call = waiting.pop(0)
                call.update(outcome)
                call["raw"] = f'{{"call":{call["raw"]},"answer":{base["raw"]}}}'
                yield new_event(self.source, call.pop("_key"), **call)
                return
            columns = {**base, **mcp_columns(server, tool), **outcome}
            columns["kind"], columns["operation"] = "other", "tool_result"
            yield new_event(self.source, key, **columns)
            return
        if _RUNNING.match(message):
            return  # progress of an open call: its answer line carries the duration
        operation = next((op for rx, op in _LIFECYCLE if rx.search(message)), None)
        if operation is None:
            operation = "server_error" if is_error else "log"
            if message.startswith("Server stderr:"):
                operation = "server_stderr"
        columns = {**base, "kind": "other", "operation": operation, "target": server}
        columns.update(text=message[:4000], status="unknown")
        if operation in ("server_error", "connection_failed"):
            columns.update(status="failure", error=message[:2000], text=None)
        yield new_event(self.source, key, **columns)

    def _base(self, path: str, line: Line, record: dict[str, Any], text: str) -> dict[str, Any]:
        time = parse_time(record.get("timestamp"))
        return {
            "source_path": path,
            "source_offset": line.offset,
            "seq": line.number,
            "parser_version": self.parser_version,
            "time": time,
            "time_precision": "ms" if time else "none",
            "agent": "claude-code",
            "session_id": record.get("sessionId"),
            "cwd": record.get("cwd"),
            "raw": text,
        }
