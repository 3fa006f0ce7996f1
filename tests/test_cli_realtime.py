"""The real-time commands through the CLI (the library is tested in test_guard/test_watch_*)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from agentaudit.cli import app

runner = CliRunner()


def test_guard_command_answers_in_the_agents_format(tmp_path, monkeypatch):
    monkeypatch.setenv("AGENTAUDIT_GUARD_SOCKET", str(tmp_path / "no-helper.sock"))
    payload = {"hook_event_name": "beforeShellExecution", "conversation_id": "c",
               "command": "kubectl delete namespace payments-prod", "cwd": "/w"}  # fmt: skip
    result = runner.invoke(app, ["guard", "--agent", "cursor"], input=json.dumps(payload))
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["permission"] == "deny"
    assert "environment production" in answer["user_message"]


def test_watch_rejects_a_bad_config(tmp_path):
    config = tmp_path / "watch.yaml"
    config.write_text("pathz: [x]\n")
    result = runner.invoke(app, ["watch", "--config", str(config)])
    assert result.exit_code == 2
    assert "unknown watch settings: pathz" in result.output
