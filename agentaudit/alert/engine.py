"""The alert engine: findings -> alerts -> groups, timed notifications, OCSF lifecycle.

`evaluate` is one tick of Alertmanager's dispatcher, driven by an injectable clock:
1. every open finding gets labels and a fingerprint (one alert per fingerprint) and joins the
   group of each route it matches (group key = route + group_by labels);
2. silences and inhibition mark alerts suppressed (suppressed alerts are not sent);
3. a group with no new alert for `resolve_timeout` resolves;
4. groups whose timer is due (group_wait after creation, then every group_interval) are
   flushed: a receiver is notified when the firing set grew or changed, when repeat_interval
   passed without acknowledgement, or (send_resolved) when the group resolved. Notifications go
   to the outbox; `notification_log` remembers what each receiver was last told.
Every change of a group appends an OCSF Detection Finding (create/update/close) to finding_log.

A finding joins alerts once, with the labels it has then (an Alertmanager alert's labels are
its identity): later evaluations leave findings that are already members alone. `scope`
(what `watch` passes: the findings its pass just recorded) limits step 1 to those findings
and step 2 to the alerts they touch, so a tick costs what the batch brings, not what the
store holds; silences that started or ended in the last `SILENCE_RECHECK` still re-check
every alert.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from agentaudit.alert.clock import Clock, SystemClock
from agentaudit.alert.config import AlertingConfig, Receiver, Route
from agentaudit.alert.delivery import outbox, pagerduty
from agentaudit.alert.evidence import rows_by_event_ids
from agentaudit.alert.grouping import alert_id_for
from agentaudit.alert.labels import (
    finding_labels,
    fingerprint,
    group_key,
    group_labels,
    open_finding_events,
)
from agentaudit.alert.matchers import Labels, all_match
from agentaudit.alert.message import render_body, render_resolved_body, render_title
from agentaudit.alert.silences import active_silences
from agentaudit.export.ocsf import SEVERITY_IDS, alert_finding
from agentaudit.schema import earliest, latest
from agentaudit.store import Store

SILENCE_RECHECK = timedelta(minutes=1)


@dataclass
class EvalReport:
    changed: list[dict[str, Any]] = field(default_factory=list)  # groups created or changed
    notifications: list[dict[str, Any]] = field(default_factory=list)  # outbox rows enqueued
    records: int = 0  # OCSF finding lifecycle records written


def evaluate(
    store: Store,
    config: AlertingConfig,
    clock: Clock | None = None,
    *,
    scope: list[str] | None = None,
) -> EvalReport:
    """One tick; `scope`: only these findings are new (None: every open finding)."""
    now = (clock or SystemClock()).now()
    report = EvalReport()
    changes: dict[str, list[tuple[str, str]]] = {}
    store.con.execute("BEGIN TRANSACTION")
    try:
        touched = _ingest_findings(store, config, now, changes, scope)
        _suppress(store, config, now, changes, None if scope is None else touched)
        _resolve_quiet(store, config, now, changes)
        report.records = _record_lifecycle(store, now, changes)
        report.changed = [_alert(store, a) for a in changes]
        report.notifications = _flush(store, config, now)
        store.con.execute("COMMIT")
    except BaseException:
        store.con.execute("ROLLBACK")
        raise
    return report


# -- 1. findings -> alerts -> groups ----------------------------------------------------------


def _ingest_findings(
    store: Store,
    config: AlertingConfig,
    now: datetime,
    changes: dict[str, list],
    scope: list[str] | None,
) -> set[str]:
    """Open findings not yet in an alert join their groups; returns the alert ids touched."""
    incoming: dict[str, dict[str, Any]] = {}
    in_scope = "" if scope is None else "AND finding_id IN (SELECT unnest(?::VARCHAR[]))"
    findings = store.rows(
        f"""SELECT * FROM findings WHERE status <> 'resolved' {in_scope}
              AND finding_id NOT IN (SELECT unnest(m.finding_ids) FROM alert_members m
                                     JOIN alerts a USING (alert_id) WHERE a.status <> 'resolved')
            ORDER BY first_seen, rule_id""",
        [] if scope is None else [scope],
    )
    if not findings:
        return set()
    events_of = open_finding_events(store, [f["finding_id"] for f in findings], findings)
    for finding in findings:
        events = events_of.get(finding["finding_id"], [])
        labels = finding_labels(finding, events, config.rule_families)
        fp = fingerprint(labels)
        for route in config.route.match(labels):
            glabels = group_labels(labels, route.group_by)
            key = group_key(route.name, glabels)
            group = incoming.setdefault(
                alert_id_for(key),
                {"route": route, "labels": glabels, "key": key, "members": {}},
            )
            member = group["members"].setdefault(
                fp,
                {
                    "labels": labels,
                    "finding_ids": [],
                    "first_seen": finding["first_seen"],
                    "last_seen": finding["last_seen"],
                    "severity": finding["severity"],
                    "rule_id": finding["rule_id"],
                    "session": finding["session_id"],  # None for a finding without a session
                },
            )
            member["finding_ids"].append(finding["finding_id"])
            member["first_seen"] = earliest([member["first_seen"], finding["first_seen"]])
            member["last_seen"] = latest([member["last_seen"], finding["last_seen"]])
    ids = list(incoming)
    statuses = {
        r["alert_id"]: r["status"]
        for r in store.rows(
            "SELECT alert_id, status FROM alerts WHERE alert_id IN (SELECT unnest(?::VARCHAR[]))",
            [ids],
        )
    }
    current: dict[str, dict[str, list[str]]] = {}
    for r in store.rows(
        """SELECT alert_id, fingerprint, finding_ids FROM alert_members
           WHERE alert_id IN (SELECT unnest(?::VARCHAR[]))""",
        [ids],
    ):
        current.setdefault(r["alert_id"], {})[r["fingerprint"]] = r["finding_ids"]
    for alert_id, group in incoming.items():
        _upsert_group(
            store, alert_id, group, now, changes, statuses.get(alert_id), current.get(alert_id, {})
        )
    return set(incoming)


def _upsert_group(
    store: Store,
    alert_id: str,
    group: dict[str, Any],
    now: datetime,
    changes: dict[str, list],
    status: str | None,
    current: dict[str, list[str]],
) -> None:
    route: Route = group["route"]
    if status is None or status == "resolved":
        # a new incident (or the same key firing again after it resolved)
        store.con.execute("DELETE FROM alerts WHERE alert_id = ?", [alert_id])
        store.con.execute("DELETE FROM alert_members WHERE alert_id = ?", [alert_id])
        store.con.execute(
            """INSERT INTO alerts (alert_id, group_key, title, severity, status, session_id,
                   first_seen, last_seen, finding_ids, body, created_at, updated_at, notified_at,
                   route, receiver, group_labels, next_flush_at, last_activity_at)
               VALUES (?, ?, '', 'info', 'pending', ?, ?, ?, [], '', ?, ?, NULL, ?, ?, ?, ?, ?)""",
            [
                alert_id,
                group["key"],
                _common_session(group["members"].values()),
                earliest(m["first_seen"] for m in group["members"].values()),
                latest(m["last_seen"] for m in group["members"].values()),
                now,
                now,
                route.name,
                route.receiver,
                json.dumps(group["labels"], sort_keys=True),
                now + route.group_wait,
                now,
            ],
        )
        changes.setdefault(alert_id, []).append(("created", ""))
        current = {}
    joined = []
    new_members: list[Any] = []
    for fp, member in group["members"].items():
        if fp not in current:
            new_members.append(
                [
                    alert_id,
                    fp,
                    member["rule_id"],
                    member["severity"],
                    _labels_json(member["labels"]),
                    sorted(member["finding_ids"]),
                    member["first_seen"],
                    member["last_seen"],
                    now,
                    now,
                ]
            )
            joined.append((SEVERITY_IDS.get(member["severity"], 0), member["first_seen"], fp))
        elif set(member["finding_ids"]) - set(current[fp]):
            store.con.execute(
                """UPDATE alert_members SET finding_ids = ?, last_seen = ?, updated_at = ?
                   WHERE alert_id = ? AND fingerprint = ?""",
                [
                    sorted(set(member["finding_ids"]) | set(current[fp])),
                    latest([member["last_seen"], *_last_seen_of(store, current[fp])]),
                    now,
                    alert_id,
                    fp,
                ],
            )
            changes.setdefault(alert_id, []).append(("refreshed", fp))
    if new_members:  # one statement for the group's new members
        rows = ", ".join(["(?, ?, ?, ?, ?, ?, 'active', [], [], ?, ?, ?, ?)"] * len(new_members))
        store.con.execute(
            f"INSERT INTO alert_members VALUES {rows}", [v for row in new_members for v in row]
        )
    # most severe first, so the Create record already names the incident's worst alert
    for _sev, _first, fp in sorted(joined, key=lambda j: (-j[0], j[1])):
        changes.setdefault(alert_id, []).append(("joined", fp))
    if joined or alert_id in changes:
        store.con.execute(
            "UPDATE alerts SET last_activity_at = ?, updated_at = ? WHERE alert_id = ?",
            [now, now, alert_id],
        )
        _flush_now_if_escalated(store, alert_id, max((j[0] for j in joined), default=0), now)
        _refresh_summary(store, alert_id)


def _flush_now_if_escalated(store: Store, alert_id: str, joined_rank: int, now: datetime) -> None:
    """A group already notified whose severity rises (a high page, then the critical call
    seconds later) is notified again at once, not at its next group_interval: on-call must
    not read a high page while the incident has become critical."""
    rows = store.con.execute(
        "SELECT severity FROM alerts WHERE alert_id = ? AND notified_at IS NOT NULL", [alert_id]
    ).fetchall()
    if rows and joined_rank > SEVERITY_IDS.get(rows[0][0], 0):
        store.con.execute("UPDATE alerts SET next_flush_at = ? WHERE alert_id = ?", [now, alert_id])


def _last_seen_of(store: Store, finding_ids: list[str]) -> list[Any]:
    """last_seen of findings already in a member (the member's span keeps them)."""
    rows = store.con.execute(
        "SELECT max(last_seen) FROM findings WHERE finding_id IN (SELECT unnest(?::VARCHAR[]))",
        [finding_ids],
    ).fetchall()
    return [rows[0][0]]


def _common_session(members: Any) -> str | None:
    """The agent session all the group's findings share, if any (the session_id label of a
    finding without a session is its own key, which is not a session)."""
    values = {m["session"] for m in members}
    return values.pop() if len(values) == 1 else None


def _labels_json(labels: Labels) -> str:
    return json.dumps(
        {k: list(v) if isinstance(v, tuple) else v for k, v in labels.items()}, sort_keys=True
    )


@functools.lru_cache(maxsize=8192)  # every evaluate reads every open member's labels
def _labels_from_json(text: str) -> Labels:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(text).items()}


