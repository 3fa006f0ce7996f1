"""Cursor Enterprise audit log: Admin API pages (`GET /teams/audit-logs`) and the S3 stream
(gzip NDJSON under `YYYY/MM/DD/`, where the event type is the one extra top-level key).

The operation is `<event type>.<action>` (`team_hook.delete`, `user_api_key.create`); a key
event names its key id (`key_id`), kept as the credential. `login` with `success: false` is a
failure. Cursor writes "unknown" for an IP or email it does not know: kept empty here.
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

_S3_ENVELOPE = {"ip_address", "metadata", "team_id", "user_email"}


class CursorAuditLog(PlatformAuditLog):
    name = "cursor.audit"
    source = "cursor.audit"
    version = "1"
    description = "Cursor Enterprise audit log (Admin API pages or S3 .jsonl.gz stream)"
    vendor = "cursor"
    list_keys = ("events",)

    def sniff(self, path: Path, head: bytes) -> bool:
        head = head_text(head)
        return (b'"event_type"' in head and b'"event_data"' in head) or (
            b'"auth_id"' in head and b'"team_id"' in head and b'"metadata"' in head
        )

    def fields(self, record: dict[str, Any]) -> Fields | str:
        if "event_type" in record:
            kind, data = text(record.get("event_type")), mapping(record.get("event_data"))
            key, when, auth_id = record.get("event_id"), record.get("timestamp"), None
        elif isinstance(record.get("metadata"), dict):
            extra = [k for k in record if k not in _S3_ENVELOPE]
            if len(extra) != 1:
                return f"Cursor S3 record with {len(extra)} event keys (expected one)"
            kind, data = extra[0], mapping(record[extra[0]])
            metadata = record["metadata"]
            key, when = metadata.get("id"), metadata.get("timestamp")
            auth_id = text(mapping(metadata.get("context")).get("auth_id"))
        else:
            return "not a Cursor audit event (no event_type or metadata)"
        action = text(data.get("action"))
        failed = data.get("success") is False
        return Fields(
            key=text(key),
            time=epoch_or_text_time(when),
            operation=f"{kind}.{action}" if kind and action else kind,
            actor=text(record.get("user_email"), auth_id),
            credential_id=text(data.get("key_id"), data.get("api_key_id")),
            source_ip=text(record.get("ip_address")),
            target=text(
                data.get("user_email"),
                data.get("secret_name"),
                data.get("hook_id"),
                data.get("name"),
                data.get("key_id"),
            ),
            env_ids=[("cursor_team", text(record.get("team_id")))],
            status="failure" if failed else "success",
            kind="auth" if kind in ("login", "logout") else "api",
        )
