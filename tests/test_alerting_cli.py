"""The alerting commands on the PocketOS replay (a real store file, the real CLI): nothing
configured is said loudly, a broken or Alertmanager-style alerting.yml is one line naming
file:line, never a traceback and never a silent catch-all."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from agentaudit.cli import app
from agentaudit.ingest import ingest_paths
from agentaudit.scenarios import scenario_files
from agentaudit.store import Store

runner = CliRunner()


@pytest.fixture
def pocketos_db(tmp_path, redactor):
    db = tmp_path / "pocketos.duckdb"
    with Store.open(db) as store:
        ingest_paths(store, scenario_files("pocketos"), redactor=redactor)
    return str(db)


def test_a_firing_alert_with_no_target_is_said_loudly(pocketos_db, monkeypatch):
    monkeypatch.delenv("AGENTAUDIT_NOTIFY", raising=False)
    result = runner.invoke(app, ["detect", "--db", pocketos_db])
    assert result.exit_code == 0, result.output
    assert "no delivery" in result.output and "0/0 deliveries ok" not in result.output
    assert "NOBODY WAS NOTIFIED" in result.output
    assert "went to receiver default, which has no target" in result.output
    assert "critical" in result.output.split("NOBODY")[0].rsplit("\n", 2)[-1]
    again = runner.invoke(app, ["detect", "--db", pocketos_db, "--json"])
    assert json.loads(again.output)["not_notified"] == []  # told once per group tick


def test_a_configured_target_is_not_reported_missing(pocketos_db):
    result = runner.invoke(app, ["detect", "--db", pocketos_db, "--notify", "json://127.0.0.1:9/x"])
    assert result.exit_code == 0 and "NOBODY" not in result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("route: {receiver: soc\n", "alerting.yml:2: YAML syntax error"),
        (
            "receivers: [{name: soc, slack_configs: [{channel: '#sec'}]}]\nroute: {receiver: soc}\n",
            "alerting.yml:1 (receivers[0]): unknown key `slack_configs`",
        ),
        (
            "receivers: [{name: soc, apprise_urls: ['json://h/x']}]\n"
            "route:\n  receiver: soc\n  routes:\n    - {receiver: soc, match: {severity: critical}}\n",
            "write `matchers: [severity=critical]`",
        ),
    ],
)
def test_a_bad_alerting_yml_is_one_line_for_detect_and_alert_run(
    pocketos_db, tmp_path, monkeypatch, text, expected
):
    path = tmp_path / "alerting.yml"
    path.write_text(text)
    monkeypatch.setenv("AGENTAUDIT_ALERTING", str(path))
    for args in (["detect", "--db", pocketos_db], ["alert", "run", "--db", pocketos_db]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ")
        assert expected in " ".join(lines[0].split())  # (the console may wrap at its width)
    with Store.open(pocketos_db, read_only=True) as store:
        assert store.count("alerts") == 0  # nothing was evaluated with a broken config


def test_a_silence_on_a_label_that_does_not_exist_is_refused(tmp_path):
    args = ["silence", "add", "--match", 'team="sec"', "--for", "1h", "--comment", "x"]
    result = runner.invoke(app, [*args, "--db", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 2
    assert "no alert has a label `team`" in result.output and "Traceback" not in result.output
