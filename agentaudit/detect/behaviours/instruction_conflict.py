"""S6: the user said freeze / do not touch production / do not delete; the agent later did.

A user prompt matching INSTRUCTION, then, in the same session, a destructive call or (under
a freeze) a schema push, migration or deploy. Stamped at the violating call.
"""

from __future__ import annotations

from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo

# RE2 syntax. Hand-written: no library names these instructions.
INSTRUCTION = (
    r"(?i)(code freeze|action freeze|\bfreeze\b|do ?n.?t (change|touch|modify|delete|remove|drop|"
    r"deploy|run|push)|never (delete|drop|remove|touch|run)|leave .{0,30}(prod|production) alone|"
    r"(no|without) (changes|deletes|deletions|deploys)|read[- ]only|hands off)"
)
# Writes a freeze forbids even when no category calls them destructive.
FREEZE_WRITES = (
    r"(?i)(db:push|drizzle-kit\s+(push|drop|migrate)|prisma\s+(db\s+push|migrate)|"
    r"\bmigrate\b|\bdeploy\b|terraform\s+apply|kubectl\s+(apply|delete|scale)|\bpsql\b.*\b(insert|update|delete|alter)\b)"
)


class InstructionConflict(Detector):
    info = DetectorInfo(
        id="instruction-conflict",
        title="Destructive call after the user said not to",
        severity="critical",
        kind="behaviour",
        description="A user prompt declares a freeze or forbids deleting or touching "
        "production; later in the session the agent runs a destructive call or a write the "
        "freeze forbids (S6).",
    )

    def query(self) -> str:
        return f"""
        WITH said AS (
            SELECT session_key, event_id, time, text FROM event_sessions
            WHERE kind = 'message' AND session_key IS NOT NULL
              AND (operation ILIKE '%user%' OR operation ILIKE '%prompt%')
              AND regexp_matches(coalesce(text, ''), '{INSTRUCTION}')
        ), did AS (
            SELECT session_key, call_key, event_id, time, operation, command, destructive
            FROM event_sessions
            WHERE kind IN ('process', 'api') AND session_key IN (SELECT session_key FROM said)
              AND (destructive OR regexp_matches(coalesce(command, ''), '{FREEZE_WRITES}'))
        ), pairs AS (
            SELECT d.*, s.event_id AS said_id, s.time AS said_time, s.text AS said_text
            FROM did d JOIN said s ON s.session_key = d.session_key AND s.time < d.time
        )
        SELECT session_key, call_key AS finding_key,
               list_distinct(flatten([list(said_id ORDER BY said_time), list(event_id ORDER BY time)]))
                   AS event_ids,
               min(time) AS first_seen, max(time) AS last_seen,
               to_json({{instruction: arg_max(said_text, said_time), said_at: max(said_time),
                         times_said: count(DISTINCT said_id),
                         operation: arg_min(operation, time), command: arg_min(command, time),
                         destructive: bool_or(destructive)}}) AS evidence
        FROM pairs GROUP BY session_key, call_key
        """

    def title(self, evidence: dict[str, Any]) -> str:
        said = (evidence.get("instruction") or "").strip().splitlines()[0][:60]
        what = (evidence.get("command") or evidence.get("operation") or "A destructive call")[:60]
        return f"{what} after the user said {said!r}"
