"""A destructive provider mutation sent as a raw HTTP call (curl, wget, httpie).

The PocketOS call: `curl ... backboard.railway.app/graphql/v2 -d 'mutation { volumeDelete }'`.
No CLI, no confirmation prompt, no environment check: a provider's control plane reached
directly with a bearer token. Fires per call, with every source's view of that call.
"""

from __future__ import annotations

from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo


class DestructiveProviderHttp(Detector):
    info = DetectorInfo(
        id="destructive-provider-http",
        title="Destructive provider call over raw HTTP",
        severity="critical",
        kind="rule",
        description="A destructive provider API mutation sent with curl/wget/httpie.",
    )
    anchor = "destructive"

    def query(self) -> str:
        return """
        WITH hits AS (
            SELECT DISTINCT session_key, call_key FROM event_sessions
            WHERE destructive AND kind = 'process' AND url IS NOT NULL
        )
        SELECT h.session_key, h.call_key AS finding_key,
               list(e.event_id ORDER BY e.time, e.seq) AS event_ids,
               min(e.time) AS first_seen, max(e.time) AS last_seen,
               to_json({
                   operation: any_value(e.operation) FILTER (WHERE e.kind = 'process'),
                   target: any_value(e.target),
                   url: any_value(e.url),
                   command: any_value(e.command) FILTER (WHERE e.kind = 'process'),
                   credential_fp: any_value(e.credential_fp),
                   categories: list_distinct(flatten(list(e.categories))),
                   target_env: max(e.target_env) FILTER (WHERE e.target_env <> 'unknown'),
                   provider_confirmed_at: min(e.time) FILTER (WHERE e.kind = 'api'),
                   sources: list_distinct(list(e.source))
               }) AS evidence
        FROM hits h
        JOIN event_sessions e
          ON e.call_key = h.call_key AND e.session_key IS NOT DISTINCT FROM h.session_key
        GROUP BY h.session_key, h.call_key
        """

    def title(self, evidence: dict[str, Any]) -> str:
        operation = evidence.get("operation") or "destructive call"
        target = evidence.get("target")
        return f"Destructive provider call over HTTP: {operation}" + (
            f" on {target}" if target else ""
        )
