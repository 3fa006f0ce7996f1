"""The README's own alerting.yml on the PocketOS replay (issue 20): the routes with
`continue: true` page, and each incident keeps one id whatever routes notify it: the id the
SOC page names, the PagerDuty dedup_key and the OCSF finding_info.uid are the same.

Real parts: the replay ingested into a store, the README's YAML as written, apprise and the
PagerDuty client posting to loopback HTTP servers. PagerDuty itself cannot run here: a
loopback server stands in for events.pagerduty.com.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from agentaudit.alert.clock import ManualClock
from agentaudit.alert.config import parse_config
from agentaudit.alert.delivery.outbox import deliver_due
from agentaudit.alert.engine import evaluate
from agentaudit.ingest import ingest_paths
from agentaudit.pipeline import detect_alert_deliver
from agentaudit.receiver import LocalReceiver
from agentaudit.scenarios import scenario_files
from tests.alerting_helpers import finding_records, outbox_rows

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_config(soc: LocalReceiver, pagerduty: LocalReceiver) -> dict:
    section = README.read_text().split("## Alerting and SIEM export")[1]
    data = yaml.safe_load(section.split("```yaml\n")[1].split("```")[0])
    data["apprise"] = [{"url": soc.url("json", "/soc"), "tags": ["soc"]}]
    data["receivers"][1]["pagerduty"]["url"] = pagerduty.url("http", "/v2/enqueue")
    return data


def test_the_readme_config_pages_each_incident_under_one_id(store, redactor, monkeypatch):
    monkeypatch.setenv("PD_ROUTING_KEY", "R" * 32)
    ingest_paths(store, scenario_files("pocketos"), redactor=redactor)
    clock = ManualClock()
    with LocalReceiver() as soc, LocalReceiver([202] * 20) as pd:
        cfg = parse_config(readme_config(soc, pd))
        run = detect_alert_deliver(store, [], config=cfg, clock=clock)
        assert run.evaluation.unsent == []
        clock.advance(seconds=cfg.route.group_wait.total_seconds())  # the README's group_wait
        evaluate(store, cfg, clock)
        assert all(a["ok"] for a in deliver_due(store, cfg, clock))
        pages, events = soc.accepted(), [r["body"] for r in pd.accepted()]

    incidents = {row["alert_id"] for row in store.rows("SELECT alert_id FROM alerts")}
    assert pages and events, "the README's routes must page the PocketOS incident"
    assert {e["event_action"] for e in events} == {"trigger"}
    paged = {e["dedup_key"] for e in events}
    assert paged <= incidents
    # `continue: true`: the critical production incident reached the SOC and PagerDuty, both
    # under the incident's one id
    by_receiver: dict[str, set[str]] = {}
    for row in outbox_rows(store):
        by_receiver.setdefault(row["receiver"], set()).add(row["alert_id"])
    assert by_receiver["oncall"] == paged
    assert paged <= by_receiver["soc"]
    for incident in paged:
        assert any(f"agentaudit alert ack {incident}" in p["body"]["message"] for p in pages)
    # one OCSF finding per incident: its uid is the incident id and the dedup_key
    assert {r["finding_info"]["uid"] for r in finding_records(store)} == incidents
