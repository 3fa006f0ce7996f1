"""A protection removed after it stopped a destructive call.

The provider refused a destructive call (a delete lock, branch protection, deletion
protection); the agent then removed the protection in the same session, within
GUARD_WINDOW_SECONDS. Removing a guard that just did its job is the decision that lets the
destruction through, so the finding is critical and stamped at the removal, before the retry.
The refusal is the agent's own failed call or the provider's failed record linked to it.
"""

from __future__ import annotations

from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo

GUARD_WINDOW_SECONDS = 1800
# Hand-written (RE2): what removes a guard against deletion, as a command or an operation.
GUARD_REMOVAL = (
    r"(?i)(\block\s+delete\b|locks/delete|Remove-Az\w*Lock|\block\s+(rm|remove)\b"
    r"|branches/[^/\s]+/protection|protected_branch\.destroy|--no-deletion-protection"
    r"|deletion[-_ ]?protection[\" ]*[=:][\" ]*(false|disabled)|--no-enable-deletion-protection"
    r"|disable-?api-?termination[\" =]*false|ModifyInstanceAttribute.*DisableApiTermination"
    r"|object-lock.*(GOVERNANCE|bypass)|--bypass-governance-retention)"
)


class GuardRemoved(Detector):
    info = DetectorInfo(
        id="guard-removed-after-refusal",
        title="A protection removed after it refused a destructive call",
        severity="critical",
        kind="behaviour",
        description="A destructive call is refused (delete lock, branch protection, deletion "
        "protection); the session then removes that protection, within "
        f"{GUARD_WINDOW_SECONDS} s.",
    )
    anchor = "destructive AND status IN ('failure', 'denied')"

    def query(self) -> str:
        return f"""
        WITH refused AS (
            SELECT session_key, event_id, time, coalesce(command, operation) AS what
            FROM event_sessions
            WHERE destructive AND status IN ('failure', 'denied') AND session_key IS NOT NULL
              AND time IS NOT NULL
        ), removed AS (
            SELECT session_key, call_key, event_id, time, coalesce(command, operation) AS what
            FROM event_sessions
            WHERE session_key IN (SELECT session_key FROM refused) AND kind IN ('process', 'api')
              AND regexp_matches(coalesce(command, '') || ' ' || coalesce(operation, ''),
                                 '{GUARD_REMOVAL}')
              AND coalesce(status, '') NOT IN ('failure', 'denied')
        ), pairs AS (
            SELECT g.*, r.event_id AS r_id, r.time AS r_time, r.what AS r_what
            FROM removed g JOIN refused r ON r.session_key = g.session_key
             AND r.time < g.time AND g.time <= r.time + INTERVAL {GUARD_WINDOW_SECONDS} SECOND
            QUALIFY row_number() OVER (PARTITION BY g.event_id ORDER BY r.time DESC) = 1
        )
        SELECT session_key, call_key AS finding_key,
               list_distinct(flatten([list(r_id ORDER BY r_time), list(event_id ORDER BY time)]))
                   AS event_ids,
               min(time) AS first_seen, max(time) AS last_seen,
               to_json({{removed: arg_min(what, time), refused: arg_max(r_what, r_time),
                         refused_at: max(r_time)}}) AS evidence
        FROM pairs GROUP BY session_key, call_key
        """

    def title(self, evidence: dict[str, Any]) -> str:
        removed = (evidence.get("removed") or "a protection")[:80]
        refused = (evidence.get("refused") or "a destructive call")[:60]
        return f"{removed} after the provider refused {refused}"
