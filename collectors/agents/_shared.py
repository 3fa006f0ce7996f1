"""Helpers shared by the agent-transcript collectors (not a collector: the registry skips `_`).

`json_records` is the one JSON-lines reader they all use: a fast path (`loads_json` on the
line's bytes) and, only when that fails, the damage-recovering `decode_json_line`.
`tool_columns` maps an agent tool call (Claude Code and Cursor share tool names) to the
canonical kind / operation / paths / url columns; `mcp_columns` does it for an MCP tool call
(every agent names them differently: `split_mcp_name`). `decided_by` keeps the one vocabulary
of who approved a call (tests/data/agents/FORMATS.md §0).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

from agentaudit import taxonomy
from agentaudit.collectors.base import (
    APPDATA,
    MAC_SUPPORT,
    XDG_CONFIG,
    Line,
    Location,
    SourceInput,
    decode_json_line,
    loads_json,
)
from agentaudit.schema import EVENT_FIELDS, Quarantined, raw_json, stable_id

# Shell and file tool names of every agent read here (Claude Code, Cursor, Gemini CLI, Copilot
# CLI, opencode, Cline / Roo Code, Amp, Codex); agents that share a name share its meaning.
_SHELL_TOOLS = {
    "Bash", "PowerShell", "Shell", "run_shell_command", "shell", "BashOutput", "bash",
    "powershell", "execute_command", "run_in_terminal", "run_command", "exec_command",
}  # fmt: skip
_FILE_TOOLS = {
    "view": "read",
    "read": "read",
    "readFile": "read",
    "create": "write",
    "write": "write",
    "write_to_file": "write",
    "create_file": "write",
    "edit": "edit",
    "edit_file": "edit",
    "replace_in_file": "edit",
    "patch": "edit",
    "multiedit": "edit",
    "list": "list",
    "list_files": "list",
    "grep": "search",
    "search_files": "search",
    "Read": "read",
    "read_file": "read",
    "read_many_files": "read",
    "NotebookRead": "read",
    "Write": "write",
    "write_file": "write",
    "Edit": "edit",
    "MultiEdit": "edit",
    "StrReplace": "edit",
    "replace": "edit",
    "NotebookEdit": "edit",
    "Delete": "delete",
    "Glob": "search",
    "Grep": "search",
    "LS": "list",
    "list_directory": "list",
    "glob": "search",
    "search_file_content": "search",
}
_WEB_TOOLS = {
    "WebFetch": "fetch",
    "web_fetch": "fetch",
    "WebSearch": "search",
    "google_web_search": "search",
    "webfetch": "fetch",
    "fetch_webpage": "fetch",
}
# The 33 keys Claude Code's `hooks` setting accepts (tests/data/agents/FORMATS.md §1).
CLAUDE_HOOK_EVENTS = (
    "PreToolUse", "PostToolUse", "PostToolUseFailure", "PostToolBatch", "Notification",
    "UserPromptSubmit", "UserPromptExpansion", "SessionStart", "SessionEnd", "Stop",
    "StopFailure", "SubagentStart", "SubagentStop", "PreCompact", "PostCompact",
    "PreModelSwitch", "PostModelSwitch", "PermissionRequest", "PermissionDenied", "Setup",
    "TeammateIdle", "TaskCreated", "TaskCompleted", "Elicitation", "ElicitationResult",
    "ConfigChange", "WorktreeCreate", "WorktreeRemove", "InstructionsLoaded", "CwdChanged",
    "FileChanged", "DirectoryAdded", "MessageDisplay",
)  # fmt: skip
EXIT_CODE = re.compile(r"(?:^|\n)\s*(?:Error: )?Exit [Cc]ode:? (-?\d+)")


# The VS Code family of editors an extension (Cline, Roo Code, Copilot Chat) runs in
EDITORS = ("Code", "Code - Insiders", "Cursor", "Windsurf", "VSCodium")


def editor_locations(
    label: str, editors: tuple[str, ...], patterns: tuple[str, ...]
) -> tuple[Location, ...]:
    """Where an editor extension keeps its files: each editor's `User` directory, by platform."""
    return tuple(
        Location(label, tuple(f"{base}/{e}/User" for e in editors), patterns, platforms=(platform,))
        for base, platform in ((XDG_CONFIG, "linux"), (MAC_SUPPORT, "darwin"), (APPDATA, "win32"))
    )


