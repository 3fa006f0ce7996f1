"""Run the tests beside each Sigma rule: `<name>.tests.yml` lists events that must and must
not make the rule fire. Events are enriched like ingested ones (`agentaudit.testing.event`)
and stored in a real in-memory DuckDB store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agentaudit.detect.sigma.loader import BUILTIN_DIR, RuleSet, load_rules
from agentaudit.detect.sigma.run import run_rules
from agentaudit.testing import event, store_with


@dataclass
class CaseResult:
    file: str
    rule: str
    name: str
    expected: bool
    fired: bool
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and self.expected == self.fired


def test_files(directories: list[Path]) -> list[Path]:
    return [p for d in directories for p in sorted(Path(d).rglob("*.tests.yml"))]


def run_tests(
    directories: list[Path] | None = None, ruleset: RuleSet | None = None
) -> list[CaseResult]:
    directories = directories or [BUILTIN_DIR]
    ruleset = ruleset or load_rules(directories)
    results: list[CaseResult] = []
    for path in test_files(directories):
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        rule_name = spec.get("rule", "")
        rule = ruleset.named(rule_name)
        for case in spec.get("cases", []):
            expected = case.get("expect") == "match"
            if rule is None:
                results.append(
                    CaseResult(
                        str(path),
                        rule_name,
                        case.get("name", ""),
                        expected,
                        False,
                        "rule not found",
                    )
                )
                continue
            events = [_event(e) for e in case.get("events", [])]
            store = store_with(events)
            try:
                findings, errors = run_rules(store, ruleset, only=[rule.name or str(rule.id)])
            finally:
                store.close()
            error = "; ".join(str(e) for e in errors) or None
            results.append(
                CaseResult(
                    str(path), rule_name, case.get("name", ""), expected, bool(findings), error
                )
            )
    return results


def _event(spec: dict[str, Any]) -> dict[str, Any]:
    spec = dict(spec)
    seconds = float(spec.pop("seconds", 0))
    spec.setdefault("session_id", "test-session")
    return event(seconds, **spec)
