"""tests/data/sigmahq/expected.yaml is what derive_expected.py derives from the corpus.

Guards the ground truth of the SigmaHQ rules (issue 20) against drift: a rule file, the corpus
or the evaluator changed without expected.yaml being regenerated and re-checked by hand
(see tests/data/sigmahq/EXPECTED.md). Nothing here runs agentaudit's Sigma engine.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent / "data" / "sigmahq"


def _derive_module():
    spec = importlib.util.spec_from_file_location("derive_expected", DATA / "derive_expected.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_expected_yaml_matches_a_fresh_derivation(corpus):
    derived = _derive_module().derive(corpus, DATA / "rules")
    stored = yaml.safe_load((DATA / "expected.yaml").read_text(encoding="utf-8"))["rules"]
    assert derived == stored


def test_every_rule_file_is_listed_once_with_its_id():
    stored = yaml.safe_load((DATA / "expected.yaml").read_text(encoding="utf-8"))["rules"]
    files = sorted(p.name for p in (DATA / "rules").glob("*.yml"))
    assert [r["rule"] for r in stored] == files
    for r in stored:
        rule = yaml.safe_load((DATA / "rules" / r["rule"]).read_text(encoding="utf-8"))
        assert rule["id"] == r["id"]
        assert rule.get("author"), f"{r['rule']}: DRL 1.1 attribution needs the author field"
    assert sum(1 for r in stored if r["total"]) >= 25
    assert any(r["total"] == 0 for r in stored)
