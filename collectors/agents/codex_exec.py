"""`codex exec --json` output: the JSON lines Codex prints for a non-interactive run.

Users redirect it to a file (`codex exec --json "..." > run.jsonl`). Read from codex-rs's
`exec_events.rs` (FORMATS.md §13.2): `thread.started` names the session, `turn.*` and `error`
frame the run, and `item.started` / `item.updated` / `item.completed` carry one item each,
joined by `item.id`: a command (`command_execution`, with its exit code; `declined` is a
refusal), a `file_change` (paths and whether they were deleted), an `mcp_tool_call` (server,
tool, arguments), a web search, the agent's messages and reasoning. The output has no times
at all: rows keep their order (`seq`) with time unknown. `item.id` (`item_N`) is not the
rollout's `call_id`, so these rows do not join rollout or hook rows by call.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._shared import json_records, mcp_columns
from agentaudit.collectors.base import Collector, Line, Output, SourceInput, loads_json
from agentaudit.schema import Quarantined, new_event

_SHELLS = ("bash", "sh", "zsh", "/bin/bash", "/bin/sh", "/bin/zsh", "/usr/bin/bash")
_STATUS = {"completed": "success", "failed": "failure", "declined": "denied"}


class CodexExec(Collector):
    name = "codex.exec"
    source = "codex.exec"
    version = "1"
    description = "`codex exec --json` output (thread, turn and item events, JSON lines)"
    origin = "agent"
    agent = "codex"

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.split(b"\n", 1)[0].replace(b" ", b"")
        return first.startswith(b'{"type":"thread.started"') or (
            first.startswith(b'{"type":"item.') and b'"item":{"id":"item_' in first
        )

    def collect(self, src: SourceInput) -> Iterator[Output]:
        run = _Run(self, src.path, _first_thread(src))
        for item in json_records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            line, record, text = item
            if not isinstance(record, dict) or not isinstance(record.get("type"), str):
                yield Quarantined("not a codex exec event", line.data, line.number, line.offset)
                continue
            yield from run.event(line, record, text)
        yield from run.still_open()


def _first_thread(src: SourceInput) -> str | None:
    """The thread of a file read from a checkpoint: its first line names it."""
    if src.start_offset == 0:
        return None
    src.stream.seek(0)
    try:
        first = loads_json(src.stream.readline())
    except ValueError:
        return None
    return first.get("thread_id") if isinstance(first, dict) else None


class _Run:
    def __init__(self, collector: CodexExec, path: str, thread: str | None) -> None:
        self.collector, self.path, self.thread = collector, path, thread
        self.open: dict[str, dict[str, Any]] = {}

    def event(self, line: Line, record: dict[str, Any], text: str) -> Iterator[dict[str, Any]]:
        kind = record["type"]
        base = {
            "source_path": self.path,
            "source_offset": line.offset,
            "seq": line.number,
            "parser_version": self.collector.parser_version,
            "time_precision": "none",
            "agent": "codex",
            "raw": text,
        }
        if kind == "thread.started":
            self.thread = record.get("thread_id") or self.thread
        base["session_id"] = self.thread
        item = record.get("item")
        if kind.startswith("item.") and isinstance(item, dict) and item.get("id"):
            key = f"{self.thread}:{item['id']}"
            columns = _item_columns(item)
            if kind == "item.started" or (kind == "item.updated" and key in self.open):
                self.open[key] = {**base, **columns, "_key": key}
                return
            held = self.open.pop(key, None)
            if held is None:  # completed without a start in this read
                key = (
                    key
                    if kind == "item.completed" and columns.get("kind") != "process"
                    else f"{key}:{kind}"
                )
                yield new_event(self.collector.source, key, **base, **columns)
                return
            held.update(columns, raw=f'{{"started":{held["raw"]},"completed":{text}}}')
            yield new_event(self.collector.source, held.pop("_key"), **held)
            return
        columns: dict[str, Any] = {"kind": "other", "operation": kind, "status": "unknown"}
        error = record.get("error") if isinstance(record.get("error"), dict) else {}
        message = record.get("message") or error.get("message")
        if kind in ("turn.failed", "error"):
            columns.update(status="failure", error=str(message or "")[:2000])
        if kind == "turn.completed" and isinstance(record.get("usage"), dict):
            columns["text"] = ", ".join(f"{k} {v}" for k, v in record["usage"].items())
        yield new_event(
            self.collector.source, f"{self.thread}:{self.path}:{line.offset}", **base, **columns
        )

    def still_open(self) -> Iterator[dict[str, Any]]:
        for held in self.open.values():
            yield new_event(self.collector.source, held.pop("_key"), **held)
        self.open.clear()


def _item_columns(item: dict[str, Any]) -> dict[str, Any]:
    kind = item.get("type")
    status = _STATUS.get(str(item.get("status")), "unknown")
    columns: dict[str, Any] = {"tool_call_id": item.get("id"), "status": status}
    if kind == "command_execution":
        code = item.get("exit_code")
        columns.update(kind="process", tool_name="shell", command=_unwrap(item.get("command")))
        if isinstance(code, int):
            columns.update(exit_code=code, status="success" if code == 0 else "failure")
            if code != 0:
                columns["error"] = str(item.get("aggregated_output") or "")[:2000] or None
    elif kind == "file_change":
        changes = [c for c in item.get("changes") or [] if isinstance(c, dict) and c.get("path")]
        paths = [str(c["path"]) for c in changes] or None
        deletes = any(c.get("kind") == "delete" for c in changes)
        columns.update(
            kind="file", tool_name="apply_patch", paths=paths, target=paths[0] if paths else None
        )
        columns["operation"] = "delete" if deletes else "edit"
    elif kind == "mcp_tool_call":
        columns.update(
            mcp_columns(str(item.get("server")), str(item.get("tool")), item.get("arguments"))
        )
        error = item.get("error")
        if error:
            message = error.get("message") if isinstance(error, dict) else error
            columns.update(status="failure", error=str(message)[:2000])
    elif kind == "web_search":
        columns.update(
            kind="api", tool_name="web_search", operation="search", text=item.get("query")
        )
    elif kind in ("agent_message", "reasoning"):
        operation = "assistant_text" if kind == "agent_message" else "thinking"
        columns.update(kind="message", operation=operation, text=item.get("text"), status=None)
        columns["tool_call_id"] = None
    elif kind == "error":
        columns.update(kind="other", operation="error", status="failure", error=item.get("message"))
        columns["tool_call_id"] = None
    else:  # todo_list, collab_tool_call, and what later versions add
        columns.update(kind="other", operation=str(kind or "item"), status="unknown")
    return columns


def _unwrap(command: Any) -> str | None:
    """`/bin/bash -lc '<cmd>'` (how exec reports every command) is `<cmd>`."""
    if isinstance(command, list):
        argv = [str(a) for a in command]
    elif isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError:
            return command
    else:
        return None
    if len(argv) == 3 and argv[0] in _SHELLS and argv[1] in ("-lc", "-c"):
        return argv[2]
    return command if isinstance(command, str) else " ".join(argv)
