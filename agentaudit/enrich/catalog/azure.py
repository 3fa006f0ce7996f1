"""Azure Activity Log `operationName`s that destroy data, backups or audit trails.

Compared case-insensitively (Panther uppercases them). Any `.../delete` of a resource is a
delete; the resource type decides the category: backups and snapshots, logging and alerting
(the audit trail), locks (protection removed), role assignments (identity), network. Key Vault
`purge/action` destroys soft-deleted secrets for good. Blob service writes that turn off soft
delete or versioning remove the safety net.
"""

from __future__ import annotations

import json
from typing import Any

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


def needs_record(operation: str) -> bool:
    return operation.lower().endswith("blobservices/write")


def classify(operation: str, record: dict[str, Any]) -> list[str]:
    op = operation.lower()
    if op in _DATA_DELETES:
        return ["cloud_delete"]
    if op.endswith("/purge/action"):
        return ["backup_destroy"]
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
