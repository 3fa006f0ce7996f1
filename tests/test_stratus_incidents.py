"""The corpus' Stratus CloudTrail file (2,900 records, one IAM user's 55-minute attack
simulation) is a handful of incidents under the README's alerting.yml, not a page storm.

Before issue 16: 299 findings, 202 alert groups, 76 of them critical (every sessionless
provider record was its own group). Each page must name the IAM user, the access key id (an
identifier the store keeps in clear, held out of the page's redaction gate, which would take
its shape for a secret) and the source IP, and summarise the burst (operations with counts,
targets) instead of repeating one call; `incidents show` names the key, and the timeline says what the records destroyed.
"""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from agentaudit.alert.config import parse_config
from agentaudit.alert.message import by_severity, render_body
from agentaudit.analyst import incidents, render_steps
from agentaudit.analyst.timeline_render import gap_sentence
from agentaudit.analyst.timeline_steps import report_for
from agentaudit.ingest import ingest_paths
from agentaudit.pipeline import detect_and_alert
from agentaudit.scenarios.incident import README_ALERTING
from agentaudit.store import Store

USER = "arn:aws:iam::123837392027:user/bert-jan"
KEY = "AKIATFQR7NSC8Q4X20BJ"
SOURCE_IP = "192.168.10.20"


@pytest.fixture(scope="module")
def stratus(corpus, tmp_path_factory):
    path = corpus / "cloudtrail" / "invictus-stratus-2023-07-10.json.gz"
    with Store.open(tmp_path_factory.mktemp("stratus") / "s.duckdb") as store:
        assert ingest_paths(store, [path]).ingested == 2900
        detect_and_alert(store, [], config=parse_config(README_ALERTING), deliver=False)
        yield store


def _pages(store: Store) -> list[dict]:
    return store.rows(
        "SELECT * FROM alerts WHERE severity IN ('high', 'critical') ORDER BY alert_id"
    )


def test_at_most_five_incidents_page(stratus):
    pages = _pages(stratus)
    assert 1 <= len({p["group_labels"] for p in pages}) <= 5
    assert len(pages) <= 5


def test_the_user_s_page_names_who_and_summarises_the_burst(stratus):
    burst = [p for p in _pages(stratus) if len(p["finding_ids"]) > 100]
    assert len(burst) == 1, "the user's burst is one incident"
    findings = stratus.rows(
        "SELECT * FROM findings WHERE finding_id IN (SELECT unnest(?::VARCHAR[]))",
        [burst[0]["finding_ids"]],
    )
    body = render_body(stratus, by_severity(findings), alert_id=burst[0]["alert_id"])
    for who in (USER, SOURCE_IP):
        assert who in body
    # the key id is named, so on-call can deactivate it (`scrub(..., keep=...)`)
    key_line = next(line for line in body.splitlines() if line.startswith("Key id: "))
    # (201 destructive calls with the key: the botocore-derived catalog adds a bucket policy and an
    # IAM Roles Anywhere trust anchor and profile deleted, which the hand lists missed)
    assert KEY in key_line and "[SECRET:" not in key_line and "(201)" in key_line
    assert f"Deactivate or rotate key {KEY}" in body
    assert "Burst: " in body and "operations: DeleteParameter x" in body
    findings_part = body.split("Findings:")[1].split("Burst:")[0]
    assert len(findings_part.splitlines()) < 12, "one line per rule, with counts"
    assert findings_part.count("DeleteParameter") <= 2


def test_incident_and_timeline_name_the_key_and_what_was_destroyed(stratus):
    burst = max(_pages(stratus), key=lambda p: len(p["finding_ids"]))
    incident = incidents.get_incident(stratus, burst["alert_id"])
    assert any(KEY in c["fingerprint"] for c in incident.credentials)
    out = io.StringIO()
    Console(file=out, width=200).print(render_steps.incident_view(incident))
    assert "none seen" not in out.getvalue()
    assert not gap_sentence(report_for(stratus, incident=burst["alert_id"])).startswith(
        "No destructive call"
    )
    [row] = stratus.rows(
        "SELECT count(*) AS n, count(actor) AS actors, count(source_ip) AS ips, "
        "count(credential) AS creds FROM destructive_events WHERE actor = ?",
        [USER],
    )
    assert row["n"] > 100 and row["ips"] == row["n"] and row["creds"] == row["n"]
