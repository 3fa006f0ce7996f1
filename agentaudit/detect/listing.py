"""Every detector a detection run can use, by the id its findings carry (`rules list`):
the Python detectors (`agentaudit.detect.sql`, `.behaviours`, `.anomaly`) by their
`DetectorInfo.id`, and each Sigma rule by `sigma:<name or id>`, with severity, kind and where
it comes from. A Sigma rule only a correlation uses is listed as a building block: it makes
no finding of its own."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from agentaudit.detect.driver import builtin_detectors
from agentaudit.detect.sigma.detector import SigmaRules, configured_rule_dirs
from agentaudit.detect.sigma.loader import RuleError, level_of, load_rules
from agentaudit.detect.sigma.run import output_rules, rule_key


def python_detectors() -> list[dict[str, Any]]:
    rows = []
    for detector in builtin_detectors():
        if isinstance(detector, SigmaRules):
            continue
        info = detector.info
        rows.append(
            {
                "id": info.id,
                "engine": "python",
                "kind": info.kind,
                "severity": info.severity,
                "title": info.title,
                "source": inspect.getfile(type(detector)),
                "finds": True,
            }
        )
    return rows


def sigma_rules(
    directories: list[Path] | None = None,
) -> tuple[list[dict[str, Any]], list[RuleError]]:
    ruleset = load_rules(directories or configured_rule_dirs())
    producing = {id(r) for r in output_rules(ruleset)}
    rows = []
    for rule in ruleset.rules:
        logsource = getattr(rule, "logsource", None)
        rows.append(
            {
                "id": f"sigma:{rule_key(rule)}",
                "engine": "sigma",
                "kind": "correlation" if not hasattr(rule, "detection") else "rule",
                "severity": level_of(rule),
                "title": rule.title,
                "source": str(ruleset.files.get(rule_key(rule), "")),
                "finds": id(rule) in producing,  # False: a building block of a correlation
                "sigma_id": str(rule.id) if rule.id else None,
                "name": rule.name,
                "level": level_of(rule),
                "logsource": _logsource(logsource),
                "tags": [str(t) for t in (rule.tags or [])],
            }
        )
    return rows, ruleset.errors


def every_detector(
    directories: list[Path] | None = None,
) -> tuple[list[dict[str, Any]], list[RuleError]]:
    """Python detectors and Sigma rules, sorted by id; the rule files that did not load."""
    rules, errors = sigma_rules(directories)
    return sorted(python_detectors() + rules, key=lambda r: r["id"]), errors


def _logsource(logsource: Any) -> str | None:
    if logsource is None:
        return None
    parts = [getattr(logsource, k, None) for k in ("product", "service", "category")]
    return "/".join(p for p in parts if p) or None
