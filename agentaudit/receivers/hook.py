"""`agentaudit hook <agent> [event]`: record one hook payload, fast, and never disturb the agent.

The agent runs this on every tool call and waits for it, so it imports only the standard
library (plus `agentaudit.paths`), prints nothing, and exits 0 whatever happens. Each payload
becomes one line `{"received_at", "agent", "payload"}` appended to
`<hook_log_dir>/<agent>-<UTC date>.jsonl` with a single `write` on an `O_APPEND` descriptor:
on a local file system concurrent hooks cannot interleave or overwrite each other's lines.
Secrets are redacted before the line is written (`agentaudit.enrich.secret_rules`, standard
library only, patterns compiled on first use): the log holds `[SECRET:<type>:<fingerprint>]`
under the install's key, so ingest follows the same secret by the same fingerprint.
Run it as `python -m agentaudit.receivers.hook <agent>` or `agentaudit-hook <agent>` (no CLI start-up
cost) or `agentaudit hook <agent>` (same function through the full CLI).

Two additions to the line, where the payload alone says too little:
- `event`: the hook event the command was installed for (`agentaudit-hook copilot preToolUse`):
  Copilot CLI's camelCase payloads do not name their event;
- `settings`: on a Claude Code `ConfigChange`, what the changed settings file now says about
  permissions, hooks and the sandbox (never its values: no secret is copied), and what it
  said at the previous change (kept beside the log), so a reader sees what was switched off.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

AGENTS = ("claude-code", "cursor", "codex", "gemini", "copilot", "windsurf", "antigravity")
SETTINGS_LIMIT = 1_000_000  # a settings file larger than this is not read by the hook
# Allow rules that let every shell command run without asking.
_ALLOW_ALL = {"Bash", "Bash(*)", "Bash(:*)", "*", "Bash(**)"}


def hook_log_path(agent: str, directory: Path | None = None, when: datetime | None = None) -> Path:
    if directory is None:
        from agentaudit.paths import hook_log_dir

        directory = hook_log_dir()
    day = (when or datetime.now(UTC)).strftime("%Y-%m-%d")
    return directory / f"{agent}-{day}.jsonl"


def hook_line(
    agent: str,
    data: bytes,
    when: datetime | None = None,
    event: str | None = None,
    state_dir: Path | None = None,
) -> bytes:
    """The log line for one payload; a payload that is not JSON is kept as text, flagged."""
    received = (when or datetime.now(UTC)).isoformat(timespec="microseconds").replace("+00:00", "Z")
    record: dict[str, object] = {"received_at": received, "agent": agent}
    if event:
        record["event"] = event
    try:
        record["payload"] = payload = json.loads(data)
    except ValueError as exc:
        record["payload_text"] = data.decode("utf-8", "backslashreplace")
        record["payload_error"] = f"not JSON: {exc}"
    else:
        changed = isinstance(payload, dict) and payload.get("hook_event_name") == "ConfigChange"
        if changed and agent == "claude-code" and isinstance(payload.get("file_path"), str):
            record["settings"] = settings_change(payload["file_path"], state_dir)
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def redacted(line: bytes, key: bytes | None = None) -> bytes:
    """A log line with its secrets replaced by fingerprinted placeholders. If redaction fails
    the payload is dropped, not written in clear: the line says so."""
    from agentaudit.enrich import secret_rules

    try:
        if key is None:
            from agentaudit.paths import key_path

            key = secret_rules.load_or_create_key(key_path())
        text = line.decode("utf-8").rstrip("\n")
        return secret_rules.redact_text(text, key).encode("utf-8") + b"\n"
    except Exception as exc:  # the agent must go on; the record must not leak
        record = json.loads(line)
        kept = {k: record[k] for k in ("received_at", "agent")}
        kept["payload_error"] = f"not recorded: redaction failed ({type(exc).__name__})"
        return json.dumps(kept).encode("utf-8") + b"\n"


def settings_facts(path: str) -> dict[str, Any]:
    """What a Claude Code settings file says about approvals, hooks and the sandbox."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(SETTINGS_LIMIT + 1)
        if len(data) > SETTINGS_LIMIT:
            return {"unreadable": f"larger than {SETTINGS_LIMIT} bytes"}
        settings = json.loads(data)
    except (OSError, ValueError) as exc:
        return {"unreadable": type(exc).__name__}
    if not isinstance(settings, dict):
        return {"unreadable": "not a JSON object"}
    permissions = (
        settings.get("permissions") if isinstance(settings.get("permissions"), dict) else {}
    )
    allow = permissions.get("allow") if isinstance(permissions.get("allow"), list) else []
    hooks = settings.get("hooks") if isinstance(settings.get("hooks"), dict) else {}
    sandbox = settings.get("sandbox") if isinstance(settings.get("sandbox"), dict) else {}
    mode = permissions.get("defaultMode")
    return {
        "defaultMode": mode if isinstance(mode, str) else None,
        "bypass_mode": mode == "bypassPermissions",
        "allow_all": any(rule in _ALLOW_ALL for rule in allow if isinstance(rule, str)),
        "sandbox_off": sandbox.get("enabled") is False,
        "skip_prompt": settings.get("skipDangerousModePermissionPrompt") is True,
        "disableAllHooks": settings.get("disableAllHooks") is True,
        "hook_events": sorted(str(k) for k in hooks),
        "agentaudit_hooks": json.dumps(hooks).count("agentaudit"),
    }


def settings_change(path: str, state_dir: Path | None = None) -> dict[str, Any]:
    """{"now": facts, "before": the facts at the previous change of this file, or None}."""
    now = settings_facts(path)
    before = None
    with contextlib.suppress(Exception):  # no state kept: the reader sees `before: null`
        if state_dir is None:
            from agentaudit.paths import hook_log_dir

            state_dir = hook_log_dir()
        state = state_dir / f".settings-{hashlib.sha256(path.encode()).hexdigest()[:16]}.json"
        if state.exists():
            before = json.loads(state.read_text())
        fd = os.open(state, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(now, out)
    return {"now": now, "before": before}


def record_hook(
    agent: str, data: bytes, directory: Path | None = None, event: str | None = None
) -> Path:
    """Append one payload, redacted, to the agent's hook log (created private to the user)."""
    now = datetime.now(UTC)
    path = hook_log_path(agent, directory, now)
    line = redacted(hook_line(agent, data, now, event, state_dir=path.parent))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        written = os.write(fd, line)
        while written < len(line):  # only on a full disk or a signal; finish the line
            written += os.write(fd, line[written:])
    finally:
        os.close(fd)
    return path


def run(agent: str, event: str | None = None) -> int:
    """Read the payload on stdin and record it; swallow every error (the agent must go on)."""
    try:
        record_hook(agent, sys.stdin.buffer.read(), event=event)
    except Exception as exc:  # a broken audit log must not break the agent
        with contextlib.suppress(Exception):  # stderr is not fed to the model on exit 0
            sys.stderr.write(f"agentaudit hook: not recorded: {exc}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    return run(args[0] if args else "unknown", args[1] if len(args) > 1 else None)


if __name__ == "__main__":
    sys.exit(main())
