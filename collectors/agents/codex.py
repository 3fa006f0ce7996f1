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

Unified exec: `write_stdin {session_id: N}` polls the process an `exec_command` started
("Process running with session ID N"); a poll is an `other` event (operation write_stdin)
whose `target` is that exec call's `call_id`, and an exit code a poll reports ("Process
exited with code N") becomes the exec call's when no `exec_command_end` gave one. Outcomes
of one call that arrive in a later read are merged into one `tool_result` event per read
(the `function_call_output` mirror and the canonical `event_msg` end are not two results).
Escalation requests (`sandbox_permissions: require_escalated` or the older
`with_escalated_permissions: true`, with `justification`) and `*_approval_request` events
are kept in `text`.

Legacy shapes: early JSONL whose first line is bare meta `{id, timestamp, instructions}`
followed by bare ResponseItems (no envelope, no per-item time: `time_precision` none) is read
by this collector; the mid-2025 single document `rollout-*.json` `{session, items[]}` by
`CodexLegacySession` below.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._shared import json_records, text_of, tool_columns
from agentaudit.collectors.base import Collector, Line, Location, Output, SourceInput, loads_json
from agentaudit.schema import Quarantined, new_event, parse_time, raw_json

_SHELL_NAMES = {"exec_command", "shell", "container.exec", "shell_command", "local_shell"}
_SHELLS = {"bash", "zsh", "sh", "/bin/bash", "/bin/zsh", "/bin/sh", "/usr/bin/bash"}
_EXITED = re.compile(r"(?:Process exited with code|Exit code:?) (-?\d+)")
_PATCH_FILE = re.compile(r"^\*\*\* (?:Add|Update|Delete) File: (.+)$", re.M)
_UUID_IN_NAME = re.compile(
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$"
)
_PATCH_MOVE = re.compile(r"^\*\*\* Move to: (.+)$", re.M)
_RUNNING = re.compile(r"Process running with session ID (\d+)")
_OUTPUT_TYPES = {"function_call_output", "custom_tool_call_output", "local_shell_call_output"}
_CALL_TYPES = {"function_call", "local_shell_call", "custom_tool_call"}
_RESPONSE_TYPES = _CALL_TYPES | _OUTPUT_TYPES | {"message", "reasoning", "web_search_call"}
_END_EVENTS = {"exec_command_end", "patch_apply_end", "mcp_tool_call_end"}
_CODEX_ROOTS = ("${CODEX_HOME:-~/.codex}/sessions", "${CODEX_HOME:-~/.codex}/archived_sessions")


