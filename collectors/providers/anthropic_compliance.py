"""Anthropic Compliance API activity feed (`GET /v1/compliance/activities` pages, newest first).

The actor is a user (`user_actor`: email, IP, user agent; Claude Code shows as `claude-cli/...`)
or an API key (`api_actor`: `api_key_id`, kept as the credential). Failures have their own
types (`*_failed`). The target is the first type-specific `*_id` the record carries.
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

_COMMON = {"id", "created_at", "organization_id", "organization_uuid", "type", "actor"}


class AnthropicComplianceActivity(PlatformAuditLog):
    name = "anthropic.compliance"
    source = "anthropic.compliance"
    version = "1"
    description = "Anthropic Compliance API activities (pages or one activity a line)"
    vendor = "anthropic"
    list_keys = ("data",)

    def sniff(self, path: Path, head: bytes) -> bool:
        head = head_text(head)
        return b'"organization_id"' in head and (b'"user_actor"' in head or b'"api_actor"' in head)

    def fields(self, record: dict[str, Any]) -> Fields | str:
        actor = mapping(record.get("actor"))
        kind = text(record.get("type"))
        if not actor or not kind:
            return "not a Compliance API activity (no actor or type)"
        return Fields(
            key=text(record.get("id")),
            time=epoch_or_text_time(record.get("created_at")),
            operation=kind,
            actor=text(actor.get("email_address"), actor.get("user_id"), actor.get("api_key_id")),
            credential_id=text(actor.get("api_key_id")),
            source_ip=text(actor.get("ip_address")),
            user_agent=text(actor.get("user_agent")),
            target=_target(record),
            env_ids=[
                ("anthropic_org", text(record.get("organization_id"))),
                ("anthropic_workspace", text(record.get("workspace_id"))),
            ],
            status="failure" if kind.endswith("_failed") else "success",
            kind="auth" if "login" in kind or kind.startswith("sso_") else "api",
        )


def _target(record: dict[str, Any]) -> str | None:
    for key, value in record.items():
        if key not in _COMMON and (key.endswith(("_id", "_email", "_name"))) and text(value):
            return text(value)
    return None