# -- 2. silences and inhibition ---------------------------------------------------------------


def _suppress(
    store: Store, config: AlertingConfig, now: datetime, changes: dict, only: set[str] | None
) -> None:
    """Mark members silenced or inhibited; `only`: just these alerts' members, and the
    members a member of theirs can inhibit, and muted ones (unless a silence has just
    started or ended: then every member)."""
    if only is not None and _silences_moved(store, now):
        only = None
    if only is not None and not only:
        muted = store.con.execute(
            "SELECT count(*) FROM alert_members WHERE state = 'suppressed'"
        ).fetchall()[0][0]
        if not muted:
            return  # a timer tick with nothing muted: nothing can change
    members = store.rows(
        """SELECT m.alert_id, m.fingerprint, m.labels, m.state, m.silenced_by, m.inhibited_by
           FROM alert_members m JOIN alerts a USING (alert_id)
           WHERE a.status <> 'resolved' AND m.state <> 'resolved'"""
    )
    silences = active_silences(store, now)
    labelled = [(m, _labels_from_json(m["labels"])) for m in members]
    rules = config.inhibit_rules
    # Per rule, the fingerprints of the members that can inhibit, by the labels they must
    # share with their target (one pass over the members, not one per target).
    inhibitors: list[dict[tuple[str, ...], set[str]]] = []
    for rule in rules:
        by_key: dict[tuple[str, ...], set[str]] = {}
        for m, labels in labelled:
            if all_match(rule.source_matchers, labels):
                by_key.setdefault(_equal_key(rule, labels), set()).add(m["fingerprint"])
        inhibitors.append(by_key)
    targets = labelled
    if only is not None:
        sources = [
            labels
            for m, labels in labelled
            if m["alert_id"] in only and any(all_match(r.source_matchers, labels) for r in rules)
        ]
        source_keys = [{_equal_key(rule, s) for s in sources} for rule in rules]
        targets = [
            (m, labels)
            for m, labels in labelled
            if m["alert_id"] in only
            or m["state"] == "suppressed"  # its source may have resolved: unmute it
            or any(
                _equal_key(rule, labels) in keys and all_match(rule.target_matchers, labels)
                for rule, keys in zip(rules, source_keys, strict=True)
            )
        ]
    for member, labels in targets:
        silenced_by = sorted(s.silence_id for s in silences if s.mutes(labels, now))
        inhibited_by = sorted(
            {
                fp
                for rule, by_key in zip(rules, inhibitors, strict=True)
                if all_match(rule.target_matchers, labels)
                for fp in by_key.get(_equal_key(rule, labels), ())
                if fp != member["fingerprint"]
            }
        )
        state = "suppressed" if silenced_by or inhibited_by else "active"
        if (state, silenced_by, inhibited_by) != (
            member["state"],
            sorted(member["silenced_by"] or []),
            sorted(member["inhibited_by"] or []),
        ):
            store.con.execute(
                """UPDATE alert_members SET state = ?, silenced_by = ?, inhibited_by = ?,
                   updated_at = ? WHERE alert_id = ? AND fingerprint = ?""",
                [state, silenced_by, inhibited_by, now, member["alert_id"], member["fingerprint"]],
            )
            if member["state"] != state:
                why = "silenced" if silenced_by else ("inhibited" if inhibited_by else "unmuted")
                changes.setdefault(member["alert_id"], []).append((why, member["fingerprint"]))


