"""Results of command analysis: one Finding per rule that matched, rolled up per command."""

from __future__ import annotations

from dataclasses import dataclass, field

SEVERITIES = ("info", "low", "medium", "high", "critical")
_RANK = {name: i for i, name in enumerate(SEVERITIES)}

# Categories that destroy data, backups, history or audit trails (the `destructive` column).
DESTRUCTIVE_CATEGORIES = frozenset(
    {
        "fs_delete",
        "data_overwrite",
        "disk_wipe",
        "vcs_history_loss",
        "db_destroy",
        "cloud_delete",
        "backup_destroy",
        "k8s_delete",
        "infra_destroy",
        "container_delete",
        "audit_tamper",
        "config_delete",
        "identity_delete",
        "credential_reset",
        "service_disrupt",
    }
)
# Categories that are risky but destroy nothing by themselves.
OTHER_CATEGORIES = frozenset(
    {"credential_access", "safety_bypass", "remote_code_exec", "dynamic_exec", "privilege_change",
     "credential_exfil", "persistence"}
)  # fmt: skip
# One line per category, for the taxonomy (arch-taxonomy moves these into agentaudit/taxonomy.py).
CATEGORY_MEANINGS = {
    "fs_delete": "files or directories deleted",
    "data_overwrite": "data overwritten in place (truncate, dd, restore over live data)",
    "disk_wipe": "a disk or partition erased or formatted",
    "vcs_history_loss": "commits, branches or uncommitted work thrown away",
    "db_destroy": "database objects or rows dropped, truncated or deleted",
    "cloud_delete": "a cloud or SaaS resource deleted or terminated",
    "backup_destroy": "backups, snapshots, versioning or keys destroyed or turned off",
    "k8s_delete": "Kubernetes resources deleted",
    "infra_destroy": "infrastructure-as-code stack destroyed",
    "container_delete": "containers, images or volumes removed",
    "audit_tamper": "history, logs or audit trails edited, truncated, cut short or turned off",
    "config_delete": "configuration removed (cron jobs, mounts, keys from the agent)",
    "identity_delete": "users, roles or access keys deleted",
    "credential_reset": "a secret overwritten or rotated",
    "service_disrupt": "a service stopped, scaled to zero or cut off",
    "credential_access": "a secret read or printed",
    "credential_exfil": "a credential sent off the machine in the same command line",
    "persistence": "code installed to run again later (start-up files, crontab, authorized_keys)",
    "safety_bypass": "the agent's or the tool's own safety checks turned off",
    "remote_code_exec": "code fetched from the network run at once",
    "dynamic_exec": "code hidden from review run (decoded, assembled at run time)",
    "privilege_change": "permissions widened (setuid, chmod 777, GRANT ALL)",
}
CATEGORIES = DESTRUCTIVE_CATEGORIES | OTHER_CATEGORIES


def rank(severity: str | None) -> int:
    return _RANK.get(severity or "info", 0)


def raise_severity(severity: str, steps: int = 1) -> str:
    return SEVERITIES[min(len(SEVERITIES) - 1, rank(severity) + steps)]


def max_severity(*severities: str | None) -> str:
    return max((s or "info" for s in severities), key=rank, default="info")


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    category: str
    severity: str
    reason: str
    operation: str | None = None
    target: str | None = None
    scope: str | None = None
    url: str | None = None
    provider: str | None = None

    @property
    def destructive(self) -> bool:
        return self.category in DESTRUCTIVE_CATEGORIES


@dataclass(frozen=True, slots=True)
class CommandAnalysis:
    operation: str | None = None
    destructive: bool = False
    categories: tuple[str, ...] = ()
    target: str | None = None
    url: str | None = None
    provider: str | None = None
    programs: tuple[str, ...] = field(default=())
    severity: str = "info"
    scope: str | None = None
    targets: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    unparsed: bool = False
    findings: tuple[Finding, ...] = ()

    @property
    def flagged(self) -> bool:
        """Worth an analyst's attention: medium severity or higher."""
        return rank(self.severity) >= rank("medium")
