"""`agentaudit hooks install|uninstall <agent>`: our hook entries in each agent's own settings.

For each agent the file and entry shape its documentation gives (tests/data/agents/FORMATS.md
§15): the recorder (`agentaudit-hook <agent>`) on the events its collector reads, and the
pre-execution guard (`agentaudit-guard --agent <agent>`) where agentaudit can answer in that
agent's format. The user's other settings and hooks are kept as they are; installing twice
changes nothing; uninstalling removes exactly our entries (recognised by their command) and
the containers that only held them, which gives an untouched file back byte for byte. A file
laid out otherwise than `json.dumps` would (compact arrays, other spacing) is kept as it was
in the data directory (private to the user) so its uninstall restores those bytes too; a file
the user changed meanwhile gets our entries removed and their changes kept.

Codex's inline TOML form (`config.toml`) gets one marked block of array-of-tables appended and
removed again: hand-written because the standard library reads TOML but cannot write it,
and appending keeps the user's file byte for byte.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import shutil
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._shared import CLAUDE_HOOK_EVENTS
from agentaudit.realtime.guard.respond import AGENTS as GUARDED

_OURS = re.compile(r"agentaudit[- ](hook|guard)\b")
_TOML_START = (
    "# >>> agentaudit hooks: added by `agentaudit hooks install codex`; uninstall removes it"
)
_TOML_END = "# <<< agentaudit hooks"


class InstallError(Exception):
    """A settings file that cannot be changed safely (one line for the user)."""


@dataclass
class Agent:
    name: str  # as `agentaudit hook` takes it
    user_file: Callable[[dict[str, str], Path], Path]
    project_file: str  # relative to the project directory
    events: tuple[str, ...]  # recorded
    guard_events: tuple[tuple[str, str | None], ...] = ()  # (event, matcher)
    shape: str = "claude"  # claude (matcher groups), flat (list of {command}), copilot
    notes: tuple[str, ...] = ()
    version_key: bool = False  # the file carries {"version": 1}


def _home_file(env: str, default: str, name: str) -> Callable[[dict[str, str], Path], Path]:
    def where(environ: dict[str, str], home: Path) -> Path:
        root = environ.get(env)
        first = root.split(",")[0] if root else None
        return (Path(first).expanduser() if first else home / default) / name

    return where


AGENTS: dict[str, Agent] = {
    "claude-code": Agent(
        "claude-code",
        _home_file("CLAUDE_CONFIG_DIR", ".claude", "settings.json"),
        ".claude/settings.json",
        tuple(e for e in CLAUDE_HOOK_EVENTS if e != "MessageDisplay"),  # one per text delta
        (("PreToolUse", "Bash"),),
    ),
    "codex": Agent(
        "codex",
        _home_file("CODEX_HOME", ".codex", "hooks.json"),
        ".codex/hooks.json",
        (
            "SessionStart",
            "UserPromptSubmit",
            "PreToolUse",
            "PermissionRequest",
            "PostToolUse",
            "PreCompact",
            "PostCompact",
            "SubagentStart",
            "SubagentStop",
            "Stop",
        ),
        (("PreToolUse", "Bash"),),
        notes=(
            "Codex runs hooks that are not managed only after you review and trust them: "
            "open `/hooks` in Codex once.",
        ),
    ),
    "gemini": Agent(
        "gemini",
        _home_file("GEMINI_DIR", ".gemini", "settings.json"),
        ".gemini/settings.json",
        (
            "SessionStart",
            "SessionEnd",
            "BeforeAgent",
            "AfterAgent",
            "BeforeTool",
            "AfterTool",
            "Notification",
            "PreCompress",
        ),
        notes=(
            "Some Gemini CLI versions also need hooks enabled in settings "
            "(`tools.enableHooks`); check `/hooks` in Gemini CLI.",
        ),
    ),
    "cursor": Agent(
        "cursor",
        lambda environ, home: home / ".cursor" / "hooks.json",
        ".cursor/hooks.json",
        (
            "beforeSubmitPrompt",
            "beforeShellExecution",
            "afterShellExecution",
            "beforeMCPExecution",
            "afterMCPExecution",
            "beforeReadFile",
            "afterFileEdit",
            "stop",
        ),
        (("beforeShellExecution", None),),
        shape="flat",
        version_key=True,
    ),
    "copilot": Agent(
        "copilot",
        _home_file("COPILOT_HOME", ".copilot", "settings.json"),
        ".github/hooks/agentaudit.json",
        (
            "sessionStart",
            "sessionEnd",
            "userPromptSubmitted",
            "preToolUse",
            "postToolUse",
            "postToolUseFailure",
            "agentStop",
            "subagentStart",
            "subagentStop",
            "errorOccurred",
            "preCompact",
            "permissionRequest",
            "notification",
        ),
        shape="copilot",
    ),
    "windsurf": Agent(
        "windsurf",
        lambda environ, home: home / ".codeium" / "windsurf" / "hooks.json",
        ".windsurf/hooks.json",
        (
            "pre_user_prompt",
            "pre_read_code",
            "post_read_code",
            "pre_write_code",
            "post_write_code",
            "pre_run_command",
            "post_run_command",
            "pre_mcp_tool_use",
            "post_mcp_tool_use",
            "post_cascade_response",
            "post_setup_worktree",
        ),
        shape="flat",
    ),
}


@dataclass
class Change:
    path: Path
    before: str | None  # None: the file does not exist
    after: str | None  # None: the file is removed
    notes: list[str] = field(default_factory=list)
    forget: bool = False  # an uninstall: the remembered original is no longer needed

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        lines = difflib.unified_diff(
            (self.before or "").splitlines(keepends=True),
            (self.after or "").splitlines(keepends=True),
            f"{self.path} (before)",
            f"{self.path} (after)",
        )
        return "".join(lines)


def command(name: str) -> str:
    """`agentaudit-hook` / `agentaudit-guard` by name when on PATH, else beside this Python."""
    return name if shutil.which(name) else str(Path(sys.executable).parent / name)


def target(agent: str, project: Path | None, environ: dict[str, str] | None = None) -> Path:
    spec = _agent(agent)
    if project is not None:
        return project / spec.project_file
    return spec.user_file(dict(os.environ if environ is None else environ), Path.home())


def plan_install(agent: str, path: Path, guard: bool = True) -> Change:
    spec = _agent(agent)
    before = _read(path)
    if path.suffix == ".toml":
        after = _toml_install(spec, before or "", guard)
    else:
        settings = _parse(path, before)
        # Copilot's repository hook files carry a version; its settings.json `hooks` does not
        versioned = spec.version_key or (spec.shape == "copilot" and path.name != "settings.json")
        _add(spec, settings, guard, versioned)
        after = _dump(settings, before)
    return Change(path, before, after, list(spec.notes))


def plan_uninstall(agent: str, path: Path) -> Change:
    spec = _agent(agent)
    before = _read(path)
    if before is None:
        return Change(path, None, None)
    if path.suffix == ".toml":
        return Change(path, before, _toml_uninstall(before), forget=True)
    settings = _parse(path, before)
    _remove(spec, settings)
    empty = settings in ({}, {"version": 1})
    after = None if empty else _dump(settings, before)
    original = _original(path)
    if original is not None and after is not None and _same(original, after):
        after = original  # untouched since install: the user's bytes exactly
    return Change(path, before, after, forget=True)


def apply(change: Change) -> None:
    """Write the planned file (atomically, keeping its mode), or remove it; remember the
    file as it was before our first change."""
    if not change.changed:
        return
    if change.forget:
        _memory(change.path).unlink(missing_ok=True)
    elif (
        change.before is not None and _OURS.search(change.before) is None and not _canonical(change)
    ):
        _remember(change.path, change.before)
    if change.after is None:
        change.path.unlink()
        return
    change.path.parent.mkdir(parents=True, exist_ok=True)
    mode = change.path.stat().st_mode & 0o777 if change.path.exists() else 0o600
    temporary = change.path.with_name(f".{change.path.name}.agentaudit-tmp")
    temporary.write_text(change.after, encoding="utf-8")
    os.chmod(temporary, mode)
    os.replace(temporary, change.path)


# -- JSON settings -------------------------------------------------------------------------


def _entries(spec: Agent, guard: bool) -> list[tuple[str, str | None, str]]:
    """(event, matcher, command) of every entry we install."""
    hook = command("agentaudit-hook")
    found = []
    if guard and spec.name in GUARDED:
        guard_command = command("agentaudit-guard")
        found += [(e, m, f"{guard_command} --agent {spec.name}") for e, m in spec.guard_events]
    for event in spec.events:
        suffix = f" {event}" if spec.shape == "copilot" else ""  # camelCase payloads name no event
        found.append((event, None, f"{hook} {spec.name}{suffix}"))
    return found


def _handler(spec: Agent, text: str, guard: bool) -> dict[str, Any]:
    if spec.shape == "copilot":
        return {"type": "command", "bash": text, "powershell": text, "timeoutSec": 10}
    if spec.shape == "flat":
        return (
            {"command": text, "show_output": False}
            if spec.name == "windsurf"
            else {"command": text}
        )
    seconds = 5 if guard else 10  # the guard answers fast or lets the call through
    timeout = seconds * 1000 if spec.name == "gemini" else seconds  # Gemini counts milliseconds
    handler: dict[str, Any] = {"type": "command", "command": text, "timeout": timeout}
    if spec.name == "gemini":
        handler = {"name": "agentaudit-guard" if guard else "agentaudit-hook", **handler}
    return handler


def _add(spec: Agent, settings: dict[str, Any], guard: bool, versioned: bool) -> None:
    if versioned and "version" not in settings:
        settings["version"] = 1
    hooks = settings.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise InstallError("its `hooks` is not an object; fix it by hand first")
    for event, matcher, text in _entries(spec, guard):
        handler = _handler(spec, text, "agentaudit-guard" in text)
        groups = hooks.setdefault(event, [])
        if not isinstance(groups, list):
            raise InstallError(f"its `hooks.{event}` is not a list; fix it by hand first")
        if text in json.dumps(groups):
            continue  # already installed
        if spec.shape in ("flat", "copilot"):
            groups.append(handler)
        else:
            group: dict[str, Any] = {"matcher": matcher} if matcher else {}
            groups.append({**group, "hooks": [handler]})


def _is_ours(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    text = " ".join(str(entry.get(k, "")) for k in ("command", "bash", "powershell"))
    return bool(_OURS.search(text))


def _remove(spec: Agent, settings: dict[str, Any]) -> None:
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept = []
        for group in groups:
            if _is_ours(group):
                continue
            inner = group.get("hooks") if isinstance(group, dict) else None
            if isinstance(inner, list) and any(_is_ours(h) for h in inner):
                rest = [h for h in inner if not _is_ours(h)]
                if not rest:
                    continue
                group = {**group, "hooks": rest}
            kept.append(group)
        if kept:
            hooks[event] = kept
        else:
            del hooks[event]
    if not hooks:
        del settings["hooks"]


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InstallError(f"cannot read {path}: {exc}") from exc


def _parse(path: Path, text: str | None) -> dict[str, Any]:
    if text is None or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InstallError(f"{path} is not valid JSON ({exc}); nothing changed") from exc
    if not isinstance(value, dict):
        raise InstallError(f"{path} is not a JSON object; nothing changed")
    return value


def _dump(settings: dict[str, Any], like: str | None) -> str:
    """JSON in the file's own indentation (two spaces for a new file)."""
    indent: int | str = 2
    found = re.search(r"\n([ \t]+)\S", like or "")
    if found:
        indent = "\t" if found.group(1).startswith("\t") else len(found.group(1))
    text = json.dumps(settings, indent=indent, ensure_ascii=False)
    return text + "\n" if like is None or like.endswith("\n") else text