def _equal_key(rule: Any, labels: Labels) -> tuple[str, ...]:
    return tuple(labels.get(k, "") for k in rule.equal)


def _silences_moved(store: Store, now: datetime) -> bool:
    """A silence started, ended or was created within SILENCE_RECHECK."""
    since = now - SILENCE_RECHECK
    rows = store.con.execute(
        """SELECT count(*) FROM silences WHERE created_at BETWEEN ? AND ?
              OR starts_at BETWEEN ? AND ? OR ends_at BETWEEN ? AND ?""",
        [since, now] * 3,
    ).fetchall()
    return bool(rows[0][0])


# -- 3. resolve quiet groups ------------------------------------------------------------------


def _resolve_quiet(store: Store, config: AlertingConfig, now: datetime, changes: dict) -> None:
    quiet = store.rows(
        "SELECT alert_id FROM alerts WHERE status <> 'resolved' AND last_activity_at <= ?",
        [now - config.resolve_timeout],
    )
    for row in quiet:
        alert_id = row["alert_id"]
        store.con.execute(
            """UPDATE findings SET status = 'resolved' WHERE finding_id IN
               (SELECT unnest(finding_ids) FROM alert_members WHERE alert_id = ?)""",
            [alert_id],
        )
        store.con.execute(
            "UPDATE alert_members SET state = 'resolved', updated_at = ? WHERE alert_id = ?",
            [now, alert_id],
        )
        store.con.execute(
            """UPDATE alerts SET status = 'resolved', resolved_at = ?, updated_at = ?
               WHERE alert_id = ?""",
            [now, now, alert_id],
        )
        changes.setdefault(alert_id, []).append(("resolved", ""))


