"""The whole pipeline on the built-in PocketOS replay, with real parts end to end."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from agentaudit.demo import run_demo
from agentaudit.scenarios.replay import load_spec
from agentaudit.store import Store
from tests.ocsf_validation import ocsf_errors

TOKEN = "6f0c2b9e-41d7-4c3a-a8e5-d2b7f19c0e84"  # the replay's (fake) Railway token
INCIDENT_START = "2026-04-24T19:23:41"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = io.StringIO()
    result = run_demo(tmp_path_factory.mktemp("demo"), Console(file=out, width=120))
    result.printed = out.getvalue()
    return result


def test_exactly_the_expected_findings(demo):
    found = {(f["rule_id"], f["severity"]) for f in demo.pipeline.detect.findings}
    # Python rules, behaviours and the Sigma pack, as the scenario's expected.yaml lists them
    assert found == {(e["rule"], e["severity"]) for e in load_spec("pocketos")["expect"]}


def test_the_benign_part_stays_silent(demo):
    with Store.open(demo.db_path, read_only=True) as store:
        early = store.rows(
            """SELECT count(*) AS n FROM findings, unnest(event_ids) AS u(eid)
               JOIN events e ON e.event_id = u.eid WHERE e.time < ?::TIMESTAMPTZ""",
            [INCIDENT_START + "Z"],
        )
    assert early[0]["n"] == 0


def test_one_alert_reached_the_local_receiver(demo):
    assert len(demo.pipeline.alerts) == 1
    assert len(demo.received) == 1
    got = demo.received[0]
    assert got["path"] == "/alerts"
    body = got["body"]
    assert body["type"] == "failure"
    # the page names the call that went through (the curl), not the refused CLI delete before it
    assert "railway.graphql:volumeDelete" in body["title"] and "production" in body["title"]
    assert "volumeDelete" in body["message"]
    assert "scripts/domains/railway-domains.env" in body["message"]
    assert "Revoke the credential with fingerprint" in body["message"]
    with Store.open(demo.db_path, read_only=True) as store:
        deliveries = store.rows("SELECT ok, attempt FROM deliveries")
    assert deliveries == [{"ok": True, "attempt": 1}]


def test_ocsf_export_validates(demo):
    lines = demo.export_path.read_text().splitlines()
    with Store.open(demo.db_path, read_only=True) as store:
        logged = store.count("finding_log")
    # the alert's lifecycle: one Create, then one Update per finding that joined it
    assert len(lines) == demo.pipeline.exported == logged
    activities = [json.loads(line)["activity_id"] for line in lines]
    assert activities == [1] + [2] * (len(lines) - 1)
    for line in lines:
        record = json.loads(line)
        assert record["class_uid"] == 2004
        assert ocsf_errors(record) == []


def test_token_is_nowhere_in_clear(demo):
    for path in demo.workdir.iterdir():
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    assert TOKEN not in json.dumps(demo.received)
    assert TOKEN not in demo.printed


def test_fingerprint_ties_the_token_file_to_the_curl(demo):
    with Store.open(demo.db_path, read_only=True) as store:
        read = store.rows(
            "SELECT secret_fps FROM events WHERE kind = 'file' AND target LIKE '%railway-domains.env'"
        )
        curl = store.rows(
            "SELECT DISTINCT credential_fp FROM events WHERE operation = 'railway.graphql:volumeDelete'"
        )
    assert len(curl) == 1 and curl[0]["credential_fp"]
    assert curl[0]["credential_fp"] in read[0]["secret_fps"]


def test_timeline_orders_token_read_curl_and_provider_record(demo):
    rows = demo.timeline
    assert rows[0].offset_ms == 0
    read = next(r for r in rows if r.kind == "file")
    curl = next(r for r in rows if r.what == "railway.graphql:volumeDelete")
    provider = next(r for r in rows if r.source == "railway.audit")
    assert read.offset_ms == 4118
    assert curl.offset_ms == 7804
    assert provider.offset_ms == 8921
    assert provider.target_env == "production"
    assert "destructive-provider-http" in curl.fired


def test_demo_prints_its_stages(demo):
    for text in (
        "Ingest",
        f"Findings ({len(demo.pipeline.detect.findings)})",
        "receiver got POST /alerts",
        "OCSF 1.8.0 export",
        "Incident timeline",
    ):
        assert text in demo.printed
