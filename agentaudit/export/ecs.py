"""ECS 9.x documents derived from OCSF records (never from raw sources).

Activity -> `event.kind: event`; Detection Findings -> `event.kind: alert` with `rule.*`,
`threat.*` and `event.risk_score`. Only fields defined in ECS 9.4.0 (`ecs_flat.yml`) are used;
agentaudit's own fields live under `agentaudit.*` (ECS reserves unprefixed names).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

ECS_VERSION = "9.4.0"
RISK_SCORES = {1: 0.0, 2: 21.0, 3: 47.0, 4: 73.0, 5: 99.0, 6: 99.0}
_FILE_TYPES = {1: "creation", 2: "access", 3: "change", 4: "deletion", 5: "change"}
_API_TYPES = {1: "creation", 2: "access", 3: "change", 4: "deletion"}
_OUTCOME = {1: "success", 2: "failure"}


def iso(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def ocsf_to_ecs(record: dict[str, Any]) -> dict[str, Any]:
    if record["class_uid"] == 2004:
        return _finding(record)
    if record["class_uid"] == 1008:  # a signed chain checkpoint (ocsf_checkpoint.py)
        return _checkpoint(record)
    return _activity(record)


def _checkpoint(record: dict[str, Any]) -> dict[str, Any]:
    doc = _base(record)
    doc["event"].update(kind="event", category=["database"], type=["info"], action="checkpoint")
    doc["agentaudit"]["checkpoint"] = record["unmapped"]["agentaudit"]["checkpoint"]
    return doc


def _base(record: dict[str, Any]) -> dict[str, Any]:
    meta = record["metadata"]
    doc: dict[str, Any] = {
        "@timestamp": iso(record["time"]),
        "ecs": {"version": ECS_VERSION},
        "message": record.get("message") or record.get("type_name"),
        "event": {
            "id": meta["uid"],
            "module": "agentaudit",
            "dataset": "agentaudit." + meta.get("log_name", "events").replace(".", "_"),
            "provider": meta["product"]["name"],
            "severity": record["severity_id"],
            "created": iso(meta["processed_time"]) if meta.get("processed_time") else None,
            "code": str(record["type_uid"]),
        },
        "agentaudit": {
            "ocsf": {
                "class_uid": record["class_uid"],
                "type_uid": record["type_uid"],
                "activity": record.get("activity_name"),
            }
        },
    }
    return doc


def _activity(record: dict[str, Any]) -> dict[str, Any]:
    doc = _base(record)
    event = doc["event"]
    event["kind"] = "event"
    class_uid, activity_id = record["class_uid"], record["activity_id"]
    denied = record.get("action_id") == 2
    if class_uid == 1007:
        event["category"], event["type"] = ["process"], ["start"]
        process = record["process"]
        doc["process"] = {
            "command_line": process.get("cmd_line"),
            "name": process.get("name"),
            "working_directory": process.get("working_directory"),
            "exit_code": record.get("exit_code"),
        }
        event["action"] = process.get("name")
    elif class_uid == 1001:
        event["category"] = ["file"]
        event["type"] = [_FILE_TYPES.get(activity_id, "info")]
        doc["file"] = {"path": record["file"].get("path"), "name": record["file"]["name"]}
        event["action"] = record.get("activity_name", "").lower()
    else:
        event["category"] = ["api"]
        event["type"] = [_API_TYPES.get(activity_id, "info")]
        api = record["api"]
        event["action"] = f"{api['service']['name']}:{api['operation']}"
        url = (record.get("http_request") or {}).get("url")
        if url:
            doc["url"] = {"full": url["url_string"]}
    if denied:
        if "api" not in event["category"]:
            event["category"].append("intrusion_detection")
        event["type"].append("denied")
    event["outcome"] = _OUTCOME.get(record.get("status_id", 0), "unknown")
    if denied:
        event["outcome"] = "failure"
    actor = record.get("actor") or {}
    user = actor.get("user") or {}
    endpoint = record.get("src_endpoint") or {}
    host = (record.get("device") or {}).get("hostname") or endpoint.get("hostname")
    doc["user"] = {"name": user.get("name"), "id": user.get("uid"), "email": user.get("email_addr")}
    doc["host"] = {"name": host}
    doc["source"] = _source(endpoint)
    doc["user_agent"] = {"original": (record.get("http_request") or {}).get("user_agent")}
    cloud = record.get("cloud") or {}
    doc["cloud"] = {
        "provider": cloud.get("provider"),
        "region": cloud.get("region"),
        "account": {"id": (cloud.get("account") or {}).get("uid")},
    }
    related_ip = endpoint.get("ip")
    doc["related"] = {
        "user": [user["name"]] if user.get("name") else None,
        "hosts": [host] if host else None,
        "ip": [related_ip] if related_ip else None,
    }
    extra = (record.get("unmapped") or {}).get("agentaudit") or {}
    if extra.get("origin") == "agent":  # gen_ai.* describes an AI agent's calls, nothing else
        tool = record["metadata"].get("event_code")
        doc["gen_ai"] = {
            "tool": {"name": tool, "call": {"id": record["metadata"].get("original_event_uid")}},
            "request": {"model": (record.get("ai_model") or {}).get("name")},
            "agent": {"name": actor.get("app_name")},
        }
    doc["agentaudit"]["credential"] = {"id": user.get("credential_uid")}
    doc["agentaudit"]["origin"] = extra.get("origin")
    doc["agentaudit"]["session"] = {"id": (actor.get("session") or {}).get("uid")}
    doc["agentaudit"]["agent"] = actor.get("app_name")
    doc["agentaudit"]["target"] = {
        "id": extra.get("target"),
        "environment": extra.get("target_env"),
    }
    doc["agentaudit"]["destructive"] = extra.get("destructive")
    doc["agentaudit"]["credential_fp"] = extra.get("credential_fp")
    doc["agentaudit"]["decided_by"] = extra.get("decided_by")  # no ECS field for approvals
    return _clean(doc)


def _source(endpoint: dict[str, Any]) -> dict[str, Any]:
    """ECS `source.*` of the caller a provider logged: `address` as logged, `ip` when it is
    one, `domain` for a service calling on a user's behalf (ec2.amazonaws.com)."""
    address = endpoint.get("ip") or endpoint.get("domain") or endpoint.get("svc_name")
    return {"address": address, "ip": endpoint.get("ip"), "domain": endpoint.get("domain")}


