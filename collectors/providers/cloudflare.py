"""Cloudflare account audit logs: API v1 (`/audit_logs`) and v2 (`/logs/audit`) pages, and the
Logpush datasets `audit_logs` and `audit_logs_v2` (PascalCase NDJSON).

v2 names the API token (`actor.token_id`), the caller's IP and user agent and the HTTP status;
a failed call (`action.result` false / "failure") is kept as an attempt with status failure.
The operation is `<product or resource type>.<action type>` (`dns_records.delete`).
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


class CloudflareAuditLog(PlatformAuditLog):
    name = "cloudflare.audit"
    source = "cloudflare.audit"
    version = "1"
    description = "Cloudflare audit logs (API v1/v2 pages, Logpush audit_logs and audit_logs_v2)"
    vendor = "cloudflare"
    list_keys = ("result",)

    def sniff(self, path: Path, head: bytes) -> bool:
        head = head_text(head)
        return (
            (b'"when"' in head and b'"owner"' in head and b'"resource"' in head)
            or (b'"cf_ray_id"' in head and b'"actor"' in head)
            or (b'"ActionType"' in head and (b'"OwnerID"' in head or b'"AuditLogID"' in head))
        )

    def fields(self, record: dict[str, Any]) -> Fields | str:
        if "AuditLogID" in record or "ActionTimestamp" in record:
            return _logpush_v2(record)
        if "ActionType" in record and "When" in record:
            return _logpush_v1(record)
        action = record.get("action")
        if isinstance(action, dict) and "time" in action:
            return _v2(record)
        if isinstance(action, dict) and "when" in record:
            return _v1(record)
        return "not a Cloudflare audit log record (no action with when or time)"


def _outcome(result: Any, status_code: Any = None) -> str:
    if result is False or result == "failure":
        return "failure"
    if isinstance(status_code, int) and status_code >= 400:
        return "failure"
    return "success"


def _operation(subject: str | None, verb: str | None) -> str | None:
    if subject and verb:
        return f"{subject.lower()}.{verb}"
    return verb or subject


def _v1(record: dict[str, Any]) -> Fields:
    action, actor = mapping(record.get("action")), mapping(record.get("actor"))
    resource, metadata = mapping(record.get("resource")), mapping(record.get("metadata"))
    return Fields(
        key=text(record.get("id")),
        time=epoch_or_text_time(record.get("when")),
        operation=_operation(text(resource.get("type")), text(action.get("type"))),
        actor=text(actor.get("email"), actor.get("id"), actor.get("type")),
        source_ip=text(actor.get("ip")),
        target=text(metadata.get("name"), resource.get("id")),
        env_ids=[("cloudflare_account", text(mapping(record.get("owner")).get("id")))],
        env_names=[text(metadata.get("zone_name"))],
        status=_outcome(action.get("result")),
        tool_name=f"cloudflare {text(record.get('interface')) or ''}".strip().lower(),
    )


def _v2(record: dict[str, Any]) -> Fields:
    action, actor = mapping(record.get("action")), mapping(record.get("actor"))
    resource, raw = mapping(record.get("resource")), mapping(record.get("raw"))
    zone, account = mapping(record.get("zone")), mapping(record.get("account"))
    return Fields(
        key=text(record.get("id")),
        time=epoch_or_text_time(action.get("time")),
        operation=_operation(
            text(resource.get("product"), resource.get("type")), text(action.get("type"))
        ),
        actor=text(actor.get("email"), actor.get("id"), actor.get("type")),
        credential_id=text(actor.get("token_id")),
        source_ip=text(actor.get("ip_address")),
        user_agent=text(raw.get("user_agent")),
        target=text(resource.get("id"), raw.get("uri")),
        env_ids=[("cloudflare_account", text(account.get("id")))],
        env_names=[text(zone.get("name")), text(account.get("name"))],
        status=_outcome(action.get("result"), raw.get("status_code")),
        operation_id=text(raw.get("cf_ray_id")),
        tool_name=f"cloudflare {text(actor.get('context')) or ''}".strip(),
    )


def _logpush_v1(record: dict[str, Any]) -> Fields:
    metadata = mapping(record.get("Metadata"))
    return Fields(
        key=text(record.get("ID")),
        time=epoch_or_text_time(record.get("When")),
        operation=_operation(text(record.get("ResourceType")), text(record.get("ActionType"))),
        actor=text(record.get("ActorEmail"), record.get("ActorID"), record.get("ActorType")),
        source_ip=text(record.get("ActorIP")),
        target=text(metadata.get("name"), record.get("ResourceID")),
        env_ids=[("cloudflare_account", text(record.get("OwnerID")))],
        env_names=[text(metadata.get("zone_name"))],
        status=_outcome(record.get("ActionResult")),
    )


def _logpush_v2(record: dict[str, Any]) -> Fields:
    raw, token = mapping(record.get("Raw")), mapping(record.get("ActorTokenDetails"))
    return Fields(
        key=text(record.get("AuditLogID")),
        time=epoch_or_text_time(record.get("ActionTimestamp")),
        operation=_operation(
            text(record.get("ResourceProduct"), record.get("ResourceType")),
            text(record.get("ActionType")),
        ),
        actor=text(record.get("ActorEmail"), record.get("ActorID"), record.get("ActorType")),
        credential_id=text(token.get("id")),
        source_ip=text(record.get("ActorIPAddress")),
        user_agent=text(raw.get("user_agent")),
        target=text(record.get("ResourceID"), raw.get("uri")),
        env_ids=[("cloudflare_account", text(record.get("AccountID")))],
        env_names=[text(record.get("ZoneName")), text(record.get("AccountName"))],
        status=_outcome(record.get("ActionResult"), raw.get("status_code")),
        operation_id=text(raw.get("cf_ray_id")),
    )
