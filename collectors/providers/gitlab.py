"""GitLab audit events: API pages (`/audit_events`, JSON arrays) and streamed events (NDJSON).

The action is `event_type`; older API entries have only `details` (`custom_message`, or
`add`/`change`/`remove` with the object), read as `<verb>_<object>`. GitLab logs no token id:
a deploy key or token acting shows as `details.author_class`, kept in `tool_name`. A failure
has its own event type (`*_failed`).
"""

from __future__ import annotations

import re
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


class GitLabAuditEvents(PlatformAuditLog):
    name = "gitlab.audit"
    source = "gitlab.audit"
    version = "1"
    description = "GitLab audit events (API pages or streamed NDJSON)"
    vendor = "gitlab"

    def sniff(self, path: Path, head: bytes) -> bool:
        head = head_text(head)
        return b'"author_id"' in head and b'"entity_type"' in head and b'"details"' in head

    def fields(self, record: dict[str, Any]) -> Fields | str:
        if "author_id" not in record or "entity_type" not in record:
            return "not a GitLab audit event (no author_id or entity_type)"
        details = mapping(record.get("details"))
        operation = text(record.get("event_type")) or _legacy_action(details)
        author_class = text(details.get("author_class"))
        target_type = text(record.get("target_type"), details.get("target_type"))
        target = text(record.get("target_details"), details.get("target_details"))
        if not target and target_type:
            target = f"{target_type}:{text(record.get('target_id'), details.get('target_id'))}"
        return Fields(
            key=text(record.get("id")),
            time=epoch_or_text_time(record.get("created_at")),
            operation=operation,
            actor=text(
                details.get("author_email"),
                record.get("author_name"),
                details.get("author_name"),
                record.get("author_id"),
            ),
            source_ip=text(record.get("ip_address"), details.get("ip_address")),
            target=target or text(record.get("entity_path"), details.get("entity_path")),
            env_ids=[("gitlab_path", text(record.get("entity_path"), details.get("entity_path")))],
            env_names=[text(record.get("entity_path"), details.get("entity_path"))],
            status="failure" if (operation or "").endswith("_failed") else "success",
            tool_name=f"gitlab {author_class}" if author_class else None,
        )


def _legacy_action(details: dict[str, Any]) -> str | None:
    for verb in ("remove", "add", "change"):
        if details.get(verb):
            return f"{verb}_{_word(str(details[verb]))}"
    message = details.get("custom_message")
    if isinstance(message, dict):
        return text(message.get("action"))
    return _word(message) if isinstance(message, str) and message else None


def _word(phrase: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", phrase.lower()).strip("_")
