"""Provider audit collectors (CloudTrail, GCP, Azure, Kubernetes, GitHub) and their catalogs.

The labeled corpus files are scored here: every event labeled destructive must be marked
destructive with a matching category, and the unlabeled events marked destructive are counted.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from agentaudit.collectors import get_collector, sniff_collector
from agentaudit.collectors.base import SourceInput
from agentaudit.enrich import catalog
from agentaudit.enrich.event import enrich
from agentaudit.ingest import ingest_paths

# The label taxonomy of the .labels.tsv (reference Appendix A) -> our categories.
LABEL_CATEGORIES = {
    "data_destroy": {"cloud_delete"},
    "data_and_backup_destroy": {"cloud_delete", "backup_destroy"},
    "backup_destroy": {"backup_destroy"},
    "audit_tamper": {"audit_tamper"},
    "identity_destroy": {"identity_delete"},
    "network_destroy": {"network_delete"},
    "service_stop": {"service_stop"},
}


def collect_path(path: Path, name: str | None = None):
    collector = get_collector(name) if name else sniff_collector(path, path.read_bytes()[:4096])
    assert collector is not None, f"no collector sniffed {path.name}"
    with path.open("rb") as fh:
        return collector.name, list(collector.collect(SourceInput(str(path), fh)))


def collect_bytes(name: str, data: bytes, path: str = "mem"):
    return list(get_collector(name).collect(SourceInput.from_bytes(path, data)))


def enriched(outputs, redactor):
    return [enrich(o, redactor) for o in outputs if isinstance(o, dict)]


# (file, collector, events, quarantined, repeats, distinct ids): every provider corpus file.
# Fewer distinct ids than events: the rule-test files reuse provider ids (eventID, insertId,
# _document_id) across tests, and two Falco captures hold the same audit event; the store keeps
# one row per id.
CORPUS = [
    ("cloudtrail/invictus-stratus-2023-07-10.json.gz", "aws.cloudtrail", 2900, 0, 0, 2900),
    ("cloudtrail/invictus-stratus-teardown-1235Z.json", "aws.cloudtrail", 185, 0, 0, 185),
    ("cloudtrail/stratus-detonation-logs.json", "aws.cloudtrail", 18, 0, 0, 18),
    ("cloudtrail/plaso-lookup-events.jsonl", "aws.cloudtrail", 6, 0, 0, 6),
    ("cloudtrail/panther-destructive-tests.jsonl", "aws.cloudtrail", 55, 0, 0, 24),
    ("gcp/plaso-gcp-logging.jsonl", "gcp.audit", 11, 0, 3, 11),
    ("gcp/csa-fixtures.jsonl", "gcp.audit", 14, 0, 0, 12),
    ("gcp/panther-destructive-tests.jsonl", "gcp.audit", 25, 0, 4, 22),
    ("azure/plaso-azure-activity.jsonl", "azure.activity", 4, 0, 0, 4),
    ("azure/panther-destructive-tests.jsonl", "azure.activity", 93, 0, 3, 93),
    ("k8s/falco-k8s-audit.jsonl", "k8s.audit", 51, 0, 0, 49),
    ("k8s/panther-k8s-tests.jsonl", "k8s.audit", 23, 0, 0, 23),
    ("github/sentinel-github-audit-subset.jsonl", "github.audit", 12, 0, 0, 12),
    ("github/panther-github-tests.jsonl", "github.audit", 29, 0, 0, 26),
]


@pytest.mark.parametrize(
    ("name", "collector", "n_events", "n_quarantined", "n_repeats", "n_distinct"), CORPUS
)
def test_every_provider_corpus_file(
    corpus, name, collector, n_events, n_quarantined, n_repeats, n_distinct
):
    sniffed, outputs = collect_path(corpus / name)
    assert sniffed == collector
    events = [o for o in outputs if isinstance(o, dict)]
    assert (len(events), len(outputs) - len(events)) == (n_events, n_quarantined)
    assert sum(bool(e["repeat"]) for e in events) == n_repeats
    assert len({e["event_id"] for e in events}) == n_distinct
    assert (
        all(e["operation"] for e in events if e["kind"] in ("api", "auth"))
        or collector == "gcp.audit"
    )


def test_cloudtrail_labels_are_all_marked_and_unlabeled_destructive_stays_low(corpus, redactor):
    path = corpus / "cloudtrail/invictus-stratus-2023-07-10.json.gz"
    events = enriched(collect_path(path)[1], redactor)
    by_id = {json.loads(e["raw"])["eventID"]: e for e in events}
    with (corpus / "cloudtrail/invictus-stratus-2023-07-10.labels.tsv").open() as fh:
        labels = {row["eventID"]: row["label"] for row in csv.DictReader(fh, delimiter="\t")}
    assert len(labels) == 200
    for event_id, label in labels.items():
        event = by_id[event_id]
        assert event["destructive"], (event["operation"], label)
        assert LABEL_CATEGORIES[label] <= set(event["categories"]), (event["operation"], label)
    unlabeled = [e for k, e in by_id.items() if e["destructive"] and k not in labels]
    # ModifySnapshotAttribute removing a create-volume permission (the reference lists it as
    # backup-destroying; the draft labels did not), and three deletes the draft labels missed
    # that the botocore-derived catalog finds: an IAM Roles Anywhere trust anchor and profile
    # (identity) and a bucket policy (configuration).
    assert sorted((e["operation"], e["categories"]) for e in unlabeled) == [
        ("DeleteBucketPolicy", ["config_delete"]),
        ("DeleteProfile", ["identity_delete"]),
        ("DeleteTrustAnchor", ["identity_delete"]),
        ("ModifySnapshotAttribute", ["backup_destroy"]),
    ]


def test_cloudtrail_delete_db_instance_data_and_backups(corpus, redactor):
    events = enriched(
        collect_path(corpus / "cloudtrail/invictus-stratus-2023-07-10.json.gz")[1], redactor
    )
    deletes = [e for e in events if e["operation"] == "DeleteDBInstance"]
    assert len(deletes) == 2
    assert all(set(e["categories"]) == {"cloud_delete", "backup_destroy"} for e in deletes)
    assert all(e["severity"] == "critical" for e in deletes)
    failed = [e for e in deletes if e["status"] == "failure"]
    assert failed and failed[0]["error"].startswith("InvalidDBInstanceStateFault")


def test_cloudtrail_downstream_service_actions_are_marked(corpus):
    events = [o for o in collect_path(corpus / "cloudtrail/invictus-stratus-2023-07-10.json.gz")[1]]
    slr = [e for e in events if "AWSServiceRoleForRDS" in (e["actor"] or "")]
    assert slr and all(e["on_behalf_of"] for e in slr)
    by_user = [e for e in events if e["actor"] == "arn:aws:iam::123837392027:user/bert-jan"]
    assert by_user and not any(e["on_behalf_of"] for e in by_user if "invokedBy" not in e["raw"])
    assert sum(e["on_behalf_of"] == "rds.amazonaws.com" for e in events) == 14
    keys = {e["credential_id"][:4] for e in by_user if e["credential_id"]}
    assert keys == {"ASIA", "AKIA"}  # STS session keys and a long-term key


def test_cloudtrail_lookup_events_shape(corpus):
    _, events = collect_path(corpus / "cloudtrail/plaso-lookup-events.jsonl")
    terminate = next(e for e in events if e["operation"] == "TerminateInstances")
    assert terminate["target"] == "i-01234567890123456"
    assert (terminate["credential_id"], terminate["source_ip"]) == (
        "0123456789ABCDEFGHIJ",
        "1.2.3.4",
    )
    assert terminate["user_agent"] == "console.ec2.amazonaws.com"
    assert terminate["time"].isoformat() == "2022-02-07T22:23:18+00:00"


RECORD = {
    "eventVersion": "1.08",
    "userIdentity": {
        "type": "IAMUser",
        "arn": "arn:aws:iam::111122223333:user/agent",
        "accountId": "111122223333",
        "accessKeyId": "AKIAEXAMPLEEXAMPLE01",
    },
    "eventTime": "2026-04-24T19:00:05Z",
    "eventSource": "rds.amazonaws.com",
    "eventName": "DeleteDBInstance",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "203.0.113.9",
    "userAgent": "aws-cli/2.15.0 app/aa-claude-code-7f3a9c21",
    "requestParameters": {
        "dBInstanceIdentifier": "orders-prod",
        "skipFinalSnapshot": True,
        "deleteAutomatedBackups": True,
    },
    "eventID": "00000000-0000-4000-8000-000000000001",
    "recipientAccountId": "111122223333",
}


def test_cloudtrail_eventbridge_envelope_and_agent_tag(redactor):
    envelope = {
        "version": "0",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.rds",
        "detail": RECORD,
    }
    other = {"detail-type": "AWS Health Event", "detail": {"service": "EC2"}}
    out = collect_bytes(
        "aws.cloudtrail", (json.dumps(envelope) + "\n" + json.dumps(other) + "\n").encode()
    )
    event = enrich(out[0], redactor)
    assert (event["agent"], event["session_id"]) == ("claude-code", "7f3a9c21")  # from app/aa-...
    assert (event["operation"], event["target"]) == ("DeleteDBInstance", "orders-prod")
    assert event["target_env"] == "production" and "orders-prod" in event["env_evidence"]
    assert event["credential_id"] == "AKIAEXAMPLEEXAMPLE01"
    assert set(event["categories"]) == {"cloud_delete", "backup_destroy"}
    assert out[1].reason.startswith("EventBridge event without a CloudTrail record")


def test_cloudtrail_s3_tree_of_gzip_files_is_ingested_exactly_once(store, redactor, tmp_path):
    folder = tmp_path / "AWSLogs/111122223333/CloudTrail/us-east-1/2026/04/24"
    folder.mkdir(parents=True)
    for n in range(3):
        records = [
            dict(RECORD, eventID=f"id-{n}-{i}", eventName="DescribeDBInstances") for i in range(4)
        ]
        name = f"111122223333_CloudTrail_us-east-1_20260424T190{n}Z_x{n}.json.gz"
        (folder / name).write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    (folder / "not-cloudtrail.txt").write_text("hello\n")
    report = ingest_paths(store, [tmp_path / "AWSLogs"], redactor=redactor)
    # the text file no collector reads is one quarantine row, never a silent zero (issue 18)
    assert (report.ingested, report.quarantined) == (12, 1)
    assert [f.status for f in report.files].count("skipped") == 1
    again = ingest_paths(store, [tmp_path / "AWSLogs"], redactor=redactor)
    assert again.ingested == 0 and store.count("events") == 12


def test_cloudtrail_damaged_documents_are_quarantined_not_raised():
    truncated = b'{"Records": [' + json.dumps(RECORD).encode() + b', {"eventName": "Del'
    out = collect_bytes("aws.cloudtrail", truncated)
    assert isinstance(out[0], dict) and out[1].reason.startswith("invalid JSON")
    assert len(out) == 2
    lines = json.dumps(RECORD).encode() + b"\n{not json\n" + json.dumps({"foo": 1}).encode() + b"\n"
    out = collect_bytes("aws.cloudtrail", lines)
    assert isinstance(out[0], dict)
    assert [(q.line, q.reason.split(":")[0]) for q in out[1:]] == [
        (2, "invalid JSON"),
        (3, "no eventName"),
    ]


def test_gcp_first_last_counts_once_and_three_export_shapes(corpus, redactor):
    _, events = collect_path(corpus / "gcp/plaso-gcp-logging.jsonl")
    by_operation: dict[str, list] = {}
    for e in events:
        if e["operation_id"]:
            by_operation.setdefault(e["operation_id"], []).append(e)
    pairs = [group for group in by_operation.values() if len(group) == 2]
    assert len(pairs) == 3 and all(sum(not e["repeat"] for e in group) == 1 for group in pairs)
    assert sum(e["kind"] == "other" for e in events) == 2  # textPayload / jsonPayload entries
    logging_entry = {
        "insertId": "x1",
        "logName": "projects/shop-prod/logs/cloudaudit.googleapis.com%2Factivity",
        "timestamp": "2026-04-24T19:00:05.123456789Z",
        "resource": {
            "type": "gcs_bucket",
            "labels": {"project_id": "shop-prod", "bucket_name": "b"},
        },
        "protoPayload": {
            "serviceName": "storage.googleapis.com",
            "methodName": "storage.buckets.delete",
            "resourceName": "projects/_/buckets/b",
            "authenticationInfo": {
                "principalEmail": "agent@shop.iam.gserviceaccount.com",
                "serviceAccountKeyName": "//iam/keys/abc",
            },
            "requestMetadata": {"callerIp": "203.0.113.9", "callerSuppliedUserAgent": "gcloud/470"},
            "status": {},
        },
    }
    bigquery = {
        "insertId": "x1",
        "logName": logging_entry["logName"],
        "timestamp": logging_entry["timestamp"],
        "resource": logging_entry["resource"],
        "protopayload_auditlog": logging_entry["protoPayload"],
    }
    snake = {
        "insert_id": "x1",
        "log_name": logging_entry["logName"],
        "timestamp": logging_entry["timestamp"],
        "resource": {
            "type": "gcs_bucket",
            "labels": {"project_id": "shop-prod", "bucket_name": "b"},
        },
        "proto_payload": {
            "audit_log": {
                "service_name": "storage.googleapis.com",
                "method_name": "storage.buckets.delete",
                "resource_name": "projects/_/buckets/b",
                "authentication_info": {
                    "principal_email": "agent@shop.iam.gserviceaccount.com",
                    "service_account_key_name": "//iam/keys/abc",
                },
                "request_metadata": {
                    "caller_ip": "203.0.113.9",
                    "caller_supplied_user_agent": "gcloud/470",
                },
            }
        },
    }
    columns = (
        "operation",
        "actor",
        "target",
        "source_ip",
        "user_agent",
        "credential_id",
        "target_env",
        "time",
        "event_id",
    )
    seen = []
    for entry in (logging_entry, bigquery, snake):
        (event,) = enriched(
            collect_bytes("gcp.audit", json.dumps(entry).encode() + b"\n"), redactor
        )
        seen.append(tuple(event[c] for c in columns))
    assert seen[0] == seen[1] == seen[2]
    assert seen[0][:3] == (
        "storage.buckets.delete",
        "agent@shop.iam.gserviceaccount.com",
        "projects/_/buckets/b",
    )
    assert seen[0][6] == "production"  # project shop-prod


def test_azure_sdk_shape_and_correlation_id_counts_once(corpus, redactor):
    events = enriched(collect_path(corpus / "azure/plaso-azure-activity.jsonl")[1], redactor)
    disk = next(e for e in events if e["operation"] == "Microsoft.Compute/disks/delete")
    assert disk["destructive"] and disk["categories"] == ["cloud_delete"]
    assert (disk["source_ip"], disk["credential_id"]) == ("1.2.3.4", "AAAAAAAAAAAAAAAAAAAAAA")
    assert (
        disk["operation_id"] == "c0c54eb6-3a17-42e2-b6f6-37484ac276c4"
        and disk["status"] == "unknown"
    )
    rest = {
        "value": [
            {
                "caller": "dev@example.com",
                "correlationId": "corr-1",
                "eventDataId": f"evt-{n}",
                "eventName": {"value": name},
                "eventTimestamp": f"2026-04-24T19:00:0{n}.5Z",
                "httpRequest": {"clientIpAddress": "198.51.100.7", "method": "DELETE"},
                "operationName": {"value": "Microsoft.Sql/servers/databases/delete"},
                "resourceId": "/subscriptions/sub-1/resourceGroups/rg-staging/providers/Microsoft.Sql/servers/s/databases/d",
                "status": {"value": status},
                "subscriptionId": "sub-1",
            }
            for n, (name, status) in enumerate(
                [("BeginRequest", "Started"), ("EndRequest", "Succeeded")]
            )
        ]
    }
    begin, end = enriched(
        collect_bytes("azure.activity", json.dumps(rest, indent=1).encode()), redactor
    )
    assert (begin["repeat"], end["repeat"]) == (False, True)
    assert (begin["status"], end["status"]) == ("unknown", "success")
    assert begin["target_env"] == "staging" and begin["source_ip"] == "198.51.100.7"
    assert begin["destructive"] and begin["actor"] == "dev@example.com"


def test_k8s_labels_every_destructive_event_and_no_other(corpus, redactor):
    events = enriched(collect_path(corpus / "k8s/falco-k8s-audit.jsonl")[1], redactor)
    with (corpus / "k8s/falco-k8s-audit.labels.tsv").open() as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert len(events) == len(rows) == 51
    for event, row in zip(events, rows, strict=True):
        assert event["destructive"] == (row["destructive"] == "true"), row
        assert event["operation"] == f"{row['verb']} {row['resource']}"
    categories = {
        row["resource"]: events[i]["categories"]
        for i, row in enumerate(rows)
        if row["destructive"] == "true"
    }
    assert categories["namespaces"] == ["cloud_delete"] and categories["secrets"] == [
        "config_delete"
    ]
    assert categories["serviceaccounts"] == ["identity_delete"]
    assert sum(e["destructive"] for e in events) == 9
    controllers = [e for e in events if e["on_behalf_of"]]
    assert {e["actor"] for e in controllers} >= {
        "system:serviceaccount:kube-system:replicaset-controller"
    }


def test_k8s_request_counts_once_across_stages(redactor):
    base = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "verb": "delete",
        "user": {
            "username": "dev",
            "extra": {"authentication.kubernetes.io/credential-id": ["JTI=abc"]},
        },
        "sourceIPs": ["10.0.0.5"],
        "objectRef": {"resource": "persistentvolumeclaims", "namespace": "prod", "name": "data"},
        "requestReceivedTimestamp": "2026-04-24T19:00:05.000001Z",
    }
    stages = [
        dict(base, auditID="a1", stage="RequestReceived"),
        dict(base, auditID="a1", stage="ResponseComplete", responseStatus={"code": 200}),
        dict(
            base,
            auditID="a2",
            verb="create",
            stage="ResponseStarted",
            objectRef={"resource": "pods", "subresource": "exec", "name": "p"},
        ),
        dict(
            base,
            auditID="a2",
            verb="create",
            stage="ResponseComplete",
            objectRef={"resource": "pods", "subresource": "exec", "name": "p"},
        ),
    ]
    out = enriched(
        collect_bytes("k8s.audit", json.dumps({"kind": "EventList", "items": stages}).encode()),
        redactor,
    )
    assert [e["repeat"] for e in out] == [True, False, False, True]
    assert (
        out[1]["credential_id"] == "JTI=abc"
        and out[1]["target"] == "prod/persistentvolumeclaims/data"
    )
    assert out[1]["target_env"] == "production"
    assert catalog.classify("k8s", out[1]["operation"]) == ["cloud_delete"]


def test_github_epoch_ms_agent_and_array(redactor):
    events = [
        {
            "@timestamp": 1777057205123,
            "_document_id": "doc-1",
            "action": "repo.destroy",
            "actor": "Copilot",
            "actor_is_agent": True,
            "agent_session_id": "sess-9",
            "user": "octocat",
            "repo": "acme/payments-prod",
            "org": "acme",
            "token_id": 4242,
            "hashed_token": "abc=",
            "actor_ip": "192.0.2.1",
            "user_agent": "copilot-agent/1.0",
        },
        {
            "@timestamp": 1777057206000,
            "_document_id": "doc-2",
            "action": "git.clone",
            "actor": "octocat",
        },
    ]
    first, second = enriched(collect_bytes("github.audit", json.dumps(events).encode()), redactor)
    assert first["time"].isoformat() == "2026-04-24T19:00:05.123000+00:00"
    assert (first["agent"], first["session_id"], first["credential_id"]) == (
        "copilot",
        "sess-9",
        "4242",
    )
    assert first["destructive"] and first["categories"] == ["cloud_delete"]
    assert first["target_env"] == "production" and first["source_ip"] == "192.0.2.1"
    assert not second["destructive"] and second["agent"] == "unknown"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"skipFinalSnapshot": True, "deleteAutomatedBackups": False},
            ["cloud_delete", "backup_destroy"],
        ),
        (
            {"skipFinalSnapshot": False, "deleteAutomatedBackups": True},
            ["cloud_delete", "backup_destroy"],
        ),
        ({"skipFinalSnapshot": False, "finalDBSnapshotIdentifier": "final"}, ["cloud_delete"]),
    ],
)
def test_delete_db_instance_conditions(params, expected):
    raw = json.dumps({"requestParameters": params})
    assert catalog.classify("aws", "DeleteDBInstance", raw=raw) == expected


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        (
            "PutBucketVersioning",
            {"VersioningConfiguration": {"Status": "Suspended"}},
            ["backup_destroy"],
        ),
        ("PutBucketVersioning", {"VersioningConfiguration": {"Status": "Enabled"}}, []),
        (
            "PutBucketVersioning",
            {"VersioningConfiguration": {"Status": "Enabled", "MfaDelete": "Disabled"}},
            ["backup_destroy"],
        ),
        ("ModifyDBInstance", {"backupRetentionPeriod": 0}, ["backup_destroy"]),
        ("ModifyDBInstance", {"backupRetentionPeriod": 7}, []),
        ("ModifyDBCluster", {"deletionProtection": False}, ["protection_disable"]),
        (
            "PutBucketLifecycle",
            {"LifecycleConfiguration": {"Rule": {"Status": "Enabled", "Expiration": {"Days": 1}}}},
            ["backup_destroy"],
        ),
        (
            "PutBucketLifecycle",
            {"LifecycleConfiguration": {"Rule": {"Status": "Enabled", "Transition": {"Days": 30}}}},
            [],
        ),
        (
            "PutBucketLifecycle",
            {
                "LifecycleConfiguration": {
                    "Rule": {"Status": "Enabled", "Expiration": {"Days": 730}}
                }
            },
            [],
        ),
        (
            "ModifySnapshotAttribute",
            {"createVolumePermission": {"add": {"items": [{"userId": "1"}]}}},
            [],
        ),
        ("UpdateDetector", {"enable": False}, ["audit_tamper"]),
    ],
)
def test_aws_conditional_operations(operation, params, expected):
    assert catalog.classify("aws", operation, {"requestParameters": params}) == expected


@pytest.mark.parametrize(
    ("provider", "operation", "expected"),
    [
        ("aws", "StopLogging", ["audit_tamper"]),
        ("aws", "DeleteDBSnapshot", ["backup_destroy"]),
        ("aws", "DeleteBucket", ["cloud_delete"]),
        ("aws", "DescribeInstances", []),
        ("gcp", "v1.compute.instances.delete", ["cloud_delete"]),
        ("gcp", "v1.compute.snapshots.delete", ["backup_destroy"]),
        ("gcp", "google.logging.v2.ConfigServiceV2.DeleteSink", ["audit_tamper"]),
        ("gcp", "io.k8s.core.v1.namespaces.delete", ["cloud_delete"]),
        ("gcp", "beta.compute.instances.insert", []),
        ("azure", "MICROSOFT.RESOURCES/SUBSCRIPTIONS/RESOURCEGROUPS/DELETE", ["cloud_delete"]),
        ("azure", "Microsoft.Insights/diagnosticSettings/delete", ["audit_tamper"]),
        ("azure", "Microsoft.KeyVault/locations/deletedVaults/purge/action", ["backup_destroy"]),
        ("azure", "Microsoft.Compute/virtualMachines/write", []),
        ("k8s", "delete events", ["audit_tamper"]),
        ("k8s", "delete pods", []),
        ("github", "protected_branch.destroy", ["protection_disable"]),
        ("github", "repository_secret_scanning_push_protection.disable", ["protection_disable"]),
        ("github", "repo.create", []),
    ],
)
def test_catalog_names(provider, operation, expected):
    assert catalog.classify(provider, operation) == expected


def test_gcp_conditional_bigquery_and_kms():
    drop = {
        "protoPayload": {
            "metadata": {
                "jobChange": {
                    "job": {"jobConfig": {"queryConfig": {"statementType": "DROP_TABLE"}}}
                }
            }
        }
    }
    assert catalog.classify("gcp", "google.cloud.bigquery.v2.JobService.InsertJob", drop) == [
        "cloud_delete"
    ]
    select = {
        "protoPayload": {
            "metadata": {
                "jobChange": {"job": {"jobConfig": {"queryConfig": {"statementType": "SELECT"}}}}
            }
        }
    }
    assert catalog.classify("gcp", "google.cloud.bigquery.v2.JobService.InsertJob", select) == []
    kms = {"protoPayload": {"request": {"cryptoKeyVersion": {"state": "DISABLED"}}}}
    assert catalog.classify("gcp", "UpdateCryptoKeyVersion", kms) == ["backup_destroy"]


def test_target_env_from_the_user_mapping_file(corpus, tmp_path, monkeypatch, redactor):
    mapping = tmp_path / "environments.yaml"
    mapping.write_text('production: ["123837392027"]\nstaging: [my-staging-project]\n')
    monkeypatch.setenv("AGENTAUDIT_ENVIRONMENTS", str(mapping))
    events = enriched(
        collect_path(corpus / "cloudtrail/invictus-stratus-teardown-1235Z.json")[1], redactor
    )
    assert {e["target_env"] for e in events} == {"production"}
    assert "aws_account 123837392027 is listed as production" in events[0]["env_evidence"]
    assert str(mapping) in events[0]["env_evidence"]
    entry = {
        "insertId": "i",
        "logName": "projects/my-staging-project/logs/x",
        "protoPayload": {"methodName": "m"},
    }
    (gcp_event,) = enriched(collect_bytes("gcp.audit", json.dumps(entry).encode()), redactor)
    assert gcp_event["target_env"] == "staging"


def test_eventbridge_ndjson_is_read_incrementally(store, redactor, tmp_path):
    import os
    import time

    path = tmp_path / "eventbridge.ndjson"

    def envelope(n: int) -> bytes:
        detail = dict(RECORD, eventID=f"eb-{n}", eventName="StopLogging")
        return json.dumps({"detail-type": "AWS API Call via CloudTrail", "detail": detail}).encode()

    path.write_bytes(envelope(1) + b"\n" + envelope(2) + b"\n")
    old = time.time() - 3600
    os.utime(path, (old, old))
    first = ingest_paths(store, [path], redactor=redactor)
    assert (first.files[0].source, first.ingested) == ("aws.cloudtrail", 2)
    with path.open("ab") as fh:
        fh.write(envelope(3) + b"\n")
    os.utime(path, (old, old))
    second = ingest_paths(store, [path], redactor=redactor)
    assert (second.ingested, second.duplicate) == (1, 0)  # read from the stored offset
    rows = store.rows("SELECT operation, categories, severity FROM events ORDER BY time")
    assert {(r["operation"], tuple(r["categories"]), r["severity"]) for r in rows} == {
        ("StopLogging", ("audit_tamper",), "critical")
    }


def test_railway_environment_id_in_the_mapping_wins_over_its_name(tmp_path, monkeypatch, redactor):
    mapping = tmp_path / "environments.yaml"
    mapping.write_text("production:\n  - env-stg-91a2b3c4\n")
    node = {
        "id": "n1",
        "eventType": "volume.deleted",
        "createdAt": "2026-04-24T19:00:00Z",
        "environmentId": "env-stg-91a2b3c4",
        "environment": {"name": "staging"},
    }
    page = json.dumps({"data": {"auditLogs": {"edges": [{"node": node}]}}}).encode()
    (before,) = enriched(collect_bytes("railway.audit", page), redactor)
    assert before["target_env"] == "staging"
    monkeypatch.setenv("AGENTAUDIT_ENVIRONMENTS", str(mapping))
    (after,) = enriched(collect_bytes("railway.audit", page), redactor)
    assert after["target_env"] == "production"
    assert after["env_evidence"].startswith(
        "railway_environment env-stg-91a2b3c4 is listed as production"
    )
