"""The CLI is a thin layer: a smoke test of each command over a real store."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from agentaudit.cli import app
from agentaudit.scenarios import scenario_files
from agentaudit.scenarios.replay import load_spec

runner = CliRunner()


def run(*args):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_ingest_detect_query_timeline_export(tmp_path):
    db = str(tmp_path / "s.duckdb")
    files = [str(p) for p in scenario_files("pocketos")]
    report = json.loads(run("ingest", *files, "--db", db, "--json"))
    assert (report["ingested"], report["quarantined"]) == (33, 0)
    detected = json.loads(run("detect", "--db", db, "--json"))
    # Foundation rules, behaviours and the Sigma pack: the rules the scenario expects
    expected = {(e["rule"], e["severity"]) for e in load_spec("pocketos")["expect"]}
    assert {(f["rule_id"], f["severity"]) for f in detected["findings"]} == expected
    rows = json.loads(run("query", "SELECT count(*) AS n FROM findings", "--db", db, "--json"))
    assert rows == [{"n": detected["findings_new"]}]
    session = detected["findings"][0]["session_id"]
    timeline = json.loads(run("timeline", "--session", session, "--db", db, "--json"))
    assert timeline["steps"][0]["offset_ms"] == 0
    out = tmp_path / "f.ndjson"
    run("export", "--format", "ocsf", "--what", "findings", "--out", str(out), "--db", db)
    # the alert's lifecycle records (Create, one Update per finding joining it)
    logged = json.loads(run("query", "SELECT count(*) AS n FROM finding_log", "--db", db, "--json"))
    assert [{"n": len(out.read_text().splitlines())}] == logged
    assert 0 < logged[0]["n"] <= detected["findings_new"]


def test_errors_are_clear(tmp_path):
    result = runner.invoke(app, ["query", "SELECT 1", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2
    assert "no agentaudit store" in result.output
    result = runner.invoke(app, ["ingest", str(tmp_path / "missing")])
    assert result.exit_code == 2


def test_detect_fail_on_gates_ci_only_when_asked(tmp_path):
    db = str(tmp_path / "s.duckdb")
    files = [str(p) for p in scenario_files("pocketos")]
    run("ingest", *files, "--db", db, "--json")
    report = json.loads(run("detect", "--db", db, "--json"))  # findings alone never fail
    critical = sum(f["severity"] == "critical" for f in report["findings"])
    assert critical > 0
    gated = runner.invoke(app, ["detect", "--fail-on", "critical", "--db", db, "--json"])
    assert gated.exit_code == 3, gated.output
    assert json.loads(gated.stdout)["failing_findings"] == critical
    words = runner.invoke(app, ["detect", "--fail-on", "high", "--db", db])
    assert words.exit_code == 3 and "findings at high or above" in words.output
    bad = runner.invoke(app, ["detect", "--fail-on", "severe", "--db", db])
    assert bad.exit_code == 2 and "--fail-on must be one of" in bad.output
