"""HCP Terraform audit trail: `<resource type>.<action>`. The exact action strings are not
published on a page; resource types that hold state or credentials are named, the verb read
for the rest. A run whose meta marks a destroy plan is infrastructure teardown."""

from __future__ import annotations

from typing import Any

from agentaudit.enrich.catalog._actions import by_verb

_RESOURCES = {  # resource type -> categories of its deletion
    "workspace organization": ("cloud_delete", "backup_destroy"),  # state versions go with it
    "state_version": ("backup_destroy",),
    "variable var_set": ("config_delete",),
    "authentication_token": ("identity_delete",),
    "agent_pool": ("cloud_delete",),
}
_RESOURCE = {name: cats for names, cats in _RESOURCES.items() for name in names.split()}


def needs_record(operation: str) -> bool:
    return operation.startswith("run.")


def classify(operation: str, record: dict[str, Any]) -> list[str]:
    resource, _, action = operation.rpartition(".")
    if resource == "run":
        meta = (record.get("resource") or {}).get("meta") or {}
        destroy = isinstance(meta, dict) and (meta.get("is_destroy") or meta.get("is-destroy"))
        return ["infra_destroy"] if destroy and action in ("apply", "create", "confirm") else []
    if not by_verb(action):
        return []
    return list(_RESOURCE.get(resource, by_verb(f"{resource}_{action}")))