# -- OCSF lifecycle ---------------------------------------------------------------------------


def record_finding(
    store: Store,
    alert_id: str,
    *,
    activity: str,
    reason: str,
    at: datetime,
    only: list[str] | None = None,
    snapshot: tuple | None = None,
) -> dict[str, Any]:
    """Append the group's OCSF Detection Finding (optionally as of its first `only` alerts)."""
    record = _finding_record(
        store, alert_id, activity=activity, reason=reason, at=at, only=only, snapshot=snapshot
    )
    _append_records(store, [(alert_id, at, record)])
    return record


def _finding_record(
    store: Store,
    alert_id: str,
    *,
    activity: str,
    reason: str,
    at: datetime,
    only: list[str] | None = None,
    snapshot: tuple | None = None,
) -> dict[str, Any]:
    alert, members, findings, events = snapshot or _snapshot(store, alert_id)
    if only is not None:
        members = [m for m in members if m["fingerprint"] in set(only)]
        wanted = {f for m in members for f in m["finding_ids"] or []}
        findings = [f for f in findings if f["finding_id"] in wanted]
        needed = {e for f in findings for e in f["event_ids"]}
        events = [e for e in events if e["event_id"] in needed]
    record = alert_finding(
        alert,
        members,
        findings,
        events,
        activity=activity,
        status=_finding_status(alert, members),
        at=at,
        reason=reason,
    )
    return record


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
            # not scrubbed whole (its uids must stay as they are): built from stored,
            # redacted columns and scrubbed findings (detect/base.py)
            json.dumps(record, sort_keys=True, ensure_ascii=False),
        ]
    rows = ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(records))
    store.con.execute(f"INSERT INTO finding_log VALUES {rows}", values)


