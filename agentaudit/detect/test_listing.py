"""`every_detector` lists each detector by the id its findings carry."""

from __future__ import annotations

from agentaudit.detect.driver import run_detection
from agentaudit.detect.listing import every_detector
from agentaudit.ingest import ingest_paths
from agentaudit.scenarios import scenario_files


def test_every_finding_of_a_replay_is_listed_by_its_rule_id(store):
    ingest_paths(store, scenario_files("pocketos"))
    findings = run_detection(store).findings
    rows, errors = every_detector()
    assert errors == []
    listed = {row["id"]: row for row in rows}
    assert findings and {f["rule_id"] for f in findings} <= set(listed)
    for finding in findings:  # a finding's rule makes findings (no building block)
        assert listed[finding["rule_id"]]["finds"]


def test_python_and_sigma_detectors_with_severity_kind_and_source():
    rows, _ = every_detector()
    engines = {row["engine"] for row in rows}
    assert engines == {"python", "sigma"}
    for row in rows:
        assert row["severity"] in {"info", "low", "medium", "high", "critical"}
        assert row["kind"] in {"rule", "correlation", "behaviour", "model"}
        assert row["source"].endswith((".py", ".yml"))
    sigma = {row["id"]: row for row in rows if row["engine"] == "sigma"}
    assert sigma["sigma:agentaudit_destructive_burst_1m"]["kind"] == "correlation"
    assert not sigma["sigma:agentaudit_credential_access"]["finds"]  # a building block
