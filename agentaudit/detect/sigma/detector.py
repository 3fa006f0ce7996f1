"""Every Sigma rule in the built-in pack and the user's rule directories, as one detector.

Base rules produce findings of kind "rule", correlation rules of kind "correlation". Rule
directories come from `AGENTAUDIT_RULE_DIRS` (os.pathsep-separated) besides the built-in pack;
a broken rule file is reported in `errors` and the other rules still run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo
from agentaudit.detect.sigma.loader import BUILTIN_DIR, RuleError, load_rules_cached
from agentaudit.detect.sigma.run import OneScan, run_rules
from agentaudit.store import Store

RULE_DIRS_ENV = "AGENTAUDIT_RULE_DIRS"


def configured_rule_dirs() -> list[Path]:
    extra = [Path(p) for p in os.environ.get(RULE_DIRS_ENV, "").split(os.pathsep) if p]
    return [BUILTIN_DIR, *extra]


class SigmaRules(Detector):
    info = DetectorInfo(
        id="sigma",
        title="Sigma rule pack",
        severity="medium",
        kind="rule",
        description="Sigma rules (spec 2.1.0) converted to DuckDB SQL, correlations included.",
    )
    # the pack restates much of what the built-in detectors find, at the largest share of a
    # pass's cost: a page they can make does not wait for it
    runs_after_page = True

    def __init__(self, directories: list[Path] | None = None) -> None:
        self.directories = directories
        self.errors: list[RuleError] = []

    def query(self) -> str:  # pragma: no cover - run() is overridden
        raise NotImplementedError("SigmaRules runs the whole pack in one scan (run.OneScan)")

    def prepare(self) -> None:
        # parsing, validating and compiling the pack takes a few hundred ms: not on a page.
        # Every finding of the pack rests on an event some base rule matches, so that OR of
        # the rules' clauses is the anchor: a watch window without such an event skips the pack.
        self.anchor = OneScan.of(self._ruleset()).any_match

    def _ruleset(self):
        # parsed once per process while the rule files are unchanged; SQL compiled once per pack
        return load_rules_cached(self.directories or configured_rule_dirs())

    def problems(self) -> list[str]:
        return [str(error) for error in self.errors]

    def run(self, store: Store) -> list[dict[str, Any]]:
        ruleset = self._ruleset()
        self.anchor = OneScan.of(ruleset).any_match  # the rule files may have changed
        findings, errors = run_rules(store, ruleset)
        self.errors = ruleset.errors + errors
        return findings
