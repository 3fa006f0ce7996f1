"""Claude Code session transcripts: `~/.claude/projects/<slug>/<session>.jsonl` and subagents.

One line is one record (`user`, `assistant`, `system`, `progress`, `summary`, ...); an
assistant line carries one content block. Every `tool_use` becomes one call event joined to
its `tool_result` by id (status, `Exit code N`, rejections as `denied`). Text, thinking,
system, summary and compaction lines are message events; anything unknown is kept as kind
`other` with its raw JSON.

Joining across reads: a call is held until its result arrives in the same read and then
emitted with its outcome. A call still open when the read ends (the agent is running it, or
the file ends there) is emitted with status `unknown`; when its result arrives in a later
read it becomes an outcome event (kind `other`, operation `tool_result`) with the same
`tool_call_id`, so nothing is lost and nothing is emitted twice (event ids are stable).

Subagent files (`<session>/subagents/agent-<id>.jsonl`) carry the parent's `sessionId`:
their events get session `<parent>/agent-<id>` and `parent_session_id` = the parent. The
parent's `agent_progress` lines repeat every subagent message; they are kept as one `other`
event each and their embedded tool calls are not emitted again.

Workflow subagents (Claude Code 2.1.220+: `<session>/subagents/workflows/<run>/agent-<id>.jsonl`,
one per `agent()` call of a `Workflow` script) have no `toolUseId` and no Agent call in the parent:
their session is `<parent>/<run>/agent-<id>` (parent: the main session), and the parent's
`Workflow` call, whose result names the run (`toolUseResult.runId`), gets `<parent>/<run>` as
its target, the prefix of every session it spawned. The run's `journal.jsonl`, the agents'
`.meta.json` and `workflows/<run>.json` are bookkeeping read by no collector (`companion`).

Spilled outputs (Claude Code >= 2.1.2 writes a large tool result to
`<session>/tool-results/<tool_use_id>.txt` and puts `<persisted-output>Output too large (...).
Full output saved to: PATH ... Preview ...</persisted-output>` inline): those files are not
transcripts (discovery and `sniff` skip `tool-results/`); the pointer is kept as
`"spilled_output": PATH` in the call's raw JSON. The naming and the marker are not documented
by Anthropic (seen only in issue reports), so any path under `tool-results/` after
"saved to", or a `toolUseResult` string value pointing there, is taken as the pointer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._shared import exit_code_in, json_records, text_of, tool_columns
from agentaudit.collectors.base import Collector, Line, Location, Output, SourceInput
from agentaudit.schema import Quarantined, event_from, parse_time

_REJECTED = re.compile(r"(?i)^(the user doesn't want to proceed|user rejected|permission.*denied)")
_SUBAGENT_FILE = re.compile(r"^agent-(.+)\.jsonl$")
_WORKFLOW_RUN = re.compile(r"^wf_[\w-]+$")
_MESSAGE_TYPES = {"user", "assistant", "system", "summary", "queue-operation"}
_SPILLED = re.compile(r"saved to:?\s*(\S*tool-results[/\\][^\s<>\"']+)")
_SPILL_PATH = re.compile(r"\S*[/\\]tool-results[/\\][^\s<>\"']+")


class ClaudeCodeTranscript(Collector):
    name = "claude-code.transcript"
    source = "claude-code.transcript"
    version = "1"
    description = "Claude Code session transcripts (~/.claude/projects/**/*.jsonl)"
    origin = "agent"
    agent = "claude-code"
    locations = (
        Location(
            "Claude Code transcripts",
            ("$CLAUDE_CONFIG_DIR/projects", "~/.claude/projects", "~/.config/claude/projects"),
            ("**/*.jsonl",),
            skip=("tool-results", "journal.jsonl"),
        ),
    )

    def sniff(self, path: Path, head: bytes) -> bool:
        if "tool-results" in path.parts:  # spilled tool outputs, not transcripts
            return False
        first = head.split(b"\n", 1)[0]
        if b'"leafUuid"' in first or b'"file-history-snapshot"' in first:
            return True
        return b'"sessionId"' in first and (b'"parentUuid"' in first or b'"uuid"' in first)

    def companion(self, path: Path) -> str | None:
        """Files beside transcripts that hold no events of their own."""
        if path.name.endswith(".meta.json") and "subagents" in path.parts:
            return "subagent metadata (agent type); its transcript is the .jsonl beside it"
        if "workflows" in path.parts and (
            path.name == "journal.jsonl" or path.suffix in (".json", ".js")
        ):
            return "workflow run bookkeeping; its agents' transcripts are read"
        return None

    def collect(self, src: SourceInput) -> Iterator[Output]:
        reader = _Reader(self, src.path)
        for item in json_records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            line, record, text = item
            if not isinstance(record, dict):
                yield Quarantined("not a JSON object", line.data, line.number, line.offset)
                continue
            yield from reader.record(line, record, text)
        yield from reader.open_calls()


class _Reader:
    """State of one read of one transcript: open calls waiting for their results."""

    def __init__(self, collector: ClaudeCodeTranscript, path: str) -> None:
        self.collector = collector
        self.path = path
        name = Path(path).name
        subagent = _SUBAGENT_FILE.match(name)
        self.file_agent_id = subagent.group(1) if subagent else None
        parts = Path(path).parts
        in_workflow = (
            len(parts) >= 3 and parts[-3] == "workflows" and _WORKFLOW_RUN.match(parts[-2])
        )
        self.workflow_run = parts[-2] if subagent and in_workflow else None
        self.file_session = Path(path).stem if not subagent else None
        self.open: dict[str, dict[str, Any]] = {}
        self.model: str | None = None
        self.last_session: str | None = None

    # -- one record -------------------------------------------------------------------------

    def record(self, line: Line, record: dict[str, Any], text: str) -> Iterator[dict[str, Any]]:
        kind = record.get("type")
        base = self._base(line, record, text)
        message = record.get("message")
        if kind == "assistant" and isinstance(message, dict):
            yield from self._assistant(base, record, message, text)
        elif kind == "user":
            yield from self._user(base, record, message, text)
        elif kind == "summary":
            yield self._event(
                base,
                f"{self.path}:{line.offset}:summary",
                "message",
                "summary",
                text=record.get("summary"),
            )
        elif kind == "system":
            subtype = record.get("subtype") or "system"
            content = record.get("content")
            if subtype == "compact_boundary" and not content:
                content = str(record.get("compactMetadata") or "")
            yield self._event(
                base,
                record.get("uuid") or f"{self.path}:{line.offset}",
                "message",
                subtype,
                text=text_of(content),
            )
        elif kind == "queue-operation":
            yield self._event(
                base,
                f"{self.path}:{line.offset}:queue",
                "message",
                f"queue:{record.get('operation')}",
                text=text_of(record.get("content")),
            )
        elif kind == "progress":
            data = record.get("data") if isinstance(record.get("data"), dict) else {}
            progress = str(data.get("type") or "progress")
            base["tool_call_id"] = record.get("parentToolUseID") or record.get("toolUseID")
            extra: dict[str, Any] = {}
            if progress == "hook_progress":
                extra["command"] = None  # hook commands are not agent calls
                extra["text"] = data.get("hookName")
            yield self._event(
                base,
                record.get("uuid") or f"{self.path}:{line.offset}",
                "other",
                f"progress:{progress}",
                **extra,
            )
        elif kind == "file-history-snapshot":
            snapshot = record.get("snapshot") if isinstance(record.get("snapshot"), dict) else {}
            backups = snapshot.get("trackedFileBackups")
            files = sorted(backups) if isinstance(backups, dict) and backups else None
            base["time"] = base["time"] or parse_time(snapshot.get("timestamp"))
            base["time_precision"] = "ms" if base["time"] else "none"
            yield self._event(base, f"{self.path}:{line.offset}:fhs", "other", kind, paths=files)
        else:
            yield self._event(
                base, f"{self.path}:{line.offset}:other", "other", str(kind or "untyped")
            )

    def _assistant(
        self, base: dict[str, Any], record: dict[str, Any], message: dict[str, Any], text: str
    ) -> Iterator[dict[str, Any]]:
        model = message.get("model")
        if model and model != "<synthetic>":
            self.model = base["model"] = model
        content = message.get("content")
        if not isinstance(content, list):
            yield self._event(
                base,
                record.get("uuid") or f"{self.path}:{base['source_offset']}",
                "message",
                "assistant_text",
                text=text_of(content),
            )
            return
        for index, block in enumerate(content):
            if not isinstance(block, dict):
                continue
            block_type = block.get("type")
            key = f"{record.get('uuid') or self.path + ':' + str(base['source_offset'])}:{index}"
            if block_type == "tool_use":
                call_id = str(block.get("id") or key)
                columns = tool_columns(block.get("name"), block.get("input"))
                event = self._event(
                    {**base, "tool_call_id": call_id},
                    f"call:{base['session_id']}:{call_id}",
                    tool_name=block.get("name"),
                    status="unknown",
                    **columns,
                )
                if block.get("name") in ("Task", "Agent") and isinstance(block.get("input"), dict):
                    event["text"] = block["input"].get("prompt")
                self.open[call_id] = event
            elif block_type in ("text", "thinking", "redacted_thinking"):
                body = block.get("text") if block_type == "text" else block.get("thinking")
                operation = "assistant_text" if block_type == "text" else "thinking"
                yield self._event(base, key, "message", operation, text=body)
            else:
                yield self._event(base, key, "other", f"assistant:{block_type}")

    def _user(
        self, base: dict[str, Any], record: dict[str, Any], message: Any, text: str
    ) -> Iterator[dict[str, Any]]:
        content = message.get("content") if isinstance(message, dict) else message
        key = record.get("uuid") or f"{self.path}:{base['source_offset']}:user"
        if not isinstance(content, list):
            operation = "compact_summary" if record.get("isCompactSummary") else "user_prompt"
            yield self._event(base, key, "message", operation, text=text_of(content))
            return
        for index, block in enumerate(content):
            if isinstance(block, dict) and block.get("type") == "tool_result":
                yield self._result(base, record, block, text)
            else:
                yield self._event(
                    base, f"{key}:{index}", "message", "user_prompt", text=text_of([block])
                )

    def _result(
        self, base: dict[str, Any], record: dict[str, Any], block: dict[str, Any], text: str
    ) -> dict[str, Any]:
        call_id = str(block.get("tool_use_id"))
        outcome = _outcome(block, record.get("toolUseResult"))
        spilled = _spilled_output(block, record.get("toolUseResult"))
        pointer = f',"spilled_output":{json.dumps(spilled)}' if spilled else ""
        call = self.open.pop(call_id, None)
        if call is None:  # its tool_use was in an earlier read (or outside this window)
            if spilled:
                base = {**base, "raw": '{"tool_result":' + text + pointer + "}"}
            return self._event(
                {**base, "tool_call_id": call_id},
                f"result:{base['session_id']}:{call_id}",
                "other",
                "tool_result",
                **outcome,
            )
        call.update(outcome)
        call["raw"] = '{"tool_use":' + call["raw"] + ',"tool_result":' + text + pointer + "}"
        result = record.get("toolUseResult")
        if call.get("tool_name") in ("Task", "Agent") and isinstance(result, dict):
            agent_id = result.get("agentId")
            if agent_id:
                call["target"] = f"{call['session_id']}/agent-{agent_id}"
        if call.get("tool_name") == "Workflow" and isinstance(result, dict) and result.get("runId"):
            call["target"] = f"{call['session_id']}/{result['runId']}"
        return call

    def open_calls(self) -> Iterator[dict[str, Any]]:
        """Calls whose result has not been written yet: emitted with status unknown."""
        yield from self.open.values()
        self.open.clear()

    # -- columns ----------------------------------------------------------------------------

    def _base(self, line: Line, record: dict[str, Any], text: str) -> dict[str, Any]:
        time = parse_time(record.get("timestamp"))
        session = record.get("sessionId") or self.last_session or self.file_session
        self.last_session = record.get("sessionId") or self.last_session
        parent = None
        agent_id = record.get("agentId") or self.file_agent_id
        if agent_id and (record.get("isSidechain") or self.file_agent_id):
            parent = session
            run = f"/{self.workflow_run}" if self.workflow_run else ""
            session = f"{session}{run}/agent-{agent_id}"
        return {
            "source_path": self.path,
            "source_offset": line.offset,
            "seq": line.number,
            "parser_version": self.collector.parser_version,
            "time": time,
            "time_precision": "ms" if time else "none",
            "agent": "claude-code",
            "agent_version": record.get("version"),
            "model": None,
            "session_id": session,
            "parent_session_id": parent,
            "cwd": record.get("cwd"),
            "raw": text,
        }

    def _event(
        self,
        base: dict[str, Any],
        key: Any,
        kind: str,
        operation: str | None = None,
        **columns: Any,
    ) -> dict[str, Any]:
        merged = {**base, "kind": kind, "operation": operation, **columns}
        merged.setdefault("status", "success" if kind == "message" else "unknown")
        if kind == "message":
            merged["status"] = None
        # cwd from a tool's own argument wins over the record's cwd only when present
        if columns.get("cwd") is None:
            merged["cwd"] = base.get("cwd")
        return event_from(self.collector.source, str(key), merged)


def _outcome(block: dict[str, Any], result: Any) -> dict[str, Any]:
    """status / exit_code / error of one tool_result block (and its `toolUseResult`)."""
    text = text_of(block.get("content")) or ""
    summary = result if isinstance(result, str) else ""
    if _REJECTED.match(text) or summary == "User rejected tool use":
        return {"status": "denied", "error": text[:2000]}
    interrupted = isinstance(result, dict) and result.get("interrupted") is True
    if block.get("is_error") is True or interrupted:
        code = exit_code_in(text) if text else exit_code_in(summary)
        return {"status": "failure", "exit_code": code, "error": text[:2000] or summary[:2000]}
    if isinstance(result, dict) and "stdout" in result and "returnCodeInterpretation" not in result:
        return {"status": "success", "exit_code": 0}
    return {"status": "success"}


def _spilled_output(block: dict[str, Any], result: Any) -> str | None:
    """Path of the file a large result was spilled to, when the inline result points at one."""
    text = text_of(block.get("content")) or ""
    if "tool-results" in text[:4000]:
        found = _SPILLED.search(text[:4000])
        if found:
            return found.group(1)
    values = result.values() if isinstance(result, dict) else [result]
    for value in values:
        if isinstance(value, str) and "tool-results" in value[:4000]:
            found = _SPILL_PATH.search(value[:4000])
            if found:
                return found.group(0)
    return None
