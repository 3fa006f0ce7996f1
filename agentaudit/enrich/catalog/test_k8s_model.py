"""The Kubernetes catalog against the built-in API's operations (generated from the official
client): every operation has a verdict, the destructive ones are the reviewed list, and the
corpus' audit operations are known."""

from __future__ import annotations

import difflib
import json
import sysconfig
from pathlib import Path

import pytest

from agentaudit.enrich import catalog
from agentaudit.enrich.catalog import k8s, k8s_model

DATA = Path(k8s.__file__).with_name("data")


def destructive_lines() -> list[str]:
    return sorted(
        f"{op} {','.join(found)}" for op in k8s_model.load() if (found := k8s.classify(op, {}))
    )


def test_regenerating_the_table_from_the_installed_client_gives_the_checked_in_one():
    if not (Path(sysconfig.get_paths()["purelib"]) / "kubernetes" / "client").is_dir():
        pytest.skip("pip install kubernetes to regenerate (or pass its wheel to k8s_model)")
    built = k8s_model.dumps(k8s_model.build())
    checked_in = k8s_model.TABLE.read_text(encoding="utf-8")
    assert json.loads(built)["operations"] == json.loads(checked_in)["operations"]


def test_every_operation_has_a_verdict_and_the_destructive_ones_are_reviewed():
    operations = k8s_model.load()
    assert len(operations) > 600
    assert {k8s.verdict(op) for op in operations} == {
        ("read", "model"),
        ("write", "model"),
        ("delete", "model"),
    }
    reviewed = (DATA / "k8s_destructive.txt").read_text(encoding="utf-8").splitlines()
    diff = list(difflib.unified_diff(reviewed, destructive_lines(), lineterm=""))
    assert not diff, "review, then rewrite data/k8s_destructive.txt:\n" + "\n".join(diff[:80])


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("delete persistentvolumeclaims", ["cloud_delete"]),
        ("deletecollection secrets", ["config_delete"]),
        ("delete validatingwebhookconfigurations", ["protection_disable"]),
        ("delete pods", []),
        ("get secrets", []),
        ("delete backups", ["backup_destroy"]),  # Velero's CRD: by name
    ],
)
def test_operations(operation, expected):
    assert catalog.classify("k8s", operation, {}) == expected


def test_a_scale_to_zero_stops_the_service():
    record = {"requestObject": {"spec": {"replicas": 0}}}
    assert catalog.classify("k8s", "patch deployments/scale", record) == ["service_stop"]
    assert catalog.classify("k8s", "patch deployments/scale", {"requestObject": {"spec": {}}}) == []
