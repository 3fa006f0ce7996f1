"""OpenAI Codex CLI rollouts: `~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`.

Envelope `{"timestamp","type","payload"}`; `type` is session_meta, turn_context,
response_item, event_msg or compacted. A call (`function_call`, `local_shell_call`,
`custom_tool_call`) is joined by `call_id` to its `*_output` and, canonically, to
`event_msg/exec_command_end` (exit code, argv, cwd) or `patch_apply_end`. Every argument
shape across versions is read: `exec_command {cmd}`, `shell {command: argv}`,
`shell_command {command}`, `local_shell_call {action.command}`; `bash -lc CMD` becomes CMD.

Joining across reads works as for Claude Code: a call is emitted once the read ends (its
outcome merged if seen in the same read); an outcome that arrives in a later read becomes an
`other`/`tool_result` event with the same `tool_call_id`. A read from an offset first scans
the already-read prefix for session_meta / turn_context lines only, so appended calls still
get their session, model and agent version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.schema import Quarantined, new_event, parse_time
from collectors._agent import json_records, text_of, tool_columns
from collectors.base import Collector, Line, Output, SourceInput

_SHELL_NAMES = {"exec_command", "shell", "container.exec", "shell_command", "local_shell"}
_SHELLS = {"bash", "zsh", "sh", "/bin/bash", "/bin/zsh", "/bin/sh", "/usr/bin/bash"}
_EXITED = re.compile(r"(?:Process exited with code|Exit code:?) (-?\d+)")
_PATCH_FILE = re.compile(r"^\*\*\* (?:Add|Update|Delete) File: (.+)$", re.M)
_UUID_IN_NAME = re.compile(
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$"
)
_OUTPUT_TYPES = {"function_call_output", "custom_tool_call_output", "local_shell_call_output"}
_END_EVENTS = {"exec_command_end", "patch_apply_end", "mcp_tool_call_end"}


class CodexRollout(Collector):
    name = "codex.rollout"
    source = "codex.rollout"
    version = "1"
    description = "OpenAI Codex CLI rollouts (~/.codex/sessions/**/rollout-*.jsonl)"

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.split(b"\n", 1)[0]
        return b'"payload"' in first and (
            b'"session_meta"' in first or b'"turn_context"' in first or b'"response_item"' in first
        )

    def collect(self, src: SourceInput) -> Iterator[Output]:
        reader = _Reader(self, src.path)
        if src.start_offset:
            reader.learn_context(src)
        for item in json_records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            line, record, text = item
            if not isinstance(record, dict) or not isinstance(record.get("payload"), dict):
                yield Quarantined("not a rollout record", line.data, line.number, line.offset)
                continue
            yield from reader.record(line, record, text)
        yield from reader.open_calls()


class _Reader:
    def __init__(self, collector: CodexRollout, path: str) -> None:
        self.collector = collector
        self.path = path
        found = _UUID_IN_NAME.search(Path(path).name)
        self.session: str | None = found.group(1) if found else None
        self.version: str | None = None
        self.model: str | None = None
        self.cwd: str | None = None
        self.open: dict[str, dict[str, Any]] = {}
        self.done: set[str] = set()
        self.outcomes: dict[str, list[str]] = {}

    def finish(self, call: dict[str, Any]) -> dict[str, Any]:
        """The call with the raw records of its outcomes appended to its raw JSON."""
        texts = self.outcomes.pop(call["tool_call_id"], [])
        if texts:
            call["raw"] = '{"call":' + call["raw"] + ',"outcomes":[' + ",".join(texts) + "]}"
        return call

    def open_calls(self) -> Iterator[dict[str, Any]]:
        for call in self.open.values():
            yield self.finish(call)
        self.open.clear()

    def learn_context(self, src: SourceInput) -> None:
        """Session, model and version from the prefix already read (only those lines)."""
        src.stream.seek(0)
        remaining = src.start_offset
        for data in src.stream:
            remaining -= len(data)
            if remaining < 0:
                break
            if b'"session_meta"' in data or b'"turn_context"' in data:
                try:
                    record = json.loads(data)
                except ValueError:
                    continue
                if isinstance(record, dict) and isinstance(record.get("payload"), dict):
                    self._context(record["type"], record["payload"])

    def _context(self, kind: str, payload: dict[str, Any]) -> None:
        if kind == "session_meta":
            self.session = payload.get("id") or self.session
            self.version = payload.get("cli_version") or self.version
            self.cwd = payload.get("cwd") or self.cwd
        elif kind == "turn_context":
            self.model = payload.get("model") or self.model
            self.cwd = payload.get("cwd") or self.cwd

    def record(self, line: Line, record: dict[str, Any], text: str) -> Iterator[dict[str, Any]]:
        kind = str(record.get("type"))
        payload = record["payload"]
        self._context(kind, payload)
        base = self._base(line, record, text)
        ptype = str(payload.get("type") or kind)
        if kind in ("session_meta", "turn_context"):
            yield self._event(base, "other", kind, text=None)
        elif kind == "response_item" and ptype in (
            "function_call",
            "local_shell_call",
            "custom_tool_call",
        ):
            call = self._call(base, payload, ptype)
            if call is not None:
                self.open[call["tool_call_id"]] = call
        elif kind == "response_item" and ptype in _OUTPUT_TYPES:
            yield from self._outcome(
                base, str(payload.get("call_id")), _output_outcome(payload), text
            )
        elif kind == "event_msg" and ptype in _END_EVENTS:
            yield from self._outcome(
                base, str(payload.get("call_id")), _end_outcome(payload), text, final=True
            )
        elif kind == "response_item" and ptype == "message":
            role = payload.get("role")
            yield self._event(
                base, "message", f"{role}_message", text=text_of(payload.get("content"))
            )
        elif kind == "response_item" and ptype == "web_search_call":
            action = payload.get("action") if isinstance(payload.get("action"), dict) else {}
            yield self._event(
                base,
                "api",
                "search",
                tool_name="web_search",
                text=action.get("query"),
                url=action.get("url"),
                status=_status(payload.get("status")),
            )
        elif kind == "response_item" and ptype == "reasoning":
            summary = payload.get("summary")
            yield self._event(base, "message", "reasoning", text=text_of(summary))
        elif kind == "event_msg" and ptype in ("user_message", "agent_message"):
            # display copies of response_item messages: kept, but not as messages again
            yield self._event(base, "other", f"event_msg:{ptype}")
        else:
            yield self._event(base, "other", f"{kind}:{ptype}")

    def _call(
        self, base: dict[str, Any], payload: dict[str, Any], ptype: str
    ) -> dict[str, Any] | None:
        call_id = payload.get("call_id") or payload.get("id")
        if not call_id:
            return None
        name = str(payload.get("name") or ptype)
        if payload.get("namespace"):
            name = f"{payload['namespace']}{name}"
        columns: dict[str, Any]
        if ptype == "local_shell_call":
            action = payload.get("action") if isinstance(payload.get("action"), dict) else {}
            columns = {
                "kind": "process",
                "command": _command(action.get("command")),
                "cwd": action.get("working_directory"),
            }
        elif ptype == "custom_tool_call":
            patch = payload.get("input") if isinstance(payload.get("input"), str) else ""
            files = _PATCH_FILE.findall(patch) if name == "apply_patch" else []
            columns = {
                "kind": "file" if files else "other",
                "operation": "edit" if files else name,
                "paths": files or None,
                "target": files[0] if files else None,
            }
        else:
            args = _arguments(payload.get("arguments"))
            if name in _SHELL_NAMES:
                command = args.get("cmd") if "cmd" in args else args.get("command")
                columns = {
                    "kind": "process",
                    "command": _command(command),
                    "cwd": args.get("workdir") or args.get("cwd"),
                }
                if args.get("sandbox_permissions") == "require_escalated":
                    columns["text"] = f"escalation requested: {args.get('justification') or ''}"
            elif name == "write_stdin":
                columns = {
                    "kind": "other",
                    "operation": "write_stdin",
                    "text": args.get("chars") or None,
                }
            else:
                columns = tool_columns(name, args)
        columns.setdefault("cwd", None)
        columns["cwd"] = columns["cwd"] or self.cwd
        return new_event(
            self.collector.source,
            f"call:{self.session}:{call_id}",
            **{
                **base,
                "tool_call_id": str(call_id),
                "tool_name": name,
                "status": "unknown",
                **columns,
            },
        )

    def _outcome(
        self,
        base: dict[str, Any],
        call_id: str,
        outcome: dict[str, Any],
        text: str,
        final: bool = False,
    ) -> Iterator[dict[str, Any]]:
        call = self.open.get(call_id)
        if call is not None:
            if final or call["status"] == "unknown" or outcome.get("exit_code") is not None:
                call.update({k: v for k, v in outcome.items() if v is not None})
            self.outcomes.setdefault(call_id, []).append(text)
            if final:
                self.done.add(call_id)
                yield self.finish(self.open.pop(call_id))
            return
        if call_id in self.done:
            return  # a mirror of an outcome already merged in this read
        yield new_event(
            self.collector.source,
            f"result:{self.session}:{call_id}:{base['seq'] if not final else 'end'}",
            **{
                **base,
                "kind": "other",
                "operation": "tool_result",
                "tool_call_id": call_id,
                **outcome,
            },
        )

    def _base(self, line: Line, record: dict[str, Any], text: str) -> dict[str, Any]:
        time = parse_time(record.get("timestamp"))
        return {
            "source_path": self.path,
            "source_offset": line.offset,
            "seq": line.number,
            "parser_version": self.collector.parser_version,
            "time": time,
            "time_precision": "ms" if time else "none",
            "agent": "codex",
            "agent_version": self.version,
            "model": self.model,
            "session_id": self.session,
            "cwd": self.cwd,
            "raw": text,
        }

    def _event(
        self, base: dict[str, Any], kind: str, operation: str, **columns: Any
    ) -> dict[str, Any]:
        columns.setdefault("status", None if kind == "message" else "unknown")
        return new_event(
            self.collector.source,
            f"{self.path}:{base['source_offset']}",
            **{**base, "kind": kind, "operation": operation, **columns},
        )


def _arguments(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {"command": value}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _command(value: Any) -> str | None:
    """argv or string to one command line; `bash -lc CMD` is CMD."""
    if isinstance(value, list):
        argv = [str(part) for part in value]
        if len(argv) >= 3 and argv[0] in _SHELLS and argv[1] in ("-lc", "-c", "-l", "-ic"):
            return argv[2]
        return " ".join(argv)
    return str(value) if value else None


def _status(value: Any) -> str:
    return {"completed": "success", "failed": "failure"}.get(str(value), "unknown")


def _output_outcome(payload: dict[str, Any]) -> dict[str, Any]:
    output = payload.get("output")
    if isinstance(output, str) and output.startswith("{"):
        try:
            parsed = json.loads(output)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("metadata"), dict):
            code = parsed["metadata"].get("exit_code")
            if isinstance(code, int):
                return _from_code(code, str(parsed.get("output") or ""))
    body = text_of(output) or ""
    found = _EXITED.search(body[:500])
    if found:
        return _from_code(int(found.group(1)), body)
    if "failed" in body[:200].lower() and "Process running" not in body[:200]:
        return {"status": "failure", "error": body[:2000]}
    return {"status": "unknown"}


def _end_outcome(payload: dict[str, Any]) -> dict[str, Any]:
    if payload.get("type") == "patch_apply_end":
        ok = payload.get("success")
        return {
            "status": "success" if ok else "failure",
            "error": None if ok else str(payload.get("stderr") or "")[:2000],
        }
    code = payload.get("exit_code")
    if isinstance(code, int):
        outcome = _from_code(
            code, str(payload.get("aggregated_output") or payload.get("stderr") or "")
        )
    else:
        outcome = {"status": _status(payload.get("status"))}
    outcome["cwd"] = payload.get("cwd")
    return outcome


def _from_code(code: int, output: str) -> dict[str, Any]:
    if code == 0:
        return {"status": "success", "exit_code": 0}
    return {"status": "failure", "exit_code": code, "error": output[:2000] or None}