def json_records(src: SourceInput) -> Iterator[tuple[Line, Any, str] | Quarantined]:
    """(line, decoded record, the record's JSON text) per record, or a quarantine record."""
    for line in src.lines():
        if not line.data:
            continue
        try:
            record = loads_json(line.data)
        except ValueError:  # includes invalid UTF-8; decode_json_line names the problem
            objects, problem = decode_json_line(line)
            if problem:
                yield Quarantined(problem, line.data, line.number, line.offset)
            for record in objects:
                yield line, record, raw_json(record)
            continue
        yield line, record, line.data.decode("utf-8", "surrogateescape")


def tool_columns(name: str | None, tool_input: Any) -> dict[str, Any]:
    """Canonical columns of one agent tool call from its name and input."""
    args = tool_input if isinstance(tool_input, dict) else {}
    name = name if isinstance(name, str) else ""
    mcp = split_mcp_name(name)
    if mcp:
        return mcp_columns(*mcp, args)
    if name in _SHELL_TOOLS:
        command = args.get("command") or args.get("cmd") or args.get("CommandLine")
        if isinstance(command, list):
            command = " ".join(str(part) for part in command)
        cwd = (
            args.get("directory") or args.get("cwd") or args.get("workdir") or args.get("Cwd")
        ) or None
        return {"kind": "process", "command": command, "cwd": cwd}
    if name in _FILE_TOOLS:
        path = (
            args.get("file_path")
            or args.get("filePath")
            or args.get("absolute_path")
            or args.get("notebook_path")
            or args.get("path")
            or args.get("dir_path")
        )
        paths = [str(path)] if path else None
        if not paths and isinstance(args.get("paths"), list):
            paths = [str(p) for p in args["paths"]] or None
        return {
            "kind": "file",
            "operation": _FILE_TOOLS[name],
            "paths": paths,
            "target": paths[0] if paths else None,
        }
    if name in _WEB_TOOLS or args.get("url"):
        return {
            "kind": "api",
            "operation": _WEB_TOOLS.get(name, name),
            "url": args.get("url"),
            "text": args.get("query") if isinstance(args.get("query"), str) else None,
        }
    return {"kind": "other", "operation": name or None}


# Argument names that name the resource an MCP tool acts on, most specific first.
_TARGET_KEYS = (
    "volumeId", "volume_id", "resourceId", "resource_id", "arn", "id", "name", "table",
    "database", "bucket", "repo", "repository", "path", "file_path", "url",
)  # fmt: skip
_MCP_ARGS_LIMIT = 4000


def split_mcp_name(name: str | None) -> tuple[str, str] | None:
    """(server, tool) of `mcp__<server>__<tool>` (Claude Code, Codex, Gemini hooks), or None."""
    if not name or not name.startswith("mcp__"):
        return None
    server, sep, tool = name[5:].partition("__")
    return (server, tool) if sep and server and tool else None


def mcp_columns(server: str, tool: str, arguments: Any = None) -> dict[str, Any]:
    """Canonical columns of one MCP `tools/call`, whichever agent made it.

    `tool_name` is always `mcp__<server>__<tool>` (the name detection and enrichment read);
    `text` carries the arguments as JSON (redacted like any text), `target` the argument that
    names the resource.
    """
    name = f"mcp__{server}__{tool}"
    args = arguments
    if isinstance(args, str) and args.lstrip().startswith("{"):
        with contextlib.suppress(ValueError):
            args = loads_json(args)
    target = None
    if isinstance(args, dict):
        target = next(
            (str(args[k]) for k in _TARGET_KEYS if isinstance(args.get(k), str | int) and args[k]),
            None,
        )
    text = None
    if args not in (None, {}, ""):
        text = args if isinstance(args, str) else raw_json(args)
        text = text[:_MCP_ARGS_LIMIT]
    return {"kind": "api", "operation": name, "tool_name": name, "target": target, "text": text}


