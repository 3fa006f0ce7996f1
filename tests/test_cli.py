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
