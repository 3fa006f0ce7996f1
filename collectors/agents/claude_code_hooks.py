"""Claude Code hook payloads: every one of the 33 hook events, as `agentaudit hook` records them.

A line is `{"received_at", "agent": "claude-code", "payload": <hook stdin>}` (the hook log), or
the bare payload (an `http` hook's body, a payload tee'd to a file): no time then. Calls
(PreToolUse, PermissionRequest, PermissionDenied, PostToolUse, PostToolUseFailure) carry the
payload's `tool_use_id` as `tool_call_id`, the id the transcript and OTel carry too, so every
row of one call shares its `call_key`. `PostToolBatch` holds the calls of one batch in
`tool_calls[]`: each element is a call with its result like any other (a setup that hooks
only PostToolBatch still sees every call). The other events become usable rows (FORMATS.md
§1): prompts and displayed text are messages; `ConfigChange` of a settings file (where
permissions, hooks and the sandbox live) is a `safety_bypass` signal, or `audit_tamper` when
the recorder's snapshot of the file says hooks were switched off (`settings` in the line,
see `agentaudit/receivers/hook.py`); `FileChanged` is a file event; worktrees, cwd changes,
loaded instructions, subagents, compaction, model switches and elicitations keep their paths
and text. Inside a subagent (`agent_id`) the session is `<session>/agent-<agent_id>` with the
main session as parent, as the transcript collector names it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._shared import (
    CLAUDE_HOOK_EVENTS,
    decided_by,
    exit_code_in,
    hook_decider,
    json_records,
    text_of,
    tool_columns,
)
from agentaudit.collectors.base import Collector, Location, Output, SourceInput
from agentaudit.schema import Quarantined, new_event, parse_time

_CALL_HOOKS = frozenset(
    {"PreToolUse", "PostToolUse", "PostToolUseFailure", "PermissionDenied", "PermissionRequest"}
)
_REJECTED = ("The user doesn't want to proceed", "User rejected", "Permission denied")
# What a settings change can switch on that weakens approvals or recording (hook recorder facts).
_WEAKENING = {
    "bypass_mode": "defaultMode bypassPermissions",
    "allow_all": "every shell command allowed",
    "sandbox_off": "sandbox disabled",
    "skip_prompt": "dangerous-mode prompt skipped",
    "disableAllHooks": "all hooks disabled",
}
# ConfigChange sources that are settings files (permissions, hooks, sandbox); `skills` is not.
_SETTINGS_SOURCES = frozenset(
    {"user_settings", "project_settings", "local_settings", "policy_settings"}
)


class ClaudeCodeHooks(Collector):
    name = "claude-code.hooks"
    source = "claude-code.hooks"
    version = "2"
    description = "Claude Code hook payloads, all 33 events (`agentaudit hook claude-code`)"
    origin = "agent"
    locations = (Location("Claude Code hook log", ("{hooks}",), ("claude-code-*.jsonl",)),)
    agent = "claude-code"  # the `agent` the hook command was given (and the canonical column)
    call_hooks = _CALL_HOOKS
    prompt_hooks = frozenset({"UserPromptSubmit"})

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.split(b"\n", 1)[0]
        if b'"received_at"' in first:
            return re.search(rb'"agent":\s*"' + self.agent.encode() + rb'"', first) is not None
        return self.sniff_bare(first)

    def sniff_bare(self, first: bytes) -> bool:
        """A bare Claude Code payload: Codex adds `turn_id`, Gemini and Copilot `timestamp`."""
        if b'"hook_event_name"' not in first or b'"transcript_path"' not in first:
            return False
        if b'"turn_id"' in first or b'"timestamp"' in first or b"/.codex/" in first:
            return False
        return any(f'"{name}"'.encode() in first for name in CLAUDE_HOOK_EVENTS)

    def companion(self, path: Path) -> str | None:
        if path.name.startswith(".settings-") and path.suffix == ".json":
            return "the hook recorder's facts about a settings file at its last change"
        return None

    def call_columns(self, tool_name: Any, tool_input: Any) -> dict[str, Any]:
        return tool_columns(tool_name, tool_input)

    def call_outcome(self, hook: str, payload: dict[str, Any]) -> dict[str, Any]:
        return _outcome(hook, payload)

    def hook_time(self, record: dict[str, Any], payload: dict[str, Any]) -> tuple[Any, str]:
        """(time, precision): when the hook command received the payload."""
        received = parse_time(record.get("received_at"))
        return received, "us" if received else "none"

    def collect(self, src: SourceInput) -> Iterator[Output]:
        for item in json_records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            line, record, text = item
            if not isinstance(record, dict):
                yield Quarantined("not a JSON object", line.data, line.number, line.offset)
                continue
            payload = record.get("payload") if "received_at" in record else record
            if not isinstance(payload, dict) or not payload.get("hook_event_name"):
                reason = record.get("payload_error") or "no hook payload"
                yield Quarantined(reason, line.data, line.number, line.offset)
                continue
            base = self._base(record, payload, text, line.number, line.offset, src.path)
            yield from self.events(base, record, payload, text)

    def _base(
        self,
        record: dict[str, Any],
        payload: dict[str, Any],
        text: str,
        number: int,
        offset: int,
        path: str,
    ) -> dict[str, Any]:
        received, precision = self.hook_time(record, payload)
        session = payload.get("session_id")
        parent = None
        if payload.get("agent_id"):
            parent, session = session, f"{session}/agent-{payload['agent_id']}"
        return {
            "source_path": path,
            "source_offset": offset,
            "seq": number,
            "parser_version": self.parser_version,
            "time": received,
            "time_precision": precision,
            "agent": self.agent,
            "model": payload.get("model"),
            "session_id": session,
            "parent_session_id": parent,
            "cwd": payload.get("cwd"),
            "raw": text,
        }

    def events(
        self, base: dict[str, Any], record: dict[str, Any], payload: dict[str, Any], text: str
    ) -> Iterator[dict[str, Any]]:
        """The rows of one hook payload (several for a PostToolBatch)."""
        hook = str(payload["hook_event_name"])
        session = base["session_id"]
        if hook == "PostToolBatch" and isinstance(payload.get("tool_calls"), list):
            for index, call in enumerate(payload["tool_calls"]):
                if not isinstance(call, dict):
                    continue
                columns = {**base, **self._call(hook, payload, call), **_batch_outcome(call)}
                call_id = call.get("tool_use_id") or f"{base['source_offset']}:{index}"
                yield new_event(self.source, f"{session}:{call_id}:{hook}", **columns)
            return
        columns = dict(base)
        if hook in self.call_hooks and payload.get("tool_name"):
            columns.update(self._call(hook, payload, payload))
            columns.update(self.call_outcome(hook, payload))
        elif hook in self.prompt_hooks:
            columns.update(kind="message", operation="user_prompt", text=payload.get("prompt"))
        else:
            columns.update(lifecycle_columns(hook, payload, record))
        call_id = payload.get("tool_use_id")
        key = f"{session}:{call_id}:{hook}" if call_id else text
        yield new_event(self.source, key, **columns)

    def _call(self, hook: str, payload: dict[str, Any], call: dict[str, Any]) -> dict[str, Any]:
        """Columns of one tool call (the payload itself, or a PostToolBatch element)."""
        columns = self.call_columns(call.get("tool_name"), call.get("tool_input"))
        columns["cwd"] = columns.get("cwd") or payload.get("cwd")
        columns.update(tool_name=call.get("tool_name"), tool_call_id=call.get("tool_use_id"))
        if columns["kind"] == "other":
            columns["operation"] = f"{hook}:{call.get('tool_name')}"
        return decided_by(columns, hook_decider(hook, payload, call.get("tool_name")))


def lifecycle_columns(hook: str, payload: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """kind / operation / paths / text of a hook event that is not a tool call."""
    path = payload.get("file_path")
    paths = [str(path)] if path else None
    simple: dict[str, Any] = {"kind": "other", "operation": hook, "status": "unknown"}
    if hook == "UserPromptExpansion":
        command = payload.get("command_name")
        typed = f"/{command} {payload.get('command_args') or ''}".strip() if command else None
        return {
            "kind": "message",
            "operation": "prompt_expansion",
            "text": typed or payload.get("prompt"),
        }
    if hook == "MessageDisplay":
        return {"kind": "message", "operation": "assistant_text", "text": payload.get("delta")}
    if hook == "Notification":
        return {
            "kind": "message",
            "operation": f"notification:{payload.get('notification_type') or 'other'}",
            "text": payload.get("message"),
        }
    if hook in ("Elicitation", "ElicitationResult"):
        server = payload.get("mcp_server_name")
        answer = payload.get("action")
        return {
            "kind": "message",
            "operation": hook,
            "target": server,
            "url": payload.get("url"),
            "text": payload.get("message") or (f"{answer}" if answer else None),
        }
    if hook == "ConfigChange":
        return {**simple, "target": path, "paths": paths, **_config_change(payload, record)}
    if hook == "FileChanged":
        change = {"unlink": "delete", "add": "create"}.get(str(payload.get("event")), "change")
        return {
            "kind": "file",
            "operation": f"watched_{change}",
            "paths": paths,
            "target": path,
            "status": "unknown",
        }
    if hook in ("WorktreeCreate", "WorktreeRemove"):
        where = payload.get("worktree_path")
        return {
            **simple,
            "paths": [where] if where else None,
            "target": where or payload.get("name"),
        }
    if hook == "CwdChanged":
        new = payload.get("new_cwd")
        return {**simple, "cwd": new or payload.get("cwd"), "paths": [new] if new else None,
                "text": f"{payload.get('old_cwd')} -> {new}"}  # fmt: skip
    if hook == "DirectoryAdded":
        directory = payload.get("directory")
        return {**simple, "paths": [directory] if directory else None, "target": directory,
                "text": payload.get("source")}  # fmt: skip
    if hook == "InstructionsLoaded":
        why = " ".join(
            str(payload.get(k)) for k in ("memory_type", "load_reason") if payload.get(k)
        )
        return {**simple, "paths": paths, "target": path, "text": why or None}
    if hook in ("PreModelSwitch", "PostModelSwitch"):
        to = payload.get("to_model")
        return {**simple, "model": to if hook == "PostModelSwitch" else payload.get("from_model"),
                "text": f"{payload.get('from_model')} -> {to}"}  # fmt: skip
    if hook in ("Stop", "SubagentStop"):
        transcript = payload.get("agent_transcript_path")
        return {**simple, "paths": [transcript] if transcript else None,
                "text": payload.get("last_assistant_message") or None}  # fmt: skip
    if hook == "StopFailure":
        details = " ".join(
            str(payload.get(k)) for k in ("error", "error_details") if payload.get(k)
        )
        return {**simple, "status": "failure", "error": details or None}
    if hook in ("PreCompact", "PostCompact"):
        summary = payload.get("compact_summary") or payload.get("custom_instructions")
        return {**simple, "text": summary or payload.get("trigger")}
    if hook in ("TaskCreated", "TaskCompleted"):
        return {**simple, "target": payload.get("task_id"), "text": payload.get("task_subject")}
    if hook == "TeammateIdle":
        return {**simple, "target": payload.get("teammate_name"), "text": payload.get("team_name")}
    reason = payload.get("source") or payload.get("reason") or payload.get("trigger")
    return {**simple, "text": str(reason) if reason else None}  # SessionStart/End, Setup, ...


def _config_change(payload: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """A settings file changed mid-session. The payload does not say what changed; the hook
    recorder's facts about the file now and at its previous change (`settings`) do."""
    source = str(payload.get("source") or "")
    if source not in _SETTINGS_SOURCES:
        return {"text": f"{source or 'settings'} changed"}
    change = record.get("settings") if isinstance(record.get("settings"), dict) else {}
    now = change.get("now") if isinstance(change.get("now"), dict) else None
    if now is None or "unreadable" in now:  # unknown change where approvals and hooks live
        return {"categories": ["safety_bypass"], "text": f"{source} changed (content not read)"}
    before = change.get("before") if isinstance(change.get("before"), dict) else {}
    switched = [k for k in _WEAKENING if now.get(k) and not before.get(k)]
    hooks_gone = before.get("agentaudit_hooks", 0) > 0 and now.get("agentaudit_hooks") == 0
    categories = []
    if "disableAllHooks" in switched or hooks_gone:
        categories.append("audit_tamper")
    if set(switched) - {"disableAllHooks"}:
        categories.append("safety_bypass")
    said = [_WEAKENING[k] for k in switched] + (["agentaudit hooks removed"] if hooks_gone else [])
    text = f"{source} changed" + (f": {'; '.join(said)}" if said else "")
    return {"categories": categories or None, "text": text}