def _snapshot(store: Store, alert_id: str) -> tuple:
    alert = _alert(store, alert_id)
    members = store.rows(
        "SELECT * FROM alert_members WHERE alert_id = ? ORDER BY starts_at, fingerprint",
        [alert_id],
    )
    findings = _findings_of(store, members)
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


def _finding_status(alert: dict[str, Any], members: list[dict[str, Any]]) -> str:
    if alert["status"] == "resolved":
        return "resolved"
    if members and all(m["state"] == "suppressed" for m in members):
        return "suppressed"
    return "in_progress" if alert.get("acknowledged_at") else "new"


def _record_lifecycle(store: Store, now: datetime, changes: dict[str, list]) -> int:
    pending: list[tuple[str, datetime, dict[str, Any]]] = []
    for alert_id, items in changes.items():
        snapshot = _snapshot(store, alert_id)
        rules = {m["fingerprint"]: m["rule_id"] for m in snapshot[1]}
        seen = list(rules)
        joins = [fp for kind, fp in items if kind == "joined"]
        created = any(kind == "created" for kind, _ in items)
        before = [fp for fp in seen if fp not in joins]
        for index, fp in enumerate(joins):
            rule = rules.get(fp, fp)
            first = created and index == 0
            record = _finding_record(
                store,
                alert_id,
                activity="create" if first else "update",
                reason=f"alert {rule} fired" if first else f"alert {rule} joined",
                at=now,
                only=[*before, *joins[: index + 1]],
                snapshot=snapshot,
            )
            pending.append((alert_id, now, record))
        # a joining alert's record already shows whether it is muted
        rest = [
            (kind, fp)
            for kind, fp in items
            if kind not in ("joined", "created") and not (fp in joins and kind != "resolved")
        ]
        if rest:
            resolved = any(kind == "resolved" for kind, _ in rest)
            reasons = sorted(
                {
                    "resolved: no new alert within resolve_timeout"
                    if kind == "resolved"
                    else f"alert {rules.get(fp, fp)} {kind}"
                    for kind, fp in rest
                }
            )
            record = _finding_record(
                store,
                alert_id,
                activity="close" if resolved else "update",
                reason="; ".join(reasons),
                at=now,
                snapshot=snapshot,
            )
            pending.append((alert_id, now, record))
    _append_records(store, pending)
    return len(pending)


