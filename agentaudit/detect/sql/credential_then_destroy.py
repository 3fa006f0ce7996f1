"""A credential read from a file (or printed by a command), then used by a destructive call.

The PocketOS path: `grep -rn RAILWAY .` prints a token from an unrelated file, the agent reads
that file, and the next call sends the same token to delete a volume. Secrets are never
stored; their keyed fingerprints are, so the read and the use join on `credential_fp`.
"""

from __future__ import annotations

from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo


class CredentialThenDestroy(Detector):
    info = DetectorInfo(
        id="credential-read-then-destructive-use",
        title="Credential read from a file, then used by a destructive call",
        severity="critical",
        kind="correlation",
        description="A secret seen in a file or a command's output is later the credential "
        "of a destructive call in the same session.",
    )
    anchor = "destructive AND credential_fp IS NOT NULL"

    def query(self) -> str:
        return """
        WITH reveals AS (
            SELECT session_key, event_id, time, kind, paths, command, credential_fp,
                   unnest(secret_fps) AS fp
            FROM event_sessions WHERE secret_fps IS NOT NULL
        ), uses AS (
            SELECT session_key, call_key, event_id, time, credential_fp, operation, target
            FROM event_sessions WHERE destructive AND credential_fp IS NOT NULL
        ), pairs AS (
            SELECT u.session_key, u.call_key, u.credential_fp, u.operation, u.target,
                   r.event_id AS read_id, r.time AS read_time, r.kind AS read_kind,
                   r.paths AS read_paths, r.command AS read_command,
                   u.event_id AS use_id, u.time AS use_time
            FROM uses u
            JOIN reveals r
              ON r.fp = u.credential_fp AND r.time <= u.time
             AND r.session_key IS NOT DISTINCT FROM u.session_key
             AND r.credential_fp IS DISTINCT FROM r.fp
        )
        SELECT session_key, call_key AS finding_key,
               list_distinct(flatten([list(read_id ORDER BY read_time), list(use_id ORDER BY use_time)]))
                   AS event_ids,
               min(read_time) AS first_seen, max(use_time) AS last_seen,
               to_json({
                   credential_fp: any_value(credential_fp),
                   read_from: list_distinct(flatten(list(read_paths) FILTER (WHERE read_kind = 'file'))),
                   revealed_by: list_distinct(list(read_command) FILTER (WHERE read_kind = 'process')),
                   used_by: any_value(operation), target: any_value(target),
                   first_read_at: min(read_time), used_at: min(use_time)
               }) AS evidence
        FROM pairs
        GROUP BY session_key, call_key
        """

    def title(self, evidence: dict[str, Any]) -> str:
        files = evidence.get("read_from") or []
        origin = f" from {files[0]}" if files else ""
        return f"Credential read{origin} then used by {evidence.get('used_by') or 'a destructive call'}"
