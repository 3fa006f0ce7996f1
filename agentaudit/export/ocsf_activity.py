"""OCSF 1.8.0 activity records from canonical events.

Shell commands -> Process Activity (1007, Launch); file reads/edits/deletes -> File System
Activity (1001); every other tool call and provider audit record -> API Activity (6003).
A denied call carries the `security_control` profile (action Denied, disposition Blocked).
Agent messages (prompts, replies) are not activity and are not exported.
"""

from __future__ import annotations

import ipaddress
import json
import re
from datetime import datetime
from functools import lru_cache
from typing import Any

from agentaudit import taxonomy
from agentaudit.export.ocsf_common import (
    OCSF_VERSION,
    SEVERITY_IDS,
    described,
    drop_empty,
    ms,
    service_name,
)
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
# env_hints kinds that name the cloud account a provider record belongs to
_ACCOUNT_HINTS = ("aws_account=", "gcp_project=", "azure_subscription=", "github_org=")
# where a provider's raw record names its region (read only when the row has no `cloud_region`)
_REGION_KEYS = (
    ("awsRegion",),
    ("resource", "labels", "location"),
    ("resource", "labels", "region"),
)
# the region as SQL, for readers that select rows for export (stream.py)
REGION_SQL = (
    "CASE WHEN origin = 'provider' THEN coalesce("
    + ", ".join(f"nullif(json_extract_string(raw, '$.{'.'.join(k)}'), '')" for k in _REGION_KEYS)
    + ") END AS cloud_region"
)
# the event columns an activity record reads (readers may select just these, plus REGION_SQL)
COLUMNS = [
    "event_id",
    "source",
    "ingested_at",
    "time",
    "time_precision",
    "kind",
    "command",
    "target",
    "paths",
    "operation",
    "tool_name",
    "severity",
    "status",
    "error",
    "tool_call_id",
    "agent",
    "agent_version",
    "model",
    "host",
    "os_user",
    "actor",
    "session_id",
    "cwd",
    "url",
    "categories",
    "destructive",
    "target_env",
    "scope",
    "credential_fp",
    "decided_by",
    "exit_code",
    "argvs",
    "origin",
    "provider",
    "credential_id",
    "source_ip",
    "user_agent",
    "env_hints",
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


def type_uid_for(event: dict[str, Any]) -> int | None:
    """The type_uid the event is exported with (None: not activity, not exported)."""
    class_uid = class_for(event)
    if class_uid is None:
        return None
    return class_uid * 100 + _ACTIVITY[class_uid](event)[0]


def _present(values: dict[str, Any]) -> dict[str, Any]:
    """The entries with a value (OCSF allows no nulls): built once per object, not cleaned after."""
    return {k: v for k, v in values.items() if v is not None and v != [] and v != {}}


def event_to_ocsf(event: dict[str, Any]) -> dict[str, Any] | None:
    """The OCSF record of one canonical event, or None when it is not activity.

    Every object is built without nulls or empty containers (`_present`) rather than cleaned
    afterwards: this runs once per exported row."""
    class_uid = class_for(event)
    if class_uid is None:
        return None
    class_name, category_uid, category_name = _CLASS[class_uid]
    activity_id, activity_name = _ACTIVITY[class_uid](event)
    severity_id, severity = _SEVERITY.get(event.get("severity") or "info", (1, "Informational"))
    status_id, status = _STATUS.get(event.get("status") or "", (0, "Unknown"))
    when: datetime = event.get("time") or event["ingested_at"]
    origin = event.get("origin") or described(event["source"])[0]
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
        "time": ms(when),
        "metadata": _present(
            {
                "version": OCSF_VERSION,
                "product": _product(event["source"], event.get("agent_version")),
                "log_name": event["source"],
                "log_provider": "agentaudit",
                "uid": event["event_id"],
                "original_event_uid": event.get("tool_call_id"),
                "event_code": event.get("tool_name"),
                "processed_time": ms(event.get("ingested_at")),
            }
        ),
        "actor": _actor(event),
        **_BODY[class_uid](event),
        "unmapped": {
            "agentaudit": _present(
                {
                    "source": event["source"],
                    "origin": origin,
                    "tool_name": event.get("tool_name"),
                    "categories": event.get("categories"),
                    "destructive": bool(event.get("destructive")),
                    "target": event.get("target"),
                    "target_env": event.get("target_env"),
                    "scope": event.get("scope"),
                    "credential_fp": event.get("credential_fp"),
                    # OCSF has no field for who approved a call: setting, human, bypass, ...
                    "decided_by": event.get("decided_by"),
                    "time_precision": event.get("time_precision"),
                }
            )
        },
    }
    record["metadata"]["profiles"] = profiles  # always present, even when empty
    if event.get("error"):
        record["status_detail"] = event["error"]
    message = _message(event)
    if message:
        record["message"] = message
    if event.get("user_agent"):
        record.setdefault("http_request", {})["user_agent"] = event["user_agent"]
    if event.get("status") == "denied":
        profiles.append("security_control")
        record.update(action_id=2, action="Denied", disposition_id=2, disposition="Blocked")
    model = _ai_model(event)
    if model and class_uid in (PROCESS, API):
        profiles.append("ai_operation")
        record["ai_model"] = model
    cloud = _cloud(event) if origin == "provider" else None
    if cloud:
        profiles.append("cloud")
        record["cloud"] = cloud
    if event.get("exit_code") is not None and class_uid == PROCESS:
        record["exit_code"] = int(event["exit_code"])
    return record


