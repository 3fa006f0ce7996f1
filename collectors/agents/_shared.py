"""Helpers shared by the agent-transcript collectors (not a collector: the registry skips `_`).

`json_records` is the one JSON-lines reader they all use: a fast path (`loads_json` on the
line's bytes) and, only when that fails, the damage-recovering `decode_json_line`.
`tool_columns` maps an agent tool call (Claude Code and Cursor share tool names) to the
canonical kind / operation / paths / url columns.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from agentaudit.collectors.base import Line, SourceInput, decode_json_line, loads_json
from agentaudit.schema import Quarantined, raw_json

_SHELL_TOOLS = {"Bash", "PowerShell", "Shell", "run_shell_command", "shell", "BashOutput"}
_FILE_TOOLS = {
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
}
EXIT_CODE = re.compile(r"(?:^|\n)\s*(?:Error: )?Exit [Cc]ode:? (-?\d+)")


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
    if name in _SHELL_TOOLS:
        command = args.get("command")
        if isinstance(command, list):
            command = " ".join(str(part) for part in command)
        cwd = args.get("directory") or args.get("cwd") or args.get("workdir") or None
        return {"kind": "process", "command": command, "cwd": cwd}
    if name in _FILE_TOOLS:
        path = (
            args.get("file_path")
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
    if name.startswith("mcp__"):
        return {"kind": "api", "operation": name}
    return {"kind": "other", "operation": name or None}


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
