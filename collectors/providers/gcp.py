"""GCP Cloud Audit Logs: LogEntry with `protoPayload`, the BigQuery export and snake_case forms.

Shapes: Cloud Logging JSON (`protoPayload`, camelCase), the BigQuery sink
(`protopayload_auditlog`), Log Analytics (`proto_payload.audit_log`, snake_case) and
Panther-normalised keys (`insertid`, `at_sign_type`). Keys are compared without case or
underscores, so one mapping reads them all.

A long-running operation logs a `first: true` entry and a later `last: true` entry with the same
`operation.id`: both are kept, the `last` one is marked `repeat` so the operation counts once.
Entries by Google-managed service agents or from the `system_event` log are marked
`on_behalf_of` (a downstream service action, not the actor's call). Non-audit entries
(`textPayload`, `jsonPayload`) are kept as kind "other".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.base import Collector, Output, SourceInput
from agentaudit.collectors.providers._shared import (
    Record,
    env_hints,
    first_text,
    head_text,
    json_records,
    normalize_keys,
)
from agentaudit.schema import Quarantined, new_event, parse_time, raw_json

_DENIED_CODES = {7, 16}  # PERMISSION_DENIED, UNAUTHENTICATED
_SERVICE_AGENT = re.compile(
    r"(?i)^(service-\d+@|\d+@cloudservices\.gserviceaccount\.com$|[^@]+@gcp-sa-|system:)"
)


def _object(value: Any) -> dict[str, Any]:
    """A JSON object where one belongs, else empty (a wrong type is not a crash)."""
    return value if isinstance(value, dict) else {}


def audit_payload(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The AuditLog inside a normalised LogEntry, whichever export wrote it."""
    for key in ("protopayload", "protopayloadauditlog"):
        payload = entry.get(key)
        if isinstance(payload, dict):
            inner = payload.get("auditlog")  # Log Analytics: proto_payload.audit_log
            return inner if isinstance(inner, dict) and "methodname" not in payload else payload
    return None


class GcpAuditLog(Collector):
    name = "gcp.audit"
    source = "gcp.audit"
    version = "1"
    description = "GCP Cloud Audit Logs (LogEntry protoPayload, BigQuery export, snake_case)"
    origin = "provider"
    vendor = "gcp"

    def sniff(self, path: Path, head: bytes) -> bool:
        text = head_text(head).lower()
        return b"k8s.io" not in text[:600] and (
            b'"protopayload' in text
            or b'"proto_payload' in text
            or b"cloudaudit.googleapis.com" in text
        )

    def collect(self, src: SourceInput) -> Iterator[Output]:
        for item in json_records(src, ("entries", "logEntries")):
            if isinstance(item, Quarantined):
                yield item
            elif not isinstance(item.value, dict):
                yield item.quarantined("entry is not a JSON object")
            else:
                yield self._event(item.value, item, src.path)

    def _event(self, original: dict[str, Any], item: Record, path: str) -> Output:
        entry = normalize_keys(original)
        payload = audit_payload(entry) or {}
        auth = _object(payload.get("authenticationinfo"))
        meta = _object(payload.get("requestmetadata"))
        status_block = _object(payload.get("status"))
        operation = _object(entry.get("operation"))
        resource = _object(entry.get("resource"))
        labels = _object(resource.get("labels"))
        log_name = first_text(entry.get("logname")) or ""
        actor = first_text(auth.get("principalemail"), auth.get("principalsubject"))
        database = _database_audit(payload)
        if database:  # a database's own audit entry (Cloud SQL pgAudit): its session user
            actor = actor or first_text(database.get("user"))
        code = status_block.get("code") if isinstance(status_block, dict) else None
        granted = [
            a.get("granted") for a in payload.get("authorizationinfo") or [] if isinstance(a, dict)
        ]
        status = "success"
        if code in _DENIED_CODES or (granted and not any(granted)):
            status = "denied"
        elif code not in (None, 0):
            status = "failure"
        if not payload:
            status = "unknown"
        method = first_text(payload.get("methodname"))
        project = first_text(labels.get("projectid"), _project_of(log_name))
        target = first_text(payload.get("resourcename")) or _labels_target(resource)
        hints = env_hints(
            ids=[("gcp_project", project)], names=[target, first_text(database.get("database"))]
        )
        when = parse_time(first_text(entry.get("timestamp"), entry.get("peventtime")))
        insert_id = first_text(entry.get("insertid"))
        return new_event(
            self.source,
            record_key=f"{log_name}\x1f{insert_id}\x1f{entry.get('timestamp')}"
            if insert_id
            else raw_json(original),
            source_path=path,
            source_offset=item.offset,
            seq=item.index,
            parser_version=self.parser_version,
            time=when,
            time_precision="us" if when else "none",
            agent="unknown",
            actor=actor,
            kind="api" if payload else "other",
            tool_name=first_text(payload.get("servicename")),
            operation=method,
            target=target,
            env_hints=hints or None,
            status=status,
            error=first_text(status_block.get("message"))
            if isinstance(status_block, dict)
            else None,
            text=first_text(entry.get("textpayload")),
            raw=raw_json(original),
            credential_id=first_text(auth.get("serviceaccountkeyname")),
            source_ip=first_text(meta.get("callerip")),
            user_agent=first_text(meta.get("callersupplieduseragent")),
            on_behalf_of=_downstream(actor, log_name),
            operation_id=first_text(operation.get("id")),
            repeat=bool(operation.get("last")) and not operation.get("first"),
        )


def _database_audit(payload: dict[str, Any]) -> dict[str, Any]:
    """The request of a Cloud SQL / AlloyDB pgAudit entry (`...audit.v1.PgAuditEntry`)."""
    request = _object(payload.get("request"))
    kind = first_text(request.get("type")) or ""
    return request if kind.endswith(".PgAuditEntry") else {}


def _project_of(log_name: str) -> str | None:
    match = re.match(r"projects/([^/]+)/", log_name)
    return match.group(1) if match else None


def _labels_target(resource: dict[str, Any]) -> str | None:
    labels = resource.get("labels") or {}
    values = [str(v) for k, v in labels.items() if k not in ("projectid", "location", "zone") and v]
    return "/".join([str(resource.get("type") or ""), *values]) if values else None


def _downstream(actor: str | None, log_name: str) -> str | None:
    if "system_event" in log_name or "systemevent" in log_name.lower():
        return actor or "system_event"
    if actor and _SERVICE_AGENT.search(actor):
        return actor
    return None