# -- 4. flush due groups ----------------------------------------------------------------------


def _flush(store: Store, config: AlertingConfig, now: datetime) -> list[dict[str, Any]]:
    enqueued: list[dict[str, Any]] = []
    routes = config.routes()
    # A group with nothing new since it was last notified (no member changed, not resolved,
    # no repeat due) is not news: its timer moves on without rendering it again.
    shortest_repeat = min((r.repeat_interval for r in routes.values()), default=None)
    repeat_before = now - shortest_repeat if shortest_repeat is not None else now
    due = store.rows(
        """SELECT a.alert_id, a.route,
                  a.status = 'resolved' OR a.notified_at IS NULL OR a.updated_at > a.notified_at
                  OR (a.acknowledged_at IS NULL AND a.notified_at <= ?)
                  OR EXISTS (SELECT 1 FROM alert_members m WHERE m.alert_id = a.alert_id
                             AND m.updated_at > a.notified_at) AS news
           FROM alerts a WHERE a.next_flush_at IS NOT NULL AND a.next_flush_at <= ?
           ORDER BY a.next_flush_at, a.alert_id""",
        [repeat_before, now],
    )
    for row in due:
        if not row["news"]:
            continue
        alert = _alert(store, row["alert_id"])
        route = routes.get(alert["route"]) or config.route
        receiver = config.receiver(route.receiver)
        enqueued += _flush_group(store, alert, route, receiver, now)
        resolved = alert["status"] == "resolved"
        store.con.execute(
            """UPDATE alerts SET next_flush_at = ?, status = CASE WHEN status = 'pending'
                   THEN 'firing' ELSE status END WHERE alert_id = ?""",
            [None if resolved else now + route.group_interval, alert["alert_id"]],
        )
    by_route: dict[str, list[str]] = {}
    for row in due:
        if not row["news"]:
            by_route.setdefault(row["route"], []).append(row["alert_id"])
    for name, ids in by_route.items():
        route = routes.get(name) or config.route
        store.con.execute(
            """UPDATE alerts SET next_flush_at = ?,
                   status = CASE WHEN status = 'pending' THEN 'firing' ELSE status END
               WHERE alert_id IN (SELECT unnest(?::VARCHAR[]))""",
            [now + route.group_interval, ids],
        )
    return enqueued


def _flush_group(
    store: Store, alert: dict[str, Any], route: Route, receiver: Receiver, now: datetime
) -> list[dict[str, Any]]:
    members = store.rows(
        "SELECT * FROM alert_members WHERE alert_id = ? ORDER BY starts_at, fingerprint",
        [alert["alert_id"]],
    )
    firing = sorted(m["fingerprint"] for m in members if m["state"] == "active")
    resolved = sorted(m["fingerprint"] for m in members if m["state"] == "resolved")
    log = store.rows(
        "SELECT * FROM notification_log WHERE alert_id = ? AND receiver = ?",
        [alert["alert_id"], receiver.name],
    )
    previous = log[0] if log else None
    told = set(previous["firing"] or []) if previous else set()
    action = None
    told_resolved = set(previous["resolved"] or []) if previous else set()
    if firing:
        # Alertmanager's dedup: new firing alerts, or (send_resolved) newly resolved ones, or
        # repeat_interval elapsed without acknowledgement; an alert muted away is not news
        if (
            set(firing) - told
            or (receiver.send_resolved and set(resolved) - told_resolved)
            or (
                previous
                and not alert["acknowledged_at"]
                and now - previous["sent_at"] >= route.repeat_interval
            )
        ):
            action = "trigger"
    elif told and alert["status"] == "resolved":
        action = "resolve"
    if action is None:
        return []
    store.con.execute(
        "INSERT OR REPLACE INTO notification_log VALUES (?, ?, ?, ?, ?)",
        [alert["alert_id"], receiver.name, now, firing, resolved],
    )
    store.con.execute(
        "UPDATE alerts SET notified_at = ? WHERE alert_id = ?", [now, alert["alert_id"]]
    )
    if action == "resolve" and not receiver.send_resolved:
        return []
    return _enqueue(store, alert, members, receiver, action, now)


