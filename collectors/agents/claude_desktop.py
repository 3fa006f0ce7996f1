"""Claude Desktop / Cowork local agent mode: `local-agent-mode-sessions/<user>/<org>/local_<id>/audit.jsonl`.

Each line is a Claude Agent SDK stream message (FORMATS.md §12, as uber/ADR's parser reads
them; the same lines `claude -p --output-format stream-json` prints): `system/init` (tools,
MCP servers, `permissionMode`, model, Claude Code version), `assistant` messages whose
`tool_use` blocks are calls, `user` messages whose `tool_result` blocks answer them (with
`tool_use_result` at the root), and a closing `result` listing `permission_denials[]`. A call
is joined to its result by id like a Claude Code transcript's; a subagent's messages carry
`parent_tool_use_id` and get session `<session>/agent-<that id>`. The lines have no times:
rows keep their order (`seq`) with time unknown. The session's metadata
(`local_<id>.json` beside the folder: model, cwd) is read with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._shared import (
    PERMISSION_MODE_DECIDER,
    decided_by,
    json_records,
    text_of,
    tool_columns,
)
from agentaudit.collectors.agents.claude_code import _outcome
from agentaudit.collectors.base import (
    APPDATA,
    MAC_SUPPORT,
    Collector,
    Line,
    Location,
    Output,
    SourceInput,
    loads_json,
)
from agentaudit.schema import Quarantined, new_event


class ClaudeDesktopAudit(Collector):
    name = "claude-desktop.audit"
    source = "claude-desktop.audit"
    version = "1"
    description = "Claude Desktop / Cowork local agent mode audit.jsonl (Agent SDK messages)"
    origin = "agent"
    agent = "claude-desktop"
    locations = (
        Location(
            "Claude Desktop agent audit logs",
            (f"{MAC_SUPPORT}/Claude/local-agent-mode-sessions",),
            ("**/audit.jsonl",),
            platforms=("darwin",),
        ),
        Location(
            "Claude Desktop agent audit logs",
            (f"{APPDATA}/Claude/local-agent-mode-sessions",),
            ("**/audit.jsonl",),
            platforms=("win32",),
        ),
    )

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.split(b"\n", 1)[0]
        if path.name == "audit.jsonl":
            return b'"type"' in first and b'"session_id"' in first
        return (
            first.startswith(b'{"type":"system","subtype":"init"')
            and b'"claude_code_version"' in first
        )

    def companion(self, path: Path) -> str | None:
        folder = path.with_suffix("")
        if (
            path.suffix == ".json"
            and path.name.startswith("local_")
            and (folder / "audit.jsonl").exists()
        ):
            return "the session's metadata, read with its audit.jsonl"
        return None

    def collect(self, src: SourceInput) -> Iterator[Output]:
        reader = _Reader(self, src.path, _metadata(Path(src.path)))
        for item in json_records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            line, record, text = item
            if not isinstance(record, dict) or not isinstance(record.get("type"), str):
                yield Quarantined("not an Agent SDK message", line.data, line.number, line.offset)
                continue
            yield from reader.message(line, record, text)
        yield from reader.still_open()


class _Reader:
    def __init__(self, collector: ClaudeDesktopAudit, path: str, meta: dict[str, Any]) -> None:
        self.collector, self.path, self.meta = collector, path, meta
        self.model = meta.get("model")
        self.version: str | None = None
        self.mode: str | None = None
        self.open: dict[str, dict[str, Any]] = {}

    def message(self, line: Line, record: dict[str, Any], text: str) -> Iterator[dict[str, Any]]:
        kind = record["type"]
        session = record.get("session_id") or self.meta.get("cliSessionId")
        if kind == "system" and record.get("subtype") == "init":
            self.model = record.get("model") or self.model
            self.version = record.get("claude_code_version") or self.version
            self.mode = record.get("permissionMode") or self.mode
        base = {
            "source_path": self.path,
            "source_offset": line.offset,
            "seq": line.number,
            "parser_version": self.collector.parser_version,
            "time_precision": "none",
            "agent": "claude-desktop",
            "agent_version": self.version,
            "model": self.model,
            "session_id": session,
            "cwd": record.get("cwd") or self.meta.get("cwd"),
            "raw": text,
        }
        if record.get("parent_tool_use_id"):
            base["parent_session_id"] = session
            base["session_id"] = f"{session}/agent-{record['parent_tool_use_id']}"
        key = f"{session}:{record.get('uuid') or line.offset}"
        message = record.get("message") if isinstance(record.get("message"), dict) else {}
        content = message.get("content")
        if kind in ("assistant", "user") and isinstance(content, list):
            for index, block in enumerate(content):
                if isinstance(block, dict):
                    yield from self._block(kind, block, base, f"{key}:{index}", record)
            return
        if kind in ("assistant", "user"):
            operation = "user_prompt" if kind == "user" else "assistant_text"
            yield new_event(
                self.collector.source,
                key,
                **base,
                kind="message",
                operation=operation,
                text=text_of(content),
            )
            return
        if kind == "result":
            for denial in record.get("permission_denials") or []:
                call = self.open.get(str((denial or {}).get("tool_use_id")))
                if call is not None:
                    call["status"] = "denied"
            summary = record.get("result") if isinstance(record.get("result"), str) else None
            failed = record.get("is_error") is True
            yield new_event(self.collector.source, key, **base, kind="other", operation="result",
                            status="failure" if failed else "success", text=summary)  # fmt: skip
            return
        operation = f"{kind}:{record.get('subtype')}" if record.get("subtype") else kind
        said = f"permission mode {self.mode}" if operation == "system:init" and self.mode else None
        yield new_event(
            self.collector.source,
            key,
            **base,
            kind="other",
            operation=operation,
            status="unknown",
            text=said,
        )

    def _block(
        self,
        role: str,
        block: dict[str, Any],
        base: dict[str, Any],
        key: str,
        record: dict[str, Any],
    ) -> Iterator[dict[str, Any]]:
        kind = block.get("type")
        if kind == "tool_use" and block.get("id"):
            columns = tool_columns(block.get("name"), block.get("input"))
            columns["cwd"] = columns.get("cwd") or base["cwd"]
            call = {
                **base,
                **columns,
                "tool_name": block.get("name"),
                "tool_call_id": block["id"],
                "status": "unknown",
            }
            self.open[str(block["id"])] = decided_by(
                call, PERMISSION_MODE_DECIDER.get(self.mode or "")
            )
        elif kind == "tool_result":
            call_id = str(block.get("tool_use_id"))
            outcome = _outcome(block, record.get("tool_use_result"))
            call = self.open.pop(call_id, None)
            if call is None:
                row = {
                    **base,
                    "kind": "other",
                    "operation": "tool_result",
                    "tool_call_id": call_id,
                    **outcome,
                }
                yield new_event(self.collector.source, key, **row)
                return
            call.update(outcome, raw=f'{{"tool_use":{call["raw"]},"tool_result":{base["raw"]}}}')
            yield new_event(self.collector.source, f"{base['session_id']}:call:{call_id}", **call)
        elif kind in ("text", "thinking"):
            said = block.get("text") if kind == "text" else block.get("thinking")
            operation = (
                "thinking"
                if kind == "thinking"
                else "user_prompt"
                if role == "user"
                else "assistant_text"
            )
            yield new_event(
                self.collector.source, key, **base, kind="message", operation=operation, text=said
            )

    def still_open(self) -> Iterator[dict[str, Any]]:
        for call_id, call in self.open.items():
            yield new_event(self.collector.source, f"{call['session_id']}:call:{call_id}", **call)
        self.open.clear()


def _metadata(audit: Path) -> dict[str, Any]:
    try:
        value = loads_json((audit.parent.parent / f"{audit.parent.name}.json").read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
