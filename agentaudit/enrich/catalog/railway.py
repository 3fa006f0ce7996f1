"""Railway: destructive GraphQL mutations and their audit-log event types.

From the public GraphQL schema (railwayapp/cli `src/gql/schema.json`). Volume backups live
inside the volume, so `volumeDelete` destroys data and its backups together. Audit-log
`eventType` strings are not published; they are matched by object and verb (`volume.deleted`).
"""

from __future__ import annotations

import re
from typing import Any

DATA_AND_BACKUPS = ("cloud_delete", "backup_destroy")

MUTATIONS: dict[str, tuple[str, ...]] = {
    "volumeDelete": DATA_AND_BACKUPS,
    "volumeInstanceBackupDelete": ("backup_destroy",),
    "volumeInstanceBackupRestore": ("data_overwrite",),
    "volumeInstancePITRRestore": ("data_overwrite",),
    "serviceDelete": ("cloud_delete",),
    "environmentDelete": ("cloud_delete",),
    "deploymentRemove": ("cloud_delete",),
    "projectDelete": DATA_AND_BACKUPS,
    "projectScheduleDelete": DATA_AND_BACKUPS,
    "projectScheduleDeleteForce": DATA_AND_BACKUPS,
    "workspaceDelete": DATA_AND_BACKUPS,
    "pluginDelete": ("cloud_delete",),
    "pluginReset": ("db_destroy",),
    "variableDelete": ("config_delete",),
    "customDomainDelete": ("cloud_delete",),
    "serviceDomainDelete": ("cloud_delete",),
    "tcpProxyDelete": ("cloud_delete",),
    "apiTokenDelete": ("identity_delete",),
    "projectTokenDelete": ("identity_delete",),
    "projectMemberRemove": ("identity_delete",),
    "workspaceUserRemove": ("identity_delete",),
    "bucketCredentialsReset": ("credential_reset",),
}

# CLI subcommands that call the mutations above.
CLI: dict[tuple[str, ...], tuple[str, ...]] = {
    ("volume", "delete"): DATA_AND_BACKUPS,
    ("environment", "delete"): ("cloud_delete",),
    ("service", "delete"): ("cloud_delete",),
    ("down",): ("cloud_delete",),
    ("delete",): DATA_AND_BACKUPS,
}

_EVENT = re.compile(
    r"(?i)^(?P<object>[a-z_]+?)(?:[._-](?P<sub>[a-z_]+))?[._-](?P<verb>deleted?|removed?)$"
)
_OBJECT_TO_MUTATION = {
    "volume": "volumeDelete",
    "volumeinstancebackup": "volumeInstanceBackupDelete",
    "backup": "volumeInstanceBackupDelete",
    "service": "serviceDelete",
    "environment": "environmentDelete",
    "deployment": "deploymentRemove",
    "project": "projectDelete",
    "workspace": "workspaceDelete",
    "plugin": "pluginDelete",
    "variable": "variableDelete",
}


def classify(operation: str, record: dict[str, Any]) -> list[str]:
    """Categories for a GraphQL mutation name or an audit-log event type."""
    if operation in MUTATIONS:
        return list(MUTATIONS[operation])
    match = _EVENT.match(operation)
    if match:
        obj = (match.group("object") + (match.group("sub") or "")).replace("_", "").lower()
        mutation = _OBJECT_TO_MUTATION.get(obj)
        return list(MUTATIONS[mutation]) if mutation else ["cloud_delete"]
    return []
