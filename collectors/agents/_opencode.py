"""opencode's session / message / part records, shared by its SQLite and JSON-tree readers.

A part is the unit (FORMATS.md §10, from opencode's message-v2 types): `text` (a prompt or a
reply, by its message's role), `tool` (one call and its result together: `callID`, `tool`,
`state {status, input, output, error, metadata.exit, time.start}`), `reasoning`, and
bookkeeping (`step-start`, `step-finish`, `snapshot`, `patch`). A tool whose name is not one
of opencode's own is an MCP tool named `<server>_<tool>`: the server is the part before the
first underscore (opencode does not record it apart). A permission the user refused is an
`error` state saying so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agentaudit.collectors.agents._shared import decided_by, mcp_columns, text_of, tool_columns
from agentaudit.schema import parse_time

BUILTIN_TOOLS = frozenset(
    {"bash", "read", "write", "edit", "multiedit", "patch", "glob", "grep", "list", "webfetch",
     "websearch", "task", "todowrite", "todoread", "lsp_diagnostics", "lsp_hover", "invalid",
     "codesearch", "skill", "batch"}
)  # fmt: skip
_REJECTED = "rejected permission"
_QUIET = frozenset({"step-start", "step-finish", "snapshot"})


def millis(value: Any) -> datetime | None:
    return parse_time(value / 1000) if isinstance(value, int | float) else None


def session_columns(session: dict[str, Any]) -> dict[str, Any]:
    """The columns every row of a session shares, from its session record."""
    return {
        "agent": "opencode",
        "agent_version": session.get("version"),
        "session_id": session.get("id"),
        "parent_session_id": session.get("parentID") or session.get("parent_id"),
        "cwd": session.get("directory"),
    }


def message_columns(message: dict[str, Any]) -> dict[str, Any]:
    path = message.get("path") if isinstance(message.get("path"), dict) else {}
    model = message.get("modelID") or (message.get("model") or {}).get("modelID")
    columns: dict[str, Any] = {"model": model}
    if path.get("cwd"):
        columns["cwd"] = path["cwd"]
    return columns


def part_columns(part: dict[str, Any], role: Any) -> dict[str, Any] | None:
    """Columns of one part; None for bookkeeping parts that say nothing of their own."""
    kind = part.get("type")
    if kind in _QUIET:
        return None
    if kind == "text":
        operation = "user_prompt" if role == "user" else "assistant_text"
        return {"kind": "message", "operation": operation, "text": text_of(part.get("text"))}
    if kind == "reasoning":
        return {"kind": "message", "operation": "thinking", "text": text_of(part.get("text"))}
    if kind != "tool":
        return {"kind": "other", "operation": str(kind), "status": "unknown"}
    tool = str(part.get("tool") or "")
    state = part.get("state") if isinstance(part.get("state"), dict) else {}
    args = state.get("input") if isinstance(state.get("input"), dict) else {}
    server, _, name = tool.partition("_")
    if tool not in BUILTIN_TOOLS and name:
        columns = mcp_columns(server, name, args)
    else:
        columns = {**tool_columns(tool, args), "tool_name": tool}
    if not columns.get("cwd"):
        columns.pop("cwd", None)  # the message's or the session's applies
    columns["tool_call_id"] = part.get("callID")
    status = state.get("status")
    error = str(state.get("error") or "")
    metadata = state.get("metadata") if isinstance(state.get("metadata"), dict) else {}
    code = metadata.get("exit")
    if status == "error" and _REJECTED in error:
        columns.update(status="denied", error=error[:2000])
        decided_by(columns, "human")
    elif status == "error":
        columns.update(status="failure", error=error[:2000] or None)
    elif status == "completed":
        columns["status"] = "failure" if isinstance(code, int) and code else "success"
    else:
        columns["status"] = "unknown"
    if isinstance(code, int):
        columns["exit_code"] = code
    times = state.get("time") if isinstance(state.get("time"), dict) else {}
    started = millis(times.get("start"))
    if started:
        columns.update(time=started, time_precision="ms")
    return columns
