"""Each dashboard page under Streamlit's AppTest, on the demo store and on an empty one."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the dashboard extra is not installed")
from streamlit.testing.v1 import AppTest

from agentaudit.scenarios.replay import load_spec
from agentaudit.store import Store

SCREENS = Path(__file__).resolve().parents[2] / "dashboards" / "screens"
TITLE = (
    "[CRITICAL] railway.graphql:volumeDelete on 3d2c42fb-6c1e-4a55-9d5f-8b7e2f0a9c13 (production)"
)


def run_page(name: str, db: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("AGENTAUDIT_DB", str(db))
    app = AppTest.from_file(str(SCREENS / f"{name}.py"), default_timeout=60)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def stored_findings(db: Path) -> int:
    """Every finding of the demo belongs to its one incident."""
    with Store.open(db, read_only=True) as store:
        return store.count("findings")


def table_rows(app: AppTest, index: int = 0) -> list[dict]:
    return app.table[index].value.to_dict("records")


def test_incidents_page(demo_db, monkeypatch):
    app = run_page("incidents", demo_db, monkeypatch)
    assert app.title[0].value == "Incidents"
    assert table_rows(app)[0]["title"] == TITLE
    assert app.header[0].value == TITLE
    # duration, findings, destructive steps, sessions (the agent's; not the shell's before it)
    findings = stored_findings(demo_db)
    assert [m.value for m in app.metric] == ["8.9 s", str(findings), "2", "1"]
    assert table_rows(app)[0]["findings"] == findings
    markdown = " ".join(m.value for m in app.markdown)
    assert "**`railway volume delete`** at T+0 ms" in markdown
    assert (
        "**production**: `3d2c42fb-6c1e-4a55-9d5f-8b7e2f0a9c13` by railway.graphql:volumeDelete"
        in markdown
    )
    calls = table_rows(app, 1)
    assert [(c["operation"], c["status"]) for c in calls] == [
        ("railway volume delete", "failure"),
        ("railway.graphql:volumeDelete", "success"),
    ]


def test_timeline_page(demo_db, monkeypatch):
    app = run_page("timeline", demo_db, monkeypatch)
    assert app.header[0].value.endswith(TITLE)
    assert "1,117 ms after the call it records" in app.markdown[0].value
    steps = table_rows(app)
    assert [s["T+ ms"] for s in steps] == ["0", "2,315", "4,118", "7,804"]
    assert steps[3]["step"] == "railway.graphql:volumeDelete"
    assert "T+8,921 railway.audit: volume.deleted [production]" in steps[3]["linked rows"]
    # the chart is the timeline's own SVG (labels placed without overlap; the browser test
    # measures them): one dot per row, lanes agent, shell, provider
    [chart] = [f for f in app.get("iframe") if "timeline-chart" in f.proto.srcdoc]
    svg = chart.proto.srcdoc
    assert svg.count("<circle") == 11
    lanes = [svg.index(f">{lane}<") for lane in ("cursor.hooks", "shell.zsh", "railway.audit")]
    assert lanes == sorted(lanes)
    assert "5 of 5 steps" not in " ".join(c.value for c in app.caption)


def test_filters_narrow_the_incidents_with_true_counts(demo_db, monkeypatch):
    app = run_page("incidents", demo_db, monkeypatch)
    assert app.caption[0].value == "1 incident"
    app.text_input(key="incidents-credential").set_value("no-such-key").run()
    assert not app.table and "No incidents match: credential ~ 'no-such-key'" in app.info[0].value
    app.text_input(key="incidents-credential").set_value("").run()
    app.selectbox(key="incidents-environment").set_value("production").run()
    assert app.caption[0].value == "1 incident; environment production"
    actor = app.selectbox(key="incidents-quick").options[1]
    app.selectbox(key="incidents-quick").set_value(actor).run()
    assert app.caption[0].value.startswith("1 incident; severity critical, actor ")


def test_findings_page(demo_db, monkeypatch):
    app = run_page("findings", demo_db, monkeypatch)
    rows = table_rows(app)
    assert len(rows) == stored_findings(demo_db)  # environment-scope fires twice: CLI and curl
    expected = load_spec("pocketos")["expect"]  # every rule the scenario expects, once or more
    assert {row["rule_id"] for row in rows} == {e["rule"] for e in expected}
    assert {row["session_id"] for row in rows} == {"8f1d2c3b-5a6e-4f70-9b1c-2d3e4f5a6b7c"}
    app.multiselect[0].set_value(["high"]).run()
    high = sorted({row["rule_id"] for row in table_rows(app)})
    assert high == sorted(e["rule"] for e in expected if e["severity"] == "high")


def test_sessions_page(demo_db, monkeypatch):
    app = run_page("sessions", demo_db, monkeypatch)
    # the agent's session first, then the developer's own shell lines before it (inferred)
    row, shell = table_rows(app)
    assert (row["session_id"], row["kind"]) == ("8f1d2c3b-5a6e-4f70-9b1c-2d3e4f5a6b7c", "agent")
    assert (row["destructive_steps"], row["findings"], row["environments"]) == (
        2,
        stored_findings(demo_db),
        "production",
    )
    assert shell["session_id"].startswith("shell:") and shell["kind"] == "shell"
    assert (shell["events"], shell["destructive_steps"], shell["findings"], shell["sources"]) == (
        4,
        0,
        0,
        "shell.zsh",
    )
    assert app.caption[0].value == "2 sessions (1 agent, 1 shell)"
    app.multiselect[0].set_value(["shell"]).run()
    assert [r["session_id"] for r in table_rows(app)] == [shell["session_id"]]
    app.checkbox[0].check().run()  # no shell session destroyed anything
    assert not app.table and "No sessions" in app.info[0].value


def test_sql_page(demo_db, monkeypatch):
    app = run_page("sql", demo_db, monkeypatch)
    rows = table_rows(app)
    assert [r["operation"] for r in rows] == [
        "railway volume delete",
        "railway.graphql:volumeDelete",
    ]
    app.text_area[0].set_value("SELECT lag_ms FROM provider_confirmations WHERE linked").run()
    assert table_rows(app) == [{"lag_ms": 1117}]
    app.text_area[0].set_value("DELETE FROM events").run()
    assert "read-only" in app.error[0].value.lower()


@pytest.mark.parametrize("page", ["incidents", "timeline", "findings", "sessions", "sql"])
def test_every_page_on_an_empty_store(empty_db, monkeypatch, page):
    app = run_page(page, empty_db, monkeypatch)
    assert "no events yet" in app.info[0].value
    assert not app.table


def test_missing_store_is_explained(tmp_path, monkeypatch):
    app = run_page("incidents", tmp_path / "absent.duckdb", monkeypatch)
    assert "No agentaudit store at" in app.info[0].value
