"""A notification becomes outbox rows, one per target; acknowledgement.

apprise targets get the page (`message.py`) for the group. PagerDuty gets one event for the
incident (dedup_key = incident id): trigger while alerts of it fire, resolve once the incident
has resolved (not when only this route's alerts have: another route may still page it). A
team's own Alertmanager gets the alerts themselves (labels, startsAt, endsAt), one pending row
per incident holding every alert not yet delivered.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from agentaudit.alert.clock import Clock, SystemClock
from agentaudit.alert.config import AlertingConfig
from agentaudit.alert.delivery import alertmanager, outbox, pagerduty
from agentaudit.alert.dispatch import Notification
from agentaudit.alert.evidence import findings_of
from agentaudit.alert.lifecycle import incident, record_finding
from agentaudit.alert.membership import episode_members
from agentaudit.alert.message import by_severity, render_body, render_resolved_body, render_title
from agentaudit.store import Store
from agentaudit.taxonomy import severity_rank


def enqueue(
    store: Store, config: AlertingConfig, note: Notification, now: datetime
) -> list[dict[str, Any]]:
    """Queue the notification for every target of its receiver; returns the outbox rows."""
    receiver = config.receiver(note.receiver)
    alert = incident(store, note.alert_id)
    findings = {f["finding_id"]: f for f in findings_of(store, [*note.alerts, *note.muted])}

    def of(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ids = {i for a in alerts for i in a["finding_ids"] or []}
        return [f for f in findings.values() if f["finding_id"] in ids]

    firing = by_severity(of(note.firing()))
    body = alertmanager.alerts_body(note.alerts, findings) if receiver.alertmanager else {}
    rows = [
        _forward(store, alert["alert_id"], receiver.name, t, body, now)
        for t in receiver.alertmanager
    ]
    if receiver.apprise or receiver.pagerduty:
        rows += _page(store, alert, receiver, note, firing, of, now)
    if rows:
        store.con.execute(
            "UPDATE alerts SET notified_at = ? WHERE alert_id = ?", [now, alert["alert_id"]]
        )
    return rows


def _forward(store: Store, alert_id: str, receiver: str, target, body: dict, now) -> dict:
    """One pending row per incident and Alertmanager: a newer notification (another group of
    the incident, a later tick) supersedes the pending one and carries its alerts too, each as
    the newest notification has it, so no alert is dropped (Alertmanager merges by label set)."""
    pending = store.rows(
        """SELECT payload FROM outbox WHERE alert_id = ? AND target_id = ? AND action = ?
           AND status = 'pending' ORDER BY created_at""",
        [alert_id, target.target_id, alertmanager.ACTION],
    )
    merged = alertmanager.merge([*(json.loads(r["payload"]) for r in pending), body])
    return outbox.enqueue(store, alert_id, receiver, target, alertmanager.ACTION, merged, now)


def _page(store, alert, receiver, note, firing, of, now) -> list[dict[str, Any]]:
    """The page for apprise targets and the PagerDuty event for the incident."""
    resolved = of([a for a in note.alerts if a["status"] == "resolved"])
    if firing:
        title = render_title(firing)
        muted = of([a for a in note.muted if a["status"] == "firing"])
        body = render_body(
            store, firing, muted=muted, alert_id=alert["alert_id"], resolved=resolved
        )
        store.con.execute(
            "UPDATE alerts SET body = ? WHERE alert_id = ?", [body, alert["alert_id"]]
        )
    else:
        title = f"[RESOLVED] {alert['title']}"
        body = render_resolved_body(store, alert, resolved)
    action = "trigger" if firing else "resolve"
    severity = max(
        (f["severity"] for f in firing),
        key=severity_rank,
        default=alert["severity"],
    )
    rows = []
    for target in receiver.apprise:
        notify_type = "failure" if severity in ("critical", "high") else "warning"
        payload = {
            "title": title,
            "body": body,
            "notify_type": "success" if action == "resolve" else notify_type,
        }
        rows.append(
            outbox.enqueue(store, alert["alert_id"], receiver.name, target, action, payload, now)
        )
    # PagerDuty's incident is ours: resolved when every alert of it has, not when one route's have
    pd_action = action if firing or alert["status"] == "resolved" else None
    for target in receiver.pagerduty if pd_action else ():
        findings = firing or findings_of(store, episode_members(store, alert))
        payload = pagerduty.event_body(
            alert, findings, action=pd_action, summary=title, body=body, source=target.source
        )
        rows.append(
            outbox.enqueue(store, alert["alert_id"], receiver.name, target, pd_action, payload, now)
        )
    return rows


def acknowledge(
    store: Store,
    config: AlertingConfig,
    alert_id: str,
    *,
    by: str,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """On-call has it: stop repeats, tell PagerDuty, record the finding as In Progress."""
    now = (clock or SystemClock()).now()
    rows = store.rows("SELECT alert_id FROM alerts WHERE alert_id LIKE ? || '%'", [alert_id])
    if len(rows) != 1:
        raise KeyError(f"{len(rows)} alerts match {alert_id!r}")
    alert_id = rows[0]["alert_id"]
    store.con.execute(
        """UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ?, updated_at = ?
           WHERE alert_id = ?""",
        [now, by, now, alert_id],
    )
    record_finding(store, alert_id, activity="update", reason=f"acknowledged by {by}", at=now)
    alert = incident(store, alert_id)
    paged = store.rows(
        "SELECT DISTINCT receiver, target_id FROM outbox WHERE alert_id = ? AND action = 'trigger'",
        [alert_id],
    )
    findings = findings_of(store, episode_members(store, alert))
    for row in paged:
        receiver = config.receivers.get(row["receiver"])
        for target in receiver.pagerduty if receiver else ():
            if target.target_id != row["target_id"]:
                continue
            payload = pagerduty.event_body(
                alert, findings, action="acknowledge", summary=alert["title"], body="",
                source=target.source,
            )  # fmt: skip
            outbox.enqueue(store, alert_id, receiver.name, target, "acknowledge", payload, now)
    return incident(store, alert_id)
