"""agentaudit guard decisions: one JSON line per allow/ask/deny, as `agentaudit guard` writes.

Each decision is an `auth` event (an authorisation decision about a call, not the call):
`operation` is `guard.<decision>`, `status` is denied for deny, and the call's analysis
(operation, target, environment, categories) is kept so decisions can be queried beside the
calls. The command was redacted before it was written.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from agentaudit.collectors.base import Collector, Location, Output, SourceInput, decode_json_line
from agentaudit.schema import Quarantined, new_event, parse_time, raw_json

_STATUS = {"deny": "denied", "ask": "unknown", "allow": "success"}
_SEVERITY = {"deny": "medium", "ask": "low", "allow": "info"}


class GuardDecisions(Collector):
    name = "agentaudit.guard"
    source = "agentaudit.guard"
    version = "1"
    description = "agentaudit guard decisions (allow / ask / deny, JSON lines)"
    origin = "agentaudit"  # the guard's verdicts on agents' calls, not an agent's own record
    locations = (  # AGENTAUDIT_GUARD_LOG names the log file itself
        Location(
            "Guard decisions", ("$AGENTAUDIT_GUARD_LOG", "{data}/guard"), ("decisions.jsonl",)
        ),
    )

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.startswith(b'{"guard_decision"')

    def collect(self, src: SourceInput) -> Iterator[Output]:
        for line in src.lines():
            objects, problem = decode_json_line(line)
            if problem:
                yield Quarantined(problem, line.data, line.number, line.offset)
                continue
            for record in objects:
                decision = record.get("guard_decision") if isinstance(record, dict) else None
                if not isinstance(decision, str) or decision not in _STATUS:
                    yield Quarantined("no guard_decision", line.data, line.number, line.offset)
                    continue
                decided_at = parse_time(record.get("decided_at"))
                yield new_event(
                    self.source,
                    record_key=raw_json(record),
                    source_path=src.path,
                    source_offset=line.offset,
                    seq=line.number,
                    parser_version=self.parser_version,
                    time=decided_at,
                    time_precision="us" if decided_at else "none",
                    agent=record.get("agent"),
                    session_id=record.get("session_id"),
                    tool_call_id=record.get("tool_use_id"),
                    kind="auth",
                    decided_by="hook",  # the guard answers as a hook, whatever process ran it
                    tool_name=record.get("tool_name"),
                    operation=f"guard.{decision}",
                    command=record.get("command"),
                    cwd=record.get("cwd"),
                    target=record.get("target"),
                    target_env=record.get("environment") or "unknown",
                    env_evidence="guard decision" if record.get("environment") else None,
                    status=_STATUS[decision],
                    error=record.get("error"),
                    credential_fp=record.get("credential_fp"),
                    categories=record.get("categories") or None,
                    destructive=False,  # the decision is not the call
                    severity=_SEVERITY[decision],
                    text=record.get("reason"),
                    raw=raw_json(record),
                )
