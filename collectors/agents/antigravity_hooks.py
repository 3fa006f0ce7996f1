"""Google Antigravity hook payloads, as `agentaudit hook antigravity` records them.

Not vendor-documented (FORMATS.md §11): two shapes are seen in public tests, from different
versions or adapters, and both are read: `{conversationId, toolCall: {name, args:
{CommandLine, Cwd}}}`, and Gemini-style `{hook_event_name: BeforeTool, session_id,
tool_name, tool_input}`. Neither carries a time (the recorder's receive time is used) or a
call id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._shared import json_records, tool_columns
from agentaudit.collectors.base import Collector, Location, Output, SourceInput
from agentaudit.schema import Quarantined, new_event, parse_time

_ENVELOPE = re.compile(rb'"agent":\s*"antigravity"')


class AntigravityHooks(Collector):
    name = "antigravity.hooks"
    source = "antigravity.hooks"
    version = "1"
    description = "Google Antigravity hook payloads (`agentaudit hook antigravity`)"
    origin = "agent"
    agent = "antigravity"
    locations = (Location("Antigravity hook log", ("{hooks}",), ("antigravity-*.jsonl",)),)

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.split(b"\n", 1)[0]
        if b'"received_at"' in first:
            return _ENVELOPE.search(first) is not None
        return b'"conversationId"' in first and b'"toolCall"' in first

    def collect(self, src: SourceInput) -> Iterator[Output]:
        for item in json_records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            line, record, text = item
            payload = record.get("payload", record) if isinstance(record, dict) else None
            if not isinstance(payload, dict) or not (
                payload.get("toolCall") or payload.get("hook_event_name")
            ):
                yield Quarantined(
                    "not an Antigravity hook payload", line.data, line.number, line.offset
                )
                continue
            received = parse_time(record.get("received_at"))
            columns: dict[str, Any] = {
                "source_path": src.path,
                "source_offset": line.offset,
                "seq": line.number,
                "parser_version": self.parser_version,
                "time": received,
                "time_precision": "us" if received else "none",
                "agent": "antigravity",
                "session_id": payload.get("conversationId") or payload.get("session_id"),
                "cwd": payload.get("cwd"),
                "status": "unknown",
                "raw": text,
            }
            call = payload.get("toolCall") if isinstance(payload.get("toolCall"), dict) else {}
            tool = call.get("name") or payload.get("tool_name")
            args = call.get("args") if call else payload.get("tool_input")
            if tool:
                found = tool_columns(str(tool), args)
                found["cwd"] = found.get("cwd") or columns["cwd"]
                columns.update(found, tool_name=tool)
            else:
                columns.update(kind="other", operation=payload.get("hook_event_name"))
            yield new_event(self.source, text, **columns)
