"""Cursor agent transcripts: `~/.cursor/projects/<slug>/agent-transcripts/<id>/<id>.jsonl`.

Lines are `{"role": "user"|"assistant", "message": {"content": [...]}}` and
`{"type": "turn_ended", "status": ...}`. They carry no timestamps, no tool-call ids and no
tool results, so events have time_precision `none` (order is `seq`) and status `unknown`.
Cursor sometimes rewrites the whole file (same lines, or fewer after pruning), so it is read
whole on every change and event ids hash each line's content and its occurrence number, not
its offset: a rewrite adds only lines never seen before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._shared import json_records, text_of, tool_columns
from agentaudit.collectors.base import Collector, Location, Output, SourceInput
from agentaudit.schema import Quarantined, new_event, stable_id


class CursorAgentTranscript(Collector):
    name = "cursor.transcript"
    source = "cursor.transcript"
    version = "1"
    description = "Cursor agent transcripts (~/.cursor/projects/*/agent-transcripts/**/*.jsonl)"
    origin = "agent"
    agent = "cursor"
    locations = (
        Location(
            "Cursor agent transcripts", ("~/.cursor/projects",), ("*/agent-transcripts/**/*.jsonl",)
        ),
    )
    incremental = False  # Cursor rewrites these files in place

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.split(b"\n", 1)[0]
        if "agent-transcripts" in path.parts and path.suffix == ".jsonl":
            return True
        return (
            first.startswith(b'{"role"') and b'"message"' in first and b'"timestamp"' not in first
        )

    def collect(self, src: SourceInput) -> Iterator[Output]:
        session = Path(src.path).stem
        seen: Counter[str] = Counter()
        for item in json_records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            line, record, text = item
            if not isinstance(record, dict):
                yield Quarantined("not a JSON object", line.data, line.number, line.offset)
                continue
            seen[text] += 1
            key = stable_id(session, text, seen[text])
            base: dict[str, Any] = {
                "source_path": src.path,
                "source_offset": line.offset,
                "seq": line.number,
                "parser_version": self.parser_version,
                "time": None,
                "time_precision": "none",
                "agent": "cursor",
                "session_id": session,
                "raw": text,
            }
            role = record.get("role")
            message = record.get("message") if isinstance(record.get("message"), dict) else {}
            content = message.get("content")
            if role in ("user", "assistant") and isinstance(content, list):
                for index, block in enumerate(content):
                    if not isinstance(block, dict):
                        continue
                    if block.get("type") == "tool_use":
                        columns = tool_columns(block.get("name"), block.get("input"))
                        columns.setdefault("cwd", None)
                        yield new_event(
                            self.source,
                            f"{key}:{index}",
                            **base,
                            **columns,
                            tool_name=block.get("name"),
                            status="unknown",
                        )
                    else:
                        operation = "user_prompt" if role == "user" else "assistant_text"
                        yield new_event(
                            self.source,
                            f"{key}:{index}",
                            **base,
                            kind="message",
                            operation=operation,
                            text=text_of([block]),
                        )
            elif record.get("type") == "turn_ended":
                status = {"success": "success", "error": "failure", "aborted": "failure"}
                yield new_event(
                    self.source,
                    key,
                    **base,
                    kind="other",
                    operation="turn_ended",
                    status=status.get(str(record.get("status")), "unknown"),
                )
            else:
                yield new_event(
                    self.source,
                    key,
                    **base,
                    kind="other",
                    operation=str(record.get("type") or role),
                )
