"""Data and its backups destroyed together (S8), in one call or one after the other.

One call: categories name both a data delete and `backup_destroy` (Railway `volumeDelete`,
whose backups live in the volume), or an RDS `DeleteDBInstance` that skips the final
snapshot or deletes automated backups. Two calls: a data delete, then a backup delete by the
same session or principal within BACKUP_WINDOW_SECONDS. Refused calls destroyed nothing.
One finding per session (a sessionless provider record: one per call), stamped at the first.
"""

from __future__ import annotations

from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo
from agentaudit.taxonomy import category_list_sql

BACKUP_WINDOW_SECONDS = 600
DATA_CATEGORIES = ("cloud_delete", "db_destroy", "fs_delete", "infra_destroy")


class DataAndBackups(Detector):
    info = DetectorInfo(
        id="data-and-backups-destroyed",
        title="Data and its backups destroyed together",
        severity="critical",
        kind="behaviour",
        description="One call destroys data and its backups, or a data delete is followed by "
        f"a backup delete within {BACKUP_WINDOW_SECONDS} s by the same session or principal.",
    )
    anchor = "destructive"

    def query(self) -> str:
        data = category_list_sql(*DATA_CATEGORIES)
        return f"""
        WITH calls AS (
            SELECT coalesce(session_key, 'principal:' || coalesce(actor, credential_fp)) AS owner,
                   session_key, call_key, min(time) AS t, list(event_id ORDER BY time) AS ids,
                   any_value(operation ORDER BY kind = 'api') AS operation,
                   any_value(target) AS target,
                   list_distinct(flatten(list(coalesce(categories, [])))) AS cats,
                   -- the AWS catalog files a DeleteDBInstance that skips the final snapshot or
                   -- deletes the automated backups under backup_destroy as well
                   bool_or(operation = 'DeleteDBInstance'
                           AND list_contains(categories, 'backup_destroy')) AS rds_no_snapshot,
                   bool_or(status IN ('failure', 'denied')) AS refused
            FROM event_sessions
            WHERE destructive AND kind IN ('process', 'api')
              AND (session_key IS NOT NULL OR actor IS NOT NULL OR credential_fp IS NOT NULL)
            GROUP BY ALL
        ), done AS (
            SELECT *, list_has_any(cats, [{data}]) AS is_data,
                   list_contains(cats, 'backup_destroy') AS is_backup
            FROM calls WHERE NOT refused
        ), together AS (
            SELECT session_key, call_key AS finding_key, ids AS event_ids, t AS first_seen,
                   t AS last_seen,
                   to_json({{how: 'one call', operation: operation, target: target,
                             categories: cats, skips_final_snapshot: rds_no_snapshot}}) AS evidence
            FROM done WHERE (is_data AND is_backup) OR rds_no_snapshot
        ), sequence AS (
            SELECT d.session_key, d.call_key AS finding_key,
                   flatten([d.ids, flatten(list(b.ids ORDER BY b.t))]) AS event_ids,
                   d.t AS first_seen, max(b.t) AS last_seen,
                   to_json({{how: 'delete then backup delete', operation: d.operation,
                             target: d.target,
                             backups: list(b.operation || coalesce(' ' || b.target, '') ORDER BY b.t)}})
                       AS evidence
            FROM done d JOIN done b
              ON b.owner = d.owner AND b.is_backup AND NOT b.is_data AND d.is_data
             AND NOT d.is_backup AND b.t > d.t
             AND b.t <= d.t + INTERVAL {BACKUP_WINDOW_SECONDS} SECOND
            GROUP BY d.session_key, d.call_key, d.ids, d.t, d.operation, d.target
        )
        , found AS (SELECT * FROM together UNION ALL SELECT * FROM sequence)
        -- one finding per session, named by its first destruction: keyed by the session, so
        -- the finding is the same whichever calls a pass saw first (a call that looked done
        -- and was refused a moment later, a later call that did it)
        SELECT session_key, CASE WHEN session_key IS NULL THEN finding_key ELSE 'session' END
                   AS finding_key,
               list_distinct(flatten(list(event_ids ORDER BY first_seen))) AS event_ids,
               min(first_seen) AS first_seen, max(last_seen) AS last_seen,
               (list(evidence ORDER BY first_seen NULLS LAST))[1] AS evidence
        FROM found GROUP BY ALL
        """

    def title(self, evidence: dict[str, Any]) -> str:
        operation = evidence.get("operation") or "a delete"
        if evidence.get("how") == "one call":
            return f"{operation} destroyed data and its backups in one call"
        return f"{operation} followed by {len(evidence.get('backups') or [])} backup deletes"
