"""Audit tampering: shell history cleared, agent transcripts or agentaudit's store/key removed,
or a provider's audit trail stopped (`audit_tamper` category from the provider catalogs).

Whoever erases the record of what happened is the first thing to page about (#74539 deleted
`~/.claude`, the transcript evidence, with the home directory).
"""

from __future__ import annotations

from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo

# RE2 syntax. Hand-written: these are shell idioms, not a catalog any library ships.
HISTORY = (
    r"(?i)(\bhistory\s+-[cw]*c|\bunset\s+HISTFILE\b|HISTFILE=/dev/null|HISTSIZE=0\b|"
    r"set\s+\+o\s+history|Clear-History|atuin\s+(history\s+)?(delete|prune)|"
    r"(rm|shred|truncate|unlink|Remove-Item)\b[^|;&]*(_history|\.histfile|history\.db|"
    r"ConsoleHost_history|fish_history)|>\s*~?/?\S*(_history|fish_history)\b)"
)
EVIDENCE_STORES = (
    r"(?i)(rm|shred|truncate|unlink|mv|Remove-Item|rmdir)\b[^|;&]*(agentaudit|fingerprint\.key|"
    r"\.claude(/projects)?/?(\s|$|\W)|\.claude/projects|\.codex/sessions|\.gemini/tmp|"
    r"\.cursor/hooks|\.local/share/atuin|/var/log/audit)"
)


class AuditTamper(Detector):
    info = DetectorInfo(
        id="audit-tamper",
        title="Audit trail tampered with",
        severity="critical",
        kind="behaviour",
        description="Shell history cleared or disabled, an agent's transcripts or agentaudit's "
        "store or key deleted, or a provider audit trail stopped or deleted.",
    )
    anchor = (
        "list_contains(categories, 'audit_tamper') OR (command IS NOT NULL AND "
        f"(regexp_matches(command, '{HISTORY}') OR regexp_matches(command, '{EVIDENCE_STORES}')))"
    )

    def query(self) -> str:
        return f"""
        SELECT session_key, call_key AS finding_key, list(event_id ORDER BY time) AS event_ids,
               min(time) AS first_seen, max(time) AS last_seen,
               to_json({{operation: any_value(operation), command: any_value(command),
                         target: any_value(target),
                         what: CASE WHEN bool_or(regexp_matches(coalesce(command, ''), '{HISTORY}'))
                                    THEN 'shell history'
                                    WHEN bool_or(regexp_matches(coalesce(command, ''), '{EVIDENCE_STORES}'))
                                    THEN 'agent transcripts or agentaudit store'
                                    ELSE 'provider audit trail' END}}) AS evidence
        FROM event_sessions
        WHERE list_contains(categories, 'audit_tamper')
           OR (command IS NOT NULL AND (regexp_matches(command, '{HISTORY}')
                                        OR regexp_matches(command, '{EVIDENCE_STORES}')))
        GROUP BY session_key, call_key
        """

    def title(self, evidence: dict[str, Any]) -> str:
        return f"Audit trail tampered with: {evidence.get('what')} ({evidence.get('operation')})"
