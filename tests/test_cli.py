"""The CLI is a thin layer: a smoke test of each command over a real store."""

from __future__ import annotations

import json

from agentaudit.scenarios import scenario_files
from agentaudit.scenarios.replay import load_spec
from tests.cli_helpers import run_cli


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
