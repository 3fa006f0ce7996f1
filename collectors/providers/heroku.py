"""Heroku Enterprise audit trail: daily events (`/enterprise-accounts/{id}/events`) and monthly
archives (`{"entries": [...]}`), as defined by the Platform API schema's `audit-trail-event`.

The operation is `<type>.<action>` (`app.destroy`); the caller's IP is `request.ip_address`.
The trail names no token or user agent.
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


class HerokuAuditTrail(PlatformAuditLog):
    name = "heroku.audit"
    source = "heroku.audit"
    version = "1"
    description = "Heroku Enterprise audit trail (daily events or monthly archives)"
    vendor = "heroku"
    list_keys = ("entries",)

    def sniff(self, path: Path, head: bytes) -> bool:
        head = head_text(head)
        return b'"enterprise_account"' in head and b'"action"' in head

    def fields(self, record: dict[str, Any]) -> Fields | str:
        if "enterprise_account" not in record or "action" not in record:
            return "not a Heroku audit-trail event (no enterprise_account or action)"
        kind, action = text(record.get("type")), text(record.get("action"))
        actor, app = mapping(record.get("actor")), mapping(record.get("app"))
        team, account = mapping(record.get("team")), mapping(record.get("enterprise_account"))
        return Fields(
            key=text(record.get("id")),
            time=epoch_or_text_time(record.get("created_at")),
            operation=f"{kind}.{action}" if kind and action else action,
            actor=text(actor.get("email"), actor.get("id")),
            source_ip=text(mapping(record.get("request")).get("ip_address")),
            target=text(app.get("name"), app.get("id"), team.get("name")),
            env_ids=[("heroku_app", text(app.get("id"))), ("heroku_team", text(team.get("id")))],
            env_names=[text(app.get("name")), text(team.get("name")), text(account.get("name"))],
        )
