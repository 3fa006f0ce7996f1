"""Aggregation groups, as Alertmanager's dispatcher keeps them, and incident identity.

An alert joins one group per route it matches. The group key is Alertmanager's:
`<route key>:<group labels>`, e.g. `{}/{severity="critical"}:{session_id="s1"}`, the route key
being the matchers of every route from the root. A group first flushes `group_wait` after it
was created, then on every `group_interval` tick counted from that first flush; once every
alert in it has resolved and been flushed, it is removed.

The incident is not the group: its id (`alerts.alert_id`, = PagerDuty dedup_key = OCSF
finding_info.uid) is a hash of the alert's `incident_by` labels, so the routes that notify an
incident (`continue: true`) never give it two ids. Every route's group_by holds the incident
labels (configcheck), so one group never mixes incidents.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from agentaudit.alert.config import AlertingConfig, Route
from agentaudit.alert.labels import label_string, label_value
from agentaudit.alert.matchers import Labels
from agentaudit.schema import stable_id
from agentaudit.store import Store
from agentaudit.taxonomy import severity_rank


def group_labels(labels: Labels, group_by: tuple[str, ...]) -> dict[str, str]:
    """The `group_by` labels the alert has (all of them for `...`), one string each."""
    keys = sorted(labels) if "..." in group_by else [k for k in group_by if k in labels]
    return {k: label_value(labels[k]) for k in keys}


def group_key(route: Route, labels: dict[str, str]) -> str:
    return f"{route.key}:{label_string(labels)}"


def group_id_for(route_name: str, key: str) -> str:
    """Two routes may share a key (same matchers on one level): the route name tells them apart."""
    return stable_id("group", route_name, key)


def incident_key(labels: Labels, incident_by: tuple[str, ...]) -> str:
    return label_string(group_labels(labels, incident_by))


def alert_id_for(key: str) -> str:
    """The incident id: the same for every route and every detection run."""
    return stable_id("alert", key)


def join_groups(
    store: Store, config: AlertingConfig, alerts: list[dict[str, Any]], now: datetime
) -> None:
    """Put each alert (fingerprint, labels, alert_id, severity, joined) into the group of every
    route it matches, creating groups (first flush at now + group_wait) as needed."""
    wanted: dict[str, dict[str, Any]] = {}
    for alert in alerts:
        for route in config.route.match(alert["labels"]):
            labels = group_labels(alert["labels"], route.group_by)
            key = group_key(route, labels)
            gid = group_id_for(route.name, key)
            group = wanted.setdefault(
                gid,
                {"route": route, "key": key, "labels": labels, "alert_id": alert["alert_id"]},
            )
            group.setdefault("alerts", []).append(alert)
    if not wanted:
        return
    ids = list(wanted)
    existing = {
        r["group_id"]: r
        for r in store.rows(
            "SELECT * FROM alert_groups WHERE group_id IN (SELECT unnest(?::VARCHAR[]))", [ids]
        )
    }
    members: dict[str, set[str]] = {}
    for r in store.rows(
        "SELECT group_id, fingerprint FROM alert_group_members "
        "WHERE group_id IN (SELECT unnest(?::VARCHAR[]))",
        [ids],
    ):
        members.setdefault(r["group_id"], set()).add(r["fingerprint"])
    new_groups, new_members = [], []
    for gid, group in wanted.items():
        route: Route = group["route"]
        if gid not in existing:
            new_groups += [
                gid,
                group["key"],
                route.name,
                route.receiver,
                group["alert_id"],
                json.dumps(group["labels"], sort_keys=True),
                now,
                now + route.group_wait,
            ]
        have = members.get(gid, set())
        for alert in group["alerts"]:
            if alert["fingerprint"] not in have:
                have.add(alert["fingerprint"])
                new_members += [gid, alert["fingerprint"]]
        if gid in existing and route.flush_on_escalation:
            _flush_now_if_escalated(store, existing[gid], group["alerts"], have, now)
    if new_groups:
        rows = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, NULL)"] * (len(new_groups) // 8))
        store.con.execute(f"INSERT INTO alert_groups VALUES {rows}", new_groups)
    if new_members:
        rows = ", ".join(["(?, ?)"] * (len(new_members) // 2))
        store.con.execute(f"INSERT INTO alert_group_members VALUES {rows}", new_members)


def _flush_now_if_escalated(
    store: Store, group: dict[str, Any], alerts: list[dict[str, Any]], members: set[str], now
) -> None:
    """agentaudit's `flush_on_escalation`: a flushed group whose severity rises (a high page,
    then the critical call seconds later) flushes at once, not at its next group_interval."""
    joined = [a for a in alerts if a["joined"]]
    if group["flushed_at"] is None or not joined:
        return
    others = members - {a["fingerprint"] for a in joined}
    before = store.rows(
        """SELECT severity FROM alert_members WHERE state <> 'resolved'
           AND fingerprint IN (SELECT unnest(?::VARCHAR[]))""",
        [sorted(others)],
    )
    was = max((severity_rank(r["severity"]) for r in before), default=0)
    if max(severity_rank(a["severity"]) for a in joined) > was:
        store.con.execute(
            "UPDATE alert_groups SET next_flush_at = ? WHERE group_id = ?", [now, group["group_id"]]
        )


def due_groups(store: Store, now: datetime) -> list[dict[str, Any]]:
    return store.rows(
        "SELECT * FROM alert_groups WHERE next_flush_at <= ? ORDER BY next_flush_at, group_key",
        [now],
    )


def next_tick(due: datetime, interval: timedelta, now: datetime) -> datetime:
    """The group's next tick after `now`, on its grid (a late evaluation skips missed ticks)."""
    ahead = due + interval
    if ahead <= now:
        ahead += interval * ((now - ahead) // interval + 1)
    return ahead


def after_flush(
    store: Store, group: dict[str, Any], route: Route, flushed: list[str], left: int, now
) -> None:
    """Alertmanager drops resolved alerts from a group once they were flushed; an empty group
    is removed (its next alert starts a new group, with a new group_wait)."""
    if not left:
        store.con.execute("DELETE FROM alert_groups WHERE group_id = ?", [group["group_id"]])
        store.con.execute("DELETE FROM alert_group_members WHERE group_id = ?", [group["group_id"]])
        return
    if flushed:
        store.con.execute(
            """DELETE FROM alert_group_members WHERE group_id = ?
               AND fingerprint IN (SELECT unnest(?::VARCHAR[]))""",
            [group["group_id"], flushed],
        )
    store.con.execute(
        "UPDATE alert_groups SET next_flush_at = ?, flushed_at = ? WHERE group_id = ?",
        [next_tick(group["next_flush_at"], route.group_interval, now), now, group["group_id"]],
    )
