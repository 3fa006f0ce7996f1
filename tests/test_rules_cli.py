"""`agentaudit rules test|list|run|convert` and `agentaudit eval commands` over real files."""

from __future__ import annotations

import json

import pytest

from agentaudit.scenarios import scenario_files
from tests.cli_helpers import invoke_cli, run_cli


@pytest.mark.slow  # every rule test again, through the CLI
def test_rules_test_passes_on_the_builtin_pack():
    assert "0 broken files" in run_cli("rules", "test")


def test_rules_test_fails_and_names_a_broken_user_rule(tmp_path):
    (tmp_path / "broken.yml").write_text(
        "title: x\nlogsource: {product: agentaudit}\ndetection: {}\n"
    )
    assert "broken.yml" in run_cli("rules", "test", "--dir", tmp_path, code=1)


def test_rules_list_shows_every_detector_by_finding_id():
    rows = {r["id"]: r for r in json.loads(run_cli("rules", "list", "--json"))}
    assert rows["sigma:agentaudit_destructive_burst_1m"]["level"] == "critical"
    assert "attack.t1485" in rows["sigma:agentaudit_destructive_command"]["tags"]
    assert rows["audit-tamper"]["engine"] == "python"  # the Python detectors too
    table = run_cli("rules", "list")
    assert "sigma:agentaudit_destructive_command" in table and "audit-tamper" in table


def test_rules_list_shows_a_users_sigmahq_rules(tmp_path):
    from pathlib import Path

    rules = Path(__file__).parent / "data" / "sigmahq" / "rules"
    rows = json.loads(run_cli("rules", "list", "--dir", rules, "--json"))
    disable = next(r for r in rows if r.get("sigma_id") == "4db60cc0-36fb-42b7-9b58-a5b53019fb74")
    assert disable["id"] == "sigma:4db60cc0-36fb-42b7-9b58-a5b53019fb74"
    assert disable["logsource"] == "aws/cloudtrail" and disable["severity"] == "medium"


def test_rules_run_on_the_pocketos_replay(tmp_path):
    db = str(tmp_path / "s.duckdb")
    files = [str(p) for p in scenario_files("pocketos")]
    run_cli("ingest", *files, "--db", db, "--json")
    found = {
        f["rule_id"] for f in json.loads(run_cli("rules", "run", "--db", db, "--json"))["findings"]
    }
    assert {"sigma:agentaudit_backup_destroy", "sigma:agentaudit_secret_then_destroy"} <= found


def test_rules_convert_to_duckdb_sql_and_unknown_target():
    sql = run_cli("rules", "convert", "--target", "duckdb")
    assert "RANGE BETWEEN INTERVAL 60 SECOND PRECEDING" in sql
    missing = run_cli("rules", "convert", "--target", "nosuchsiem", code=2)
    assert "no pySigma backend 'nosuchsiem'" in missing


def test_piped_rules_convert_is_the_compiled_sql_unwrapped():
    """Piped output (CliRunner is not a terminal) is each query byte for byte, never wrapped
    at 80 columns, so every one still parses."""
    import duckdb
    from sigma.correlations import SigmaCorrelationRule

    from agentaudit.detect.sigma.detector import configured_rule_dirs
    from agentaudit.detect.sigma.loader import load_rules
    from agentaudit.detect.sigma.run import RuleCompiler

    compiler = RuleCompiler()
    expected = [
        f"-- {rule.title}\n"
        + (
            compiler.correlation_query(rule)
            if isinstance(rule, SigmaCorrelationRule)
            else compiler.base_query(rule)
        ).strip()
        for rule in load_rules(configured_rule_dirs()).rules
    ]
    result = invoke_cli("rules", "convert")
    assert result.exit_code == 0, result.output
    blocks = result.stdout.strip().split("\n\n-- ")
    assert ["-- " + b if i else b for i, b in enumerate(blocks)] == expected
    assert any(len(line) > 80 for line in result.stdout.splitlines())  # long lines kept whole
    con = duckdb.connect()
    for block in expected:
        assert len(con.extract_statements(block.split("\n", 1)[1])) == 1
    as_json = json.loads(invoke_cli("rules", "convert", "--json").stdout)
    assert [f"-- {q['title']}\n{q['query']}" for q in as_json] == expected


def test_eval_commands_on_a_labeled_file(tmp_path):
    corpus = tmp_path / "mine.jsonl"
    rows = [
        {"command": "rm -rf ~", "expected": "destructive", "category": "rm"},
        {"command": "git reset --hard", "expected": "destructive", "category": "git"},
        {"command": "ls -la", "expected": "safe", "category": "ls"},
        {"command": "echo 'rm -rf /'", "expected": "safe", "category": "echo"},
    ]
    corpus.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    scored = json.loads(run_cli("eval", "commands", corpus, "--json"))[0]["context_free"]
    assert (scored["tp"], scored["fn"], scored["fp"], scored["tn"]) == (2, 0, 0, 2)


def test_rules_convert_to_another_sigma_backend():
    pytest.importorskip("sigma.backends.sqlite", reason="pysigma-backend-sqlite not installed")
    sql = run_cli("rules", "convert", "--target", "sqlite")
    assert "SELECT * FROM logs WHERE (categories LIKE 'audit\\_tamper' ESCAPE" in sql
