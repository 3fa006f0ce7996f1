"""A forged file reusing real provider ids is caught, and the real records stay (corpus
CloudTrail, a forged copy of its 12 Delete* records with benign content)."""

from __future__ import annotations

import json

import pytest

from agentaudit.detect.driver import run_detection
from agentaudit.ingest import ingest_paths
from agentaudit.store.conflicts import CONFLICT_CATEGORY

TEARDOWN = "cloudtrail/invictus-stratus-teardown-1235Z.json"


@pytest.fixture
def real_and_forged(corpus, tmp_path):
    real = corpus / TEARDOWN
    records = json.loads(real.read_text())["Records"]
    deletes = [r for r in records if r["eventName"].startswith("Delete")]
    assert len(deletes) == 12
    forged = [
        {**r, "eventName": r["eventName"].replace("Delete", "Describe"), "readOnly": True}
        for r in deletes
    ]
    path = tmp_path / "forged.json"
    path.write_text(json.dumps({"Records": forged}))
    return real, path


def _deletes(store) -> list[dict]:
    return store.rows(
        "SELECT event_id, operation, categories FROM events "
        "WHERE operation LIKE 'Delete%' ORDER BY operation"
    )


@pytest.mark.parametrize("forged_first", [True, False])
def test_a_forged_file_reusing_real_event_ids_is_flagged_and_the_real_records_stay(
    store, redactor, real_and_forged, forged_first
):
    real, forged = real_and_forged
    order = [forged, real] if forged_first else [real, forged]
    first, second = (ingest_paths(store, [p], redactor=redactor).files[0] for p in order)
    assert (first.ingested, first.duplicate) == ((12, 0) if forged_first else (185, 0))
    assert (second.ingested, second.duplicate) == ((185, 0) if forged_first else (12, 0))
    assert len(_deletes(store)) == 12  # every real Delete* is stored
    flagged = store.rows(
        "SELECT operation FROM events WHERE list_contains(categories, ?)", [CONFLICT_CATEGORY]
    )
    assert len(flagged) == 12  # the later copy of each reused id
    # reading either file again adds nothing: identical content is the only true duplicate
    for path in order:
        again = ingest_paths(store, [path], redactor=redactor).files[0]
        assert again.ingested == 0
    findings = run_detection(store).findings
    conflicts = [f for f in findings if f["rule_id"] == "sigma:agentaudit_conflicting_duplicate"]
    assert conflicts, "the reuse is a finding"
    destructive = [f for f in findings if f["rule_id"] != "sigma:agentaudit_conflicting_duplicate"]
    assert destructive, "the real deletions still raise their findings"


def test_a_rewritten_file_is_compared_record_by_record(store, redactor, tmp_path):
    """The same records in another key order are duplicates; one changed field is not."""
    record = {
        "eventVersion": "1.08",
        "eventID": "e-1",
        "eventName": "DeleteBucket",
        "eventSource": "s3.amazonaws.com",
        "awsRegion": "us-east-1",
        "eventTime": "2026-04-24T19:00:00Z",
        "requestParameters": {"bucketName": "b"},
    }
    path = tmp_path / "trail.json"
    path.write_text(json.dumps({"Records": [record]}))
    assert ingest_paths(store, [path], redactor=redactor).ingested == 1
    path.write_text(json.dumps({"Records": [dict(reversed(record.items()))]}))
    assert ingest_paths(store, [path], redactor=redactor).duplicate == 1
    path.write_text(json.dumps({"Records": [{**record, "requestParameters": {"bucketName": "c"}}]}))
    assert ingest_paths(store, [path], redactor=redactor).ingested == 1
    rows = store.rows("SELECT target, categories FROM events ORDER BY target")
    assert [(r["target"], CONFLICT_CATEGORY in r["categories"]) for r in rows] == [
        ("b", False),
        ("c", True),
    ]
