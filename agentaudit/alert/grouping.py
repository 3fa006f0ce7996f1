"""One alert per incident: the findings of one group key (a session) become one alert.

The alert id is a hash of the group key, so the same incident keeps the same alert (and the
same PagerDuty dedup key / OCSF finding uid) however often detection runs.
"""

from __future__ import annotations

from typing import Any

from agentaudit.alert.message import render_body, render_title
from agentaudit.schema import SEVERITIES, stable_id
from agentaudit.store import Store, now


def alert_id_for(group_key: str) -> str:
    return stable_id("alert", group_key)


def build_alerts(store: Store) -> list[dict[str, Any]]:
    """Create or update the alert of every group with findings; returns the changed alerts."""
    changed: list[dict[str, Any]] = []
    groups = store.rows(
        """SELECT group_key, any_value(session_id) AS session_id,
                  list(finding_id ORDER BY first_seen, rule_id) AS finding_ids,
                  min(first_seen) AS first_seen, max(last_seen) AS last_seen
           FROM findings WHERE status <> 'resolved' GROUP BY group_key ORDER BY first_seen"""
    )
    for group in groups:
        alert_id = alert_id_for(group["group_key"])
        existing = store.rows("SELECT finding_ids FROM alerts WHERE alert_id = ?", [alert_id])
        if existing and sorted(existing[0]["finding_ids"]) == sorted(group["finding_ids"]):
            continue
        findings = store.rows(
            "SELECT * FROM findings WHERE finding_id IN (SELECT unnest(?::VARCHAR[]))",
            [group["finding_ids"]],
        )
        findings.sort(key=lambda f: (-SEVERITIES.index(f["severity"]), f["first_seen"]))
        alert = {
            "alert_id": alert_id,
            "group_key": group["group_key"],
            "title": render_title(findings),
            "severity": findings[0]["severity"],
            "status": "firing",
            "session_id": group["session_id"],
            "first_seen": group["first_seen"],
            "last_seen": group["last_seen"],
            "finding_ids": group["finding_ids"],
            "body": render_body(store, findings),
        }
        stamp = now()
        if existing:
            store.con.execute(
                """UPDATE alerts SET title = ?, severity = ?, status = 'firing', last_seen = ?,
                   finding_ids = ?, body = ?, updated_at = ?, notified_at = NULL
                   WHERE alert_id = ?""",
                [
                    alert["title"],
                    alert["severity"],
                    alert["last_seen"],
                    alert["finding_ids"],
                    alert["body"],
                    stamp,
                    alert_id,
                ],
            )
        else:
            store.con.execute(
                "INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                [
                    alert_id,
                    alert["group_key"],
                    alert["title"],
                    alert["severity"],
                    "firing",
                    alert["session_id"],
                    alert["first_seen"],
                    alert["last_seen"],
                    alert["finding_ids"],
                    alert["body"],
                    stamp,
                    stamp,
                ],
            )
        changed.append(alert)
    return changed
