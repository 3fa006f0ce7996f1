"""Issue 23: re-ingesting the original files after an edit of the store keeps no forged row
silently: the true record comes back flagged (`conflicting_duplicate`), `verify` names the
forged one, and the CLI says so in one line per row and exits 1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from agentaudit.cli import app
from agentaudit.ingest import ingest_paths
from agentaudit.store import Store
from agentaudit.store.chain import signing, verify


def _record(n: int, name: str) -> dict:
    return {
        "eventVersion": "1.09",
        "eventID": f"7f1c2a4e-0000-4000-8000-00000000000{n}",
        "eventTime": f"2026-04-25T09:00:0{n}Z",
        "eventSource": "rds.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0",
        "userIdentity": {
            "type": "IAMUser",
            "arn": "arn:aws:iam::123456789012:user/agent-ci",
            "accessKeyId": "AKIAEXAMPLEKEYID0001",
        },
        "requestParameters": {"dBInstanceIdentifier": "orders-prod"},
        "responseElements": None,
        "eventType": "AwsApiCall",
        "recipientAccountId": "123456789012",
    }


def test_reingest_after_an_edit_flags_the_true_record_and_verify_names_the_forged_row(
    tmp_path: Path,
):
    original = tmp_path / "trail.json"
    records = [_record(1, "DescribeDBInstances"), _record(2, "DeleteDBInstance")]
    original.write_text(json.dumps({"Records": records}))
    db = tmp_path / "store.duckdb"
    with Store.open(db) as store:
        ingest_paths(store, [original], source="aws.cloudtrail")
        (deleted_id,) = store.con.execute(
            "SELECT event_id FROM events WHERE operation ILIKE '%DeleteDBInstance%'"
        ).fetchone()
    # someone hides the deletion: it becomes a harmless read, raw record and all
    with duckdb.connect(str(db)) as con:
        con.execute(
            "UPDATE events SET operation = 'DescribeDBInstances', destructive = false, "
            "raw = replace(raw, 'DeleteDBInstance', 'DescribeDBInstances') WHERE event_id = ?",
            [deleted_id],
        )
    restored = tmp_path / "restored" / "trail.json"
    restored.parent.mkdir()
    shutil.copy(original, restored)
    with Store.open(db) as store:
        ingest_paths(store, [restored], source="aws.cloudtrail")
        flagged = store.rows(
            "SELECT event_id FROM events WHERE list_contains(categories, 'conflicting_duplicate')"
        )
    assert len(flagged) == 1 and flagged[0]["event_id"] != deleted_id

    with Store.open(db, read_only=True) as store:
        report = verify.verify(store.con, signing.local_public_key())
    assert [(p.kind, p.key) for p in report.problems] == [("changed", deleted_id)]

    result = CliRunner().invoke(app, ["verify", "--db", str(db)])
    assert result.exit_code == 1
    assert "NOT clean: 1 problems" in result.output and deleted_id in result.output
    result = CliRunner().invoke(app, ["verify", "--db", str(db), "--json"])
    assert json.loads(result.output)["problems"][0]["kind"] == "changed"


def test_verify_cli_on_a_clean_store_and_the_public_key(tmp_path: Path):
    db = tmp_path / "store.duckdb"
    with Store.open(db):
        pass
    result = CliRunner().invoke(app, ["verify", "--db", str(db)])
    assert result.exit_code == 0 and result.output.startswith("clean: ")
    result = CliRunner().invoke(app, ["verify", "--public-key"])
    assert result.exit_code == 0
    assert signing.load_public_pem(result.output) is not None
