"""Kubernetes: deletes of resources that hold data, config, identity or the audit trail.

Operations are `"<verb> <resource>[/<subresource>]"` as the k8s collector writes them. Deleting
a pod or a replicaset is routine (controllers recreate them) and is not listed. Scaling a
workload to zero replicas stops the service. Velero `deletebackuprequests` are created to
delete a backup. The built-in API's operations are listed in a table generated from the
official client (k8s_model.py); custom resources are read by name.
"""

from __future__ import annotations

import functools
from typing import Any

from agentaudit.enrich.catalog import k8s_model

_DELETE_VERBS = {"delete", "deletecollection"}
RESOURCES: dict[str, tuple[str, ...]] = {
    "namespaces": ("cloud_delete",),
    "persistentvolumeclaims": ("cloud_delete",),
    "persistentvolumes": ("cloud_delete",),
    "statefulsets": ("cloud_delete",),
    "deployments": ("cloud_delete",),
    "daemonsets": ("cloud_delete",),
    "services": ("cloud_delete",),
    "customresourcedefinitions": ("cloud_delete",),
    "storageclasses": ("cloud_delete",),
    "nodes": ("cloud_delete",),
    "cronjobs": ("cloud_delete",),
    "secrets": ("config_delete",),
    "configmaps": ("config_delete",),
    "serviceaccounts": ("identity_delete",),
    "roles": ("identity_delete",),
    "clusterroles": ("identity_delete",),
    "rolebindings": ("identity_delete",),
    "clusterrolebindings": ("identity_delete",),
    "volumesnapshots": ("backup_destroy",),
    "volumesnapshotcontents": ("backup_destroy",),
    "backups": ("backup_destroy",),
    "events": ("audit_tamper",),
    "replicationcontrollers": ("cloud_delete",),
    "ingresses": ("network_delete",),
    # admission control and disruption budgets guard the cluster against loss
    "networkpolicies": ("protection_disable",),
    "poddisruptionbudgets": ("protection_disable",),
    "validatingwebhookconfigurations": ("protection_disable",),
    "mutatingwebhookconfigurations": ("protection_disable",),
    "validatingadmissionpolicies": ("protection_disable",),
    "validatingadmissionpolicybindings": ("protection_disable",),
}
_EFFECTS = {
    "get": "read", "list": "read", "watch": "read", "create": "write", "update": "write",
    "patch": "write", "delete": "delete", "deletecollection": "delete",
}  # fmt: skip


def verdict(operation: str) -> tuple[str, str]:
    """(effect, where from): `model` for the built-in API's operations (k8s_model.py, generated
    from the official client), `name` for custom resources (Velero backups...)."""
    verb = operation.partition(" ")[0]
    return _EFFECTS.get(verb, "write"), "model" if operation in _model_operations() else "name"


@functools.cache
def _model_operations() -> frozenset[str]:
    return frozenset(k8s_model.load())


def needs_record(operation: str) -> bool:
    return operation.startswith(("patch ", "update ")) and operation.endswith("/scale")


def classify(operation: str, record: dict[str, Any]) -> list[str]:
    verb, _, resource = operation.partition(" ")
    base = resource.split("/", 1)[0]
    if verb in _DELETE_VERBS and "/" not in resource:
        return list(RESOURCES.get(base, ()))
    if verb == "create" and base == "deletebackuprequests":
        return ["backup_destroy"]
    if needs_record(operation):
        spec = (
            (record.get("requestObject") or {}).get("spec")
            if isinstance(record.get("requestObject"), dict)
            else None
        )
        if isinstance(spec, dict) and spec.get("replicas") == 0:
            return ["service_stop"]
    return []
