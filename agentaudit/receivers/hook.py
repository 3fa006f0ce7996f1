"""`agentaudit hook <agent>`: record one hook payload, fast, and never disturb the agent.

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
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

AGENTS = ("claude-code", "cursor", "codex", "gemini")


def hook_log_path(agent: str, directory: Path | None = None, when: datetime | None = None) -> Path:
    if directory is None:
        from agentaudit.paths import hook_log_dir

        directory = hook_log_dir()
    day = (when or datetime.now(UTC)).strftime("%Y-%m-%d")
    return directory / f"{agent}-{day}.jsonl"


def hook_line(agent: str, data: bytes, when: datetime | None = None) -> bytes:
    """The log line for one payload; a payload that is not JSON is kept as text, flagged."""
    received = (when or datetime.now(UTC)).isoformat(timespec="microseconds").replace("+00:00", "Z")
    record: dict[str, object] = {"received_at": received, "agent": agent}
    try:
        record["payload"] = json.loads(data)
    except ValueError as exc:
        record["payload_text"] = data.decode("utf-8", "backslashreplace")
        record["payload_error"] = f"not JSON: {exc}"
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


def record_hook(agent: str, data: bytes, directory: Path | None = None) -> Path:
    """Append one payload, redacted, to the agent's hook log (created private to the user)."""
    now = datetime.now(UTC)
    path = hook_log_path(agent, directory, now)
    line = redacted(hook_line(agent, data, now))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        written = os.write(fd, line)
        while written < len(line):  # only on a full disk or a signal; finish the line
            written += os.write(fd, line[written:])
    finally:
        os.close(fd)
    return path


def run(agent: str) -> int:
    """Read the payload on stdin and record it; swallow every error (the agent must go on)."""
    try:
        record_hook(agent, sys.stdin.buffer.read())
    except Exception as exc:  # a broken audit log must not break the agent
        with contextlib.suppress(Exception):  # stderr is not fed to the model on exit 0
            sys.stderr.write(f"agentaudit hook: not recorded: {exc}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    return run(args[0] if args else "unknown")


if __name__ == "__main__":
    sys.exit(main())
