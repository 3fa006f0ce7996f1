"""Google Antigravity transcripts: `~/.gemini/antigravity/brain/<id>/.system_generated/logs/transcript.jsonl`.

One JSON line per step `{step_index, source, type, status, created_at, content}` (FORMATS.md
§11: keys seen in public tests, not vendor-documented; the conversations themselves, `*.pb`,
are encrypted). `USER_INPUT` is the prompt, `PLANNER_RESPONSE` the reply, `RUN_COMMAND` a
command (its line is the step's free text: low confidence, prefer hooks), `VIEW_FILE` and
file-writing steps name a file, and a following `SYSTEM_MESSAGE` "...exited with code N" is
that command's exit code. The conversation is the `brain/<id>` directory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._shared import json_records
from agentaudit.collectors.base import Collector, Line, Location, Output, SourceInput
from agentaudit.schema import Quarantined, new_event, parse_time

_EXITED = re.compile(r"exited with (?:exit )?code (-?\d+)")
_PATH = re.compile(r"(?:^|\s)(/[^\s'\"]+|[A-Za-z]:\\[^\s'\"]+)")
_FILE_STEPS = {"VIEW_FILE": "read", "WRITE_TO_FILE": "write", "CODE_ACTION": "edit",
               "REPLACE_FILE_CONTENT": "edit", "LIST_DIRECTORY": "list", "DELETE_FILE": "delete"}  # fmt: skip
_FAILED = {"ERROR", "FAILED", "CANCELED", "CANCELLED"}


class AntigravityTranscript(Collector):
    name = "antigravity.transcript"
    source = "antigravity.transcript"
    version = "1"
    description = (
        "Google Antigravity transcripts (~/.gemini/antigravity/brain/*/…/transcript.jsonl)"
    )
    origin = "agent"
    agent = "antigravity"
    locations = (
        Location(
            "Antigravity transcripts",
            ("~/.gemini/antigravity/brain",),
            ("*/.system_generated/logs/transcript.jsonl",),
        ),
    )

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.split(b"\n", 1)[0]
        return all(k in first for k in (b'"step_index"', b'"created_at"', b'"type"'))

    def collect(self, src: SourceInput) -> Iterator[Output]:
        path = Path(src.path)
        session = (
            path.parents[2].name
            if len(path.parents) > 2 and path.parent.name == "logs"
            else path.stem
        )
        command: dict[str, Any] | None = None
        for item in json_records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            line, step, text = item
            if not isinstance(step, dict) or "type" not in step:
                yield Quarantined("not a transcript step", line.data, line.number, line.offset)
                continue
            kind = str(step["type"])
            content = step.get("content") if isinstance(step.get("content"), str) else None
            exited = _EXITED.search(content or "") if kind == "SYSTEM_MESSAGE" else None
            if command is not None and exited:
                code = int(exited.group(1))
                command.update(exit_code=code, status="success" if code == 0 else "failure")
            if command is not None:
                yield new_event(self.source, command.pop("_key"), **command)
                command = None
            columns = self._base(src.path, line, step, text, session)
            columns.update(_step(kind, content, str(step.get("status") or "")))
            key = f"{session}:{step.get('step_index', line.number)}"
            if kind == "RUN_COMMAND":
                command = {**columns, "_key": key, "tool_call_id": key}
                continue
            yield new_event(self.source, key, **columns)
        if command is not None:
            yield new_event(self.source, command.pop("_key"), **command)

    def _base(
        self, path: str, line: Line, step: dict[str, Any], text: str, session: str
    ) -> dict[str, Any]:
        time = parse_time(step.get("created_at"))
        return {
            "source_path": path,
            "source_offset": line.offset,
            "seq": line.number,
            "parser_version": self.parser_version,
            "time": time,
            "time_precision": "ms" if time else "none",
            "agent": "antigravity",
            "session_id": session,
            "raw": text,
        }


def _step(kind: str, content: str | None, status: str) -> dict[str, Any]:
    failed = status.upper() in _FAILED
    if kind == "USER_INPUT":
        return {"kind": "message", "operation": "user_prompt", "text": content}
    if kind == "PLANNER_RESPONSE":
        return {"kind": "message", "operation": "assistant_text", "text": content}
    if kind == "SYSTEM_MESSAGE":
        return {"kind": "message", "operation": "system", "text": content}
    if kind == "RUN_COMMAND":
        return {"kind": "process", "tool_name": "run_command", "command": content,
                "status": "failure" if failed else "unknown"}  # fmt: skip
    if kind in _FILE_STEPS:
        found = _PATH.search(content or "")
        path = found.group(1) if found else None
        return {"kind": "file", "operation": _FILE_STEPS[kind], "tool_name": kind.lower(),
                "paths": [path] if path else None, "target": path,
                "status": "failure" if failed else "success" if status.upper() == "DONE" else "unknown"}  # fmt: skip
    return {"kind": "other", "operation": kind.lower(), "text": content,
            "status": "failure" if failed else "unknown"}  # fmt: skip
