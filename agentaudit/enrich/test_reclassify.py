"""`reclassify` re-applies enrichment to stored rows: after an account id is added to
environments.yaml, the stored CloudTrail rows become production and the README's production
route (`severity=critical, environment=production`) matches them on the next detect / alert
run. Real parts: a CloudTrail document in the collector's format, a DuckDB file, the README's
alerting configuration (nothing is delivered: the routes are read from the store)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from agentaudit.alert.config import parse_config
from agentaudit.enrich.reclassify import reclassify
from agentaudit.ingest import ingest_paths
from agentaudit.pipeline import detect_and_alert
from agentaudit.scenarios.incident import README_ALERTING
from agentaudit.store import Store
from tests.cli_helpers import run_cli

ACCOUNT = "482913570146"  # no environment word anywhere in it or in the resource names
USER = f"arn:aws:iam::{ACCOUNT}:user/ops-automation"


def _record(second: int, name: str, source: str, params: dict) -> dict:
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAXAMPLEOPSAUTO01",
            "arn": USER,
            "accountId": ACCOUNT,
            "accessKeyId": "AKIAXAMPLEKEYID00001",
            "userName": "ops-automation",
        },
        "eventTime": f"2026-03-02T10:00:{second:02d}Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.5 exe/x86_64",
        "requestParameters": params,
        "responseElements": None,
        "requestID": f"req-{second}",
        "eventID": f"00000000-0000-4000-8000-{second:012d}",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
    }


@pytest.fixture
def cloudtrail(tmp_path: Path) -> Path:
    rds = "rds.amazonaws.com"
    records = [
        _record(1, "DescribeDBInstances", rds, {}),
        _record(3, "DeleteDBSnapshot", rds, {"dBSnapshotIdentifier": "orders-nightly-0301"}),
        _record(
            5,
            "DeleteDBInstance",
            rds,
            {
                "dBInstanceIdentifier": "orders-db",
                "skipFinalSnapshot": True,
                "deleteAutomatedBackups": True,
            },
        ),
        _record(8, "DeleteBucket", "s3.amazonaws.com", {"bucketName": "orders-archive"}),
    ]
    path = tmp_path / "cloudtrail.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    return path


def _mapping(directory: Path, monkeypatch) -> None:
    path = directory / "environments.yaml"
    path.write_text(f'production: ["{ACCOUNT}"]\n')
    monkeypatch.setenv("AGENTAUDIT_ENVIRONMENTS", str(path))


def _paged_production(store: Store) -> list[dict]:
    return store.rows(
        """SELECT DISTINCT g.route, g.receiver, a.group_labels FROM alert_groups g
           JOIN alerts a USING (alert_id) WHERE g.receiver = 'oncall'"""
    )


def test_reclassify_turns_stored_rows_to_production_and_the_route_matches(
    store, cloudtrail, tmp_path, monkeypatch
):
    assert ingest_paths(store, [cloudtrail]).ingested == 4
    assert reclassify(store).changed_rows == 0, "right after ingest nothing differs"
    envs = {r["target_env"] for r in store.rows("SELECT target_env FROM events")}
    assert envs == {"unknown"}

    _mapping(tmp_path, monkeypatch)
    report = reclassify(store)
    assert report.changed["target_env"] == 4
    assert report.changed_rows == 4
    assert report.changed["severity"] == report.changed["categories"] == 0
    assert {r["target_env"] for r in store.rows("SELECT target_env FROM events")} == {"production"}
    again = reclassify(store)
    assert again.changed_rows == 0, "reclassify is idempotent"
    runs = store.rows("SELECT examined, changed_rows FROM reclassify_runs ORDER BY ran_at")
    assert [(r["examined"], r["changed_rows"]) for r in runs] == [(4, 0), (4, 4), (4, 0)]
    # the rewrite is an explained link of the tamper-evident chain, and the chain verifies
    links = store.rows("SELECT note FROM chain WHERE action = 'reclassify' ORDER BY seq")
    assert any("4 of 4 events: target_env 4" in link["note"] for link in links)
    from agentaudit.store.chain.signing import local_public_key
    from agentaudit.store.chain.verify import verify

    checked = verify(store.con, local_public_key())
    assert checked.clean, checked.problems

    detect_and_alert(store, [], config=parse_config(README_ALERTING), deliver=False)
    paged = _paged_production(store)
    assert paged, "the README's production page route must match the reclassified rows"
    critical = store.rows("SELECT labels FROM alert_members WHERE severity = 'critical'")
    assert critical
    assert all(json.loads(m["labels"])["environment"] == "production" for m in critical)


def test_reclassify_after_a_detect_run_pages_on_the_next_run(
    store, cloudtrail, tmp_path, monkeypatch
):
    """Findings already stored and posted before the mapping: the next run pages production."""
    config = parse_config(README_ALERTING)
    ingest_paths(store, [cloudtrail])
    detect_and_alert(store, [], config=config, deliver=False)
    assert _paged_production(store) == []
    _mapping(tmp_path, monkeypatch)
    assert reclassify(store).changed["target_env"] == 4
    detect_and_alert(store, [], config=config, deliver=False)
    assert _paged_production(store)


def test_without_reclassify_the_production_route_does_not_match(
    store, cloudtrail, tmp_path, monkeypatch
):
    """The control: the mapping written after ingest changes nothing stored by itself."""
    ingest_paths(store, [cloudtrail])
    _mapping(tmp_path, monkeypatch)
    detect_and_alert(store, [], config=parse_config(README_ALERTING), deliver=False)
    assert _paged_production(store) == []


def test_the_cli_says_what_changed(tmp_path, cloudtrail, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("AGENTAUDIT_HOME", str(home))
    monkeypatch.delenv("AGENTAUDIT_ENVIRONMENTS", raising=False)
    db = tmp_path / "audit.duckdb"
    run_cli("ingest", cloudtrail, "--db", db)
    (home / "environments.yaml").write_text(f'production: ["{ACCOUNT}"]\n')  # the default place
    out = json.loads(run_cli("reclassify", "--db", db, "--json"))
    assert out["changed"]["target_env"] == 4 and out["examined"] == 4
    text = run_cli("reclassify", "--db", db)
    assert "4 events examined, 0 changed" in text