def _words(text: str) -> set[str]:
    """Lower-case words of a verb: `volumeDelete` -> {volume, delete}; `fs_delete` -> {fs, delete}."""
    words = {w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", text)}
    # past tense in audit logs (volume.deleted, deployment.created, repo.added)
    return (
        words
        | {w[:-1] for w in words if w.endswith("ed")}
        | {w[:-2] for w in words if w.endswith("ed")}
    )


def _process_activity(event: dict[str, Any]) -> tuple[int, str]:
    return 1, "Launch"


def _file_activity(event: dict[str, Any]) -> tuple[int, str]:
    categories = event.get("categories") or []
    if "fs_delete" in categories:
        return 4, "Delete"
    verb = " ".join(
        filter(None, [event.get("operation"), event.get("tool_name"), *categories])
    ).lower()
    for words, aid, aname in _FILE_ACTIVITY:
        if any(w in verb.split() or w in verb for w in words):
            return aid, aname
    return 99, event.get("operation") or event.get("tool_name") or "Other"


def _api_split(event: dict[str, Any]) -> tuple[str, str]:
    """(service, operation) of an API call: `railway:volumeDelete` -> (railway, volumeDelete)."""
    operation = event.get("operation") or event.get("tool_name") or ""  # one is set (class_for)
    service, _, op_name = operation.rpartition(":") if ":" in operation else ("", "", operation)
    return service, op_name


def _api_activity(event: dict[str, Any]) -> tuple[int, str]:
    op_name = _api_split(event)[1]
    verbs = _verb_words(op_name)
    for words, aid, aname in _API_ACTIVITY:
        if verbs & set(words):
            return aid, aname
    return 99, op_name


@lru_cache(maxsize=4096)
def _verb_words(op_name: str) -> frozenset[str]:
    return frozenset(_words(op_name))


def _executable(event: dict[str, Any]) -> str | None:
    """The program the command line runs, as command analysis parsed it (wrappers such as
    sudo or env stripped); its first word when it was not parsed."""
    argvs = event.get("argvs") or []
    first = next((argv[0] for argv in argvs if argv), None)
    if first is None:
        words = (event.get("command") or "").split()
        first = words[0] if words else None
    return first.rstrip("/").rsplit("/", 1)[-1] or first if first else None


def _process(event: dict[str, Any]) -> dict[str, Any]:
    process = _present(
        {
            "uid": event.get("tool_call_id") or event["event_id"],
            "name": _executable(event),
            "cmd_line": event["command"],
            "working_directory": event.get("cwd"),
        }
    )
    return {"device": _device(event), "process": process}


def _file(event: dict[str, Any]) -> dict[str, Any]:
    path = event.get("target") or event["paths"][0]
    file = {"name": path.rstrip("/").rsplit("/", 1)[-1] or path, "path": path, "type_id": 1}
    return {"device": _device(event), "file": file}


def _api(event: dict[str, Any]) -> dict[str, Any]:
    service, op_name = _api_split(event)
    api: dict[str, Any] = {
        "operation": op_name,
        "service": {"name": service or _provider_service(event) or service_name(event)},
    }
    if event.get("tool_call_id"):
        api["request"] = {"uid": event["tool_call_id"]}
    body: dict[str, Any] = {"api": api, "src_endpoint": _src_endpoint(event)}
    if event.get("target"):
        resource = {"uid": event["target"], "type": service or event["source"], "role_id": 1}
        if event.get("target_env") not in (None, "unknown"):
            resource["labels"] = [f"environment:{event['target_env']}"]
        body["resources"] = [resource]
    if event.get("url"):
        body["http_request"] = {"url": {"url_string": event["url"]}}
    return body


def _provider_service(event: dict[str, Any]) -> str | None:
    """A provider record's own service (CloudTrail's eventSource, GCP's serviceName)."""
    return event.get("tool_name") if event.get("origin") == "provider" else None


_ACTIVITY = {PROCESS: _process_activity, FILE_SYSTEM: _file_activity, API: _api_activity}
_BODY = {PROCESS: _process, FILE_SYSTEM: _file, API: _api}


def _device(event: dict[str, Any]) -> dict[str, Any]:
    if event.get("host"):
        return {"hostname": event["host"], "type_id": 0}
    return {"name": "unknown", "type_id": 0}


def caller_address(value: str) -> tuple[str, str]:
    """How a provider names its caller: ("ip", 203.0.113.7), ("domain", ec2.amazonaws.com)
    for a service calling on a user's behalf, or ("svc_name", AWS Internal)."""
    try:
        return "ip", str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if re.fullmatch(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", value):
        return "domain", value
    return "svc_name", value


def _src_endpoint(event: dict[str, Any]) -> dict[str, Any]:
    """Where the call came from: the caller address the provider logged, else the machine the
    agent ran on; `unknown` rather than the log's name when neither is known."""
    endpoint: dict[str, Any] = {}
    if event.get("source_ip"):
        key, value = caller_address(event["source_ip"])
        endpoint[key] = value
    if event.get("host"):
        endpoint["hostname"] = event["host"]
    return endpoint or {"name": "unknown"}


def _user(event: dict[str, Any]) -> dict[str, Any] | None:
    principal = event.get("actor") or event.get("os_user")
    if not principal:
        return None
    user: dict[str, Any] = {"name": principal}
    if principal.startswith("arn:"):  # arn:aws:iam::123:user/alice -> alice, uid the ARN
        user = {"name": principal.rsplit("/", 1)[-1].rsplit(":", 1)[-1] or principal}
        user["uid"] = principal
    elif "@" in principal:
        user["email_addr"] = principal
    if event.get("credential_id"):  # access key id / token id: an identifier, never a secret
        user["credential_uid"] = event["credential_id"]
    return user


def _actor(event: dict[str, Any]) -> dict[str, Any]:
    actor = drop_empty(
        {
            "user": _user(event),
            "app_name": event["agent"] if event.get("agent") not in (None, "", "unknown") else None,
            "session": {"uid": event["session_id"]} if event.get("session_id") else None,
        }
    )
    return actor or {"app_name": event["source"]}


def _cloud(event: dict[str, Any]) -> dict[str, Any] | None:
    """The OCSF `cloud` object of a provider record: provider, account and region."""
    if not event.get("provider"):
        return None
    account = next(
        (
            hint.split("=", 1)[1]
            for hint in event.get("env_hints") or []
            if hint.startswith(_ACCOUNT_HINTS)
        ),
        None,
    )
    region = event["cloud_region"] if "cloud_region" in event else _raw_region(event.get("raw"))
    return _present(
        {
            "provider": event["provider"],
            "account": {"uid": account} if account else None,
            "region": region,
        }
    )


def _raw_region(raw: str | None) -> str | None:
    try:
        record = json.loads(raw) if raw else None
    except ValueError:
        return None
    for path in _REGION_KEYS:
        value: Any = record
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and value:
            return value
    return None


@lru_cache(maxsize=256)
def _product_of(source: str) -> tuple[tuple[str, str], ...]:
    """The product that wrote the record, as its collector describes it."""
    origin, agent, vendor = described(source)
    if agent:
        known = taxonomy.agent(agent)
        return (("name", known.name), ("vendor_name", known.vendor))
    if vendor:
        name = taxonomy.provider_name(vendor) or vendor
        return (("name", name), ("vendor_name", name))
    if origin == "shell":
        return (("name", "shell"),)
    if origin == "agentaudit":
        return (("name", "agentaudit"), ("vendor_name", "agentaudit"))
    return (("name", source),)


def _product(source: str, version: str | None) -> dict[str, Any]:
    product = dict(_product_of(source))
    if version:
        product["version"] = version
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
