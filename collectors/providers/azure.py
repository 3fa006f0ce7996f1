"""Azure Activity Log: REST EventData (camelCase), Python SDK (snake_case), diagnostic export.

The REST and SDK shapes carry `operationName.value`, `status.value`, `eventTimestamp`,
`httpRequest.clientIpAddress`, `claims`; the diagnostic-settings "resource log" shape carries
`operationName` as text, `resultType`, `time`, `callerIpAddress`, `identity.claims`. Keys are
compared without case or underscores, so one mapping reads all three. A REST response
(`{"value": [...]}`) is read as its records.

One operation logs several events (BeginRequest/Started, then Accepted, Succeeded or Failed)
under one `correlationId`: all are kept with `operation_id` = correlationId, and all but the
first seen for (correlationId, operation, resource) are marked `repeat`, so it counts once.
"""

from __future__ import annotations

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

_STATUS = {
    "succeeded": "success",
    "success": "success",
    "failed": "failure",
    "failure": "failure",
    "started": "unknown",
    "start": "unknown",
    "accepted": "unknown",
    "accept": "unknown",
}
_NAME_CLAIMS = (
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
    "upn",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
    "name",
    "appid",
)


def _value(field: Any) -> str | None:
    """`{"value": "x", "localizedValue": ...}` (REST/SDK) or plain text (resource log)."""
    if isinstance(field, dict):
        return first_text(field.get("value"))
    return first_text(field)


class AzureActivityLog(Collector):
    name = "azure.activity"
    source = "azure.activity"
    version = "1"
    description = "Azure Activity Log (REST camelCase, SDK snake_case, diagnostic export)"
    origin = "provider"
    vendor = "azure"

    def sniff(self, path: Path, head: bytes) -> bool:
        text = head_text(head)
        lowered = text.lower()
        if b"kube-audit" in lowered:
            return False
        return (b'"operationname"' in lowered or b'"operation_name"' in lowered) and (
            b"/subscriptions/" in lowered or b'"correlation' in lowered
        )

    def collect(self, src: SourceInput) -> Iterator[Output]:
        seen: set[tuple[str, str, str]] = set()
        for item in json_records(src, ("value", "records")):
            if isinstance(item, Quarantined):
                yield item
            elif not isinstance(item.value, dict):
                yield item.quarantined("record is not a JSON object")
            else:
                yield self._event(item.value, item, src.path, seen)

    def _event(
        self, original: dict[str, Any], item: Record, path: str, seen: set[tuple[str, str, str]]
    ) -> Output:
        record = normalize_keys(original)
        identity = record.get("identity") if isinstance(record.get("identity"), dict) else {}
        claims = record.get("claims") or identity.get("claims") or {}
        claims = {k.lower(): v for k, v in claims.items()} if isinstance(claims, dict) else {}
        operation = _value(record.get("operationname"))
        raw_status = _value(record.get("status")) or first_text(record.get("resulttype"))
        status = _STATUS.get((raw_status or "").lower(), "unknown")
        if status == "failure" and (
            str(record.get("resultsignature") or _value(record.get("substatus")) or "").startswith(
                ("401", "403", "Forbidden", "Unauthorized")
            )
        ):
            status = "denied"
        resource_id = first_text(record.get("resourceid"), _value(record.get("resourceid")))
        correlation = first_text(record.get("correlationid"))
        group = (correlation or "", (operation or "").lower(), (resource_id or "").lower())
        repeat = bool(correlation) and group in seen
        seen.add(group)
        actor = first_text(
            record.get("caller"),
            *(claims.get(c.replace("_", "").replace("-", "")) for c in _NAME_CLAIMS),
        )
        subscription = first_text(record.get("subscriptionid"), _subscription_of(resource_id))
        hints = env_hints(
            ids=[("azure_subscription", subscription)],
            names=[resource_id, first_text(record.get("resourcegroupname"))],
        )
        when = parse_time(first_text(record.get("eventtimestamp"), record.get("time")))
        http = record.get("httprequest") if isinstance(record.get("httprequest"), dict) else {}
        provider = (
            _value(record.get("resourceprovidername")) or (operation or "").split("/")[0] or None
        )
        key = first_text(record.get("eventdataid"), record.get("id"))
        return new_event(
            self.source,
            record_key=key or raw_json(original),
            source_path=path,
            source_offset=item.offset,
            seq=item.index,
            parser_version=self.parser_version,
            time=when,
            time_precision="us" if when else "none",
            agent="unknown",
            actor=actor,
            kind="api",
            tool_name=provider,
            operation=operation,
            target=resource_id,
            env_hints=hints or None,
            status=status,
            error=_value(record.get("substatus")) if status in ("failure", "denied") else None,
            raw=raw_json(original),
            credential_id=first_text(claims.get("uti")),
            source_ip=first_text(http.get("clientipaddress"), record.get("calleripaddress")),
            on_behalf_of=actor if actor and actor.lower().startswith("microsoft.") else None,
            operation_id=correlation,
            repeat=repeat,
        )


def _subscription_of(resource_id: str | None) -> str | None:
    parts = (resource_id or "").split("/")
    lowered = [p.lower() for p in parts]
    if "subscriptions" in lowered:
        index = lowered.index("subscriptions") + 1
        return parts[index] if index < len(parts) else None
    return None
