"""Cline task folders: `<User>/globalStorage/saoudrizwan.claude-dev/tasks/<taskId>/`.

`ui_messages.json` is the task as the user saw it (FORMATS.md §8, from Cline's
ExtensionMessage types): an array of `{ts, type: ask|say, ask|say, text}`. It is the record
read here, because it has times and the approvals: `ask: command` is a command awaiting
approval, `say: command` the command run (without an `ask` before it, auto-approved), a
`say: user_feedback` or a new question instead of the run means the human refused it;
`ask: use_mcp_server` is an MCP call (`serverName`, `toolName`, `arguments`), `say|ask: tool`
a file read or edit (`{tool, path}`). Command output carries no exit code, so a command that
ran has status unknown. The session is the task id; the model and Cline's version come from
`task_metadata.json` and the working directory from `state/taskHistory.json` beside it.
`api_conversation_history.json` repeats the calls without times: it is read with the task,
not on its own (a companion). Roo Code writes the same folders (`roo_code_tasks.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from agentaudit.collectors.agents._shared import (
    EDITORS,
    decided_by,
    editor_locations,
    mcp_columns,
    tool_columns,
)
from agentaudit.collectors.base import Collector, Location, Output, SourceInput, loads_json
from agentaudit.schema import Quarantined, new_event, parse_time, raw_json

_FILE_TOOLS = {
    "readFile": "read", "editedExistingFile": "edit", "newFileCreated": "write",
    "listFilesTopLevel": "list", "listFilesRecursive": "list", "searchFiles": "search",
    "fileDeleted": "delete", "appliedDiff": "edit",
}  # fmt: skip
_COMPANIONS = ("api_conversation_history.json", "task_metadata.json")


class ClineTask(Collector):
    name = "cline.task"
    source = "cline.task"
    version = "1"
    description = "Cline task folders (globalStorage/saoudrizwan.claude-dev/tasks/*)"
    origin = "agent"
    locations = (
        *editor_locations(
            "Cline tasks",
            EDITORS,
            ("globalStorage/saoudrizwan.claude-dev/tasks/*/ui_messages.json",),
        ),
        Location("Cline CLI tasks", ("~/.cline/data",), ("tasks/*/ui_messages.json",)),
    )
    incremental = False
    agent: ClassVar[str] = "cline"
    version_key: ClassVar[str] = "cline_version"
    extension_dir: ClassVar[str] = "saoudrizwan.claude-dev"

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.name != "ui_messages.json" or not head.lstrip().startswith(b"["):
            return False
        in_other = any(p.startswith("rooveterinaryinc.") for p in path.parts)
        return b'"ts"' in head and b'"type"' in head and in_other == (self.agent == "roo-code")

    def companion(self, path: Path) -> str | None:
        in_roo = any(p.startswith("rooveterinaryinc.") for p in path.parts)
        if in_roo != (self.agent == "roo-code"):
            return None
        if path.name in _COMPANIONS and (path.parent / "ui_messages.json").exists():
            return f"read with the task's ui_messages.json ({self.name})"
        if path.name == "taskHistory.json" and (path.parent.parent / "tasks").is_dir():
            return f"the task list; each task folder is read ({self.name})"
        return None

    def collect(self, src: SourceInput) -> Iterator[Output]:
        data = src.read_all()
        try:
            messages = loads_json(data)
        except ValueError as exc:
            yield Quarantined(f"invalid JSON document: {exc}", data[:4096], None, 0)
            return
        if not isinstance(messages, list):
            yield Quarantined("not a list of task messages", data[:4096], None, 0)
            return
        task = Path(src.path).parent
        reader = _Task(self, src.path, task.name, _metadata(task), _cwd(task))
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("type") not in ("ask", "say"):
                yield Quarantined(
                    "not a task message", raw_json(message).encode()[:4096], index + 1
                )
                continue
            yield from reader.message(index, message)
        yield from reader.close(refused=False)


class _Task:
    def __init__(
        self, collector: ClineTask, path: str, task: str, meta: dict[str, Any], cwd: str | None
    ) -> None:
        self.collector, self.path, self.task, self.meta, self.cwd = collector, path, task, meta, cwd
        self.open: dict[str, Any] | None = None  # the call asked about or running

    def base(self, index: int, message: dict[str, Any]) -> dict[str, Any]:
        stamp = message.get("ts")
        time = parse_time(stamp / 1000) if isinstance(stamp, int | float) else None
        return {
            "source_path": self.path,
            "seq": index,
            "parser_version": self.collector.parser_version,
            "time": time,
            "time_precision": "ms" if time else "none",
            "agent": self.collector.agent,
            "agent_version": self.meta.get("version"),
            "model": _model_at(self.meta.get("models") or [], stamp),
            "session_id": self.task,
            "cwd": self.cwd,
            "raw": raw_json(message),
        }

    def message(self, index: int, message: dict[str, Any]) -> Iterator[dict[str, Any]]:
        kind = message.get("ask") or message.get("say")
        asked = message["type"] == "ask"
        text = message.get("text") if isinstance(message.get("text"), str) else ""
        if message.get("partial"):
            return  # a streaming fragment; the complete message follows
        if kind in ("command_output", "mcp_server_response", "mcp_server_request_started"):
            if self.open:
                self.open["state"] = "ran"
            return
        if kind == "command" and not asked and self.open and self.open.get("command") == text:
            self.open["state"] = "ran"  # the command asked about was approved and runs
            return
        if kind == "user_feedback" and self.open and self.open["state"] == "asked":
            yield from self.close(refused=True, reason=text)
            yield self.event(index, message, kind="message", operation="user_feedback", text=text)
            return
        yield from self.close(refused=self.open is not None and self.open["state"] == "asked")
        if kind == "command":
            call = {
                **self.base(index, message),
                "kind": "process",
                "command": text,
                "tool_name": "execute_command",
            }
            self.open = {**call, "state": "asked" if asked else "ran", "auto": not asked}
        elif kind == "use_mcp_server":
            request = _json(text)
            columns = mcp_columns(
                str(request.get("serverName")),
                str(request.get("toolName")),
                request.get("arguments"),
            )
            self.open = {
                **self.base(index, message),
                **columns,
                "state": "asked" if asked else "ran",
                "auto": not asked,
            }
        elif kind == "tool":
            tool = _json(text)
            path = tool.get("path")
            operation = _FILE_TOOLS.get(str(tool.get("tool")))
            columns = {"kind": "file", "operation": operation, "tool_name": tool.get("tool"),
                       "paths": [str(path)] if path else None, "target": path, "status": "unknown"}  # fmt: skip
            if operation is None:
                columns = {
                    **tool_columns(str(tool.get("tool")), tool),
                    "tool_name": tool.get("tool"),
                }
            yield self.event(index, message, **columns)
        elif kind == "task":
            yield self.event(index, message, kind="message", operation="user_prompt", text=text)
        elif kind in ("text", "completion_result") and text:
            yield self.event(index, message, kind="message", operation="assistant_text", text=text)
        elif kind == "api_req_started":
            cost = _json(text)
            said = ", ".join(
                f"{k} {cost[k]}" for k in ("tokensIn", "tokensOut", "cost") if k in cost
            )
            yield self.event(
                index,
                message,
                kind="other",
                operation="api_request",
                text=said or None,
                status="unknown",
            )
        elif kind == "command_permission_denied":
            yield self.event(index, message, kind="process", command=text or None, status="denied")
        elif text or not asked:
            status = (
                "failure"
                if kind in ("error", "api_req_failed", "mistake_limit_reached")
                else "unknown"
            )
            yield self.event(
                index,
                message,
                kind="other",
                operation=f"{message['type']}:{kind}",
                text=text or None,
                status=status,
            )

    def event(self, index: int, message: dict[str, Any], **columns: Any) -> dict[str, Any]:
        key = f"{self.task}:{message.get('ts')}:{index}"
        return new_event(self.collector.source, key, **{**self.base(index, message), **columns})

    def close(self, refused: bool, reason: str | None = None) -> Iterator[dict[str, Any]]:
        """Emit the open call: refused when its question got feedback or another question."""
        call, self.open = self.open, None
        if call is None:
            return
        state, auto = call.pop("state"), call.pop("auto")
        call["tool_call_id"] = f"{self.task}:{call['seq']}"
        if refused:
            call.update(status="denied", error=reason or "not approved")
            decided_by(call, "human")
        else:
            call["status"] = "unknown"
            decided_by(call, "setting" if auto else "human" if state == "ran" else None)
        yield new_event(self.collector.source, f"{self.task}:call:{call['seq']}", **call)


def _json(text: str) -> dict[str, Any]:
    try:
        value = loads_json(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _metadata(task: Path) -> dict[str, Any]:
    """Model use and the extension's version from task_metadata.json (absent: nothing)."""
    try:
        meta = loads_json((task / "task_metadata.json").read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(meta, dict):
        return {}
    envs = [e for e in meta.get("environment_history") or [] if isinstance(e, dict)]
    version = next(
        (e.get(k) for e in reversed(envs) for k in ("cline_version", "roo_version") if e.get(k)),
        None,
    )
    models = [
        (m.get("ts"), m.get("model_id"))
        for m in meta.get("model_usage") or []
        if isinstance(m, dict)
    ]
    return {
        "version": version,
        "models": sorted(m for m in models if isinstance(m[0], int | float)),
    }


def _model_at(models: list[tuple[Any, Any]], stamp: Any) -> str | None:
    if not models:
        return None
    if not isinstance(stamp, int | float):
        return models[-1][1]
    earlier = [model for ts, model in models if ts <= stamp]
    return earlier[-1] if earlier else models[0][1]


def _cwd(task: Path) -> str | None:
    try:
        history = loads_json((task.parent.parent / "state" / "taskHistory.json").read_text())
    except (OSError, ValueError):
        return None
    for item in history if isinstance(history, list) else []:
        if isinstance(item, dict) and str(item.get("id")) == task.name:
            return item.get("cwdOnTaskInitialization")
    return None
