"""VS Code Copilot Chat sessions (agent mode): `<User>/workspaceStorage/<hash>/chatSessions/*`.

Current builds write an operation log (`.jsonl`, checked on a real 0.49 file): `{"kind": 0,
"v": snapshot}` then `{"kind": 1, "k": path, "v": value}` (set) and `{"kind": 2, "k": path,
"v": items}` (append); older builds one JSON document (`.json`) with the same `requests[]`.
The log is replayed into the session (a log without its snapshot starts from nothing), then
each request gives the user's prompt and, for each `toolInvocationSerialized` item of its
response, one call: `toolId` (`run_in_terminal`, `mcp_<server>_<tool>`, ...), `toolCallId`,
the terminal command (what ran: edited by the user or the tool, else the original), MCP
server and arguments, exit code when the terminal state has one. `isConfirmed.type` says who
let it run (VS Code's ToolConfirmKind): 0 denied by the user, 1 no confirmation needed, 2 a
setting (terminal auto-approve), 3 "always allow", 4 the user clicked, 5 skipped. Tool items
have no time of their own: they take their request's. The file is rewritten as the session
grows, so it is read whole each time (stable ids make re-reads free).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._shared import (
    decided_by,
    editor_locations,
    mcp_columns,
    tool_columns,
)
from agentaudit.collectors.base import Collector, Output, SourceInput, loads_json
from agentaudit.schema import Quarantined, new_event, parse_time, raw_json

_DECIDER = {0: "human", 1: "setting", 2: "setting", 3: "human", 4: "human"}


class VscodeCopilotChat(Collector):
    name = "vscode-copilot.chat"
    source = "vscode-copilot.chat"
    version = "1"
    description = "VS Code Copilot Chat agent sessions (workspaceStorage/*/chatSessions)"
    origin = "agent"
    agent = "vscode-copilot"
    locations = editor_locations(
        "VS Code Copilot Chat sessions",
        ("Code", "Code - Insiders"),
        (
            "workspaceStorage/*/chatSessions/*.json",
            "workspaceStorage/*/chatSessions/*.jsonl",
            "globalStorage/emptyWindowChatSessions/*.json",
            "globalStorage/emptyWindowChatSessions/*.jsonl",
        ),
    )
    incremental = False

    def sniff(self, path: Path, head: bytes) -> bool:
        compact = head[:300].replace(b" ", b"").replace(b"\n", b"")
        if compact.startswith(b'{"kind":0,"v":{') and b'"requests"' in head:
            return True
        if compact.startswith((b'{"kind":1,"k":[', b'{"kind":2,"k":[')):
            return "chatSessions" in path.parts or b'"requests"' in compact
        return b'"responderUsername"' in head and b'"requests"' in head and b'"sessionId"' in head

    def collect(self, src: SourceInput) -> Iterator[Output]:
        data = src.read_all()
        session, problems = _replay(data) if _is_log(data) else _document(data)
        yield from problems
        if not isinstance(session, dict):
            return
        session_id = session.get("sessionId") or Path(src.path).stem
        for index, request in enumerate(session.get("requests") or []):
            if isinstance(request, dict):
                yield from self._request(src.path, str(session_id), index, request)

    def _request(
        self, path: str, session: str, index: int, request: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        stamp = request.get("timestamp")
        time = parse_time(stamp / 1000) if isinstance(stamp, int | float) else None
        agent = request.get("agent") if isinstance(request.get("agent"), dict) else {}
        request_id = request.get("requestId") or f"request-{index}"
        base = {
            "source_path": path,
            "seq": index * 10_000,  # request order, then the item's place in the response
            "parser_version": self.parser_version,
            "time": time,
            "time_precision": "ms" if time else "none",
            "agent": "vscode-copilot",
            "agent_version": agent.get("extensionVersion"),
            "model": request.get("modelId"),
            "session_id": session,
        }
        message = request.get("message") if isinstance(request.get("message"), dict) else {}
        if message.get("text"):
            prompt = {
                **base,
                "kind": "message",
                "operation": "user_prompt",
                "text": message["text"],
            }
            yield new_event(
                self.source, f"{session}:{request_id}:prompt", raw=raw_json(message), **prompt
            )
        said = []
        for place, item in enumerate(request.get("response") or [], 1):
            if not isinstance(item, dict):
                continue
            if item.get("kind") == "toolInvocationSerialized":
                call = {**base, **_call(item), "raw": raw_json(item), "seq": base["seq"] + place}
                key = f"{session}:{request_id}:{item.get('toolCallId') or len(said)}"
                yield new_event(self.source, key, **call)
            elif "kind" not in item and isinstance(item.get("value"), str):
                said.append(item["value"])
        if said:
            reply = {
                **base,
                "kind": "message",
                "operation": "assistant_text",
                "text": "".join(said),
            }
            yield new_event(
                self.source, f"{session}:{request_id}:reply", raw=raw_json(said), **reply
            )


def _call(item: dict[str, Any]) -> dict[str, Any]:
    tool = str(item.get("toolId") or "")
    specific = (
        item.get("toolSpecificData") if isinstance(item.get("toolSpecificData"), dict) else {}
    )
    origin = item.get("source") if isinstance(item.get("source"), dict) else {}
    if specific.get("kind") == "terminal":
        line = specific.get("commandLine") if isinstance(specific.get("commandLine"), dict) else {}
        command = line.get("toolEdited") or line.get("userEdited") or line.get("original")
        columns: dict[str, Any] = {"kind": "process", "command": command}
    elif origin.get("type") == "mcp":
        server = str(origin.get("serverLabel") or origin.get("label") or "mcp")
        prefix = f"mcp_{server}_"
        name = tool[len(prefix) :] if tool.startswith(prefix) else tool
        columns = mcp_columns(server, name, specific.get("rawInput"))
    elif specific.get("kind") == "subagent":
        columns = {"kind": "other", "operation": "subagent", "text": specific.get("prompt")}
    else:
        columns = tool_columns(tool, specific.get("rawInput"))
    columns.setdefault("tool_name", tool)
    columns["tool_call_id"] = item.get("toolCallId")
    confirmed = item.get("isConfirmed") if isinstance(item.get("isConfirmed"), dict) else {}
    state = (
        specific.get("terminalCommandState")
        if isinstance(specific.get("terminalCommandState"), dict)
        else {}
    )
    code = state.get("exitCode")
    if confirmed.get("type") == 0:
        columns["status"] = "denied"
    elif isinstance(code, int):
        columns.update(exit_code=code, status="success" if code == 0 else "failure")
    else:
        columns["status"] = "success" if item.get("isComplete") else "unknown"
    return decided_by(columns, _DECIDER.get(confirmed.get("type")))


def _is_log(data: bytes) -> bool:
    """An operation log's first line is one whole `{"kind", "v"}` object; a document's is not."""
    try:
        first = loads_json(data.split(b"\n", 1)[0])
    except ValueError:
        return False
    return isinstance(first, dict) and "kind" in first and "v" in first


def _replay(data: bytes) -> tuple[dict[str, Any], list[Quarantined]]:
    """The session an operation log describes; bad lines are quarantined, the rest applied."""
    state: dict[str, Any] = {}
    problems = []
    offset = 0
    for number, line in enumerate(data.splitlines(keepends=True), 1):
        body = line.strip()
        here, offset = offset, offset + len(line)
        if not body:
            continue
        try:
            op = loads_json(body)
            if op.get("kind") == 0:
                state = op["v"] if isinstance(op.get("v"), dict) else {}
                continue
            _apply(state, op["k"], op["v"], append=op["kind"] == 2)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            problems.append(
                Quarantined(f"not a chat session operation: {exc}", body[:4096], number, here)
            )
    return state, problems


def _apply(state: dict[str, Any], keys: list[Any], value: Any, append: bool) -> None:
    """Set (or append to) the value at a key path, creating what is missing on the way."""
    node: Any = state
    for key, after in zip(keys, [*keys[1:], None], strict=True):
        last = after is None
        fresh: Any = ([] if append else None) if last else ([] if isinstance(after, int) else {})
        if isinstance(node, list):
            while len(node) <= key:
                node.append({} if not last else None)
            if last:
                break
            node[key] = node[key] if isinstance(node[key], dict | list) else fresh
        else:
            if last:
                break
            if not isinstance(node.get(key), dict | list):
                node[key] = fresh
        node = node[key]
    key = keys[-1]
    if append:
        current = (
            node[key] if (isinstance(node, list) or key in node) and node[key] is not None else []
        )
        node[key] = [*current, *(value if isinstance(value, list) else [value])]
    else:
        node[key] = value


def _document(data: bytes) -> tuple[Any, list[Quarantined]]:
    try:
        return loads_json(data), []
    except ValueError as exc:
        return None, [Quarantined(f"invalid JSON document: {exc}", data[:4096], None, 0)]
