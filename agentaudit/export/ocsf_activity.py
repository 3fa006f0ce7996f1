"""OCSF 1.8.0 activity records from canonical events.

Shell commands -> Process Activity (1007, Launch); file reads/edits/deletes -> File System
Activity (1001); every other tool call and provider audit record -> API Activity (6003).
A denied call carries the `security_control` profile (action Denied, disposition Blocked).
Agent messages (prompts, replies) are not activity and are not exported.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from agentaudit import taxonomy
from agentaudit.collectors import collector_for_source
from agentaudit.export.ocsf import OCSF_VERSION, SEVERITY_IDS, _drop_empty, ms, service_name
from agentaudit.taxonomy import SEVERITIES

PROCESS, FILE_SYSTEM, API = 1007, 1001, 6003
_CLASS = {
    PROCESS: ("Process Activity", 1, "System Activity"),
    FILE_SYSTEM: ("File System Activity", 1, "System Activity"),
    API: ("API Activity", 6, "Application Activity"),
}
_CAPTIONS = ("Informational", "Low", "Medium", "High", "Critical")  # OCSF severity captions
_SEVERITY = {s: (SEVERITY_IDS[s], c) for s, c in zip(SEVERITIES, _CAPTIONS, strict=True)}
_STATUS = {"success": (1, "Success"), "failure": (2, "Failure"), "denied": (2, "Failure")}
_AI_PROVIDERS = {"claude": "Anthropic", "gpt": "OpenAI", "o3": "OpenAI", "gemini": "Google"}
_FILE_ACTIVITY = [
    (("delete", "remove", "unlink", "rm"), 4, "Delete"),
    (("write", "edit", "update", "modify", "patch"), 3, "Update"),
    (("create", "new"), 1, "Create"),
    (("read", "open", "view", "cat"), 2, "Read"),
    (("rename", "move", "mv"), 5, "Rename"),
]
_API_ACTIVITY = [
    (("delete", "destroy", "remove", "drop", "purge", "terminate"), 4, "Delete"),
    (("create", "add", "insert", "deploy", "new"), 1, "Create"),
    (("update", "patch", "set", "modify", "edit", "upsert", "put"), 3, "Update"),
    (("get", "list", "read", "describe", "fetch", "search", "query"), 2, "Read"),
]


def class_for(event: dict[str, Any]) -> int | None:
    kind = event.get("kind")
    if kind == "process" and event.get("command"):
        return PROCESS
    if kind == "file" and (event.get("target") or event.get("paths")):
        return FILE_SYSTEM
    if kind in ("api", "process", "file", "auth", "other") and (
        event.get("operation") or event.get("tool_name")
    ):
        return API
    return None


def event_to_ocsf(event: dict[str, Any]) -> dict[str, Any] | None:
    """The OCSF record of one canonical event, or None when it is not activity."""
    class_uid = class_for(event)
    if class_uid is None:
        return None
    class_name, category_uid, category_name = _CLASS[class_uid]
    body, activity_id, activity_name = _BODY[class_uid](event)
    severity_id, severity = _SEVERITY.get(event.get("severity") or "info", (1, "Informational"))
    status_id, status = _STATUS.get(event.get("status") or "", (0, "Unknown"))
    when: datetime = event.get("time") or event["ingested_at"]
    profiles: list[str] = []
    record: dict[str, Any] = {
        "class_uid": class_uid,
        "class_name": class_name,
        "category_uid": category_uid,
        "category_name": category_name,
        "activity_id": activity_id,
        "activity_name": activity_name,
        "type_uid": class_uid * 100 + activity_id,
        "type_name": f"{class_name}: {'Other' if activity_id == 99 else activity_name}",
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "status_detail": event.get("error"),
        "time": ms(when),
        "message": _message(event),
        "metadata": {
            "version": OCSF_VERSION,
            "product": _product(event),
            "log_name": event["source"],
            "log_provider": "agentaudit",
            "uid": event["event_id"],
            "original_event_uid": event.get("tool_call_id"),
            "event_code": event.get("tool_name"),
            "processed_time": ms(event["ingested_at"]) if event.get("ingested_at") else None,
            "profiles": profiles,
        },
        "actor": _actor(event),
        **body,
        "unmapped": {
            "agentaudit": {
                "source": event["source"],
                "tool_name": event.get("tool_name"),
                "categories": event.get("categories") or None,
                "destructive": bool(event.get("destructive")),
                "target": event.get("target"),
                "target_env": event.get("target_env"),
                "scope": event.get("scope"),
                "credential_fp": event.get("credential_fp"),
                # OCSF has no field for who approved a call: setting, human, bypass, ...
                "decided_by": event.get("decided_by"),
                "time_precision": event.get("time_precision"),
            }
        },
    }
    if event.get("status") == "denied":
        profiles.append("security_control")
        record.update(action_id=2, action="Denied", disposition_id=2, disposition="Blocked")
    model = _ai_model(event)
    if model and class_uid in (PROCESS, API):
        profiles.append("ai_operation")
        record["ai_model"] = model
    if event.get("exit_code") is not None and class_uid == PROCESS:
        record["exit_code"] = int(event["exit_code"])
    cleaned = _drop_empty(record)
    cleaned["metadata"]["profiles"] = profiles  # always present, even when empty
    return cleaned


def _words(text: str) -> set[str]:
    """Lower-case words of a verb: `volumeDelete` -> {volume, delete}; `fs_delete` -> {fs, delete}."""
    words = {w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", text)}
    # past tense in audit logs (volume.deleted, deployment.created, repo.added)
    return (
        words
        | {w[:-1] for w in words if w.endswith("ed")}
        | {w[:-2] for w in words if w.endswith("ed")}
    )


def _process(event: dict[str, Any]) -> tuple[dict[str, Any], int, str]:
    command = event["command"]
    words = (event.get("operation") or command).split()
    name = words[0] if words else None
    process = {
        "uid": event.get("tool_call_id") or event["event_id"],
        "name": name or None,
        "cmd_line": command,
        "working_directory": event.get("cwd"),
    }
    return {"device": _device(event), "process": process}, 1, "Launch"


def _file(event: dict[str, Any]) -> tuple[dict[str, Any], int, str]:
    path = event.get("target") or event["paths"][0]
    verb = " ".join(
        filter(
            None, [event.get("operation"), event.get("tool_name"), *(event.get("categories") or [])]
        )
    ).lower()
    activity_id, activity_name = 99, event.get("operation") or event.get("tool_name") or "Other"
    if "fs_delete" in (event.get("categories") or []):
        activity_id, activity_name = 4, "Delete"
    else:
        for words, aid, aname in _FILE_ACTIVITY:
            if any(w in verb.split() or w in verb for w in words):
                activity_id, activity_name = aid, aname
                break
    file = {"name": path.rstrip("/").rsplit("/", 1)[-1] or path, "path": path, "type_id": 1}
    return {"device": _device(event), "file": file}, activity_id, activity_name


def _api(event: dict[str, Any]) -> tuple[dict[str, Any], int, str]:
    operation = event.get("operation") or event.get("tool_name") or ""  # one is set (class_for)
    service, _, op_name = operation.rpartition(":") if ":" in operation else ("", "", operation)
    verbs = _words(op_name)
    activity_id, activity_name = 99, op_name
    for words, aid, aname in _API_ACTIVITY:
        if verbs & set(words):
            activity_id, activity_name = aid, aname
            break
    body: dict[str, Any] = {
        "api": {
            "operation": op_name,
            "service": {"name": service or service_name(event)},
            "request": {"uid": event.get("tool_call_id")} if event.get("tool_call_id") else None,
        },
        "src_endpoint": _endpoint(event),
    }
    if event.get("target"):
        body["resources"] = [
            {
                "uid": event["target"],
                "type": service or event["source"],
                "role_id": 1,
                "labels": [f"environment:{event['target_env']}"]
                if event.get("target_env") not in (None, "unknown")
                else None,
            }
        ]
    if event.get("url"):
        body["http_request"] = {"url": {"url_string": event["url"]}}
    return body, activity_id, activity_name


_BODY = {PROCESS: _process, FILE_SYSTEM: _file, API: _api}


def _device(event: dict[str, Any]) -> dict[str, Any]:
    if event.get("host"):
        return {"hostname": event["host"], "type_id": 0}
    return {"name": "unknown", "type_id": 0}


def _endpoint(event: dict[str, Any]) -> dict[str, Any]:
    return {"hostname": event["host"]} if event.get("host") else {"name": event["source"]}


def _actor(event: dict[str, Any]) -> dict[str, Any]:
    user = event.get("actor") or event.get("os_user")
    actor = _drop_empty(
        {
            "user": {"name": user, "email_addr": user if user and "@" in user else None}
            if user
            else None,
            "app_name": event["agent"] if event.get("agent") not in (None, "", "unknown") else None,
            "session": {"uid": event["session_id"]} if event.get("session_id") else None,
        }
    )
    return actor or {"app_name": event["source"]}


def _product(event: dict[str, Any]) -> dict[str, Any]:
    """The product that wrote the record, as its collector describes it."""
    collector = collector_for_source(event["source"])
    product: dict[str, Any] = {"name": event["source"]}
    if collector and collector.agent:
        agent = taxonomy.agent(collector.agent)
        product = {"name": agent.name, "vendor_name": agent.vendor}
    elif collector and collector.vendor:
        name = taxonomy.provider_name(collector.vendor)
        product = {"name": name, "vendor_name": name}
    elif collector and collector.origin == "shell":
        product = {"name": "shell"}
    elif collector and collector.origin == "agentaudit":
        product = {"name": "agentaudit", "vendor_name": "agentaudit"}
    if event.get("agent_version"):
        product["version"] = event["agent_version"]
    return product


def _ai_model(event: dict[str, Any]) -> dict[str, Any] | None:
    model = event.get("model")
    if not model:
        return None
    provider = next((p for k, p in _AI_PROVIDERS.items() if model.lower().startswith(k)), None)
    return {"name": model, "ai_provider": provider} if provider else None


def _message(event: dict[str, Any]) -> str | None:
    what = event.get("command") or event.get("operation") or event.get("tool_name")
    if not what:
        return None
    label = event.get("tool_name") or event["source"]
    return f"{label}: {what}"[:1000]
