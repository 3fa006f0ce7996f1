"""Safety bypass: an agent run without approvals, or a guard's consent forged (S4).

`--dangerously-skip-permissions`, `--yolo`, `--trust-all-tools`, `-auto-approve`, Prisma's
`PRISMA_USER_CONSENT_FOR_DANGEROUS_AI_ACTION`, ... High on its own; critical when the bypassing
call is destructive, or when a destructive call beyond routine local cleanup follows in the same
session (remote, infrastructure, data or backups, or a path outside the project: nothing
stands between the agent and the damage), stamped at the bypass.

The agent's own records say so too: a settings change mid-session (Claude Code ConfigChange),
a switch to bypassPermissions, a session started in yolo or never-ask mode arrive as non-shell
events in the `safety_bypass` category (the collectors set it); they count as a bypass.
"""

from __future__ import annotations

from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo

# RE2 syntax. Hand-written from the vendors' own flag names.
BYPASS = (
    r"(--dangerously-skip-permissions|--dangerously-bypass-approvals-and-sandbox|--yolo\b|"
    r"--approval-mode[= ]yolo|--trust-all-tools|--full-auto|--allow-dangerously|"
    r"PRISMA_USER_CONSENT_FOR_DANGEROUS_AI_ACTION|-auto-approve\b|--accept-data-loss|"
    r"--force-reset|--skip-final-snapshot\b|--no-verify-destroy)"
)


# An agent's record of its approvals being switched off (not a command's `--force`).
RECORDED = "kind <> 'process' AND list_contains(categories, 'safety_bypass')"


class SafetyBypass(Detector):
    info = DetectorInfo(
        id="safety-bypass",
        title="Agent safety checks bypassed",
        severity="high",
        kind="behaviour",
        description="A command disables an agent's approvals or a tool's destructive-action "
        "guard; critical when it, or a later call in the session, is destructive.",
    )
    anchor = f"(command IS NOT NULL AND regexp_matches(command, '{BYPASS}')) OR ({RECORDED})"

    def query(self) -> str:
        return f"""
        WITH bypass AS (
            SELECT session_key, call_key, event_id, time, coalesce(command, text) AS command,
                   destructive,
                   coalesce(regexp_extract_all(command, '{BYPASS}'), [operation]) AS flags
            FROM event_sessions
            WHERE (command IS NOT NULL AND regexp_matches(command, '{BYPASS}')) OR ({RECORDED})
        ), later AS (
            SELECT b.call_key, b.session_key, min(d.time) AS d_time,
                   arg_min(d.event_id, d.time) AS d_id, arg_min(coalesce(d.command, d.operation), d.time) AS d_op
            FROM bypass b JOIN event_sessions d
              ON d.session_key = b.session_key AND d.destructive AND d.time >= b.time
             AND d.kind IN ('process', 'api')
             -- routine local cleanup (rm -rf build, git reset) does not make it critical
             AND (len(list_filter(d.categories, lambda c: c NOT IN ('fs_delete', 'vcs_history_loss'))) > 0
                  OR (regexp_matches(coalesce(d.target, ''), '^[/~$]')
                      AND NOT regexp_matches(d.target, '^/(tmp|var/tmp)/')))
            GROUP BY b.call_key, b.session_key
        )
        SELECT b.session_key, b.call_key AS finding_key,
               list_distinct(list(b.event_id ORDER BY b.time)
                             || coalesce(list(l.d_id) FILTER (WHERE l.d_id IS NOT NULL), []))
                   AS event_ids,
               min(b.time) AS first_seen, coalesce(max(l.d_time), max(b.time)) AS last_seen,
               CASE WHEN bool_or(b.destructive) OR max(l.d_id) IS NOT NULL THEN 'critical'
                    ELSE 'high' END AS severity,
               to_json({{flags: list_distinct(flatten(list(b.flags))), command: any_value(b.command),
                         destructive_after: any_value(l.d_op)}}) AS evidence
        FROM bypass b LEFT JOIN later l
          ON l.call_key = b.call_key AND l.session_key IS NOT DISTINCT FROM b.session_key
        GROUP BY b.session_key, b.call_key
        """

    def title(self, evidence: dict[str, Any]) -> str:
        flags = ", ".join(evidence.get("flags") or [])
        after = evidence.get("destructive_after")
        return f"Safety bypass ({flags})" + (f", then {after[:80]}" if after else "")
