"""Enrichment, once, before storage: redact secrets, analyse commands, classify, infer env.

Detection reads the columns filled here; it never re-parses raw text.
"""

from __future__ import annotations

from typing import Literal

from agentaudit.enrich import catalog
from agentaudit.enrich.commands import analyze_command
from agentaudit.enrich.commands.model import max_severity
from agentaudit.enrich.environments import infer_env_from_text
from agentaudit.enrich.secrets import NoSecrets, Redactor
from agentaudit.schema import EventRow

RedactedColumn = Literal["command", "error", "url", "target", "text", "cwd", "raw"]
_REDACTED_COLUMNS: tuple[RedactedColumn, ...] = (
    "command",
    "error",
    "url",
    "target",
    "text",
    "cwd",
    "raw",
)
_CRITICAL_CATEGORIES = {"backup_destroy", "audit_tamper"}


def enrich(event: EventRow, redactor: Redactor) -> EventRow:
    """Fill the analysis columns of one canonical event, in place; returns it."""
    _redact(event, redactor)
    categories: list[str] = list(event.get("categories") or [])
    destructive = bool(event.get("destructive"))
    command_severity: str | None = None
    if event["kind"] == "process" and event.get("command"):
        found = analyze_command(event["command"], cwd=event.get("cwd") or None)
        event["operation"] = event.get("operation") or found.operation
        event["scope"] = event.get("scope") or found.scope
        command_severity = _command_severity(found.severity, [*categories, *found.categories])
        event["target"] = event.get("target") or found.target
        event["url"] = event.get("url") or found.url
        categories += found.categories
        destructive = destructive or found.destructive
    elif event["kind"] == "api" and event.get("operation"):
        provider = catalog.provider_of_source(event["source"])
        provider_categories = catalog.classify(provider, event["operation"], raw=event.get("raw"))
        event["scope"] = event.get("scope") or "remote"  # a provider's resource, not this host
        categories += provider_categories
        destructive = destructive or bool(provider_categories)
    # Reading or printing a secret is credential access; sending one is its use.
    revealed = set(event.get("secret_fps") or []) - {event.get("credential_fp")}
    if revealed and event["kind"] in ("file", "process"):
        categories.append("credential_access")
    event["categories"] = list(dict.fromkeys(categories)) or None
    event["destructive"] = destructive
    if not event.get("target_env"):
        # Local file paths name users and checkouts (/home/dev), not environments.
        guess = None
        if event["kind"] != "file":
            guess = infer_env_from_text(event.get("target")) or infer_env_from_text(
                event.get("command") if destructive else None
            )
        if guess:
            event["target_env"], event["env_evidence"] = guess
        else:
            event["target_env"] = "unknown"
    severity = _severity(destructive, categories)
    if command_severity is not None:  # the analyser knows scope: rm -rf build is low
        severity = max_severity(command_severity, _severity(False, categories))
    event["severity"] = event.get("severity") or severity
    return event


def _redact(event: EventRow, redactor: Redactor) -> None:
    seen: list[str] = list(event.get("secret_fps") or [])
    credential = event.get("credential_fp")
    if isinstance(redactor, NoSecrets):  # the prefilter ruled every value out: nothing to do
        event["secret_fps"], event["credential_fp"] = seen or None, credential
        return
    for column in _REDACTED_COLUMNS:
        value = event.get(column)
        if not value:
            continue
        result = redactor.redact(value)
        event[column] = result.text
        seen += [fp for fp in result.fingerprints if fp not in seen]
        if column == "command" and result.credentials and not credential:
            credential = result.credentials[0]
    if paths := event.get("paths"):
        event["paths"] = [redactor.redact(p).text for p in paths]
    event["secret_fps"] = seen or None
    event["credential_fp"] = credential


def _command_severity(severity: str, categories: list[str]) -> str:
    """The analyser's severity, raised to critical for backup or audit-trail destruction."""
    return "critical" if _CRITICAL_CATEGORIES & set(categories) else severity


def _severity(destructive: bool, categories: list[str]) -> str:
    if destructive:
        return "critical" if _CRITICAL_CATEGORIES & set(categories) else "high"
    if "credential_access" in categories:
        return "medium"
    return "info"