# Who approved (or refused) a call, in one vocabulary across agents (FORMATS.md §0).
DECIDERS = tuple(taxonomy.DECIDERS)
# Claude Code `permission_mode` -> who decides the calls made under it.
PERMISSION_MODE_DECIDER = {
    "bypassPermissions": "bypass",
    "auto": "classifier",
    "dontAsk": "setting",
}
# Claude Code OTel `source` / `decision_source` of a tool decision.
CLAUDE_DECISION_SOURCE = {
    "config": "setting",
    "hook": "hook",
    "user_permanent": "human",
    "user_temporary": "human",
    "user_abort": "human",
    "user_reject": "human",
}


# Codex and Gemini approval modes that ask nobody; edit modes that let a setting decide edits.
_APPROVAL_BYPASS = {"never", "yolo", "danger-full-access"}
_EDIT_MODES = {"acceptEdits", "auto_edit", "autoEdit"}
_EDIT_TOOLS = {"Edit", "MultiEdit", "Write", "NotebookEdit", "apply_patch", "replace", "write_file"}


def hook_decider(hook: str | None, payload: dict[str, Any], tool_name: Any = None) -> str | None:
    """Who decides a call, from a Claude Code-style hook payload (Claude Code, Codex and Gemini
    hooks): the hook event (PermissionDenied: auto mode's classifier; PermissionRequest: a
    person is asked), else the permission or approval mode; None when it does not say."""
    if hook == "PermissionDenied":
        return "classifier"
    if hook == "PermissionRequest":
        return "human"
    mode = payload.get("permission_mode") or payload.get("approval_policy")
    mode = mode or payload.get("approval_mode")
    if mode in PERMISSION_MODE_DECIDER:
        return PERMISSION_MODE_DECIDER[mode]
    if mode in _APPROVAL_BYPASS:
        return "bypass"
    if mode in _EDIT_MODES and tool_name in _EDIT_TOOLS:
        return "setting"
    return None


def decided_by(columns: dict[str, Any], decider: str | None) -> dict[str, Any]:
    """Record who decided the call: the `decided_by` column once the store has it (issue 17
    adds it); until then the source record in `raw` is where it is read from."""
    if decider in DECIDERS and "decided_by" in EVENT_FIELDS:
        columns["decided_by"] = decider
    return columns


def text_of(content: Any) -> str | None:
    """Text of a message or tool-result `content`: a string or a list of content blocks."""
    if content is None:
        return None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and isinstance(block.get("text"), str):
                parts.append(block["text"])
        return "\n".join(parts) if parts else None
    return str(content)


def exit_code_in(text: str | None) -> int | None:
    """`Exit code N` as Claude Code and Gemini write it in a failed shell result."""
    if not text:
        return None
    found = EXIT_CODE.search(text[:400])
    return int(found.group(1)) if found else None


class CallPairs:
    """Call ids for hooks whose before- and after-payloads share none (Cursor shell hooks,
    Copilot CLI, Windsurf): the n-th before-payload of a key and the n-th after-payload of the
    same key are one call. An after-payload whose before was read in an earlier pass (a tailed
    log read in pieces) gets the id the first before of its key got."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.pending: dict[tuple[Any, ...], list[str]] = {}
        self.seen: dict[tuple[Any, ...], int] = {}

    def before(self, *key: Any) -> str:
        key = _hashable(key)
        count = self.seen.get(key, 0)
        self.seen[key] = count + 1
        call_id = self.prefix + stable_id(*map(str, key), count)[:16]
        self.pending.setdefault(key, []).append(call_id)
        return call_id

    def after(self, *key: Any) -> str:
        key = _hashable(key)
        waiting = self.pending.get(key)
        if waiting:
            return waiting.pop(0)
        return self.prefix + stable_id(*map(str, key), 0)[:16]


def _hashable(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """A pairing key whose parts came from JSON: an object or a list (a payload's wrong
    type) becomes its JSON text, the same for the before- and the after-payload."""
    return tuple(k if isinstance(k, str | int | float | bool | None) else raw_json(k) for k in key)