def _outcome(hook: str, payload: dict[str, Any]) -> dict[str, Any]:
    if hook == "PostToolUse":
        response = payload.get("tool_response")
        if isinstance(response, dict) and response.get("interrupted") is True:
            return {"status": "failure", "error": "interrupted"}
        code = 0 if isinstance(response, dict) and "stdout" in response else None
        return {"status": "success", "exit_code": code}
    if hook == "PostToolUseFailure":
        error = str(payload.get("error") or "")
        return {"status": "failure", "exit_code": exit_code_in(error), "error": error[:2000]}
    if hook == "PermissionDenied":
        return {"status": "denied", "error": str(payload.get("reason") or "")[:2000] or None}
    return {"status": "unknown"}


def _batch_outcome(call: dict[str, Any]) -> dict[str, Any]:
    """Outcome of one PostToolBatch element: its `tool_response` is the text the model saw."""
    response = call.get("tool_response")
    text = (
        response
        if isinstance(response, str)
        else text_of(response)
        if isinstance(response, list)
        else None
    )
    if isinstance(response, dict):
        return _outcome("PostToolUse", {"tool_response": response})
    if text and text.startswith(_REJECTED):
        return {"status": "denied", "error": text[:2000]}
    code = exit_code_in(text)
    if code not in (None, 0):
        return {"status": "failure", "exit_code": code, "error": (text or "")[:2000]}
    return {"status": "success", "exit_code": code}
