"""Windsurf (Cascade) hook payloads, as `agentaudit hook windsurf` records them.

Cascade's conversation store is encrypted, so its hooks are the only record (FORMATS.md §7,
from docs.windsurf.com's Cascade hooks page). Each payload names its action in
`agent_action_name` (`pre_run_command`, `post_write_code`, `pre_mcp_tool_use`, ...), the
conversation in `trajectory_id`, and carries `timestamp`, `model_name` and `tool_info`
(`command_line` + `cwd`, `file_path` + `edits`, `mcp_server_name` + `mcp_tool_name` +
`mcp_tool_arguments` (+ `mcp_result` after), `user_prompt`, `response`). Whether a pre and its
post share `execution_id` is not documented, so they are paired by conversation, action and
what they act on (`CallPairs`). A post_run_command says the command ran, not how it ended:
no exit code, status unknown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._shared import CallPairs, json_records, mcp_columns
from agentaudit.collectors.base import Collector, Location, Output, SourceInput
from agentaudit.schema import Quarantined, new_event, parse_time

_ENVELOPE = re.compile(rb'"agent":\s*"windsurf"')


class WindsurfHooks(Collector):
    name = "windsurf.hooks"
    source = "windsurf.hooks"
    version = "1"
    description = "Windsurf Cascade hook payloads (`agentaudit hook windsurf`; JSON lines)"
    origin = "agent"
    agent = "windsurf"
    locations = (Location("Windsurf hook log", ("{hooks}",), ("windsurf-*.jsonl",)),)

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.split(b"\n", 1)[0]
        if b'"received_at"' in first:
            return _ENVELOPE.search(first) is not None
        return b'"agent_action_name"' in first and b'"trajectory_id"' in first

    def collect(self, src: SourceInput) -> Iterator[Output]:
        pairs = CallPairs("windsurf-")
        for item in json_records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            line, record, text = item
            payload = record.get("payload", record) if isinstance(record, dict) else None
            if not isinstance(payload, dict) or not payload.get("agent_action_name"):
                reason = (
                    record.get("payload_error") if isinstance(record, dict) else None
                ) or "no agent_action_name"
                yield Quarantined(reason, line.data, line.number, line.offset)
                continue
            action = str(payload["agent_action_name"])
            info = payload.get("tool_info") if isinstance(payload.get("tool_info"), dict) else {}
            time = parse_time(payload.get("timestamp")) or parse_time(record.get("received_at"))
            session = payload.get("trajectory_id")
            columns: dict[str, Any] = {
                "source_path": src.path,
                "source_offset": line.offset,
                "seq": line.number,
                "parser_version": self.parser_version,
                "time": time,
                "time_precision": "s" if payload.get("timestamp") else "us" if time else "none",
                "agent": "windsurf",
                "model": payload.get("model_name"),
                "session_id": session,
                "cwd": info.get("cwd"),
                "raw": text,
            }
            columns.update(_action(action, info, pairs, session))
            key = (
                f"{session}:{payload.get('execution_id')}:{action}"
                if payload.get("execution_id")
                else text
            )
            yield new_event(self.source, key, **columns)


def _action(action: str, info: dict[str, Any], pairs: CallPairs, session: Any) -> dict[str, Any]:
    phase, _, what = action.partition("_")
    if action == "pre_user_prompt":
        return {"kind": "message", "operation": "user_prompt", "text": info.get("user_prompt")}
    if action.startswith("post_cascade_response"):
        return {"kind": "message", "operation": "assistant_text", "text": info.get("response")}
    if phase not in ("pre", "post") or what not in (
        "run_command",
        "read_code",
        "write_code",
        "mcp_tool_use",
    ):
        path = info.get("worktree_path") or info.get("file_path")
        return {"kind": "other", "operation": action, "status": "unknown",
                "paths": [str(path)] if path else None}  # fmt: skip
    if what == "run_command":
        columns: dict[str, Any] = {"kind": "process", "tool_name": "run_command"}
        columns["command"] = subject = info.get("command_line")
    elif what == "mcp_tool_use":
        server, tool = str(info.get("mcp_server_name")), str(info.get("mcp_tool_name"))
        columns = mcp_columns(server, tool, info.get("mcp_tool_arguments"))
        subject = f"{server}/{tool}/{json.dumps(info.get('mcp_tool_arguments'), sort_keys=True)}"
    else:
        path = info.get("file_path")
        operation = "read" if what == "read_code" else "edit"
        columns = {"kind": "file", "operation": operation, "tool_name": what,
                   "paths": [str(path)] if path else None, "target": path}  # fmt: skip
        subject = path
    key = (session, what, subject)
    columns["tool_call_id"] = pairs.before(*key) if phase == "pre" else pairs.after(*key)
    columns["status"] = "unknown"
    result = info.get("mcp_result")
    if phase == "post" and isinstance(result, dict):
        failed = result.get("isError") is True or result.get("is_error") is True
        columns["status"] = "failure" if failed else "success"
    elif phase == "post" and what in ("read_code", "write_code"):
        columns["status"] = "success"  # the post hook fires after the file was read or written
    return columns
