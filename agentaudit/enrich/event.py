"""Enrichment, once, before storage: redact secrets, analyse commands, classify, infer env.

Everything detection and linking need from a command or a raw record is a column filled
here: the command's argvs and provider, the environment hints and clues, what a prompt
forbids, the source's origin. Detection reads these columns; it never re-parses commands
and never reads `raw`.
"""

from __future__ import annotations

import re
from typing import Any

from agentaudit.collectors import collector_for_source
from agentaudit.enrich import catalog, mcp
from agentaudit.enrich.commands import analyze_command
from agentaudit.enrich.environments import env_clues, infer_env_from_text, target_env_from_hints
from agentaudit.enrich.instructions import FREEZE, NO_DELETE, NO_PROD
from agentaudit.enrich.secrets import NoSecrets, Redactor
from agentaudit.taxonomy import is_destructive, max_severity

# Every column a source fills with free text (and the lists below); ids, enums and times are not.
REDACTED_COLUMNS = (
    "command",
    "error",
    "url",
    "target",
    "text",
    "cwd",
    "raw",
    "user_agent",
    "actor",
    "operation",
    "env_evidence",
)
REDACTED_LISTS = ("paths", "env_hints")
_CRITICAL_CATEGORIES = {"backup_destroy", "audit_tamper"}
# What a user's prompt can forbid (the patterns are RE2 syntax that `re` reads the same way).
_INSTRUCTIONS = (
    ("freeze", re.compile(FREEZE)),
    ("no_delete", re.compile(NO_DELETE)),
    ("no_prod", re.compile(NO_PROD)),
)


def enrich(event: dict[str, Any], redactor: Redactor, clues: bool = True) -> dict[str, Any]:
    """Fill the analysis columns of one canonical event, in place; returns it.

    `clues=False`: a scan of the batch found no environment-clue marker in the event's text
    (`ingest.files.enrich_events`), so its command and record are not searched again."""
    collector = collector_for_source(event["source"])
    event["origin"] = event.get("origin") or (collector.origin if collector else None)
    vendor = collector.vendor if collector else None
    if not event.get("target_env") and event.get("env_hints"):
        # from the collector's hints, before redaction: ids are looked up as recorded
        hinted = target_env_from_hints(event["env_hints"], vendor)
        if hinted:
            event["target_env"], event["env_evidence"] = hinted
    weak = _redact(event, redactor)
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
        event["provider"] = event.get("provider") or found.provider
        event["argvs"] = [list(argv) for argv in found.argvs] or None
        categories += found.categories
        destructive = destructive or found.destructive
    elif event["kind"] == "api" and event.get("operation"):
        mcp_call = mcp.split_mcp_name(event.get("tool_name"))
        if mcp_call:  # an agent's MCP tools/call, whichever server and agent
            provider_categories = mcp.classify(*mcp_call, event.get("text"))
        else:
            provider_categories = catalog.classify(vendor, event["operation"], raw=event.get("raw"))
        event["scope"] = event.get("scope") or "remote"  # a provider's resource, not this host
        categories += provider_categories
        destructive = destructive or is_destructive(provider_categories)
    if vendor:
        event["provider"] = event.get("provider") or vendor
    if clues and event["origin"] in ("agent", "shell"):
        event["env_clues"] = env_clues(event.get("command"), event.get("raw")) or None
    event["instructions"] = event.get("instructions") or user_prompt_instructions(event)
    # Reading or printing a secret is credential access; sending one is its use.
    # (a random-looking string found by entropy alone is redacted, but reading it is not access)
    revealed = set(event.get("secret_fps") or []) - {event.get("credential_fp")} - weak
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


def user_prompt_instructions(event: dict[str, Any]) -> list[str] | None:
    """What a user's prompt forbids (freeze, no_delete, no_prod); None for other events."""
    if event["kind"] != "message" or not event.get("text"):
        return None
    operation = (event.get("operation") or "").lower()
    if "user" not in operation and "prompt" not in operation:
        return None
    text = event["text"]
    return [kind for kind, pattern in _INSTRUCTIONS if pattern.search(text)] or None


def _redact(event: dict[str, Any], redactor: Redactor) -> set[str]:
    """Redact every free-text column in place; the fingerprints found by entropy alone."""
    seen: list[str] = list(event.get("secret_fps") or [])
    credential = event.get("credential_fp")
    if isinstance(redactor, NoSecrets):  # the prefilter ruled every value out: nothing to do
        event["secret_fps"], event["credential_fp"] = seen or None, credential
        return set()
    weak: set[str] = set()
    strong: set[str] = set()
    for column in REDACTED_COLUMNS:
        value = event.get(column)
        if not value or not isinstance(value, str):
            continue
        result = redactor.redact(value)
        event[column] = result.text
        seen += [fp for fp in result.fingerprints if fp not in seen]
        weak.update(result.weak)
        strong.update(fp for fp in result.fingerprints if fp not in result.weak)
        if column == "command" and result.credentials and not credential:
            credential = result.credentials[0]
    for column in REDACTED_LISTS:
        if event.get(column):
            event[column] = [redactor.redact(v).text for v in event[column]]
    event["secret_fps"] = seen or None
    event["credential_fp"] = credential
    return weak - strong


def _command_severity(severity: str, categories: list[str]) -> str:
    """The analyser's severity, raised to critical for backup or audit-trail destruction."""
    return "critical" if _CRITICAL_CATEGORIES & set(categories) else severity


def _severity(destructive: bool, categories: list[str]) -> str:
    if destructive:
        return "critical" if _CRITICAL_CATEGORIES & set(categories) else "high"
    if "credential_access" in categories:
        return "medium"
    return "info"
