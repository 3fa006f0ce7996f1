"""The incident's OCSF Detection Finding records, appended to `finding_log` as it changes.

Create when an incident opens, Update as alerts join (one record each), are refreshed,
silenced, inhibited, unmuted or resolved, or the incident is acknowledged (In Progress), Close
when every alert has resolved. `finding_info.uid` is the incident id (= PagerDuty dedup_key).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from agentaudit.alert.evidence import findings_of, rows_by_event_ids
from agentaudit.alert.membership import Changes, episode_members
from agentaudit.alert.message import by_severity, render_title
from agentaudit.export.ocsf import alert_finding
from agentaudit.schema import earliest, latest
from agentaudit.store import Store

_WHY = {
    "refreshed": "refreshed",
    "silenced": "silenced",
    "inhibited": "inhibited",
    "unmuted": "unmuted",
    "resolved": "resolved",
}


def incident(store: Store, alert_id: str) -> dict[str, Any]:
    return store.rows("SELECT * FROM alerts WHERE alert_id = ?", [alert_id])[0]


def record_finding(
    store: Store, alert_id: str, *, activity: str, reason: str, at: datetime
) -> dict[str, Any]:
    """Append the incident's OCSF Detection Finding as it is now."""
    record = _finding_record(snapshot(store, alert_id), activity=activity, reason=reason, at=at)
    _append_records(store, [(alert_id, at, record)])
    return record


def record_changes(
    store: Store, now: datetime, changes: Changes
) -> tuple[int, list[dict[str, Any]]]:
    """One record per joining alert (the first a Create when the incident opened), then one
    for the other changes of the incident (a Close when it closed). Returns the number of
    records and the incidents (rows) that changed."""
    pending: list[tuple[str, datetime, dict[str, Any]]] = []
    changed = []
    for alert_id, items in changes.items():
        shot = snapshot(store, alert_id)
        if any(kind in ("created", "joined", "refreshed") for kind, _ in items):
            shot = (_refresh_summary(store, shot), *shot[1:])
        changed.append(shot[0])
        rules = {m["fingerprint"]: m["rule_id"] for m in shot[1]}
        joins = [fp for kind, fp in items if kind == "joined"]
        created = any(kind == "created" for kind, _ in items)
        before = [fp for fp in rules if fp not in joins]
        for index, fp in enumerate(joins):
            rule = rules.get(fp, fp)
            first = created and index == 0
            record = _finding_record(
                shot,
                activity="create" if first else "update",
                reason=f"alert {rule} fired" if first else f"alert {rule} joined",
                at=now,
                only=[*before, *joins[: index + 1]],
            )
            pending.append((alert_id, now, record))
        # a joining alert's record already shows whether it is muted
        rest = [
            (kind, fp)
            for kind, fp in items
            if kind not in ("joined", "created") and not (fp in joins and kind in _WHY)
        ]
        if rest:
            closed = any(kind == "closed" for kind, _ in rest)
            reasons = sorted(
                {
                    "resolved: no new alert within resolve_timeout"
                    if kind == "closed"
                    else f"alert {rules.get(fp, fp)} {_WHY[kind]}"
                    for kind, fp in rest
                }
            )
            if closed:  # the alerts that resolved with it are said by the close
                reasons = [r for r in reasons if not r.endswith(" resolved")]
            record = _finding_record(
                shot, activity="close" if closed else "update", reason="; ".join(reasons), at=now
            )
            pending.append((alert_id, now, record))
    _append_records(store, pending)
    return len(pending), changed


def snapshot(store: Store, alert_id: str) -> tuple:
    alert = incident(store, alert_id)
    members = episode_members(store, alert)
    findings = findings_of(store, members)
    ids = sorted({e for f in findings for e in f["event_ids"]})
    events = rows_by_event_ids(
        store,
        "SELECT * FROM events WHERE event_id IN (SELECT unnest(?::VARCHAR[])) {span} "
        "ORDER BY time, seq",
        [ids],
        ids,
        findings,
    )
    return alert, members, findings, events


def _refresh_summary(store: Store, shot: tuple) -> dict[str, Any]:
    """The incident's title, severity, span and findings, from its current alerts."""
    alert, _members, findings, _events = shot
    findings = by_severity(findings)
    if not findings:
        return alert
    summary = {
        "title": render_title(findings),
        "severity": findings[0]["severity"],
        "first_seen": earliest(f["first_seen"] for f in findings),
        "last_seen": latest(f["last_seen"] for f in findings),
        "finding_ids": [f["finding_id"] for f in findings],
    }
    store.con.execute(
        """UPDATE alerts SET title = ?, severity = ?, first_seen = ?, last_seen = ?,
               finding_ids = ? WHERE alert_id = ?""",
        [*summary.values(), alert["alert_id"]],
    )
    return {**alert, **summary}


def _finding_record(
    shot: tuple, *, activity: str, reason: str, at: datetime, only: list[str] | None = None
) -> dict[str, Any]:
    alert, members, findings, events = shot
    if only is not None:
        members = [m for m in members if m["fingerprint"] in set(only)]
        wanted = {f for m in members for f in m["finding_ids"] or []}
        findings = [f for f in findings if f["finding_id"] in wanted]
        needed = {e for f in findings for e in f["event_ids"]}
        events = [e for e in events if e["event_id"] in needed]
    return alert_finding(
        alert,
        members,
        findings,
        events,
        activity=activity,
        status=_finding_status(alert, members),
        at=at,
        reason=reason,
    )


def _finding_status(alert: dict[str, Any], members: list[dict[str, Any]]) -> str:
    if alert["status"] == "resolved":
        return "resolved"
    live = [m for m in members if m["state"] != "resolved"]
    if live and all(m["state"] == "suppressed" for m in live):
        return "suppressed"
    return "in_progress" if alert.get("acknowledged_at") else "new"


def _append_records(store: Store, records: list[tuple[str, datetime, dict[str, Any]]]) -> None:
    """Append (alert_id, at, record) rows to finding_log in order, in one statement."""
    if not records:
        return
    seq = store.con.execute("SELECT coalesce(max(seq), 0) + 1 FROM finding_log").fetchall()[0][0]
    values: list[Any] = []
    for offset, (alert_id, at, record) in enumerate(records):
        values += [
            seq + offset,
            record["metadata"]["uid"],
            alert_id,
            record["activity_id"],
            at,
            json.dumps(record, sort_keys=True, ensure_ascii=False),
        ]
    rows = ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(records))
    store.con.execute(f"INSERT INTO finding_log VALUES {rows}", values)
