"""The rule packs for another SIEM: each rule converted by an installed pySigma backend
(`rules convert --target splunk`), one rule at a time, so a rule the backend cannot express is
named with the backend's reason and the others still convert.

Base rules go first: a correlation reads its rules' converted queries, and pySigma 1.x
converts a collection in the order given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError

from agentaudit.detect.sigma.loader import RuleSet


@dataclass
class Converted:
    queries: list[tuple[Any, list[str]]] = field(default_factory=list)  # rule, its queries
    skipped: list[tuple[Any, str]] = field(default_factory=list)  # rule, the backend's reason


def installed_backends() -> dict[str, Any]:
    from sigma.plugins import InstalledSigmaPlugins

    return dict(InstalledSigmaPlugins.autodiscover().backends)


def convert_for(ruleset: RuleSet, backend: Any) -> Converted:
    """Every rule of the set through `backend` (a pySigma backend instance). A base rule only
    a correlation uses yields no query of its own, as pySigma's `convert` does."""
    result = Converted()
    bases = [r for r in ruleset.rules if not isinstance(r, SigmaCorrelationRule)]
    correlations = [r for r in ruleset.rules if isinstance(r, SigmaCorrelationRule)]
    for rule in [*bases, *correlations]:
        try:
            if isinstance(rule, SigmaCorrelationRule):
                queries = backend.convert_correlation_rule(rule)
            else:
                queries = backend.convert_rule(rule)
        except (SigmaError, NotImplementedError) as exc:
            result.skipped.append((rule, f"{type(exc).__name__}: {exc}"))
            continue
        if queries:
            result.queries.append((rule, [str(q) for q in queries]))
    return result
