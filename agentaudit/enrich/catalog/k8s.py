"""Kubernetes: deletes of resources that hold data, config, identity or the audit trail.

Operations are `"<verb> <resource>[/<subresource>]"` as the k8s collector writes them. Deleting
a pod or a replicaset is routine (controllers recreate them) and is not listed. Scaling a
workload to zero replicas stops the service. Velero `deletebackuprequests` are created to
delete a backup.
"""

from __future__ import annotations

from typing import Any

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
}


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
