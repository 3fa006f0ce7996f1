"""The AWS catalog derived from botocore: every operation and every CloudTrail eventName of the
corpus has a verdict, the checked-in table is what the installed botocore gives, and the
destructive list is the reviewed one."""

from __future__ import annotations

import csv
import difflib
import json
from pathlib import Path

import pytest

from agentaudit.collectors import get_collector
from agentaudit.collectors.base import SourceInput
from agentaudit.enrich import catalog
from agentaudit.enrich.catalog import aws, aws_model

DATA = Path(aws.__file__).with_name("data")
EFFECTS = {"read", "write", "delete", "stop", "disable", "detach", "revoke", "expire", "reset"}
# The Stratus labels (reference Appendix A) -> our categories.
LABELS = {
    "data_destroy": {"cloud_delete"},
    "data_and_backup_destroy": {"cloud_delete", "backup_destroy"},
    "backup_destroy": {"backup_destroy"},
    "audit_tamper": {"audit_tamper"},
    "identity_destroy": {"identity_delete"},
    "network_destroy": {"network_delete"},
}


def _records(path: Path) -> list[dict]:
    """CloudTrail records of one corpus file as the collector reads them (any shape)."""
    collector = get_collector("aws.cloudtrail")
    with path.open("rb") as fh:
        events = [e for e in collector.collect(SourceInput(str(path), fh)) if isinstance(e, dict)]
    return [{"eventSource": e["tool_name"] or ""} | json.loads(e["raw"]) for e in events]


@pytest.fixture(scope="module")
def built() -> dict:
    """The table as the installed botocore gives it (all 455 service models: seconds)."""
    return aws_model.build()


def test_regenerating_the_table_with_installed_botocore_gives_the_checked_in_one(built):
    checked_in = aws_model.TABLE.read_text(encoding="utf-8")
    now = aws_model.dumps(built)
    diff = list(difflib.unified_diff(checked_in.splitlines(), now.splitlines(), lineterm=""))
    assert not diff, (
        "botocore or the rules changed the table; review and regenerate "
        "(python -m agentaudit.enrich.catalog.aws_model > .../data/aws_operations.json):\n"
        + "\n".join(diff[:80])
    )


def test_every_botocore_operation_has_a_verdict(built):
    count = 0
    for service, operations in built["operations"].items():
        for name in operations:
            found = aws.verdict(service, name)
            assert found.source in ("model", "override") and found.effect in EFFECTS, (
                service,
                name,
            )
            count += 1
    assert count == sum(len(ops) for ops in aws_model.load()["operations"].values()) > 20_000


def test_destructive_operations_per_service_are_the_reviewed_list():
    reviewed = (DATA / "aws_destructive.txt").read_text(encoding="utf-8").splitlines()
    now = aws.destructive_lines()
    diff = list(difflib.unified_diff(reviewed, now, "reviewed", "derived", lineterm=""))
    assert not diff, (
        "the destructive AWS operations changed; review, then regenerate "
        "(python -m agentaudit.enrich.catalog.aws --destructive > .../data/aws_destructive.txt)"
        ":\n" + "\n".join(diff[:80])
    )


def test_every_corpus_event_name_gets_a_known_verdict(corpus):
    files = sorted(p for p in (corpus / "cloudtrail").iterdir() if p.suffix != ".tsv")
    pairs = {(r["eventSource"], r["eventName"]) for p in files for r in _records(p)}
    assert len(pairs) > 250
    unknown = sorted(
        (source, name)
        for source, name in pairs
        if not any(v.source != "unknown" for v in aws.verdicts_for(source, name))
    )
    assert unknown == []


def test_every_labelled_stratus_row_gets_its_class(corpus):
    folder = corpus / "cloudtrail"
    by_id = {r["eventID"]: r for r in _records(folder / "invictus-stratus-2023-07-10.json.gz")}
    with (folder / "invictus-stratus-2023-07-10.labels.tsv").open() as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert len(rows) == 200
    for row in rows:
        record = by_id[row["eventID"]]
        found = catalog.classify("aws", record["eventName"], record)
        assert LABELS[row["label"]] <= set(found), (row["eventName"], row["label"], found)


@pytest.mark.parametrize(
    ("source", "operation", "params", "expected"),
    [
        ("autoscaling", "DeleteAutoScalingGroup", {"forceDelete": True}, ["cloud_delete"]),
        ("elasticloadbalancing", "DeleteListener", {}, ["network_delete"]),
        ("rds", "DeleteDBSubnetGroup", {}, ["network_delete"]),
        ("ec2", "DeleteTags", {}, []),
        ("rds", "DeleteDBInstance", {"skipFinalSnapshot": True}, ["cloud_delete", "backup_destroy"]),
        ("rds", "DeleteDBInstance", {"skipFinalSnapshot": False}, ["cloud_delete"]),
        ("rds", "ModifyDBCluster", {"backupRetentionPeriod": 0}, ["backup_destroy"]),
        ("rds", "CreateDBInstance", {"backupRetentionPeriod": 0}, []),
        ("ecs", "UpdateService", {"desiredCount": 0}, ["service_stop"]),
        ("ecs", "UpdateService", {"desiredCount": 2}, []),
        ("ssm", "PutParameter", {"overwrite": True}, ["data_overwrite"]),
        ("secretsmanager", "DeleteSecret", {"forceDeleteWithoutRecovery": True},
         ["cloud_delete", "backup_destroy"]),
        ("kms", "ScheduleKeyDeletion", {}, ["backup_destroy"]),
        ("guardduty", "DeleteDetector", {}, ["audit_tamper"]),
        ("frauddetector", "DeleteDetector", {}, ["cloud_delete"]),
        ("lambda", "DeleteFunction20150331", {}, ["cloud_delete"]),
        ("sqs", "DeleteMessage", {}, []),
        ("s3", "GetObject", {}, []),
    ],
)  # fmt: skip
def test_classify_keys_on_event_source_and_parameters(source, operation, params, expected):
    record = {"eventSource": f"{source}.amazonaws.com", "requestParameters": params}
    assert aws.needs_record(operation) or not params or expected == aws.classify(operation, {})
    assert catalog.classify("aws", operation, record) == expected


def test_rds_docdb_and_neptune_share_an_event_source_and_keep_their_own_inputs():
    assert aws.services_of("rds.amazonaws.com") == ("docdb", "neptune", "rds")
    assert aws.verdict("rds", "DeleteDBInstance").conditions
    assert not aws.verdict("docdb", "DeleteDBInstance").conditions


def test_a_name_only_the_record_can_decide_is_read_from_raw_json():
    raw = json.dumps({"eventSource": "guardduty.amazonaws.com", "requestParameters": {}})
    assert aws.needs_record("DeleteDetector")
    assert catalog.classify("aws", "DeleteDetector", raw=raw) == ["audit_tamper"]
    assert not aws.needs_record("DescribeInstances")
