"""MCP tool calls: which `tools/call` destroys something, whatever the server.

An MCP call reaches enrichment as kind `api` with `tool_name` `mcp__<server>__<tool>` and its
arguments as JSON in `text` (`collectors/agents/_shared.py` `mcp_columns`), from any agent.
The first reading that answers wins:

1. the server is a provider whose catalog agentaudit has (Railway, AWS): the catalog
   classifies the tool's name (`volume_delete` is Railway's `volumeDelete`);
2. SQL in the arguments (`query`, `sql`, `statement`) is classified like SQL given to psql;
3. the tool's name says it destroys (delete, drop, destroy, purge, wipe, truncate...) and the
   thing it names decides the category (a file, a table, a backup, a user...).

Hand-written: no library classifies MCP tools; the verb and object lists are English words
tool authors use, not names of particular servers.
"""

from __future__ import annotations

import json
import re
from functools import cache

from agentaudit.enrich.catalog import aws, railway
from agentaudit.enrich.commands.programs.db import classify_sql

_VERBS = frozenset(
    {"delete", "del", "destroy", "drop", "remove", "rm", "purge", "wipe", "truncate",
     "terminate", "erase", "nuke", "flush", "reset", "overwrite", "force"}
)  # fmt: skip
# What a destroying tool acts on -> category; checked in this order.
_OBJECTS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"backup", "backups", "snapshot", "snapshots", "recovery", "pitr"}), "backup_destroy"),
    (frozenset({"table", "tables", "database", "databases", "db", "collection", "schema",
                "index", "row", "rows", "records", "record", "documents", "document", "keyspace",
                "sql", "query"}), "db_destroy"),
    (frozenset({"file", "files", "dir", "directory", "folder", "path", "paths"}), "fs_delete"),
    (frozenset({"branch", "commit", "commits", "history", "ref", "refs"}), "vcs_history_loss"),
    (frozenset({"user", "users", "member", "members", "role", "roles", "key", "keys", "token",
                "tokens", "credential", "credentials", "permission", "permissions"}), "identity_delete"),
    (frozenset({"secret", "secrets", "variable", "variables", "env", "config", "setting",
                "settings"}), "config_delete"),
    (frozenset({"log", "logs", "trail", "audit", "sink"}), "audit_tamper"),
)  # fmt: skip
# Objects whose removal destroys no data (metadata on an issue, a cache, a view).
_HARMLESS = frozenset(
    {"label", "labels", "reaction", "reactions", "assignee", "assignees", "reviewer",
     "reviewers", "subscriber", "watcher", "bookmark", "notification", "notifications", "todo",
     "cache", "highlight", "selection", "tab", "breakpoint", "breakpoints"}
)  # fmt: skip
_SQL_KEYS = ("query", "sql", "statement", "statements", "command")
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def split_mcp_name(tool_name: str | None) -> tuple[str, str] | None:
    """(server, tool) of `mcp__<server>__<tool>`, or None for any other tool."""
    if not tool_name or not tool_name.startswith("mcp__"):
        return None
    server, sep, tool = tool_name[5:].partition("__")
    return (server, tool) if sep and server and tool else None


def classify(server: str, tool: str, arguments: str | None) -> list[str]:
    """Destruction categories of one MCP call (empty when it destroys nothing)."""
    found = _provider(server, tool)
    if found:
        return found
    args = _arguments(arguments)
    for key in _SQL_KEYS:
        value = args.get(key)
        if isinstance(value, str) and value.strip():
            sql = [f.category for f in classify_sql(value)]
            if sql:
                return list(dict.fromkeys(sql))
    return _by_name(tool)


def _provider(server: str, tool: str) -> list[str]:
    name = server.lower()
    if "railway" in name:
        camel = re.sub(r"[_-]([a-z])", lambda m: m.group(1).upper(), tool)
        return railway.classify(camel, {}) or railway.classify(tool, {})
    if name in ("aws", "awslabs") or name.startswith(("aws-", "aws_", "awslabs")):
        operation = _aws_operations().get(re.sub(r"[^a-z0-9]", "", tool.lower()))
        return aws.classify(operation, {}) if operation else []
    return []


@cache
def _aws_operations() -> dict[str, str]:
    return {re.sub(r"[^a-z0-9]", "", op.lower()): op for op in aws.operation_names()}


def _arguments(text: str | None) -> dict:
    if not text or not text.lstrip().startswith("{"):
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _by_name(tool: str) -> list[str]:
    words = [w.lower() for w in _WORDS.findall(tool)]
    if not _VERBS.intersection(words) or _HARMLESS.intersection(words):
        return []
    for objects, category in _OBJECTS:
        if objects.intersection(words):
            return [category]
    return ["cloud_delete"]
