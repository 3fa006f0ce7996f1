"""Cursor Enterprise audit events, `<event type>.<action>` as the collector builds them.

Removing a team hook or rule switches off a guard (agentaudit's own hook among them);
privacy mode loosened is a protection off; keys and members removed are identities."""

from __future__ import annotations

from typing import Any

from agentaudit.enrich.catalog._actions import by_verb

_TYPES = {  # event type -> category of its removal
    "protection_disable": "team_hook team_rule protected_git_scope",
    "config_delete": "mcp_server_config cloud_agent_secret",
}
_TYPE = {name: category for category, names in _TYPES.items() for name in names.split()}
_GUARDS = tuple(_TYPES["protection_disable"].split()[:2])


def needs_record(operation: str) -> bool:
    return operation.startswith(_GUARDS)


def classify(operation: str, record: dict[str, Any]) -> list[str]:
    kind, _, action = operation.partition(".")
    if by_verb(kind):  # the type names the removal itself (remove_user)
        return by_verb(kind)
    data = record.get(kind) or record.get("event_data") or {}
    switched_off = isinstance(data, dict) and data.get("is_active") is False
    if not by_verb(action or kind) and not switched_off:
        return []
    return [_TYPE.get(kind) or by_verb(f"{kind}_delete")[0]]
