"""Reading a platform's audit action name as verb and object, for platforms that publish no
machine-readable model of their actions (Vercel, Cloudflare, GitLab, Heroku, ...).

An action name (`project.deleted`, `dns_records.delete`, `Git.RepositoryDestroyed`,
`personal_access_token_revoked`) is split into lower-case words; a destroying verb makes it
destructive, and the object words say which category. Each platform module lists its exact
names first (from the vendor's documentation) and falls back to this reading, so a name the
list misses is still judged by its class, not ignored.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

_DESTROY = {
    "delete", "deleted", "destroy", "destroyed", "remove", "removed", "purge", "purged",
    "drop", "dropped", "wipe", "wiped", "erase", "erased", "uninstall", "uninstalled",
    "unlink", "unlinked", "unenroll", "unenrolled", "del",
}  # fmt: skip
_REVOKE = {"revoke", "revoked", "expire", "expired", "unretained"}
_DISABLE = {"disable", "disabled", "deactivate", "deactivated", "pause", "paused", "stop", "stopped"}  # fmt: skip
_UNPROTECT = {"unprotect", "unprotected", "bypass", "bypassed", "override"}
_AUDIT = {"audit", "log", "logs", "logpush", "drain", "drains", "stream", "streaming", "siem"}
_IDENTITY = {
    "token", "tokens", "key", "keys", "member", "members", "user", "users", "collaborator",
    "identity", "factor", "passkey", "credential", "credentials", "ssh", "gpg", "role",
    "account", "session", "codes", "seat", "sso", "pat", "certificate", "principal",
}  # fmt: skip
_CONFIG = {"variable", "variables", "var", "env", "secret", "secrets", "config", "setting", "settings", "hook", "hooks", "rule", "rules", "policy", "policies"}  # fmt: skip
_NETWORK = {"dns", "record", "records", "domain", "domains", "firewall", "network", "route", "routes", "tunnel", "certificate"}  # fmt: skip
_BACKUP = {"backup", "backups", "snapshot", "snapshots", "archive", "archives", "retention"}
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def words(action: str) -> list[str]:
    """`Git.RepositoryDestroyed` -> git, repository, destroyed; `rec_del` -> rec, del."""
    return [w.lower() for w in _WORD.findall(action)]


def by_verb(action: str) -> list[str]:
    """Categories of an action from its verb and object words; [] when nothing is destroyed."""
    found = set(words(action))
    if found & _DESTROY:
        if found & _AUDIT:
            return ["audit_tamper"]
        if found & _BACKUP:
            return ["backup_destroy"]
        if found & _IDENTITY:
            return ["identity_delete"]
        if found & _CONFIG:
            return ["config_delete"]
        if found & _NETWORK:
            return ["network_delete"]
        return ["cloud_delete"]
    if found & _REVOKE:
        return ["backup_destroy"] if found & _BACKUP else ["identity_delete"]
    if found & _DISABLE:
        if found & _AUDIT:
            return ["audit_tamper"]
        if found & _IDENTITY or found & _CONFIG:
            return ["protection_disable"]
        return []
    if found & _UNPROTECT:
        return ["protection_disable"]
    return []


@cache
def named_actions(platform: str) -> tuple[dict[str, tuple[str, ...]], frozenset[str]]:
    """A platform's listed names -> categories, and its safe names (`platform_actions.yaml`)."""
    listed = yaml.safe_load(_NAMES_FILE.read_text(encoding="utf-8")).get(platform) or {}
    named: dict[str, list[str]] = {}
    for category, names in listed.items():
        if category != "safe":
            for name in names:
                named.setdefault(name, []).append(category)
    return {k: tuple(v) for k, v in named.items()}, frozenset(listed.get("safe") or ())


_NAMES_FILE = Path(__file__).with_name("platform_actions.yaml")


def classify_platform_action(platform: str, action: str) -> list[str]:
    """Categories of one audit action of a platform listed in `platform_actions.yaml`."""
    named, safe = named_actions(platform)
    return classify_action(action, named, safe)


def classify_action(action: str, named: dict[str, tuple[str, ...]], safe: frozenset[str] = frozenset()) -> list[str]:  # fmt: skip
    """The platform's named actions first, then the verb reading; `safe` names destroy nothing
    whatever their words say (a token rotated on every refresh)."""
    if action in named:
        return list(named[action])
    if action in safe:
        return []
    return by_verb(action)