class CodexRollout(Collector):
    name = "codex.rollout"
    source = "codex.rollout"
    version = "1"
    description = "OpenAI Codex CLI rollouts (~/.codex/sessions/**/rollout-*.jsonl)"
    origin = "agent"
    agent = "codex"
    locations = (Location("Codex rollouts", _CODEX_ROOTS, ("**/rollout-*.jsonl",)),)

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.split(b"\n", 1)[0]
        if b'"payload"' in first:
            return (
                b'"session_meta"' in first
                or b'"turn_context"' in first
                or b'"response_item"' in first
            )
        # early JSONL: bare meta first line `{"id", "timestamp", "instructions"}`
        return (
            path.name.startswith("rollout-")
            and path.suffix == ".jsonl"
            and first.lstrip().startswith(b"{")
            and b'"id"' in first
            and b'"timestamp"' in first
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
            envelope = _envelope(record, line.number == 1)
            if envelope is None:
                yield Quarantined("not a rollout record", line.data, line.number, line.offset)
                continue
            yield from reader.record(line, envelope, text)
        yield from reader.close()


class CodexLegacySession(Collector):
    """Mid-2025 Codex CLI sessions: one JSON document `{session: {...}, items: [...]}`."""

    name = "codex.session_json"
    source = "codex.rollout"  # same calls, same table rows as the JSONL rollouts
    version = "1"
    description = "Legacy Codex CLI session documents (~/.codex/sessions/rollout-*.json)"
    incremental = False  # the document is rewritten whole as the session grows
    origin = "agent"
    agent = "codex"
    locations = (Location("Codex legacy sessions", _CODEX_ROOTS, ("**/rollout-*.json",)),)

    def sniff(self, path: Path, head: bytes) -> bool:
        compact = re.sub(rb"\s+", b"", head[:4096])
        return (
            path.name.startswith("rollout-")
            and path.suffix == ".json"
            and compact.startswith(b'{"session":{')
        )

    def collect(self, src: SourceInput) -> Iterator[Output]:
        data = src.read_all()
        try:
            doc = loads_json(data)
        except ValueError as exc:  # includes invalid UTF-8
            yield Quarantined(f"invalid JSON document: {exc}", data[:4096], None, 0)
            return
        if not (
            isinstance(doc, dict)
            and isinstance(doc.get("session"), dict)
            and isinstance(doc.get("items"), list)
        ):
            yield Quarantined("no session{} and items[] in document", data[:4096], None, 0)
            return
        reader = _Reader(self, src.path, document=True)
        session = doc["session"]
        meta = {"timestamp": session.get("timestamp"), "type": "session_meta", "payload": session}
        yield from reader.record(Line(0, 0, b""), meta, raw_json(meta))
        for index, item in enumerate(doc["items"], start=1):
            line = Line(index, 0, b"")
            if not isinstance(item, dict) or not isinstance(item.get("type"), str):
                yield Quarantined("item is not a ResponseItem", raw_json(item).encode(), index)
                continue
            yield from reader.record(
                line, {"type": "response_item", "payload": item}, raw_json(item)
            )
        yield from reader.close()


def _envelope(record: Any, first_line: bool) -> dict[str, Any] | None:
    """The `{timestamp, type, payload}` envelope, also for the early bare-record JSONL."""
    if not isinstance(record, dict):
        return None
    if isinstance(record.get("payload"), dict):
        return record
    if "type" not in record and record.get("id") and (first_line or "instructions" in record):
        return {"timestamp": record.get("timestamp"), "type": "session_meta", "payload": record}
    if record.get("type") in _RESPONSE_TYPES:
        return {"type": "response_item", "payload": record}
    if isinstance(record.get("record_type"), str):  # early `{"record_type": "state"}` lines
        return {"type": f"legacy_{record['record_type']}", "payload": record}
    return None


class _Reader:
    def __init__(self, collector: Collector, path: str, document: bool = False) -> None:
        self.collector = collector
        self.path = path
        self.document = document  # items of one JSON document: no byte offsets
        found = _UUID_IN_NAME.search(Path(path).name)
        self.session: str | None = found.group(1) if found else None
        self.version: str | None = None
        self.model: str | None = None
        self.cwd: str | None = None
        self.open: dict[str, dict[str, Any]] = {}
        self.done: set[str] = set()
        self.outcomes: dict[str, list[str]] = {}
        self.late: dict[str, dict[str, Any]] = {}  # outcomes of calls from an earlier read
        self.late_texts: dict[str, list[str]] = {}
        self.processes: dict[str, str] = {}  # unified-exec session id -> exec call_id

    def finish(self, call: dict[str, Any]) -> dict[str, Any]:
        """The call with the raw records of its outcomes appended to its raw JSON."""
        texts = self.outcomes.pop(call["tool_call_id"], [])
        if texts:
            call["raw"] = '{"call":' + call["raw"] + ',"outcomes":[' + ",".join(texts) + "]}"
        return call

    def close(self) -> Iterator[dict[str, Any]]:
        """Calls still open and merged outcomes of earlier reads' calls, at the end of a read."""
        for call in self.open.values():
            yield self.finish(call)
        self.open.clear()
        for call_id, event in self.late.items():
            texts = self.late_texts.pop(call_id)
            event["raw"] = texts[0] if len(texts) == 1 else '{"outcomes":[' + ",".join(texts) + "]}"
            yield event
        self.late.clear()

    def learn_context(self, src: SourceInput) -> None:
        """Session, model, version and exec sessions from the prefix already read."""
        src.stream.seek(0)
        remaining = src.start_offset
        first = True
        for data in src.stream:
            remaining -= len(data)
            if remaining < 0:
                break
            wanted = b'"session_meta"' in data or b'"turn_context"' in data
            running = b"Process running with session ID" in data or b'"exec_command_end"' in data
            if wanted or running or first:
                try:
                    record = loads_json(data)
                except ValueError:
                    record = None
                envelope = _envelope(record, first)
                if envelope is not None and envelope["type"] in ("session_meta", "turn_context"):
                    self._context(envelope["type"], envelope["payload"])
                elif envelope is not None and running:
                    self._learn_process(envelope["payload"], first_wins=True)
            first = False

    def _learn_process(self, payload: dict[str, Any], first_wins: bool = False) -> None:
        """Remember which exec call started unified-exec session N (write_stdin polls it)."""
        call_id = payload.get("call_id")
        if payload.get("type") == "exec_command_end" and payload.get("process_id"):
            pid: str | None = str(payload["process_id"])
        else:
            found = _RUNNING.search((text_of(payload.get("output")) or "")[:300])
            pid = found.group(1) if found else None
        if pid and call_id and not (first_wins and pid in self.processes):
            self.processes[pid] = str(call_id)

    def _context(self, kind: str, payload: dict[str, Any]) -> None:
        if kind == "session_meta":
            self.session = payload.get("id") or self.session
            self.version = payload.get("cli_version") or payload.get("version") or self.version
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
        elif kind == "response_item" and ptype in _CALL_TYPES:
            call = self._call(base, payload, ptype)
            if call is not None:
                self.open[call["tool_call_id"]] = call
        elif kind == "response_item" and ptype in _OUTPUT_TYPES:
            call_id = str(payload.get("call_id"))
            open_call = self.open.get(call_id)
            if open_call is not None and open_call.get("tool_name") in _SHELL_NAMES:
                self._learn_process(payload)
            yield from self._outcome(base, call_id, _output_outcome(payload), text)
        elif kind == "event_msg" and ptype in _END_EVENTS:
            if ptype == "exec_command_end":
                self._learn_process(payload)
            yield from self._outcome(
                base, str(payload.get("call_id")), _end_outcome(payload), text, final=True
            )
        elif kind == "event_msg" and ptype.endswith("approval_request"):
            command = payload.get("command")
            changes = payload.get("changes") if isinstance(payload.get("changes"), dict) else {}
            yield self._event(
                base,
                "other",
                ptype,
                tool_call_id=payload.get("call_id"),
                command=_command(command),
                paths=sorted(changes) or None,
                text=payload.get("reason") or payload.get("justification"),
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
        elif kind == "compacted" or ptype in ("compaction", "compaction_summary"):
            # the summary that replaced the history: kept as a message like Claude's compaction
            body = payload.get("message") or payload.get("summary") or payload.get("content")
            yield self._event(base, "message", "compacted", text=text_of(body))
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
            columns = _shell_columns(action.get("command"), action.get("working_directory"))
        elif ptype == "custom_tool_call":
            patch = payload.get("input") if isinstance(payload.get("input"), str) else ""
            columns = (
                _patch_columns(patch)
                if name == "apply_patch"
                else {"kind": "other", "operation": name}
            )
        else:
            args = _arguments(payload.get("arguments"))
            if name in _SHELL_NAMES:
                command = args.get("cmd") if "cmd" in args else args.get("command")
                columns = _shell_columns(command, args.get("workdir") or args.get("cwd"))
                escalated = args.get("sandbox_permissions") == "require_escalated" or (
                    args.get("with_escalated_permissions") is True
                )
                if escalated:
                    columns["text"] = f"escalation requested: {args.get('justification') or ''}"
            elif name == "apply_patch":  # older Codex: a function tool `{"input": patch}`
                patch = args.get("input") or args.get("patch") or args.get("command")
                columns = _patch_columns(patch if isinstance(patch, str) else "")
            elif name == "write_stdin":
                pid = str(args.get("session_id")) if args.get("session_id") is not None else None
                columns = {
                    "kind": "other",
                    "operation": "write_stdin",
                    "text": args.get("chars") or None,
                    "target": self.processes.get(pid) if pid else None,
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
            _merge(call, outcome, final)
            self.outcomes.setdefault(call_id, []).append(text)
            if call.get("operation") == "write_stdin" and call.get("target"):
                yield from self._poll_result(base, str(call["target"]), outcome, text)
            if final:
                self.done.add(call_id)
                yield self.finish(self.open.pop(call_id))
            return
        if call_id in self.done:
            return  # a mirror of an outcome already merged in this read
        late = self.late.get(call_id)
        if late is None:
            event = new_event(
                self.collector.source,
                f"result:{self.session}:{call_id}:{base['seq'] if not final else 'end'}",
                **{
                    **base,
                    "kind": "other",
                    "operation": "tool_result",
                    "tool_call_id": call_id,
                    "status": "unknown",
                    **{
                        k: v
                        for k, v in outcome.items()
                        if v is not None and k not in ("kind", "operation")
                    },
                },
            )
            self.late[call_id] = event
            self.late_texts[call_id] = [text]
        else:
            _merge(
                late, {k: v for k, v in outcome.items() if k not in ("kind", "operation")}, final
            )
            self.late_texts[call_id].append(text)

    def _poll_result(
        self, base: dict[str, Any], exec_id: str, outcome: dict[str, Any], text: str
    ) -> Iterator[dict[str, Any]]:
        """A poll saw the process exit: its exit code is the exec call's, unless already known."""
        if outcome.get("exit_code") is None or exec_id in self.done:
            return
        exec_call = self.open.get(exec_id)
        if exec_call is not None:
            if exec_call.get("exit_code") is None:
                _merge(exec_call, outcome, final=False)
            return
        yield from self._outcome(base, exec_id, outcome, text)

    def _base(self, line: Line, record: dict[str, Any], text: str) -> dict[str, Any]:
        time = parse_time(record.get("timestamp"))
        return {
            "source_path": self.path,
            "source_offset": None if self.document else line.offset,
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
        where = f"item:{base['seq']}" if self.document else base["source_offset"]
        return new_event(
            self.collector.source,
            f"{self.path}:{where}",
            **{**base, "kind": kind, "operation": operation, **columns},
        )


def _merge(event: dict[str, Any], outcome: dict[str, Any], final: bool) -> None:
    """Fold one outcome into a call: the canonical end wins, a mirror only fills gaps."""
    if outcome.get("paths") and event.get("paths"):
        outcome = {
            k: v for k, v in outcome.items() if k not in ("paths", "target", "kind", "operation")
        }
    if final or event["status"] == "unknown" or outcome.get("exit_code") is not None:
        event.update({k: v for k, v in outcome.items() if v is not None})


def _shell_columns(command: Any, cwd: Any) -> dict[str, Any]:
    """A shell call; `["apply_patch", PATCH]` argv (older Codex) is a file edit."""
    if isinstance(command, list) and command and command[0] == "apply_patch":
        return {**_patch_columns(str(command[1]) if len(command) > 1 else ""), "cwd": cwd}
    return {"kind": "process", "command": _command(command), "cwd": cwd}


def _patch_columns(patch: str) -> dict[str, Any]:
    """The files an apply_patch body adds, updates, deletes or moves to."""
    files = list(dict.fromkeys(_PATCH_FILE.findall(patch) + _PATCH_MOVE.findall(patch)))
    deletes = "*** Delete File:" in patch
    return {
        "kind": "file" if files else "other",
        "operation": ("delete" if deletes else "edit") if files else "apply_patch",
        "paths": files or None,
        "target": files[0] if files else None,
    }


def _arguments(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = loads_json(value)
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
            parsed = loads_json(output)
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
    ptype = payload.get("type")
    if ptype == "patch_apply_end":
        ok = payload.get("success")
        changes = payload.get("changes") if isinstance(payload.get("changes"), dict) else {}
        files = sorted(changes)
        return {
            "status": "success" if ok else "failure",
            "error": None if ok else str(payload.get("stderr") or "")[:2000],
            "paths": files or None,
            "target": files[0] if files else None,
            "kind": "file" if files else None,
            "operation": "edit" if files else None,
        }
    if ptype == "mcp_tool_call_end":
        return _mcp_outcome(payload.get("result"))
    code = payload.get("exit_code")
    if isinstance(code, int):
        outcome = _from_code(
            code, str(payload.get("aggregated_output") or payload.get("stderr") or "")
        )
    else:
        outcome = {"status": _status(payload.get("status"))}
    outcome["cwd"] = payload.get("cwd")
    return outcome


def _mcp_outcome(result: Any) -> dict[str, Any]:
    """`result` is a serialized Rust Result: `{"Ok": CallToolResult}` or `{"Err": "..."}`."""
    if isinstance(result, dict) and "Err" in result:
        return {"status": "failure", "error": str(result["Err"])[:2000]}
    ok = result.get("Ok") if isinstance(result, dict) else None
    if isinstance(ok, dict):
        if ok.get("isError") is True or ok.get("is_error") is True:
            return {"status": "failure", "error": (text_of(ok.get("content")) or "")[:2000]}
        return {"status": "success"}
    return {"status": "unknown"}


def _from_code(code: int, output: str) -> dict[str, Any]:
    if code == 0:
        return {"status": "success", "exit_code": 0}
    return {"status": "failure", "exit_code": code, "error": output[:2000] or None}
