"""Real SigmaHQ rules (tests/data/sigmahq/rules, copied unmodified) on a store of the corpus:
each rule's matched records equal the ground truth of expected.yaml, which was derived
without agentaudit (tests/data/sigmahq/EXPECTED.md). Proves the processing pipeline for
SigmaHQ's own log sources (agentaudit/detect/sigma/logsources.py), issue 20.

Records are compared by the id the ground truth uses: a CloudTrail record by its eventID (the
store keeps one row for a record delivered twice), any other record by its file and line.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentaudit.detect.sigma.loader import load_rules
from agentaudit.detect.sigma.run import run_rules
from agentaudit.ingest import ingest_paths
from agentaudit.store import Store

DATA = Path(__file__).resolve().parent / "data" / "sigmahq"
EXPECTED = yaml.safe_load((DATA / "expected.yaml").read_text(encoding="utf-8"))["rules"]


def _derive():
    spec = importlib.util.spec_from_file_location("derive_expected", DATA / "derive_expected.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _unwrap(record: dict[str, Any]) -> dict[str, Any]:
    if isinstance(record.get("log"), dict):  # a Panther test case
        record = record["log"]
    if isinstance(record.get("CloudTrailEvent"), str):  # LookupEvents
        record = json.loads(record["CloudTrailEvent"])
    return record


def _lines(path: Path) -> list[bytes]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return data.split(b"\n")


# Where agentaudit reads more than the ground truth's evaluator, which reads each file's own
# keys: the k8s collector reads a GKE entry of Kubernetes' API (Cloud Logging shape, methodName
# io.k8s.core.v1.pods.exec.create) as the Kubernetes audit event it is (verb create,
# pods/exec), so kubernetes/audit rules see it. Panther test "GCP GKE Exec Into Pod".
BEYOND_GROUND_TRUTH = {
    "kubernetes_audit_exec_into_container.yml": {("k8s/panther-k8s-tests.jsonl", "line 3")},
}


class Corpus:
    """The ground truth's files ingested into one real DuckDB store."""

    def __init__(self, corpus: Path, store: Store) -> None:
        derive = _derive()
        self.store = store
        self.files: dict[str, str] = {}  # stored source_path -> the ground truth's name
        self.histories: set[str] = set()
        for entries in derive.SOURCES.values():
            for rel, reader, _map in entries:
                self.files[str(derive.corpus_path(corpus, rel))] = rel
                if reader is derive.history_records:
                    self.histories.add(rel)
        report = ingest_paths(store, [Path(p) for p in self.files])
        assert report.failed == []
        self._paths = {rel: Path(p) for p, rel in self.files.items()}
        self._lines: dict[str, list[bytes]] = {}

    def key(self, rel: str, record_id: str) -> tuple[str, str]:
        """A record as one key: a CloudTrail eventID, else the record itself (the store keeps
        one row for identical records), a history entry by its line."""
        if not record_id.startswith("line "):
            return ("eventID", record_id)
        if rel in self.histories:
            return (rel, record_id)
        if rel not in self._lines:
            self._lines[rel] = _lines(self._paths[rel])
        record = _unwrap(json.loads(self._lines[rel][int(record_id[5:]) - 1]))
        if "eventID" in record:
            return ("eventID", record["eventID"])
        return (rel, json.dumps(record, sort_keys=True))

    def expected_keys(self, rule: str, matches: dict[str, list[str]]) -> set[tuple[str, str]]:
        beyond = BEYOND_GROUND_TRUTH.get(rule, set())
        return {self.key(rel, r) for rel, ids in matches.items() for r in ids} | {
            self.key(rel, r) for rel, r in beyond
        }

    def found_keys(self, event_ids: list[str]) -> set[tuple[str, str]]:
        if not event_ids:
            return set()
        rows = self.store.rows(
            "SELECT source_path, source_offset, raw FROM events WHERE list_contains(?, event_id)",
            [event_ids],
        )
        keys = set()
        for row in rows:
            rel = self.files[row["source_path"]]
            if rel.endswith((".json", ".json.gz")):  # a Records document
                keys.add(("eventID", json.loads(row["raw"])["eventID"]))
            else:
                line = self._paths[rel].read_bytes().count(b"\n", 0, row["source_offset"]) + 1
                keys.add(self.key(rel, f"line {line}"))
        return keys


@pytest.fixture(scope="module")
def sigmahq_store(corpus, tmp_path_factory):
    with Store.open(tmp_path_factory.mktemp("sigmahq") / "store.duckdb") as store:
        yield Corpus(corpus, store)


@pytest.fixture(scope="module")
def findings_by_rule(sigmahq_store):
    ruleset = load_rules([DATA / "rules"])
    assert ruleset.errors == []
    assert len(ruleset.rules) == len(EXPECTED)
    findings, errors = run_rules(sigmahq_store.store, ruleset)
    assert errors == []
    by_rule: dict[str, list[dict]] = {}
    for finding in findings:
        by_rule.setdefault(finding["rule_id"], []).append(finding)
    return by_rule


@pytest.mark.parametrize("expected", EXPECTED, ids=[r["rule"] for r in EXPECTED])
def test_sigmahq_rule_matches_the_ground_truth(expected, sigmahq_store, findings_by_rule):
    findings = findings_by_rule.get(f"sigma:{expected['id']}", [])
    matched = [e for f in findings for e in f["event_ids"]]
    assert sigmahq_store.found_keys(matched) == sigmahq_store.expected_keys(
        expected["rule"], expected["matches"]
    )
    for finding in findings:  # Detection Rule License 1.1: the author travels with a finding
        rule = yaml.safe_load((DATA / "rules" / expected["rule"]).read_text(encoding="utf-8"))
        assert json.loads(finding["evidence"])["author"] == rule["author"]


def test_at_least_twenty_rules_find_their_records(findings_by_rule):
    positives = [r for r in EXPECTED if r["total"]]
    found = [r for r in positives if findings_by_rule.get(f"sigma:{r['id']}")]
    assert len(found) >= 20


def test_every_sigmahq_rule_converts_the_same_every_time():
    """pySigma's pipeline transforms the rule object itself, and a rule is converted more than
    once (the one scan, then per rule when that fails; rule tests): the SQL must not change."""
    from sigma.rule import SigmaRule

    from agentaudit.detect.sigma.run import RuleCompiler

    ruleset = load_rules([DATA / "rules"])
    bases = [r for r in ruleset.rules if isinstance(r, SigmaRule)]
    first = [RuleCompiler().where(r) for r in bases]
    assert first == [RuleCompiler().where(r) for r in bases]
    # each reads only its log source's events
    assert all(sql.startswith(("((origin = 'provider' AND", "((kind = 'process'")) for sql in first)
