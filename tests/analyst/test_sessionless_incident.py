"""An incident with no agent session: a developer's own shell history deleting a volume."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from agentaudit.cli import app
from agentaudit.incidents import get_incident, list_incidents
from agentaudit.ingest import ingest_paths
from agentaudit.pipeline import detect_and_alert
from agentaudit.store import Store
from agentaudit.timeline_steps import report_for

# our own history: two whole-second commands, the second a destructive provider call
HISTORY = (
    ": 1777100000:0;git status\n"
    ": 1777100002:1;curl -X POST https://backboard.railway.app/graphql/v2 "
    "-H 'Content-Type: application/json' "
    '-d \'{"query":"mutation { volumeDelete(volumeId: \\"11111111-2222-3333-4444-555555555555\\") }"}\'\n'
)


def test_sessionless_incident_has_a_timeline_and_details(tmp_path):
    history = tmp_path / "zsh_history"
    history.write_text(HISTORY)
    db = tmp_path / "s.duckdb"
    with Store.open(db) as store:
        ingest_paths(store, [history])
        detect_and_alert(store, [])
        [row] = list_incidents(store)
        assert row["sessions"] is None and row["duration_ms"] == 0
        incident = get_incident(store, row["incident_id"])
        assert incident.first_destructive["operation"] == "railway.graphql:volumeDelete"
        assert incident.sessions == []
        report = report_for(store, incident=row["incident_id"])
    assert [s.what for s in report.steps] == ["railway.graphql:volumeDelete"]
    assert report.steps[0].fired == ("destructive-provider-http",)
    assert report.gap.record_ms is None  # no provider log ingested: nothing confirms it
    result = CliRunner().invoke(
        app, ["timeline", "--incident", row["incident_id"][:8], "--db", str(db), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["steps"][0]["sources"] == ["shell.zsh"]
