"""`detect --fail-on SEVERITY`: which findings fail a CI gate."""

from __future__ import annotations

from typing import Any

from agentaudit.taxonomy import SEVERITIES, severity_rank


def at_or_above(findings: list[dict[str, Any]], severity: str) -> list[dict[str, Any]]:
    """The findings at `severity` or above (info < low < medium < high < critical)."""
    if severity.lower() not in SEVERITIES:
        raise ValueError(f"not a severity: {severity!r} (one of {', '.join(SEVERITIES)})")
    threshold = severity_rank(severity.lower())
    return [f for f in findings if severity_rank(f["severity"]) >= threshold]
