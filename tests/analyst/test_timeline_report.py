"""The incident timeline as steps, and its Markdown / JSON / HTML forms, on the demo store."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from agentaudit.analyst.incidents import IncidentNotFound
from agentaudit.analyst.timeline_render import timeline_svg, to_html, to_markdown
from agentaudit.analyst.timeline_steps import report_for
from agentaudit.cli import app
from agentaudit.scenarios.replay import load_spec
from agentaudit.schema import parse_time

EXPECTED_RULES = {e["rule"] for e in load_spec("pocketos")["expect"]}


def python_rules(fired) -> set[str]:
    """The Python rules' and behaviours' findings (the Sigma pack's are `sigma:` ids)."""
    return {rule for rule in fired if not rule.startswith("sigma:")}


runner = CliRunner()
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def report(demo_store):
    incident = demo_store.rows("SELECT alert_id FROM alerts")[0]["alert_id"]
    return report_for(demo_store, incident=incident[:8])


def test_steps_merge_agent_shell_and_provider_rows(report):
    offsets = [(s.offset_ms, s.what) for s in report.steps]
    assert offsets == [
        (0, "railway volume delete"),
        (2315, "grep"),
        (4118, "read"),
        (7804, "railway.graphql:volumeDelete"),
    ]
    curl = report.steps[3]
    assert curl.sources == ("cursor.hooks", "shell.zsh", "railway.audit")
    assert [r.offset_ms for r in curl.rows] == [7804, 7804, 8655, 8921]
    assert curl.rows[-1].what == "volume.deleted"
    assert curl.target_env == "production"
    # the curl completes five of the incident's Python findings; the refused CLI delete the
    # rest (the Sigma pack's findings, a level below, sit on the same two calls)
    assert python_rules(curl.fired) == {
        "destructive-provider-http",
        "credential-read-then-destructive-use",
        "credential-provenance",
        "data-and-backups-destroyed",
        "environment-scope",
    }
    assert report.steps[0].status == "failure"
    assert python_rules(report.steps[0].fired) == {
        "destructive-burst",
        "environment-scope",
        "failed-then-credential-hunt-then-destructive",
    }
    assert [s.fired for s in report.steps[1:3]] == [(), ()]
    # every rule the scenario expects is flagged on a step
    assert {r for s in report.steps for r in s.fired} == EXPECTED_RULES
    assert report.steps[2].detail.endswith("scripts/domains/railway-domains.env")


def test_gap_between_first_destructive_call_and_provider_record(report):
    gap = report.gap
    assert (gap.first_destructive_ms, gap.first_destructive_what) == (0, "railway volume delete")
    assert (gap.record_ms, gap.record_what, gap.record_env) == (
        8921,
        "volume.deleted",
        "production",
    )
    assert gap.gap_ms == 8921
    assert (gap.confirmed_call_ms, gap.call_to_record_ms) == (7804, 1117)


def test_markdown_lists_steps_in_order(report):
    text = to_markdown(report)
    lines = [line for line in text.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [line.split(" | ")[0] for line in lines] == ["| 0", "| 2,315", "| 4,118", "| 7,804"]
    assert "T+8,921 railway.audit: volume.deleted [production]" in lines[3]
    assert "8,921 ms after the first destructive call, 1,117 ms after the call" in text


def test_html_is_self_contained_with_a_chart(report):
    page = to_html(report)
    # nothing to fetch: no scripts, stylesheets, images or frames from anywhere
    assert not re.search(r"<(script|link|img|iframe)\b", page, re.I)
    assert not re.search(r"\b(src|href)\s*=", page, re.I)
    svg = ET.fromstring(timeline_svg(report))
    circles = svg.findall(f"{SVG}circle")
    assert len(circles) == len(report.rows) == 11
    assert sum("destructive" in c.get("class") for c in circles) == 7
    lanes = [t.text for t in svg.findall(f"{SVG}text") if t.get("class") == "lane"]
    assert lanes == ["cursor.hooks", "shell.zsh", "railway.audit"]
    # dense flags collapse into one per slot ("5 findings"); every rule is in a hover text
    flags = [t for t in svg.findall(f"{SVG}text") if t.get("class") == "finding"]
    assert flags and len(svg.findall(f"{SVG}path")) == len(flags)
    tips = "\n".join(t.find(f"{SVG}title").text for t in flags)
    assert all(rule in tips for rule in EXPECTED_RULES)
    assert "first destructive call → provider record: 8,921 ms" in page
    assert "call → provider record: 1,117 ms" in page


def test_window_and_session_scopes(demo_store):
    start = parse_time("2026-04-24T19:23:40Z")
    end = parse_time("2026-04-24T19:23:51Z")
    window = report_for(demo_store, start=start, end=end)
    assert [s.offset_ms for s in window.steps] == [0, 2315, 4118, 7804]  # same 9 s, all sources
    assert window.rows[0].time.isoformat(timespec="milliseconds") == "2026-04-24T19:23:41.207+00:00"
    nobody = report_for(demo_store, start=start, end=end, host="no-such-host")
    assert nobody.rows == [] and nobody.gap is None
    session = demo_store.rows("SELECT session_id FROM alerts")[0]["session_id"]
    whole = report_for(demo_store, session=session)
    assert (
        len(whole.rows) == 27
    )  # 33 events minus 4 own-shell lines and 2 staging records: the session's own rows and every row linked to it
    assert whole.steps[0].what == "user_prompt"
    with pytest.raises(IncidentNotFound):
        report_for(demo_store, incident="ffffffff")


def test_cli_formats(demo_db, demo_incident, tmp_path):
    db = str(demo_db)
    incident = demo_incident
    result = runner.invoke(app, ["timeline", "--incident", incident, "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [s["offset_ms"] for s in data["steps"]] == [0, 2315, 4118, 7804]
    assert data["gap"]["call_to_record_ms"] == 1117
    html = tmp_path / "incident.html"
    result = runner.invoke(
        app, ["timeline", "--incident", incident, "--db", db, "-f", "html", "--out", str(html)]
    )
    assert result.exit_code == 0, result.output
    assert "<svg" in html.read_text()
    result = runner.invoke(app, ["timeline", "--incident", incident, "--db", db, "-f", "markdown"])
    assert "| 7,804 | cursor.hooks, shell.zsh, railway.audit |" in result.output
    result = runner.invoke(app, ["timeline", "--incident", incident, "--db", db])
    assert "railway.graphql:volumeDelete" in result.output and "1,117 ms" in result.output
    result = runner.invoke(
        app, ["timeline", "--from", "2026-04-24T19:23:40Z", "--to", "soon", "--db", db]
    )
    assert result.exit_code == 2 and "ISO-8601" in result.output
    result = runner.invoke(app, ["timeline", "--db", db])
    assert result.exit_code == 2 and "--incident" in result.output
