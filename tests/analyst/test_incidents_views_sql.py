"""Incidents, analyst views and the SQL prompt over the demo store; every command on an empty one."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console
from typer.testing import CliRunner

from agentaudit.analyst.incidents import IncidentNotFound, get_incident, list_incidents
from agentaudit.analyst.sqlshell import repl
from agentaudit.cli import app
from agentaudit.scenarios.replay import load_spec
from agentaudit.store import Store
from agentaudit.store.views import VIEW_NAMES

runner = CliRunner()
VOLUME = "3d2c42fb-6c1e-4a55-9d5f-8b7e2f0a9c13"
SESSION = "8f1d2c3b-5a6e-4f70-9b1c-2d3e4f5a6b7c"


def test_incident_list_and_show(demo_store):
    rows = list_incidents(demo_store)
    assert len(rows) == 1
    # the one incident holds every finding of the demo
    assert rows[0]["duration_ms"] == 8921 and rows[0]["findings"] == demo_store.count("findings")
    assert rows[0]["sessions"] == [SESSION]  # not the developer's own shell session before it
    incident = get_incident(demo_store, rows[0]["incident_id"][:6])
    assert incident.status == "firing" and incident.severity == "critical"
    assert incident.sessions == [SESSION]
    assert incident.duration_ms == 8921
    first = incident.first_destructive
    assert (first["operation"], first["status"]) == ("railway volume delete", "failure")
    # the refused CLI delete destroyed nothing; the curl did, in production, confirmed
    assert incident.blast_radius == {
        "production": [
            {
                "target": VOLUME,
                "operations": ["railway.graphql:volumeDelete"],
                "provider_confirmed": True,
            }
        ]
    }
    [credential] = incident.credentials
    assert credential["used_by"] == ["railway.graphql:volumeDelete"]
    assert "/home/dev/pocketos/scripts/domains/railway-domains.env" in credential["seen_in"]
    assert credential["used_destructively"] is True
    assert len(credential["fingerprint"]) == 16
    # in time order; the Sigma pack's findings (a level below) sit between them
    assert [f["rule_id"] for f in incident.findings if not f["rule_id"].startswith("sigma:")] == [
        "destructive-burst",
        "environment-scope",
        "failed-then-credential-hunt-then-destructive",
        "credential-provenance",
        "credential-read-then-destructive-use",
        "data-and-backups-destroyed",
        "destructive-provider-http",
        "environment-scope",
    ]
    expected = {e["rule"] for e in load_spec("pocketos")["expect"]}
    assert {f["rule_id"] for f in incident.findings} == expected
    times = [f["first_seen"] for f in incident.findings]
    assert times == sorted(times)
    assert {s["session_kind"] for s in incident.destructive_steps} == {"agent"}
    with pytest.raises(IncidentNotFound):
        get_incident(demo_store, "nope")


def test_incidents_cli(demo_db):
    result = runner.invoke(app, ["incidents", "list", "--db", str(demo_db), "--json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    result = runner.invoke(
        app, ["incidents", "show", row["incident_id"][:10], "--db", str(demo_db)]
    )
    assert result.exit_code == 0, result.output
    for text in ("8,921 ms", "railway volume delete", "blast radius", "production", "firing"):
        assert text in result.output
    result = runner.invoke(app, ["incidents", "show", "zzz", "--db", str(demo_db)])
    assert result.exit_code == 2 and "no incident" in result.output


def test_analyst_views(demo_store):
    steps = demo_store.rows(
        "SELECT operation, status, target_env, provider_confirmed, sources, session_kind "
        "FROM destructive_events ORDER BY time"
    )
    assert [
        (s["operation"], s["status"], s["target_env"], s["provider_confirmed"]) for s in steps
    ] == [
        ("railway volume delete", "failure", "unknown", False),
        ("railway.graphql:volumeDelete", "success", "production", True),
    ]
    assert steps[1]["sources"] == ["cursor.hooks", "railway.audit", "shell.zsh"]
    # the agent's session, and the developer's own shell lines before it (an inferred session)
    session, shell = demo_store.rows("SELECT * FROM sessions ORDER BY kind, session_id")
    assert (session["session_id"], session["kind"], session["agent"]) == (
        SESSION,
        "agent",
        "cursor",
    )
    assert session["destructive_steps"] == 2 and session["events"] == 27
    assert (session["findings"], session["max_severity"], session["environments"]) == (
        demo_store.count("findings"),
        "critical",
        ["production"],
    )
    assert shell["session_id"].startswith("shell:") and shell["kind"] == "shell"
    assert (shell["agent"], shell["sources"], shell["events"], shell["steps"]) == (
        None,
        ["shell.zsh"],
        4,
        4,
    )
    assert (shell["destructive_steps"], shell["findings"], shell["max_severity"]) == (0, 0, None)
    assert shell["duration_ms"] == 100_000  # 19:05:00 to 19:06:40
    assert [s["session_kind"] for s in steps] == ["agent", "agent"]
    uses = demo_store.rows(
        "SELECT how, count(*) AS n FROM credential_uses GROUP BY how ORDER BY how"
    )
    assert uses == [{"how": "seen", "n": 3}, {"how": "used", "n": 3}]
    confirmations = demo_store.rows(
        "SELECT operation, target_env, linked, lag_ms, call_operation FROM provider_confirmations ORDER BY provider_time"
    )
    assert len(confirmations) == 3
    assert confirmations[-1] == {
        "operation": "volume.deleted",
        "target_env": "production",
        "linked": True,
        "lag_ms": 1117,
        "call_operation": "railway.graphql:volumeDelete",
    }
    assert [c["linked"] for c in confirmations[:2]] == [False, False]  # the staging changes


def test_views_reach_an_older_read_only_store(tmp_path):
    db = tmp_path / "old.duckdb"
    with Store.open(db) as store:
        for name in VIEW_NAMES:
            store.con.execute(f"DROP VIEW {name}")
    with Store.open(db, read_only=True) as store:
        assert store.rows("SELECT count(*) AS n FROM destructive_events") == [{"n": 0}]


def test_sql_reads_statements_from_stdin(demo_db):
    script = ".views\nSELECT count(*) AS steps\n  FROM destructive_events;\nSELECT lag_ms FROM provider_confirmations WHERE linked;\n"
    result = runner.invoke(app, ["sql", "--db", str(demo_db)], input=script)
    assert result.exit_code == 0, result.output
    assert "credential_uses" in result.output  # .views
    cells = [line.strip() for line in result.output.splitlines()]
    assert cells[cells.index("steps") + 2] == "2"  # header, rule, the one row
    assert cells[cells.index("lag_ms") + 2] == "1117"
    result = runner.invoke(app, ["sql", "--json", "--db", str(demo_db)], input=script)
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.output.splitlines()[-2:]] == [
        {"rows": [{"steps": 2}]},
        {"rows": [{"lag_ms": 1117}]},
    ]
    result = runner.invoke(
        app, ["sql", "--db", str(demo_db)], input="SELECT nope;\nSELECT 41+1 AS x;\n"
    )
    assert result.exit_code == 1
    assert "error" in result.output and "42" in result.output


def test_sql_store_is_read_only(demo_db):
    result = runner.invoke(app, ["sql", "--db", str(demo_db)], input="DELETE FROM events;\n")
    assert result.exit_code == 1 and "read-only" in result.output.lower()


def test_interactive_prompt_multiline_and_dot_commands(demo_store):
    lines = iter([".tables", "SELECT incident_id", "FROM incidents;", ".quit", "SELECT 'never';"])
    prompts = []

    def read_line(prompt):
        prompts.append(prompt)
        return next(lines)

    out = io.StringIO()
    repl(demo_store, Console(file=out, width=200), read_line)
    text = out.getvalue()
    assert "provider_confirmations" in text and "view" in text
    (incident,) = demo_store.rows("SELECT incident_id FROM incidents")
    assert incident["incident_id"] in text
    assert "never" not in text
    assert prompts == ["agentaudit> ", "agentaudit> ", "       ...> ", "agentaudit> "]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["incidents", "list"], "no events yet"),
        (["incidents", "show", "abc"], "no events yet"),
        (["timeline", "--incident", "abc"], "no events yet"),
        (["timeline", "--session", "s1"], "no events yet"),
        (["timeline", "--from", "2026-01-01", "--to", "2026-01-02"], "no events yet"),
        (["query", "SELECT count(*) AS n FROM destructive_events"], "0"),
    ],
)
def test_every_command_on_an_empty_store(empty_db, args, expected):
    result = runner.invoke(app, [*args, "--db", str(empty_db)])
    assert expected in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output


def test_sql_on_an_empty_store(empty_db):
    result = runner.invoke(
        app, ["sql", "--db", str(empty_db)], input="SELECT count(*) AS n FROM incidents;\n"
    )
    assert result.exit_code == 0 and "0" in result.output


def test_incidents_on_a_store_with_events_but_no_alerts(tmp_path):
    from agentaudit.ingest import ingest_paths
    from agentaudit.scenarios import scenario_files

    db = tmp_path / "s.duckdb"
    with Store.open(db) as store:
        ingest_paths(store, scenario_files("pocketos"))
    result = runner.invoke(app, ["incidents", "list", "--db", str(db)])
    assert result.exit_code == 0
    assert "33 events but no incidents" in result.output and "agentaudit detect" in result.output
    result = runner.invoke(app, ["timeline", "--incident", "abc", "--db", str(db)])
    assert result.exit_code == 2 and "agentaudit detect" in result.output


def test_views_command_lists_every_view():
    result = runner.invoke(app, ["views", "--json"])
    assert result.exit_code == 0
    assert [v["name"] for v in json.loads(result.output)] == list(VIEW_NAMES)


def test_dashboard_without_a_store_says_how_to_get_one(tmp_path):
    result = runner.invoke(app, ["dashboard", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2
    assert "no agentaudit store" in result.output and "agentaudit demo" in result.output
