"""Aider chat history: `.aider.chat.history.md` in the repository root (append-only markdown).

`# aider chat started at <local time>` opens a session (the only timestamp aider writes, so
every event of the session carries that time with time_precision `none`: order is `seq`).
`#### ` lines are the user's input (`/run CMD`, `/test CMD` and `!CMD` are commands the user
ran through aider), `> ` lines are aider's own output: `> Running CMD` (a command it ran
after approval), `> Applied edit to PATH`, `> Added PATH to the chat`, `> Commit HASH MSG`,
`> Main model: ...` / `> Models: ...`, `> Aider vX`. Plain lines are the model's reply.
A read from an offset first scans the prefix for the open session's header, model and version.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentaudit.collectors.base import Collector, Line, Location, Output, SourceInput
from agentaudit.schema import new_event, raw_json, text_column

_SESSION = re.compile(r"^# aider chat started at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")
_MODEL = re.compile(r"^> (?:Main model|Models|Model): (\S+)")
_VERSION = re.compile(r"^> Aider v(\S+)")
_RUNNING = re.compile(r"^> Running (.+)$")
_USER_COMMAND = re.compile(r"^#### (?:/(run|test) |!)(.+)$")
_EDIT = re.compile(r"^> Applied edit to (.+)$")
_ADDED = re.compile(r"^> Added (.+) to the chat\.?$")
_COMMIT = re.compile(r"^> Commit ([0-9a-f]{7,40}) (.+)$")


class AiderChatHistory(Collector):
    name = "aider.history"
    source = "aider.history"
    version = "1"
    description = "Aider chat history (.aider.chat.history.md)"
    origin = "agent"
    agent = "aider"
    locations = (Location("Aider chat history", ("{cwd}", "~"), (".aider.chat.history.md",)),)

    def sniff(self, path: Path, head: bytes) -> bool:
        return path.name.endswith(".aider.chat.history.md") or (
            b"# aider chat started at " in head and path.suffix == ".md"
        )

    def collect(self, src: SourceInput) -> Iterator[Output]:
        state = _State(self, src.path)
        if src.start_offset:
            src.stream.seek(0)
            for data in src.stream.read(src.start_offset).splitlines():
                state.context(data.decode("utf-8", "surrogateescape").rstrip())
        reply: list[Line] = []
        for line in src.lines():
            text = line.data.decode("utf-8", "surrogateescape").rstrip()
            if not text.startswith(("#", ">")):
                if text.strip() or reply:
                    reply.append(line)
                continue
            if reply:
                yield from state.reply(reply)
                reply = []
            event = state.line(line, text)
            if event is not None:
                yield event
        if reply:
            yield from state.reply(reply)


class _State:
    def __init__(self, collector: AiderChatHistory, path: str) -> None:
        self.collector = collector
        self.path = path
        self.started: datetime | None = None
        self.session: str | None = None
        self.model: str | None = None
        self.version: str | None = None

    def context(self, text: str) -> bool:
        found = _SESSION.match(text)
        if found:
            self.started = datetime.fromisoformat(found.group(1)).replace(tzinfo=UTC)
            self.session = f"aider:{Path(self.path).parent.name}:{found.group(1)}"
            self.model = self.version = None
            return True
        found = _MODEL.match(text)
        if found:
            self.model = found.group(1)
            return True
        found = _VERSION.match(text)
        if found:
            self.version = found.group(1)
            return True
        return False

    def _event(self, line: Line, source_text: str, **columns: Any) -> dict[str, Any]:
        return new_event(
            self.collector.source,
            f"{self.path}:{line.offset}",
            source_path=self.path,
            source_offset=line.offset,
            seq=line.number,
            parser_version=self.collector.parser_version,
            time=self.started,
            time_precision="none",  # only the session start is known
            agent="aider",
            agent_version=self.version,
            model=self.model,
            session_id=self.session or f"aider:{Path(self.path).parent.name}",
            raw=raw_json({"line": line.number, "text": source_text}),
            **columns,
        )

    def line(self, line: Line, text: str) -> dict[str, Any] | None:
        if self.context(text):
            if text.startswith("# aider chat started"):
                return self._event(line, text, kind="message", operation="session_start")
            return None
        clean = text_column(text)
        if found := _RUNNING.match(clean):
            return self._event(
                line,
                text,
                kind="process",
                tool_name="run",
                command=found.group(1),
                status="unknown",
            )
        if found := _USER_COMMAND.match(clean):
            tool = found.group(1) or "shell"
            return self._event(
                line,
                text,
                kind="process",
                tool_name=tool,
                command=found.group(2),
                actor="user",
                status="unknown",
            )
        if found := _EDIT.match(clean):
            path = found.group(1)
            return self._event(
                line,
                text,
                kind="file",
                tool_name="edit",
                operation="edit",
                paths=[path],
                target=path,
                status="success",
            )
        if found := _ADDED.match(clean):
            path = found.group(1)
            return self._event(
                line,
                text,
                kind="file",
                tool_name="add",
                operation="read",
                paths=[path],
                target=path,
                status="success",
            )
        if found := _COMMIT.match(clean):
            return self._event(
                line,
                text,
                kind="other",
                operation="git_commit",
                target=found.group(1),
                text=found.group(2),
                status="success",
            )
        if clean.startswith("#### "):
            return self._event(line, text, kind="message", operation="user_prompt", text=clean[5:])
        return None  # aider's status output (lint results, token counts): kept in the file only

    def reply(self, lines: list[Line]) -> Iterator[dict[str, Any]]:
        body = "\n".join(
            text_column(ln.data.decode("utf-8", "surrogateescape")) for ln in lines
        ).strip()
        if body:
            yield self._event(lines[0], body, kind="message", operation="assistant_text", text=body)
