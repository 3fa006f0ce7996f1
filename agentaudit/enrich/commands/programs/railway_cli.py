"""The Railway CLI: subcommands that call destructive mutations (catalog in catalog/railway)."""

from __future__ import annotations

from agentaudit.enrich.catalog import railway
from agentaudit.enrich.commands.model import Finding
from agentaudit.enrich.commands.parse import SimpleCommand
from agentaudit.enrich.commands.programs.base import Context, parse_args

_VALUE_FLAGS = {"--volume", "--service", "--environment", "-e", "-s", "-v", "--project", "-p"}


def railway_cli(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    parsed = parse_args(cmd.argv[1:], _VALUE_FLAGS)
    words = [w.lower() for w in parsed.positional]
    if "--help" in parsed.long or "h" in parsed.short:
        return []
    for length in (2, 1):
        key = tuple(words[:length])
        if key in railway.CLI:
            values = parsed.values
            target = next(
                (
                    values[f][0]
                    for f in ("--volume", "--service", "--environment", "-e")
                    if f in values
                ),
                None,
            )
            if target is None and len(words) > length:
                target = parsed.positional[length]
            severity = "critical" if "backup_destroy" in railway.CLI[key] else "high"
            return [
                Finding(f"railway.{'-'.join(key)}", category, severity,
                        f"railway {' '.join(key)} destroys {', '.join(railway.CLI[key])}",
                        operation="railway " + " ".join(key), target=target, scope="remote",
                        provider="railway")
                for category in railway.CLI[key]
            ]  # fmt: skip
    return []


PROGRAMS = {"railway": railway_cli}
