"""Destruction with no human in the loop: a destructive call an agent ran with permissions
off (`decided_by = bypass`: Claude Code `bypassPermissions`, Codex `never`, Gemini `yolo`),
or one a setting or a classifier let through on production.

High under a bypass mode, critical when the target is production; high on production when a
setting or the agent's classifier decided. A destructive call a human approved (any row of
the call says `human`) or one whose record does not say (`unknown`) raises nothing here.
"""

from __future__ import annotations

from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo


class UnattendedDestruction(Detector):
    info = DetectorInfo(
        id="unattended-destruction",
        title="Destructive call with no human in the loop",
        severity="high",
        kind="behaviour",
        description="A destructive call run under a bypass mode (critical on production), or "
        "let through on production by a setting or a classifier.",
    )
    anchor = "destructive AND decided_by IN ('bypass', 'setting', 'classifier')"

    def query(self) -> str:
        return """
        WITH calls AS (
            SELECT session_key, call_key, min(time) AS first_seen, max(time) AS last_seen,
                   list(event_id) AS event_ids, bool_or(destructive) AS destructive,
                   list_distinct(list(decided_by) FILTER (WHERE decided_by IS NOT NULL))
                       AS deciders,
                   bool_or(status = 'denied') AS denied,
                   bool_or(target_env = 'production') AS production,
                   any_value(coalesce(operation, command)) AS operation,
                   any_value(target) FILTER (WHERE target IS NOT NULL) AS target
            FROM event_sessions WHERE kind IN ('process', 'api') AND call_key IS NOT NULL
            GROUP BY session_key, call_key
        )
        SELECT session_key, call_key AS finding_key, event_ids, first_seen, last_seen,
               CASE WHEN list_contains(deciders, 'bypass') AND production THEN 'critical'
                    ELSE 'high' END AS severity,
               to_json({operation: operation, target: target, production: production,
                        decided_by: list_filter(deciders, lambda d: d <> 'unknown')}) AS evidence
        FROM calls
        WHERE destructive AND NOT denied AND NOT list_contains(deciders, 'human')
          AND (list_contains(deciders, 'bypass')
               OR (production AND list_has_any(deciders, ['setting', 'classifier'])))
        """

    def title(self, evidence: dict[str, Any]) -> str:
        who = ", ".join(evidence.get("decided_by") or []) or "no human"
        where = " on production" if evidence.get("production") else ""
        return (
            f"Destructive call decided by {who}{where}: {(evidence.get('operation') or '')[:100]}"
        )
