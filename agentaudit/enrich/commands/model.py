"""Results of command analysis: one Finding per rule that matched, rolled up per command."""

from __future__ import annotations

from dataclasses import dataclass, field

from agentaudit.taxonomy import CATEGORIES as TAXONOMY
from agentaudit.taxonomy import (
    DESTRUCTIVE_CATEGORIES,
    SEVERITIES,
    max_severity,
    raise_severity,
    severity_rank,
)

__all__ = [
    "CATEGORIES",
    "CATEGORY_MEANINGS",
    "COMMAND_CATEGORIES",
    "DESTRUCTIVE_CATEGORIES",
    "SEVERITIES",
    "CommandAnalysis",
    "Finding",
    "max_severity",
    "raise_severity",
    "rank",
]

# The vocabulary lives in agentaudit.taxonomy; these names are what command analysis uses:
# the categories it may put on a command (provider audit logs have a few of their own).
COMMAND_CATEGORIES = frozenset(n for n, c in TAXONOMY.items() if not c.provider_only)
CATEGORIES = COMMAND_CATEGORIES
CATEGORY_MEANINGS = {name: TAXONOMY[name].meaning for name in sorted(COMMAND_CATEGORIES)}
rank = severity_rank


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
    # argv of each simple command that runs (wrappers stripped), for detectors to read stored
    argvs: tuple[tuple[str, ...], ...] = ()

    @property
    def flagged(self) -> bool:
        """Worth an analyst's attention: medium severity or higher."""
        return rank(self.severity) >= rank("medium")
