"""Flushing due groups: Alertmanager's notification pipeline (notify/notify.go, 0.25).

At a group's tick its alerts are read as they are now: those whose end has passed are
resolved. Muted ones (silenced or inhibited; resolved ones too) are left out; if nothing is
left, nothing happens. Otherwise the receiver's last notification for this group key (the
`nflog`) decides: notify when a firing alert is new to it, when every firing alert it was told
about has gone (all resolved or muted), with `send_resolved` when an alert resolved since, or
when `repeat_interval` has passed since (strictly). Without `send_resolved`, resolved alerts
are dropped from the message and a notification of only resolved alerts is logged, not sent.
Resolved alerts leave the group after the flush. One agentaudit addition: an acknowledged
incident does not repeat.

A receiver with no targets (none configured) notifies nobody: such notifications are returned
as `unsent`, so the caller can say so loudly, and, as Alertmanager with no integrations does,
nothing is logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from agentaudit.alert.config import AlertingConfig, Receiver, Route
from agentaudit.alert.grouping import after_flush, due_groups
from agentaudit.alert.labels import label_value
from agentaudit.alert.suppression import Muter, labels_from_json
from agentaudit.store import Store


@dataclass
class Notification:
    """What one receiver is told about one group at one tick."""

    group_id: str
    group_key: str
    route: str
    receiver: str
    alert_id: str  # the incident
    status: str  # firing while any alert in it fires, else resolved
    alerts: list[dict[str, Any]]  # alert_members rows, with `status` firing|resolved
    muted: list[dict[str, Any]] = field(default_factory=list)  # the group's muted alerts
    at: datetime | None = None

    def firing(self) -> list[dict[str, Any]]:
        return [a for a in self.alerts if a["status"] == "firing"]

    def as_dict(self) -> dict[str, Any]:
        """receiver, groupKey, status and alerts (labels, status) as Alertmanager's webhook."""
        return {
            "receiver": self.receiver,
            "groupKey": self.group_key,
            "status": self.status,
            "alert_id": self.alert_id,
            "alerts": [
                {
                    "status": a["status"],
                    "labels": {k: label_value(v) for k, v in labels_from_json(a["labels"]).items()},
                    "fingerprint": a["fingerprint"],
                }
                for a in self.alerts
            ],
        }


@dataclass
class Flushed:
    sent: list[Notification] = field(default_factory=list)  # to receivers with targets
    unsent: list[Notification] = field(default_factory=list)  # firing, but no target to tell


def flush_due(store: Store, config: AlertingConfig, muter: Muter, now: datetime) -> Flushed:
    out = Flushed()
    routes = config.routes()
    groups = due_groups(store, now)
    if not groups:
        return out
    ids = [g["group_id"] for g in groups]
    members_of: dict[str, list[dict[str, Any]]] = {}
    for m in store.rows(
        """SELECT g.group_id, m.*, a.status AS incident_status,
                  a.acknowledged_at IS NOT NULL AS acked
           FROM alert_group_members g JOIN alert_members m USING (fingerprint)
           JOIN alerts a ON a.alert_id = m.alert_id
           WHERE g.group_id IN (SELECT unnest(?::VARCHAR[]))
           ORDER BY m.starts_at, m.fingerprint""",
        [ids],
    ):
        members_of.setdefault(m["group_id"], []).append(m)
    entries = {
        (e["group_key"], e["receiver"]): e
        for e in store.rows(
            """SELECT * FROM nflog WHERE expires_at > ?
               AND group_key IN (SELECT unnest(?::VARCHAR[]))""",
            [now, sorted({g["group_key"] for g in groups})],
        )
    }
    for group in groups:
        route = routes.get(group["route"]) or config.route  # (a route since removed)
        receiver = config.receiver(group["receiver"])
        members = members_of.get(group["group_id"], [])
        resolved = [m["fingerprint"] for m in members if _resolved(m, now)]
        shown, muted = [], []
        for m in members:
            status = "resolved" if m["fingerprint"] in resolved else "firing"
            if status == "resolved":
                quiet = muter.mutes(labels_from_json(m["labels"]))
            else:
                quiet = m["state"] == "suppressed"
            (muted if quiet else shown).append({**m, "status": status})
        if any(m["incident_status"] == "pending" for m in members) and len(resolved) < len(members):
            store.con.execute(
                "UPDATE alerts SET status = 'firing' WHERE alert_id = ? AND status = 'pending'",
                [group["alert_id"]],
            )
        if shown:
            acked = any(m["acked"] for m in members)
            entry = entries.get((group["group_key"], receiver.name))
            note = _notify(store, group, route, receiver, shown, entry, acked, now)
            if note is not None:
                note.muted = muted
                if receiver.targets():
                    out.sent.append(note)
                elif note.firing():
                    out.unsent.append(note)
        after_flush(store, group, route, resolved, len(members) - len(resolved), now)
    return out


def _resolved(member: dict[str, Any], now: datetime) -> bool:
    return member["state"] == "resolved" or (
        member["ends_at"] is not None and member["ends_at"] <= now
    )


def _notify(
    store: Store,
    group: dict[str, Any],
    route: Route,
    receiver: Receiver,
    shown: list[dict[str, Any]],
    entry: dict[str, Any] | None,
    acked: bool,
    now: datetime,
) -> Notification | None:
    firing = {a["fingerprint"] for a in shown if a["status"] == "firing"}
    resolved = {a["fingerprint"] for a in shown if a["status"] == "resolved"}
    why = needs_update(entry, firing, resolved, receiver.send_resolved, route.repeat_interval, now)
    if why == "repeat" and acked:
        # agentaudit: an acknowledged incident does not repeat; its log entry is kept alive as
        # if the repeats were sent (else it would expire and the alert be news again)
        store.con.execute(
            "UPDATE nflog SET expires_at = ? WHERE group_key = ? AND receiver = ?",
            [now + 2 * route.repeat_interval, group["group_key"], receiver.name],
        )
        return None
    if why is None:
        return None
    if receiver.targets():  # as SetNotifiesStage: only what was handed to an integration
        store.con.execute(
            "INSERT OR REPLACE INTO nflog VALUES (?, ?, ?, ?, ?, ?)",
            [
                group["group_key"],
                receiver.name,
                now,
                sorted(firing),
                sorted(resolved),
                now + 2 * route.repeat_interval,
            ],
        )
    alerts = shown if receiver.send_resolved else [a for a in shown if a["status"] == "firing"]
    if not alerts:
        return None  # only resolved alerts and no send_resolved: logged, not sent
    return Notification(
        group_id=group["group_id"],
        group_key=group["group_key"],
        route=route.name,
        receiver=receiver.name,
        alert_id=group["alert_id"],
        status="firing" if firing else "resolved",
        alerts=alerts,
        at=now,
    )


def needs_update(
    entry: dict[str, Any] | None,
    firing: set[str],
    resolved: set[str],
    send_resolved: bool,
    repeat: timedelta,
    now: datetime,
) -> str | None:
    """Alertmanager's DedupStage.needsUpdate: None, "change" or "repeat"."""
    if entry is None:
        return "change" if firing else None
    if not firing <= set(entry["firing"] or []):
        return "change"
    if not firing:
        return "change" if entry["firing"] else None
    if send_resolved and not resolved <= set(entry["resolved"] or []):
        return "change"
    return "repeat" if entry["sent_at"] < now - repeat else None
