"""Incidents with no agent session: a developer's own shell history deleting a volume (an inferred
shell session), and a provider's audit record on its own (no session at all)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from agentaudit.analyst.incidents import get_incident, list_incidents
from agentaudit.analyst.timeline_steps import report_for
from agentaudit.cli import app
from agentaudit.ingest import ingest_paths
from agentaudit.pipeline import detect_and_alert
from agentaudit.scenarios import scenario_files
from agentaudit.store import Store

# our own history: two whole-second commands, the second a destructive provider call
HISTORY = (
    ": 1777100000:0;git status\n"
    ": 1777100002:1;curl -X POST https://backboard.railway.app/graphql/v2 "
    "-H 'Content-Type: application/json' "
    '-d \'{"query":"mutation { volumeDelete(volumeId: \\"11111111-2222-3333-4444-555555555555\\") }"}\'\n'
)
VOLUME = "11111111-2222-3333-4444-555555555555"


def test_sessionless_incident_has_a_timeline_and_details(tmp_path):
    """No agent session: the incident rests on the shell session inferred from the history."""
    history = tmp_path / "zsh_history"
    history.write_text(HISTORY)
    db = tmp_path / "s.duckdb"
    with Store.open(db) as store:
        ingest_paths(store, [history])
        detect_and_alert(store, [])
        [row] = list_incidents(store)
        [session] = store.rows("SELECT * FROM sessions")
        assert session["kind"] == "shell" and session["session_id"].startswith("shell:")
        assert (session["agent"], session["events"], session["destructive_steps"]) == (None, 2, 1)
        assert row["sessions"] == [session["session_id"]] and row["duration_ms"] == 0
        incident = get_incident(store, row["incident_id"])
        assert incident.first_destructive["operation"] == "railway.graphql:volumeDelete"
        assert incident.first_destructive["session_kind"] == "shell"
        assert incident.sessions == [session["session_id"]]
        # attempted, never confirmed: the environment stays unknown
        assert incident.blast_radius == {
            "unknown": [
                {
                    "target": VOLUME,
                    "operations": ["railway.graphql:volumeDelete"],
                    "provider_confirmed": False,
                }
            ]
        }
        report = report_for(store, incident=row["incident_id"])
    # the incident's window, not the harmless `git status` two seconds before it
    assert [s.what for s in report.steps] == ["railway.graphql:volumeDelete"]
    assert set(report.steps[0].fired) == {
        "destructive-provider-http",
        "data-and-backups-destroyed",
        # the Sigma pack, a level below: the Railway catalog, the backup, the critical scope
        "sigma:agentaudit_railway_destructive",
        "sigma:agentaudit_backup_destroy",
        "sigma:agentaudit_destructive_command_critical",
    }
    assert report.gap.record_ms is None  # no provider log ingested: nothing confirms it
    result = CliRunner().invoke(
        app, ["timeline", "--incident", row["incident_id"][:8], "--db", str(db), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["steps"][0]["sources"] == ["shell.zsh"]


def test_provider_record_alone_is_a_sessionless_incident(tmp_path):
    [audit_log] = [f for f in scenario_files("pocketos") if f.name == "railway-auditlogs.json"]
    db = tmp_path / "p.duckdb"
    with Store.open(db) as store:
        ingest_paths(store, [audit_log])
        detect_and_alert(store, [])
        # no agent session: the principal's records are its burst (issue 16), not orphans
        [burst] = store.rows("SELECT session_id, kind FROM sessions")
        assert burst["kind"] == "principal"
        [row] = list_incidents(store)
        assert row["sessions"] == [burst["session_id"]] and row["duration_ms"] == 0
        incident = get_incident(store, row["incident_id"])
        assert incident.sessions == [burst["session_id"]]
        assert incident.first_destructive["operation"] == "volume.deleted"
        assert incident.first_destructive["session_kind"] == "principal"
        assert incident.first_destructive["actor"] == "jer@pocketos.example"
        assert list(incident.blast_radius) == ["production"]
        report = report_for(store, incident=row["incident_id"])
    # no session: the window's rows, here the one deletion record (not the staging records)
    assert [(s.what, s.sources) for s in report.steps] == [("volume.deleted", ("railway.audit",))]
    assert set(report.steps[0].fired) == {
        "data-and-backups-destroyed",
        # the Sigma pack on the provider's record: the Railway catalog, the backup, production
        "sigma:agentaudit_railway_destructive",
        "sigma:agentaudit_backup_destroy",
        "sigma:agentaudit_production_destroy",
    }
    assert report.gap is None  # no agent call to measure from