def _enqueue(
    store: Store,
    alert: dict[str, Any],
    members: list[dict[str, Any]],
    receiver: Receiver,
    action: str,
    now: datetime,
) -> list[dict[str, Any]]:
    active = [m for m in members if m["state"] == "active"]
    findings = _findings_of(store, active or members)
    muted = _findings_of(store, [m for m in members if m["state"] == "suppressed"])
    if action == "resolve":
        title = f"[RESOLVED] {alert['title']}"
        body = render_resolved_body(store, alert, findings)
    else:
        title = alert["title"] if not active else render_title(_by_severity(findings))
        body = render_body(store, _by_severity(findings), muted=muted, alert_id=alert["alert_id"])
        store.con.execute(
            "UPDATE alerts SET body = ? WHERE alert_id = ?", [body, alert["alert_id"]]
        )
    severity = max(
        (f["severity"] for f in findings),
        key=lambda s: SEVERITY_IDS.get(s, 0),
        default=alert["severity"],
    )
    rows = []
    for target in receiver.apprise:
        notify_type = "success" if action == "resolve" else _notify_type(severity)
        payload = {"title": title, "body": body, "notify_type": notify_type}
        rows.append(
            outbox.enqueue(store, alert["alert_id"], receiver.name, target, action, payload, now)
        )
    for target in receiver.pagerduty:
        payload = pagerduty.event_body(
            alert, findings, action=action, summary=title, body=body, source=target.source
        )
        rows.append(
            outbox.enqueue(store, alert["alert_id"], receiver.name, target, action, payload, now)
        )
    return rows


def _notify_type(severity: str) -> str:
    return "failure" if severity in ("critical", "high") else "warning"


def _by_severity(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(findings, key=lambda f: (-SEVERITY_IDS.get(f["severity"], 0), f["first_seen"]))


# -- acknowledgement --------------------------------------------------------------------------


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
    alert = _alert(store, alert_id)
    route = config.routes().get(alert["route"]) or config.route
    receiver = config.receiver(route.receiver)
    told = store.rows(
        "SELECT 1 FROM notification_log WHERE alert_id = ? AND receiver = ?",
        [alert_id, receiver.name],
    )
    if told:
        members = store.rows("SELECT * FROM alert_members WHERE alert_id = ?", [alert_id])
        findings = _findings_of(store, members)
        for target in receiver.pagerduty:
            payload = pagerduty.event_body(
                alert,
                findings,
                action="acknowledge",
                summary=alert["title"],
                body="",
                source=target.source,
            )
            outbox.enqueue(store, alert_id, receiver.name, target, "acknowledge", payload, now)
    return _alert(store, alert_id)


# -- helpers ----------------------------------------------------------------------------------


def _alert(store: Store, alert_id: str) -> dict[str, Any]:
    return store.rows("SELECT * FROM alerts WHERE alert_id = ?", [alert_id])[0]


def _findings_of(store: Store, members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = sorted({f for m in members for f in (m["finding_ids"] or [])})
    return store.rows(
        """SELECT * FROM findings WHERE finding_id IN (SELECT unnest(?::VARCHAR[]))
           ORDER BY first_seen, rule_id""",
        [ids],
    )


def _refresh_summary(store: Store, alert_id: str) -> None:
    members = store.rows("SELECT * FROM alert_members WHERE alert_id = ?", [alert_id])
    findings = _by_severity(_findings_of(store, members))
    if not findings:
        return
    store.con.execute(
        """UPDATE alerts SET title = ?, severity = ?, first_seen = ?, last_seen = ?,
               finding_ids = ? WHERE alert_id = ?""",
        [
            render_title(findings),
            findings[0]["severity"],
            earliest(f["first_seen"] for f in findings),
            latest(f["last_seen"] for f in findings),
            [f["finding_id"] for f in findings],
            alert_id,
        ],
    )
