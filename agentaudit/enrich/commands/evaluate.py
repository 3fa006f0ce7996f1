"""Score the analyser on a labeled command corpus (JSONL rows: command, expected, category).

A command counts as flagged when its severity is medium or higher. Rows with a `condition`
(they depend on cwd, env or config in the peer's test) are scored apart: those whose
condition we can express (a literal cwd) with that cwd, the rest listed as unsupported.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentaudit.enrich.commands.analysis import analyze_command
from agentaudit.enrich.commands.model import CommandAnalysis

_LITERAL_CWD = re.compile(r"^cwd='(/[^']*)'$")
# Peer test fixtures we can stand in for: (cwd, home). A fresh temp dir used as the project
# is a project dir for us; HOME=tmpDir with cwd=tmpDir means the agent works in $HOME.
_FIXTURES = {
    "cwd=tempDir": ("/work/project", None),
    "cwd=tmpDir": ("/work/project", None),
    "cwd=''": (None, None),
    "env { HOME: tmpDir }; cwd=tmpDir": ("/home/user", "/home/user"),
    "env { HOME: tmpDir }; cwd=repo": ("/home/user/repo", "/home/user"),
}


@dataclass
class Score:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0

    def add(self, expected: bool, flagged: bool) -> None:
        if expected and flagged:
            self.tp += 1
        elif expected:
            self.fn += 1
        elif flagged:
            self.fp += 1
        else:
            self.tn += 1

    @property
    def n(self) -> int:
        return self.tp + self.fn + self.fp + self.tn

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def fpr(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0


@dataclass
class Evaluation:
    path: str
    overall: Score = field(default_factory=Score)
    conditional: Score = field(default_factory=Score)
    unsupported_conditions: int = 0
    by_category: dict[str, Score] = field(default_factory=lambda: defaultdict(Score))
    misses: list[dict[str, Any]] = field(default_factory=list)  # false negatives
    false_alarms: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        def score(s: Score) -> dict[str, Any]:
            return {"n": s.n, "tp": s.tp, "fn": s.fn, "fp": s.fp, "tn": s.tn,
                    "recall": round(s.recall, 4), "fpr": round(s.fpr, 4)}  # fmt: skip

        return {
            "file": self.path,
            "context_free": score(self.overall),
            "with_condition": score(self.conditional),
            "unsupported_conditions": self.unsupported_conditions,
            "by_category": {k: score(v) for k, v in sorted(self.by_category.items())},
            "misses_by_policy": sum(
                1 for m in self.misses if m.get("by_policy") and not m.get("condition")
            ),
            "misses": self.misses,
            "false_alarms": self.false_alarms,
        }


def _low_by_policy(analysis: CommandAnalysis) -> bool:
    """A deliberate low: deleting in a temp dir or regenerable output inside the project."""
    return analysis.severity == "low" and any(
        f.category == "fs_delete" and f.scope in ("temp", "project") for f in analysis.findings
    )


def evaluate_file(path: str | Path) -> Evaluation:
    result = Evaluation(str(path))
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        expected = row["expected"] == "destructive"
        condition = row.get("condition")
        cwd = home = None
        if condition:
            literal = _LITERAL_CWD.match(condition)
            if literal:
                cwd = literal.group(1)
            elif condition in _FIXTURES:
                cwd, home = _FIXTURES[condition]
            else:  # peer configuration (worktree mode, strict mode, custom rules)
                result.unsupported_conditions += 1
                continue
        analysis = analyze_command(row["command"], cwd=cwd, home=home)
        flagged = analysis.flagged
        (result.conditional if condition else result.overall).add(expected, flagged)
        if not condition:
            result.by_category[row.get("category", "")].add(expected, flagged)
        detail = {"command": row["command"], "category": row.get("category"),
                  "condition": condition,
                  "severity": analysis.severity, "rules": list(analysis.rule_ids),
                  "reasons": list(analysis.reasons)}  # fmt: skip
        if expected and not flagged:
            detail["by_policy"] = _low_by_policy(analysis)
            result.misses.append(detail)
        elif flagged and not expected:
            result.false_alarms.append(detail)
    return result
