"""`detect --fail-on SEVERITY`: which findings fail a CI gate."""

from __future__ import annotations

from typing import Any

from agentaudit.schema import SEVERITIES


def at_or_above(findings: list[dict[str, Any]], severity: str) -> list[dict[str, Any]]:
    """The findings at `severity` or above (info < low < medium < high < critical)."""
    threshold = SEVERITIES.index(severity.lower())
    rank = {name: i for i, name in enumerate(SEVERITIES)}
    return [f for f in findings if rank.get(f["severity"], -1) >= threshold]
