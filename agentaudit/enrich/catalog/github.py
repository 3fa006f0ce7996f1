"""GitHub audit-log actions that destroy repositories and their data or remove protections.

From the reference (Sigma `github_delete_action_invoked`, Panther `github_rules`): deletes,
protections and security features turned off, members and installations removed, and repos
archived, transferred or made visible to others.
"""

from __future__ import annotations

import re
from typing import Any

ACTIONS: dict[str, tuple[str, ...]] = {
    "repo.destroy": ("cloud_delete",),
    "environment.delete": ("cloud_delete",),
    "project.delete": ("cloud_delete",),
    "codespaces.destroy": ("cloud_delete",),
    "artifact.destroy": ("cloud_delete",),
    "actions_cache.delete": ("cloud_delete",),
    "team.destroy": ("identity_delete",),
    "org.remove_member": ("identity_delete",),
    "integration_installation.destroy": ("identity_delete",),
    "hook.destroy": ("config_delete",),
    "protected_branch.destroy": ("protection_disable",),
    "protected_branch.policy_override": ("protection_disable",),
    "repository_ruleset.destroy": ("protection_disable",),
    "org.disable_two_factor_requirement": ("protection_disable",),
    "repo.advanced_security_disabled": ("protection_disable",),
    "repo.archived": ("service_stop",),
    "repo.transfer": ("ownership_transfer",),
    "repo.access": ("visibility_change",),
}
# Security features turned off: secret scanning, push protection, dependabot, code scanning.
_SECURITY_OFF = re.compile(
    r"^(?:repository_|business_|org_)?(secret_scanning|dependabot|code_scanning|advanced_security)"
    r"[a-z_]*\.disabled?$"
)


def needs_record(operation: str) -> bool:
    return False


def classify(operation: str, record: dict[str, Any]) -> list[str]:
    if operation in ACTIONS:
        return list(ACTIONS[operation])
    if operation.startswith("repo.transfer"):
        return ["ownership_transfer"]
    if _SECURITY_OFF.match(operation):
        return ["protection_disable"]
    return []
