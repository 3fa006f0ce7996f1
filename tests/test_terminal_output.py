"""Terminal output never alters evidence, over a real store.

A shell history with the text that Rich used to rewrite (`:secret:` in an ARN became an emoji,
`[conceal]...[/conceal]` hid part of a command) and control characters (ESC, a bidi override)
is ingested and detected; `incidents list/show`, `timeline`, `query` and `detect` are rendered
at 80 columns into a string: the text is there as stored, control characters as visible
escapes, no line is wider than 80, and ids stay whole on one line.
"""

from __future__ import annotations

import io
import json

import pytest
from typer.testing import CliRunner

from agentaudit.analyst import render, render_steps
from agentaudit.analyst.incidents import get_incident, list_incidents
from agentaudit.analyst.timeline_steps import report_for
from agentaudit.cli import app
from agentaudit.cli import common as cli_common
from agentaudit.ingest import ingest_paths
from agentaudit.pipeline import detect_and_alert
from agentaudit.terminal import make_console

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"
CONCEALED = "/srv/[conceal]backups[/conceal]"
HISTORY = (
    ": 1777057500:0;cd ~/app\n"
    f": 1777057504:0;aws secretsmanager delete-secret --secret-id {ARN} "
    "--force-delete-without-recovery\n"
    f": 1777057510:0;rm -rf {CONCEALED} /var/lib/postgresql\n"
    ": 1777057515:0;echo ok\x1b[2J \u202e gnp.exe\n"
)


@pytest.fixture
def evidence_store(store, tmp_path, redactor):
    history = tmp_path / "zsh_history"
    history.write_text(HISTORY, encoding="utf-8")
    report = ingest_paths(store, [history], redactor=redactor)
    assert report.ingested == 4 and report.quarantined == 0
    _, alerts, _ = detect_and_alert(store, [])
    assert alerts, "the deletes open an incident"
    return store


def render80(renderable) -> str:
    out = io.StringIO()
    make_console(file=out, width=80).print(renderable)
    text = out.getvalue()
    # tables fit; a sentence after a table is one long line the terminal wraps itself
    table_lines = [line for line in text.splitlines() if not line.startswith("T+0 = ")]
    assert max(len(line) for line in table_lines) <= 80, text
    assert "㊙" not in text and "\x1b" not in text and "\u202e" not in text
    return text


def test_query_shows_stored_text_as_it_is(evidence_store):
    shown = render80(
        render.arrow_table(
            evidence_store.query("SELECT target FROM events WHERE target LIKE '%secret%'")
        )
    )
    assert ARN in shown  # :secret: is not an emoji code
    commands = render80(render.arrow_table(evidence_store.query("SELECT command FROM events")))
    assert f"rm -rf {CONCEALED}" in commands  # the conceal markup is text, nothing is hidden
    assert "echo ok\\x1b[2J \\u202e gnp.exe" in commands


def test_incidents_list_and_show_fit_80_columns(evidence_store):
    [row] = list_incidents(evidence_store)
    listed = render80(render_steps.incidents_table([row]))
    assert row["incident_id"][:12] in listed.split()  # whole, one token
    assert "…" in listed  # the long title is cut, not wrapped
    shown = render80(render_steps.incident_view(get_incident(evidence_store, row["incident_id"])))
    assert row["incident_id"] in shown.split()
    assert CONCEALED in shown or "[conceal]" in shown


def test_timeline_keeps_commands_and_session_id_whole(evidence_store):
    session = evidence_store.rows(
        "SELECT DISTINCT session_id FROM findings WHERE session_id IS NOT NULL"
    )[0]["session_id"]
    shown = render80(render_steps.steps_table(report_for(evidence_store, session=session)))
    assert shown.splitlines()[0] == f"Session {session}"
    assert f"rm -rf {CONCEALED} /var/lib/postgresql" in shown
    assert "echo ok\\x1b[2J \\u202e gnp.exe" in shown


def test_detect_findings_table_keeps_rule_ids_whole(evidence_store):
    report, _, _ = detect_and_alert(evidence_store, [])
    shown = render80(render.findings_table(report.findings))
    for finding in report.findings:
        assert finding["rule_id"] in shown.split()


def test_the_cli_prints_through_the_same_escaping(evidence_store, monkeypatch):
    monkeypatch.setattr(cli_common.console, "width", 200)
    db = str(evidence_store.path)
    evidence_store.close()
    result = CliRunner().invoke(app, ["query", "SELECT target, command FROM events", "--db", db])
    assert result.exit_code == 0, result.output
    assert ARN in result.output and CONCEALED in result.output
    assert "㊙" not in result.output
    rows = json.loads(
        CliRunner()
        .invoke(app, ["query", "SELECT command FROM events", "--db", db, "--json"])
        .output
    )
    assert f"rm -rf {CONCEALED} /var/lib/postgresql" in {r["command"] for r in rows}
