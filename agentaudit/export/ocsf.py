"""OCSF 1.8.0 Detection Finding (class 2004): the alert's lifecycle, and per-finding snapshots.

`alert_finding` builds the record of an alert group: `finding_info.uid` is the alert id
(sha256 of the group key, the same key PagerDuty dedups on), with activity Create when the
group first fires, Update as alerts join, are suppressed or acknowledged, and Close when it
resolves. The alerter stores each record in `finding_log`; `export_ocsf` writes that log.
Times are epoch milliseconds and no value is null (OCSF rejects nulls: absent keys are dropped).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from agentaudit import __version__
from agentaudit.export.ocsf_activity import type_uid_for
from agentaudit.export.ocsf_common import OCSF_VERSION, SEVERITY_IDS, ms, service_name
from agentaudit.export.ocsf_common import drop_empty as _drop_empty
from agentaudit.schema import earliest, latest, stable_id
from agentaudit.store import Store
from agentaudit.taxonomy import severity_rank

__all__ = [
    "DETECTION_FINDING",
    "OCSF_VERSION",
    "SEVERITY_IDS",
    "alert_finding",
    "export_ocsf",
    "ms",
]

DETECTION_FINDING = 2004
ANALYTIC_TYPES = {
    "rule": (1, "Rule"),
    "correlation": (1, "Rule"),
    "behaviour": (2, "Behavioral"),
    "model": (4, "Learning (ML/DL)"),
}
_PRODUCT = {
    "name": "agentaudit",
    "vendor_name": "agentaudit",
    "version": __version__,
    "uid": "agentaudit",
}
_ATTACK_IMPACT = {
    "version": "v17",
    "tactic": {"uid": "TA0040", "name": "Impact"},
    "technique": {"uid": "T1485", "name": "Data Destruction"},
}


def _related(event: dict[str, Any]) -> dict[str, Any]:
    """A reference to an evidence event, with the type_uid that event is exported with (an
    event that is not activity, such as a prompt, is not exported: no type_uid)."""
    reference: dict[str, Any] = {"uid": event["event_id"], "product_uid": "agentaudit"}
    type_uid = type_uid_for(event)
    if type_uid is not None:
        reference["type_uid"] = type_uid
    return reference


def _evidence(event: dict[str, Any]) -> dict[str, Any] | None:
    actor = _drop_empty(
        {
            "session": {"uid": event["session_id"]} if event.get("session_id") else None,
            "app_name": event.get("agent") if event.get("agent") not in (None, "unknown") else None,
            "user": {"name": event["actor"]} if event.get("actor") else None,
        }
    )
    if event["kind"] == "process" and event.get("command"):
        body: dict[str, Any] = {
            "process": _drop_empty(
                {
                    "uid": event.get("tool_call_id") or event["event_id"],
                    "cmd_line": event["command"],
                }
            )
        }
    elif event["kind"] == "file" and event.get("target"):
        path = event["target"]
        body = {"file": {"name": path.rsplit("/", 1)[-1], "path": path, "type_id": 1}}
    elif event["kind"] == "api" and event.get("operation"):
        body = {
            "api": {
                "operation": event["operation"],
                "service": {"name": service_name(event)},
            }
        }
    else:
        return None
    if actor:
        body["actor"] = actor
    return body


def _resources(events: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    targets: dict[str, dict[str, Any]] = {}
    for event in events:
        target = event.get("target")
        if event.get("destructive") and target and target not in targets:
            targets[target] = _drop_empty(
                {
                    "uid": target,
                    "type": event.get("operation"),
                    "role_id": 1,
                    "labels": [f"environment:{event['target_env']}"]
                    if event.get("target_env") not in (None, "unknown")
                    else None,
                }
            )
    return list(targets.values()) or None


FINDING_ACTIVITIES = {"create": (1, "Create"), "update": (2, "Update"), "close": (3, "Close")}
ALERT_STATUS = {
    "new": (1, "New"),
    "in_progress": (2, "In Progress"),
    "suppressed": (3, "Suppressed"),
    "resolved": (4, "Resolved"),
}


def alert_finding(
    alert: dict[str, Any],
    members: list[dict[str, Any]],
    findings: list[dict[str, Any]],
    events: list[dict[str, Any]],
    *,
    activity: str,
    status: str,
    at: datetime,
    reason: str,
) -> dict[str, Any]:
    """The OCSF Detection Finding of an alert group at one point of its lifecycle."""
    activity_id, activity_name = FINDING_ACTIVITIES[activity]
    status_id, status_name = ALERT_STATUS[status]
    live = [m for m in members if m["state"] != "resolved"] or members
    severity = max((m["severity"] for m in live), key=severity_rank)
    top = max(findings, key=lambda f: severity_rank(f["severity"]))
    analytic_type_id, analytic_type = ANALYTIC_TYPES.get(top["kind"], (1, "Rule"))
    first = earliest(f["first_seen"] for f in findings)
    last = latest(f["last_seen"] for f in findings)
    categories = sorted({c for e in events for c in (e.get("categories") or [])})
    users = sorted({e["actor"] for e in events if e.get("actor")})
    hosts = sorted({e["host"] for e in events if e.get("host")})
    session = alert.get("session_id")
    record = {
        "class_uid": DETECTION_FINDING,
        "class_name": "Detection Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": activity_id,
        "activity_name": activity_name,
        "type_uid": DETECTION_FINDING * 100 + activity_id,
        "type_name": f"Detection Finding: {activity_name}",
        "severity_id": SEVERITY_IDS[severity],
        "severity": severity.capitalize(),
        "status_id": status_id,
        "status": status_name,
        "status_detail": reason,
        "is_alert": status in ("new", "in_progress"),
        "confidence_id": 3,
        "confidence": "High",
        "time": ms(at),
        "start_time": ms(first),
        "end_time": ms(last),
        "count": len(findings),
        "message": alert["title"],
        "metadata": {
            "version": OCSF_VERSION,
            "product": _PRODUCT,
            "log_name": "agentaudit.findings",
            "log_provider": "agentaudit",
            # the member count tells apart two members of one rule joining in the same pass
            "uid": stable_id(
                "finding-record", alert["alert_id"], activity, ms(at), reason, len(members)
            ),
            "correlation_uid": alert["alert_id"],
            "event_code": top["rule_id"],
            "processed_time": ms(at),
            "labels": [f"route:{alert.get('route') or 'default'}"],
            "profiles": [],
        },
        "finding_info": _drop_empty(
            {
                "uid": alert["alert_id"],
                "title": alert["title"],
                "desc": "; ".join(sorted({f["title"] for f in findings})),
                "types": sorted({f"agentaudit/{f['rule_id']}" for f in findings} | set(categories)),
                "created_time": ms(alert["created_at"]),
                "first_seen_time": ms(first),
                "last_seen_time": ms(last),
                "modified_time": ms(at),
                "product_uid": "agentaudit",
                "analytic": {
                    "uid": top["rule_id"],
                    "name": top["rule_id"],
                    "type_id": analytic_type_id,
                    "type": analytic_type,
                    "version": "1",
                },
                "attacks": [_ATTACK_IMPACT] if any(e.get("destructive") for e in events) else None,
                "related_events": [_related(e) for e in events],
                "related_events_count": len(events),
                "tags": [{"name": "session.id", "value": session}] if session else None,
            }
        ),
        "evidences": [ev for e in events if (ev := _evidence(e))] or None,
        "resources": _resources(events),
        "observables": [
            *({"name": "actor.user.name", "type_id": 4, "value": u} for u in users),
            *({"name": "device.hostname", "type_id": 1, "value": h} for h in hosts),
        ]
        or None,
        "unmapped": {
            "agentaudit": {
                "group_key": alert["group_key"],
                "group_labels": alert.get("group_labels") or "{}",
                "alerts": [
                    _drop_empty(
                        {
                            "fingerprint": m["fingerprint"],
                            "rule_id": m["rule_id"],
                            "severity": m["severity"],
                            "state": m["state"],
                            "silenced_by": list(m.get("silenced_by") or []) or None,
                            "inhibited_by": list(m.get("inhibited_by") or []) or None,
                        }
                    )
                    for m in members
                ],
            }
        },
    }
    return _drop_empty(record)


def iter_finding_log(store: Store, after_seq: int = -1) -> Iterator[tuple[int, dict[str, Any]]]:
    for row in store.rows(
        "SELECT seq, ocsf FROM finding_log WHERE seq > ? ORDER BY seq", [after_seq]
    ):
        yield row["seq"], json.loads(row["ocsf"])


def export_ocsf(store: Store, out: IO[str]) -> int:
    """Write the whole Detection Finding lifecycle (create/update/close records) as NDJSON."""
    count = 0
    for _seq, record in iter_finding_log(store):
        out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    return count