def _canonical(change: Change) -> bool:
    """Whether the file is laid out as `_dump` writes it: then removing our entries gives its
    bytes back by itself and no copy of it (it may hold tokens) needs keeping."""
    if change.path.suffix == ".toml":
        return True  # our block is removed as text
    try:
        return _dump(json.loads(change.before or "{}"), change.before) == change.before
    except ValueError:
        return False


def _same(a: str, b: str) -> bool:
    try:
        return json.loads(a) == json.loads(b)
    except ValueError:
        return False


# -- the file before our first change (kept in the data directory) --------------------------


def _memory(path: Path) -> Path:
    from agentaudit.paths import home

    key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]
    return home() / "hook-install" / f"{key}.json"


def _remember(path: Path, text: str) -> None:
    memory = _memory(path)
    memory.parent.mkdir(parents=True, exist_ok=True)
    memory.write_text(json.dumps({"path": str(path.resolve()), "text": text}), encoding="utf-8")
    os.chmod(memory, 0o600)


def _original(path: Path) -> str | None:
    try:
        saved = json.loads(_memory(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return saved.get("text") if isinstance(saved, dict) else None


# -- Codex config.toml ---------------------------------------------------------------------


def _toml_install(spec: Agent, text: str, guard: bool) -> str:
    if _TOML_START in text:
        return text
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InstallError(f"not valid TOML ({exc}); nothing changed") from exc
    lines = ["", _TOML_START]
    for event, matcher, text_command in _entries(spec, guard):
        lines.append(f"[[hooks.{event}]]")
        if matcher:
            lines.append(f"matcher = {json.dumps(matcher)}")
        lines += [
            f"[[hooks.{event}.hooks]]",
            'type = "command"',
            f"command = {json.dumps(text_command)}",
            "timeout = 10",
        ]
    lines.append(_TOML_END)
    after = (text if text.endswith("\n") or not text else text + "\n") + "\n".join(lines) + "\n"
    try:
        tomllib.loads(after)
    except tomllib.TOMLDecodeError as exc:  # e.g. `hooks` already an inline table
        raise InstallError(
            f"cannot add hooks to this config.toml ({exc}); nothing changed"
        ) from exc
    return after


def _toml_uninstall(text: str) -> str:
    block = re.compile(
        r"\n?" + re.escape(_TOML_START) + r".*?" + re.escape(_TOML_END) + r"\n?", re.S
    )
    return block.sub("", text)


def _agent(name: str) -> Agent:
    if name not in AGENTS:
        raise InstallError(f"unknown agent {name!r}; known: {', '.join(AGENTS)}")
    return AGENTS[name]
