"""The rule packs for another SIEM: each rule converted by an installed pySigma backend
(`rules convert --target splunk`), one rule at a time, so a rule the backend cannot express is
named with the backend's reason and the others still convert.

Base rules go first: a correlation reads its rules' converted queries, and pySigma 1.x
converts a collection in the order given. A `temporal_ordered` correlation, which no SIEM
backend of pySigma expresses today, is converted as `temporal` (the same rules within the
timespan, in any order) and said so: it fires on every ordered case and on more, never fewer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sigma.correlations import SigmaCorrelationRule, SigmaCorrelationType
from sigma.exceptions import SigmaError

from agentaudit.detect.sigma.loader import RuleSet


@dataclass
class Converted:
    queries: list[tuple[Any, list[str]]] = field(default_factory=list)  # rule, its queries
    skipped: list[tuple[Any, str]] = field(default_factory=list)  # rule, the backend's reason
    approximated: list[tuple[Any, str]] = field(default_factory=list)  # rule, how


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
                queries = _correlation(backend, rule, result)
            else:
                queries = backend.convert_rule(rule)
        except (SigmaError, NotImplementedError) as exc:
            result.skipped.append((rule, f"{type(exc).__name__}: {exc}"))
            continue
        if queries:
            result.queries.append((rule, [str(q) for q in queries]))
    return result


def _correlation(backend: Any, rule: SigmaCorrelationRule, result: Converted) -> list[Any]:
    try:
        return list(backend.convert_correlation_rule(rule))
    except NotImplementedError:
        if rule.type != SigmaCorrelationType.TEMPORAL_ORDERED:
            raise
    rule.type = SigmaCorrelationType.TEMPORAL
    try:
        queries = list(backend.convert_correlation_rule(rule))
    finally:
        rule.type = SigmaCorrelationType.TEMPORAL_ORDERED
    result.approximated.append(
        (rule, "temporal_ordered converted as temporal: the target has no ordered correlation, "
               "so it also fires when the rules match in another order")
    )  # fmt: skip
    return queries
