"""Vercel audit logs: Audit Log Drain records (`vercel.audit_log.v1`, JSON array or NDJSON,
also inside a Splunk HEC envelope) and REST activity pages (`GET /v3/events`).

A drain record names the token (`tokenId`), caller IP and user agent; `via[]` is the app that
acted for the user. REST events carry only the principal and a payload.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentaudit.collectors.providers._platform import (
    Fields,
    PlatformAuditLog,
    epoch_or_text_time,
    mapping,
    text,
)
from agentaudit.collectors.providers._shared import head_text

DRAIN_SCHEMA = "vercel.audit_log.v1"


class VercelAuditLog(PlatformAuditLog):
    name = "vercel.audit"
    source = "vercel.audit"
    version = "1"
    description = "Vercel audit log (Audit Log Drain records or REST /v3/events pages)"
    vendor = "vercel"
    list_keys = ("events",)

    def sniff(self, path: Path, head: bytes) -> bool:
        head = head_text(head)
        return (
            DRAIN_SCHEMA.encode() in head
            or b'"vercel:audit_log"' in head
            or (b'"events"' in head and b'"principalId"' in head and b'"createdAt"' in head)
        )

    def fields(self, record: dict[str, Any]) -> Fields | str:
        if record.get("sourcetype") == "vercel:audit_log" and isinstance(record.get("event"), dict):
            record = record["event"]  # Splunk HEC envelope
        if record.get("schema") == DRAIN_SCHEMA:
            return _drain(record)
        if "principalId" in record and "createdAt" in record:
            return _rest(record)
        return "neither a vercel.audit_log.v1 drain record nor a /v3/events event"


def _drain(record: dict[str, Any]) -> Fields:
    actor = mapping(record.get("actor"))
    via = [mapping(v) for v in record.get("via") or [] if isinstance(v, dict)]
    payload = mapping(record.get("payload"))
    return Fields(
        key=text(record.get("id")),
        time=epoch_or_text_time(record.get("timestamp")),
        operation=text(record.get("action")),
        actor=text(actor.get("email"), actor.get("name"), actor.get("id"), actor.get("type")),
        credential_id=text(record.get("tokenId")),
        source_ip=text(record.get("ipAddress")),
        user_agent=text(record.get("userAgent")),
        target=text(record.get("projectId"), payload.get("projectId"), record.get("teamId")),
        env_ids=[
            ("vercel_team", text(record.get("teamId"))),
            ("vercel_project", text(record.get("projectId"))),
        ],
        env_names=_environments(payload),
        operation_id=text(record.get("requestId")),
        tool_name=f"vercel via {text(via[0].get('name'), via[0].get('id'))}" if via else None,
    )


def _rest(record: dict[str, Any]) -> Fields:
    principal = mapping(record.get("principal")) or mapping(record.get("user"))
    payload = mapping(record.get("payload"))
    return Fields(
        key=text(record.get("id")),
        time=epoch_or_text_time(record.get("createdAt")),
        operation=_rest_operation(record, payload),
        actor=text(principal.get("email"), principal.get("username"), record.get("principalId")),
        target=text(payload.get("projectName"), payload.get("name"), payload.get("key")),
        env_names=[*_environments(payload), text(payload.get("projectName"))],
    )


def _rest_operation(record: dict[str, Any], payload: dict[str, Any]) -> str | None:
    """`type` names the object; a generic type (an env variable) says its verb in the payload."""
    kind = text(record.get("type"))
    verb = text(payload.get("action"))
    if kind and verb and not kind.endswith(verb):
        return f"{kind}.{verb}"
    return kind


def _environments(payload: dict[str, Any]) -> list[str | None]:
    targets = payload.get("target")
    if isinstance(targets, str):
        return [targets]
    return [t for t in targets if isinstance(t, str)] if isinstance(targets, list) else []
