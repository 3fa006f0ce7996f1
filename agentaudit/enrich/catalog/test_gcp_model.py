"""The GCP catalog derived from Google's Discovery documents: every method has a verdict, the
checked-in table is what the installed documents give, the destructive list is reviewed, and
the corpus' method names (Discovery ids and gRPC names) keep their verdicts."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from agentaudit.enrich import catalog
from agentaudit.enrich.catalog import gcp, gcp_model

DATA = Path(gcp.__file__).with_name("data")


def destructive_lines() -> list[str]:
    return sorted(
        f"{api}.{rest} {','.join(categories)}"
        for api, methods in gcp_model.load().items()
        for rest, (_effect, categories) in methods.items()
        if categories
    )


def test_regenerating_the_table_from_the_discovery_documents_gives_the_checked_in_one():
    pytest.importorskip("googleapiclient", reason="pip install 'agentaudit[models]' to regenerate")
    built = gcp_model.dumps(gcp_model.build())
    checked_in = gcp_model.TABLE.read_text(encoding="utf-8")
    diff = list(difflib.unified_diff(checked_in.splitlines(), built.splitlines(), lineterm=""))
    assert not diff, "review and regenerate data/gcp_methods.json:\n" + "\n".join(diff[:80])


def test_every_discovery_method_has_a_verdict_and_the_destructive_ones_are_reviewed():
    table = gcp_model.load()
    assert sum(len(methods) for methods in table.values()) > 15_000
    effects = {effect for methods in table.values() for effect, _ in methods.values()}
    assert effects <= {"read", "write", "delete", "stop", "disable", "detach", "revoke"} | {
        "expire",
        "reset",
    }
    reviewed = (DATA / "gcp_destructive.txt").read_text(encoding="utf-8").splitlines()
    diff = list(difflib.unified_diff(reviewed, destructive_lines(), lineterm=""))
    assert not diff, "review, then rewrite data/gcp_destructive.txt:\n" + "\n".join(diff[:80])


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("v1.compute.instances.delete", ["cloud_delete"]),
        ("beta.compute.firewalls.delete", ["network_delete"]),
        ("cloudsql.instances.delete", ["cloud_delete"]),
        ("storage.buckets.delete", ["cloud_delete"]),
        ("v1.compute.instances.stop", ["service_stop"]),
        ("v1.compute.snapshots.delete", ["backup_destroy"]),
        ("v1.compute.instances.get", []),
        ("google.logging.v2.ConfigServiceV2.DeleteSink", ["audit_tamper"]),
        ("google.iam.admin.v1.DeleteServiceAccount", ["identity_delete"]),
        ("DestroyCryptoKeyVersion", ["backup_destroy"]),
        ("google.cloud.aiplatform.v1.PredictionService.Predict", []),
        ("google.cloud.sql.v1.SqlInstancesService.Stop", ["service_stop"]),
        ("google.cloud.retail.v2.ProductService.PurgeProducts", ["cloud_delete"]),
        ("google.container.v1.ClusterManager.StopCluster", ["service_stop"]),
        ("google.cloud.dataproc.v1.JobController.CancelJob", []),
    ],
)
def test_discovery_ids_and_grpc_names(method, expected):
    assert catalog.classify("gcp", method, {}) == expected


def test_every_corpus_method_name_gets_a_verdict(corpus):
    names = set()
    for path in sorted((corpus / "gcp").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            found = text and json.loads(text)
            while isinstance(found, dict) and "methodName" not in found:
                found = next(
                    (
                        v
                        for v in found.values()
                        if isinstance(v, dict)
                        and ("methodName" in v or "protoPayload" in v or "protopayload" in v)
                    ),
                    None,
                )
            if isinstance(found, dict):
                names.add(found["methodName"])
    assert len(names) > 20
    in_discovery = {n for n in names if gcp.verdict(n) is not None}
    assert len(in_discovery) >= 11, sorted(names - in_discovery)
    effects = {"read", "write", "delete", "stop", "disable", "detach", "revoke", "expire", "reset"}
    for name in names - in_discovery:  # the others by the verb of their last part
        assert gcp.name_effect(name) in effects
        assert isinstance(catalog.classify("gcp", name, {}), list)
