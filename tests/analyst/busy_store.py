"""A busy store for the analyst surfaces: the corpus' Stratus CloudTrail file (one IAM user's
attack simulation) plus generated Cursor hook sessions (the real hook-log format) of several
developers, each running ordinary commands and one destructive call; hundreds of incidents."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

# (command, what it is): critical (backups destroyed), high (production data), lower ones
DESTRUCTIVE = [
    "aws rds delete-db-instance --db-instance-identifier orders-{n} --skip-final-snapshot "
    "--delete-automated-backups",
    "kubectl --context prod-eu delete namespace payments-{n}",
    "aws s3 rm s3://prod-exports-{n} --recursive",
    "psql -h db.prod.internal -d shop -c 'DROP TABLE orders_{n}'",
    "terraform destroy -auto-approve -target=module.cache_{n}",
    "git push --force origin main",
]
ORDINARY = ["git status", "npm test", "ls -la", "git diff"]
DEVELOPERS = [f"dev{n}@example.com" for n in range(8)]


def cursor_sessions(path: Path, sessions: int, start: datetime | None = None) -> Path:
    """`sessions` Cursor hook sessions, one destructive call each, in one hook log."""
    start = start or datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    lines = []
    for n in range(sessions):
        session = str(uuid.UUID(int=n + 1))
        begin = start + timedelta(minutes=7 * n)
        commands = [*ORDINARY[: 1 + n % 3], DESTRUCTIVE[n % len(DESTRUCTIVE)].format(n=n)]
        for i, command in enumerate(commands):
            for hook, after in (("beforeShellExecution", 0), ("afterShellExecution", 1)):
                payload = {
                    "conversation_id": session,
                    "generation_id": f"{session}-{i}",
                    "model": "claude-opus-4-6",
                    "hook_event_name": hook,
                    "cursor_version": "3.1.15",
                    "workspace_roots": [f"/home/dev/project-{n % 5}"],
                    "user_email": DEVELOPERS[n % len(DEVELOPERS)],
                    "transcript_path": None,
                    "session_id": session,
                    "command": command,
                    "cwd": f"/home/dev/project-{n % 5}",
                    "sandbox": False,
                }
                if after:
                    payload.update(output="", duration=120)
                when = begin + timedelta(seconds=20 * i + after)
                received = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
                lines.append(
                    json.dumps({"received_at": received, "agent": "cursor", "payload": payload})
                )
    path.write_text("\n".join(lines) + "\n")
    return path
