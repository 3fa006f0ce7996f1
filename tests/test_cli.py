"""The CLI is a thin layer: a smoke test of each command over a real store."""

from __future__ import annotations

import json

from agentaudit.scenarios import scenario_files
from agentaudit.scenarios.replay import load_spec
from tests.cli_helpers import invoke_cli, run_cli


def test_ingest_detect_query_timeline_export(tmp_path):
    db = str(tmp_path / "s.duckdb")
    files = [str(p) for p in scenario_files("pocketos")]
    report = json.loads(run_cli("ingest", *files, "--db", db, "--json"))
    assert (report["ingested"], report["quarantined"]) == (33, 0)
    detected = json.loads(run_cli("detect", "--db", db, "--json"))
    # Foundation rules, behaviours and the Sigma pack: the rules the scenario expects
    expected = {(e["rule"], e["severity"]) for e in load_spec("pocketos")["expect"]}
    assert {(f["rule_id"], f["severity"]) for f in detected["findings"]} == expected
    rows = json.loads(run_cli("query", "SELECT count(*) AS n FROM findings", "--db", db, "--json"))
    assert rows == [{"n": detected["findings_new"]}]
    session = detected["findings"][0]["session_id"]
    timeline = json.loads(run_cli("timeline", "--session", session, "--db", db, "--json"))
    assert timeline["steps"][0]["offset_ms"] == 0
    out = tmp_path / "f.ndjson"
    run_cli("export", "--format", "ocsf", "--what", "findings", "--out", str(out), "--db", db)
    # the alert's lifecycle records (Create, one Update per finding joining it)
    logged = json.loads(
        run_cli("query", "SELECT count(*) AS n FROM finding_log", "--db", db, "--json")
    )
    assert [{"n": len(out.read_text().splitlines())}] == logged
    assert 0 < logged[0]["n"] <= detected["findings_new"]


def test_errors_are_clear(tmp_path):
    output = run_cli("query", "SELECT 1", "--db", tmp_path / "none.duckdb", code=2)
    assert "no agentaudit store" in output
    run_cli("ingest", tmp_path / "missing", code=2)


def test_detect_fail_on_gates_ci_only_when_asked(tmp_path):
    db = str(tmp_path / "s.duckdb")
    files = [str(p) for p in scenario_files("pocketos")]
    run_cli("ingest", *files, "--db", db, "--json")
    report = json.loads(run_cli("detect", "--db", db, "--json"))  # findings alone never fail
    critical = sum(f["severity"] == "critical" for f in report["findings"])
    assert critical > 0
    gated = invoke_cli("detect", "--fail-on", "critical", "--db", db, "--json")
    assert gated.exit_code == 3, gated.output
    assert json.loads(gated.stdout)["failing_findings"] == critical
    words = run_cli("detect", "--fail-on", "high", "--db", db, code=3)
    assert "findings at high or above" in words
    bad = run_cli("detect", "--fail-on", "severe", "--db", db, code=2)
    assert "--fail-on must be one of" in bad
