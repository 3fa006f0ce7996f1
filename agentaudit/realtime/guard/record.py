"""Every guard decision is an audit event: one JSON line in the decision log.

The log lives in `$AGENTAUDIT_HOME/guard/decisions.jsonl` (`AGENTAUDIT_GUARD_LOG` moves it).
A line is written whichever process decides (the resident helper inside `watch`, or the hook
itself when no helper answers), without touching the store, which `watch` may hold open;
`collectors/guard_decisions.py` reads it, and `watch` tails it like any other source.
Commands are written redacted, and targets, reasons and errors pass `secrets.scrub`.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentaudit import paths
from agentaudit.enrich.secrets import scrub

LOG_ENV = "AGENTAUDIT_GUARD_LOG"


def decision_log_path() -> Path:
    override = os.environ.get(LOG_ENV)
    if override:
        return Path(override)
    directory = paths.home() / "guard"
    paths.ensure_private_dir(directory)
    return directory / "decisions.jsonl"


def record_decision(
    call: Any, decision: Any, *, decided_by: str, latency_ms: float, path: Path | None = None
) -> dict[str, Any]:
    """Append one decision line (a single O_APPEND write, so concurrent hooks never interleave)."""
    line = {
        "guard_decision": decision.decision,
        "decided_at": datetime.now(UTC).isoformat(timespec="microseconds"),
        "decided_by": decided_by,
        "latency_ms": round(latency_ms, 3),
        "agent": call.agent,
        "hook_event": call.hook_event,
        "session_id": call.session_id,
        "cwd": call.cwd,
        "tool_name": call.tool_name,
        "tool_use_id": call.tool_use_id,
        "command": decision.redacted_command,
        "operation": decision.operation,
        "target": decision.target,
        "environment": decision.environment,
        "categories": list(decision.categories),
        "credential_fp": decision.credential_fp,
        "context_used": decision.context_used,
        "reason": decision.reason,
        "error": decision.error,
    }
    for field in ("target", "reason", "error", "cwd"):  # the second gate (see secrets.scrub)
        line[field] = scrub(line[field])
    data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
    target = path or decision_log_path()
    with paths.private_umask():
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    return line
