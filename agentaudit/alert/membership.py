"""Findings become alerts, alerts belong to incidents, and alerts resolve.

A finding is posted once, as Alertmanager receives an alert: with the labels it has then (an
alert's labels are its identity; findings with the same labels are one alert). Each posting
sets the alert's end to now + resolve_timeout, as Alertmanager does for an alert without
endsAt; an alert whose end has passed is resolved, and a later finding with its labels fires
it again as a new alert. An incident (`alerts` row) holds the alerts with the same
`incident_by` labels and resolves when all of them have; the same labels firing after that
open a new incident under the same id, as PagerDuty does after a resolve.

A paged incident continues under a later link. `watch` judges a shell line whose agent call
has not arrived within `settle_seconds` in its inferred shell session, and pages it; when the
agent's record arrives, linking moves the line into the agent's session and detection
supersedes those findings with findings of that session (detect/record.py). Its session is
in the incident labels, so it used to open a second incident and page the same command
again. Instead, an agent session that an evidence event of a notified, still open incident
of an inferred session has been linked to is labelled with that incident's session: its
findings join that incident (an update after `group_interval` if they add alerts, never a
second first page).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from agentaudit.alert.config import AlertingConfig
from agentaudit.alert.grouping import alert_id_for, group_labels
from agentaudit.alert.labels import finding_labels, fingerprint, label_string, open_finding_events
from agentaudit.alert.message import when
from agentaudit.alert.suppression import labels_json
from agentaudit.detect.link import PROVISIONAL_REASONS
from agentaudit.schema import earliest, latest
from agentaudit.store import Store
from agentaudit.taxonomy import severity_rank

Changes = dict[str, list[tuple[str, str]]]

_MEMBER_COLUMNS = (
    "alert_id, fingerprint, rule_id, severity, labels, finding_ids, state, silenced_by, "
    "inhibited_by, first_seen, last_seen, starts_at, updated_at, ends_at"
)


def post_findings(
    store: Store,
    config: AlertingConfig,
    now: datetime,
    changes: Changes,
    scope: list[str] | None,
) -> list[dict[str, Any]]:
    """Open findings not yet in a firing alert are posted; returns the alerts they touched:
    {fingerprint, labels, alert_id, severity, joined (new or firing again)}."""
    in_scope = "" if scope is None else "AND finding_id IN (SELECT unnest(?::VARCHAR[]))"
    findings = store.rows(
        f"""SELECT * FROM findings WHERE status <> 'resolved' {in_scope}
              AND finding_id NOT IN (SELECT unnest(finding_ids) FROM alert_members
                                     WHERE state <> 'resolved')
            ORDER BY first_seen, rule_id""",
        [] if scope is None else [scope],
    )
    if not findings:
        return []
    events_of = open_finding_events(store, [f["finding_id"] for f in findings], findings)
    continued = continued_sessions(store)
    posted: dict[str, dict[str, Any]] = {}  # fingerprint -> the alert this batch posts
    for finding in findings:
        labels = labels_of(finding, events_of.get(finding["finding_id"], []), config, continued)
        fp = fingerprint(labels)
        incident = group_labels(labels, config.incident_by)
        alert = posted.setdefault(
            fp,
            {
                "fingerprint": fp,
                "labels": labels,
                "incident_key": label_string(incident),
                "incident_labels": incident,
                "alert_id": alert_id_for(label_string(incident)),
                "severity": finding["severity"],
                "rule_id": finding["rule_id"],
                "session": finding["session_id"],  # None for a finding without a session
                "finding_ids": [],
                "first_seen": finding["first_seen"],
                "last_seen": finding["last_seen"],
            },
        )
        alert["finding_ids"].append(finding["finding_id"])
        alert["first_seen"] = earliest([alert["first_seen"], finding["first_seen"]])
        alert["last_seen"] = latest([alert["last_seen"], finding["last_seen"]])
    ends_at = now + config.resolve_timeout
    incidents: dict[str, list[dict[str, Any]]] = {}
    for alert in posted.values():
        incidents.setdefault(alert["alert_id"], []).append(alert)
    ids = list(incidents)
    status = {
        r["alert_id"]: r["status"]
        for r in store.rows(
            "SELECT alert_id, status FROM alerts WHERE alert_id IN (SELECT unnest(?::VARCHAR[]))",
            [ids],
        )
    }
    for alert_id, alerts in incidents.items():
        if status.get(alert_id) in (None, "resolved"):
            _open_incident(store, alert_id, alerts, now)
            changes.setdefault(alert_id, []).append(("created", ""))
        _post(store, alert_id, alerts, now, ends_at, changes)
        store.con.execute(
            "UPDATE alerts SET last_activity_at = ?, updated_at = ? WHERE alert_id = ?",
            [now, now, alert_id],
        )  # (its title, severity and span follow from its alerts: lifecycle.record_changes)
    return list(posted.values())


def labels_of(
    finding: dict[str, Any],
    events: list[dict[str, Any]],
    config: AlertingConfig,
    continued: dict[str, str],
) -> dict[str, Any]:
    """The labels a finding is posted with (a continued session takes its incident's)."""
    labels = finding_labels(finding, events, config.rule_families)
    if labels.get("session_id") in continued:
        labels["session_id"] = continued[str(labels["session_id"])]
    return labels


def continued_sessions(store: Store) -> dict[str, str]:
    """agent session -> the inferred session (`shell:`, `principal:`) of a notified, open
    incident one of whose evidence events has since been linked to that agent session."""
    rows = store.rows(
        f"""WITH paged AS (
               SELECT DISTINCT json_extract_string(m.labels, '$.session_id') AS paged,
                      unnest(f.event_ids) AS event_id
               FROM alert_members m
               JOIN alerts a ON a.alert_id = m.alert_id
               JOIN findings f ON list_contains(m.finding_ids, f.finding_id)
               WHERE a.notified_at IS NOT NULL AND a.status <> 'resolved'
                 AND regexp_matches(json_extract_string(m.labels, '$.session_id'),
                                    '^(shell|principal):'))
           SELECT DISTINCT l.session_id AS session, p.paged
           FROM paged p JOIN links l ON l.event_id = p.event_id
           WHERE l.reason NOT IN {PROVISIONAL_REASONS} AND l.session_id IS NOT NULL"""
    )
    found: dict[str, str] = {}
    for r in sorted(rows, key=lambda r: r["paged"]):  # one incident per session, stably
        if r["paged"] != r["session"]:
            found.setdefault(r["session"], r["paged"])
    return found


def _open_incident(store: Store, alert_id: str, alerts: list[dict[str, Any]], now) -> None:
    """A new incident, or the same labels firing again after it resolved (same id). Alerts of
    the previous one that a group has still to report resolved stay until it has."""
    store.con.execute("DELETE FROM alerts WHERE alert_id = ?", [alert_id])
    store.con.execute(
        """DELETE FROM alert_members WHERE alert_id = ? AND fingerprint NOT IN
           (SELECT fingerprint FROM alert_group_members)""",
        [alert_id],
    )
    sessions = {a["session"] for a in alerts}
    store.con.execute(
        """INSERT INTO alerts (alert_id, group_key, title, severity, status, session_id,
               first_seen, last_seen, finding_ids, body, created_at, updated_at, notified_at,
               route, receiver, group_labels, next_flush_at, last_activity_at)
           VALUES (?, ?, '', 'info', 'pending', ?, ?, ?, [], '', ?, ?, NULL, '', '', ?, NULL, ?)""",
        [
            alert_id,
            alerts[0]["incident_key"],
            sessions.pop() if len(sessions) == 1 else None,
            earliest(a["first_seen"] for a in alerts),
            latest(a["last_seen"] for a in alerts),
            now,
            now,
            json.dumps(alerts[0]["incident_labels"], sort_keys=True),
            now,
        ],
    )


def _post(
    store: Store,
    alert_id: str,
    alerts: list[dict[str, Any]],
    now: datetime,
    ends_at: datetime,
    changes: Changes,
) -> None:
    current = {
        r["fingerprint"]: r
        for r in store.rows(
            "SELECT fingerprint, state, finding_ids FROM alert_members WHERE alert_id = ?",
            [alert_id],
        )
    }
    joined = []
    for alert in alerts:
        row = current.get(alert["fingerprint"])
        values = [
            sorted(alert["finding_ids"]),
            alert["first_seen"],
            alert["last_seen"],
            now,
            ends_at,
            alert_id,
            alert["fingerprint"],
        ]
        if row is None:
            store.con.execute(
                f"""INSERT INTO alert_members ({_MEMBER_COLUMNS})
                    VALUES (?, ?, ?, ?, ?, ?, 'active', [], [], ?, ?, ?, ?, ?)""",
                [
                    alert_id,
                    alert["fingerprint"],
                    alert["rule_id"],
                    alert["severity"],
                    labels_json(alert["labels"]),
                    *values[:3],
                    now,
                    now,
                    ends_at,
                ],
            )
        elif row["state"] == "resolved":  # the same alert firing again: a new alert
            store.con.execute(
                """UPDATE alert_members SET finding_ids = ?, first_seen = ?, last_seen = ?,
                       starts_at = ?, ends_at = ?, state = 'active', silenced_by = [],
                       inhibited_by = [], updated_at = ?
                   WHERE alert_id = ? AND fingerprint = ?""",
                [*values[:4], ends_at, now, alert_id, alert["fingerprint"]],
            )
        else:  # an update of a firing alert: more findings, a later end
            store.con.execute(
                """UPDATE alert_members SET finding_ids = list_distinct(list_concat(finding_ids, ?)),
                       last_seen = greatest(last_seen, ?), ends_at = ?, updated_at = ?
                   WHERE alert_id = ? AND fingerprint = ?""",
                [values[0], alert["last_seen"], ends_at, now, alert_id, alert["fingerprint"]],
            )
            changes.setdefault(alert_id, []).append(("refreshed", alert["fingerprint"]))
            alert["joined"] = False
            continue
        alert["joined"] = True
        joined.append(alert)
    # most severe first, so the Create record already names the incident's worst alert
    for alert in sorted(joined, key=lambda a: (-_rank(a["severity"]), *when(a["first_seen"]))):
        changes.setdefault(alert_id, []).append(("joined", alert["fingerprint"]))


def resolve_ended(store: Store, now: datetime, changes: Changes) -> None:
    """Alerts whose end has passed are resolved (and their findings); so is an incident whose
    alerts all are."""
    ended = store.rows(
        """UPDATE alert_members SET state = 'resolved', updated_at = ?
           WHERE state <> 'resolved' AND (ends_at IS NULL OR ends_at <= ?)
           RETURNING alert_id, fingerprint, finding_ids""",
        [now, now],
    )
    if not ended:
        return
    store.con.execute(
        "UPDATE findings SET status = 'resolved' WHERE finding_id IN (SELECT unnest(?::VARCHAR[]))",
        [sorted({f for r in ended for f in r["finding_ids"] or []})],
    )
    closed = close_emptied(store, {r["alert_id"] for r in ended}, now)
    for row in ended:
        if row["alert_id"] not in closed:
            changes.setdefault(row["alert_id"], []).append(("resolved", row["fingerprint"]))
    for alert_id in sorted(closed):
        changes.setdefault(alert_id, []).append(("closed", ""))


def close_emptied(store: Store, alert_ids: set[str], now: datetime) -> set[str]:
    """Resolve each of these incidents none of whose alerts is still open; returns them."""
    return {
        r["alert_id"]
        for r in store.rows(
            """UPDATE alerts a SET status = 'resolved', resolved_at = ?, updated_at = ?
               WHERE status <> 'resolved' AND alert_id IN (SELECT unnest(?::VARCHAR[]))
                 AND NOT EXISTS (SELECT 1 FROM alert_members m
                                 WHERE m.alert_id = a.alert_id AND m.state <> 'resolved')
               RETURNING alert_id""",
            [now, now, sorted(alert_ids)],
        )
    }


def episode_members(store: Store, alert: dict[str, Any]) -> list[dict[str, Any]]:
    """The incident's alerts since it (last) opened: not those a previous one left resolved
    (an alert posted, or firing again, since the incident opened started after it)."""
    return store.rows(
        """SELECT * FROM alert_members WHERE alert_id = ? AND starts_at >= ?
           ORDER BY starts_at, fingerprint""",
        [alert["alert_id"], alert["created_at"]],
    )


def _rank(severity: str) -> int:
    return severity_rank(severity)
