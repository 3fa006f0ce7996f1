"""Denied, then run anyway: a call refused (by a human, the agent's classifier, a hook or the
guard) whose command, or whose target by another route, a later call of the session runs.

The refused call is any row with status `denied` (Claude Code `PermissionDenied`, a guard's
deny, a rejected approval); the later call is another call of the same session that was not
refused and either runs the same command (whitespace aside) or, destructive, hits the same
target. High; critical when the later call is destructive. Stamped at the refusal.
"""

from __future__ import annotations

from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo


class DeniedThenRun(Detector):
    info = DetectorInfo(
        id="denied-then-run",
        title="A refused call was run anyway",
        severity="high",
        kind="behaviour",
        description="A call refused by a human, a classifier, a hook or the guard is run "
        "later in the session (the same command, or the same target by another route); "
        "critical when the later call is destructive.",
    )
    anchor = "status = 'denied'"

    def query(self) -> str:
        return r"""
        WITH denied AS (
            SELECT session_key, call_key, min(time) AS time, any_value(event_id) AS event_id,
                   any_value(regexp_replace(trim(command), '\s+', ' ', 'g'))
                       FILTER (WHERE command IS NOT NULL) AS command,
                   any_value(target) FILTER (WHERE target IS NOT NULL) AS target,
                   any_value(decided_by) FILTER (WHERE decided_by <> 'unknown') AS decided_by
            FROM event_sessions WHERE status = 'denied' AND session_key IS NOT NULL
            GROUP BY session_key, call_key
        ), runs AS (
            SELECT session_key, call_key, min(time) AS time, list(event_id) AS event_ids,
                   any_value(regexp_replace(trim(command), '\s+', ' ', 'g'))
                       FILTER (WHERE command IS NOT NULL) AS command,
                   any_value(target) FILTER (WHERE target IS NOT NULL) AS target,
                   bool_or(destructive) AS destructive,
                   any_value(coalesce(operation, command)) AS operation
            FROM event_sessions
            WHERE kind IN ('process', 'api') AND session_key IN (SELECT session_key FROM denied)
            GROUP BY session_key, call_key
            HAVING NOT bool_or(status = 'denied')
        )
        SELECT d.session_key, d.call_key || '>' || arg_min(r.call_key, r.time) AS finding_key,
               [d.event_id] || arg_min(r.event_ids, r.time) AS event_ids,
               d.time AS first_seen, min(r.time) AS last_seen,
               CASE WHEN arg_min(r.destructive, r.time) THEN 'critical' ELSE 'high' END AS severity,
               to_json({refused: d.command, refused_target: d.target,
                        refused_by: coalesce(d.decided_by, 'unknown'),
                        run: arg_min(r.operation, r.time),
                        same: arg_min(CASE WHEN r.command = d.command THEN 'command'
                                           ELSE 'target' END, r.time),
                        destructive: arg_min(r.destructive, r.time)}) AS evidence
        FROM denied d JOIN runs r
          ON r.session_key = d.session_key AND r.call_key <> d.call_key AND r.time > d.time
         AND (r.command = d.command
              OR (r.destructive AND d.target IS NOT NULL AND r.target = d.target))
        GROUP BY d.session_key, d.call_key, d.time, d.event_id, d.command, d.target, d.decided_by
        """

    def title(self, evidence: dict[str, Any]) -> str:
        how = "the same command" if evidence.get("same") == "command" else "another route"
        return (
            f"Refused by {evidence.get('refused_by')}, then run by {how}: "
            f"{(evidence.get('run') or '')[:100]}"
        )