def _finding(record: dict[str, Any]) -> dict[str, Any]:
    doc = _base(record)
    info = record["finding_info"]
    event = doc["event"]
    event.update(
        kind="alert",
        category=["intrusion_detection"],
        type=["info"],
        risk_score=RISK_SCORES.get(record["severity_id"], 0.0),
        start=iso(record["start_time"]) if record.get("start_time") else None,
        end=iso(record["end_time"]) if record.get("end_time") else None,
        reason=record.get("status_detail"),
        action=f"finding-{record['activity_name'].lower()}",
    )
    analytic = info.get("analytic") or {}
    doc["rule"] = {
        "id": analytic.get("uid"),
        "name": info.get("title"),
        "description": info.get("desc"),
        "ruleset": "agentaudit",
        "category": analytic.get("type"),
        "version": analytic.get("version"),
    }
    attacks = info.get("attacks") or []
    if attacks:
        doc["threat"] = {
            "framework": "MITRE ATT&CK",
            "tactic": {
                "id": [a["tactic"]["uid"] for a in attacks],
                "name": [a["tactic"]["name"] for a in attacks],
            },
            "technique": {
                "id": [a["technique"]["uid"] for a in attacks],
                "name": [a["technique"]["name"] for a in attacks],
            },
        }
    users = [o["value"] for o in record.get("observables") or [] if o["type_id"] == 4]
    hosts = [o["value"] for o in record.get("observables") or [] if o["type_id"] == 1]
    doc["user"] = {"name": users[0] if users else None}
    doc["host"] = {"name": hosts[0] if hosts else None}
    doc["related"] = {"user": users or None, "hosts": hosts or None}
    session = next((t["value"] for t in info.get("tags") or [] if t["name"] == "session.id"), None)
    doc["agentaudit"]["session"] = {"id": session}
    doc["agentaudit"]["finding"] = {
        "uid": info["uid"],
        "status": record.get("status"),
        "count": record.get("count"),
        "types": info.get("types"),
        "related_events": [e["uid"] for e in info.get("related_events") or []],
    }
    return _clean(doc)


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        cleaned = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, [], {}, "")}
    if isinstance(value, list):
        return [_clean(v) for v in value if v is not None]
    return value
