"""Ordinary generated work (agent sessions with builds, tests, edits and routine cleanup)
raises no critical finding from any rule or behaviour."""

from __future__ import annotations

from collections import Counter

from agentaudit.detect.anomaly.synthetic import SessionGenerator
from agentaudit.detect.driver import run_detection
from agentaudit.store import Store


def test_no_critical_finding_on_generated_normal_sessions(tmp_path):
    with Store.open(tmp_path / "s.duckdb") as store:
        store.append_events(list(SessionGenerator(seed=5).sessions(200)))
        report = run_detection(store)
    by_severity = Counter(f["severity"] for f in report.findings)
    assert by_severity["critical"] == 0, [
        f["title"] for f in report.findings if f["severity"] == "critical"
    ]
    # routine cleanup twice within 30 s is the Foundation burst rule's (high) noise
    assert set(by_severity) <= {"high", "medium"}
