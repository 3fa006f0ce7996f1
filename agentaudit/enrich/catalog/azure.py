"""Azure Activity Log `operationName`s that destroy data, backups or audit trails.

Compared case-insensitively (Panther uppercases them). Any `.../delete` of a resource is a
delete; the resource type decides the category: backups and snapshots, logging and alerting
(the audit trail), locks (protection removed), role assignments (identity), network. Key Vault
`purge/action` destroys soft-deleted secrets for good. Blob service writes that turn off soft
delete or versioning remove the safety net. Actions by their name: purge destroys for good,
regenerating a key resets a credential others use, deallocate / power off / stop stop a service,
reimage overwrites a disk. The operations the azure-mgmt SDKs define are listed, with their ARM
verb, in a table generated from them (azure_model.py); `verdict` reads it.
"""

from __future__ import annotations

import json
from typing import Any

from agentaudit.enrich.catalog import azure_model

_BACKUP = (
    "/snapshots/",
    "/restorepointcollections/",
    "microsoft.recoveryservices/",
    "/immutabilitypolicies/",
    "/backupvaults/",
    "microsoft.dataprotection/",
)
_AUDIT = (
    "microsoft.insights/diagnosticsettings/",
    "microsoft.operationalinsights/workspaces/",
    "microsoft.insights/alertrules/",
    "microsoft.insights/metricalerts/",
    "microsoft.insights/actiongroups/",
    "microsoft.insights/activitylogalerts/",
    "microsoft.network/networkwatchers/",
    "microsoft.eventhub/namespaces/eventhubs/",
    "microsoft.security/",
)
_PROTECTION = ("microsoft.authorization/locks/",)
_IDENTITY = (
    "microsoft.authorization/roleassignments/",
    "microsoft.authorization/roledefinitions/",
    "microsoft.managedidentity/",
)
_NETWORK = ("microsoft.network/",)
_DATA_DELETES = {"deleteblob", "deletefile", "deletecontainer", "deleteshare", "deletetable"}
_ACTIONS = {
    "regeneratekey": "credential_reset",
    "regeneratekeys": "credential_reset",
    "regenerateaccesskey": "credential_reset",
    "deallocate": "service_stop",
    "poweroff": "service_stop",
    "stop": "service_stop",
    "reimage": "data_overwrite",
}


# What stopping takes off line (not a job, a trace or a capture that is stopped).
_STOPPABLE = {
    "virtualmachines", "virtualmachinescalesets", "managedclusters", "flexibleservers",
    "servers", "applicationgateways", "managedinstances", "sites", "slots",
    "cassandraclusters", "containergroups", "containerapps", "clusters",
}  # fmt: skip


def verdict(operation: str) -> tuple[str, str]:
    """(ARM verb: read, write, delete or action; where from: the SDK table or the name)."""
    op = operation.lower()
    known = azure_model.load().get(op)
    if known:
        return known, "model"
    last = op.rsplit("/", 1)[-1]
    if last in ("read", "write", "delete", "action"):
        return last, "name"
    return ("delete" if last in _DATA_DELETES else "read" if last.startswith(("get", "list"))
            else "write"), "name"  # fmt: skip


def needs_record(operation: str) -> bool:
    return operation.lower().endswith("blobservices/write")


def classify(operation: str, record: dict[str, Any]) -> list[str]:
    op = operation.lower()
    if op in _DATA_DELETES:
        return ["cloud_delete"]
    if op.endswith("/purge/action"):
        return ["backup_destroy"]
    if op.endswith("/action") and op.count("/") >= 3:
        resource, verb = op.rsplit("/", 3)[1:3]
        action = _ACTIONS.get(verb)
        if action and (action != "service_stop" or resource in _STOPPABLE):
            return [action]
    if op.endswith("/delete"):
        if any(marker in op for marker in _AUDIT):
            return ["audit_tamper"]
        if any(marker in op for marker in _BACKUP):
            return ["backup_destroy"]
        if any(marker in op for marker in _PROTECTION):
            return ["protection_disable"]
        if any(marker in op for marker in _IDENTITY):
            return ["identity_delete"]
        if any(marker in op for marker in _NETWORK):
            return ["network_delete"]
        return ["cloud_delete"]
    if needs_record(operation) and _safety_net_off(record):
        return ["backup_destroy"]
    return []


def _safety_net_off(record: dict[str, Any]) -> bool:
    """Blob soft delete or versioning set to disabled, wherever the record carries the body."""
    text = json.dumps(record).lower().replace(" ", "").replace('\\"', '"')
    markers = (
        '"deleteretentionpolicy":{"enabled":false',
        '"isversioningenabled":false',
        '"containerdeleteretentionpolicy":{"enabled":false',
    )
    return any(marker in text for marker in markers)
