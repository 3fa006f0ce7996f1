"""GCP Cloud Audit Log `methodName`s that destroy data, backups or audit trails.

Methods of Google's Discovery documents (`compute.instances.delete`, also logged as
`v1.compute.instances.delete`; Cloud SQL's `cloudsql.*` is Discovery's `sql.*`) have a verdict in
the table generated from them (gcp_model.py, data/gcp_methods.json). Other method names come in
several spellings (`v1.compute.instances.delete`, `storage.buckets.delete`,
`google.iam.admin.v1.DeleteServiceAccount`, `io.k8s.core.v1.namespaces.delete`), so the last
segment is read as the verb and the segment before it as the collection. Conditional cases read
the record: BigQuery jobs whose statement deletes or drops (or `tableDeletion` metadata), KMS
key versions disabled or scheduled for destruction, subnet flow logs turned off, bucket
versioning turned off, and Cloud SQL database audit entries (pgAudit), whose SQL statement is
classified by the command analyser's SQL classifier.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agentaudit.enrich.catalog import gcp_model
from agentaudit.enrich.catalog.verbs import effect_of, verb_and_object
from agentaudit.enrich.commands.programs.db import statement_categories

_BACKUP_COLLECTIONS = {
    "snapshots",
    "images",
    "backupruns",
    "backups",
    "backupvaults",
    "machineimages",
}
_NETWORK_COLLECTIONS = {
    "firewalls",
    "networks",
    "routes",
    "subnetworks",
    "vpntunnels",
    "routers",
    "firewall",
    "managedzones",
}
_IDENTITY = {
    "deleteserviceaccount",
    "disableserviceaccount",
    "deleterole",
    "deleteserviceaccountkey",
}
_AUDIT = {"deletesink", "deletebucket", "deletelog", "deleteexclusion"}
_BACKUP_VERBS = {
    "destroycryptokeyversion",
    "destroysecretversion",
    "deletebackup",
    "deletebackupvault",
}
_DESTRUCTIVE_STATEMENTS = {
    "DELETE",
    "DROP_TABLE",
    "DROP_SCHEMA",
    "TRUNCATE_TABLE",
    "DROP_VIEW",
    "DROP_MATERIALIZED_VIEW",
}
_OVERWRITE_STATEMENTS = {"UPDATE", "MERGE", "ALTER_TABLE", "CREATE_OR_REPLACE_TABLE"}
_STOPPABLE_OBJECTS = {"Instance", "Instances", "Cluster", "Service", "Environment", "Server"}
_KMS_OFF = {"DISABLED", "DESTROY_SCHEDULED", "DESTROYED"}


def _segments(operation: str) -> tuple[str, str]:
    parts = operation.split(".")
    return parts[-1].lower(), (parts[-2].lower() if len(parts) > 1 else "")


def needs_record(operation: str) -> bool:
    verb, _collection = _segments(operation)
    return (
        "jobservice" in operation.lower()
        or "tableservice" in operation.lower()
        or verb
        in (
            "updatecryptokeyversion",
            "patch",
            "update",
            "insertjob",
            "insert",
            "query",
            "jobcompleted",
        )
    )


_VERSION_PREFIX = re.compile(r"^(v\d\w*|beta\d*|alpha\d*)\.")
_RENAMED_APIS = {"cloudsql": "sql"}  # audit log's service prefix -> Discovery's api name


def discovery_id(operation: str) -> str:
    """`v1.compute.instances.delete` -> `compute.instances.delete`; `cloudsql.instances.delete`
    -> `sql.instances.delete`."""
    method = _VERSION_PREFIX.sub("", operation)
    api, _, rest = method.partition(".")
    return f"{_RENAMED_APIS.get(api, api)}.{rest}" if rest else method


def verdict(operation: str) -> gcp_model.Verdict | None:
    """(effect, categories) of a Discovery method, None for names no document has."""
    api, _, rest = discovery_id(operation).partition(".")
    return gcp_model.load().get(api, {}).get(rest)


def classify(operation: str, record: dict[str, Any]) -> list[str]:
    known = verdict(operation)
    if known is not None and known[1]:
        return list(known[1])
    verb, collection = _segments(operation)
    if known is not None:  # a Discovery method that destroys nothing by its name
        return _by_record(operation, verb, collection, record)
    logging_api = "logging" in operation.lower()
    if verb in _AUDIT and logging_api:
        return ["audit_tamper"]
    if verb in _IDENTITY:
        return ["identity_delete"]
    if verb in _BACKUP_VERBS:
        return ["backup_destroy"]
    if verb in (
        "delete",
        "deleteingressrule",
        "dropdatabase",
        "deletedatabase",
        "deleteproject",
        "deletecluster",
        "deleteinstance",
    ) or (verb.startswith("delete") and verb not in ("deletesink",)):
        if collection in _BACKUP_COLLECTIONS:
            return ["backup_destroy"]
        if collection in _NETWORK_COLLECTIONS or "firewall" in operation.lower():
            return ["network_delete"]
        return ["cloud_delete"]
    by_verb = _grpc_verb(operation)
    return by_verb or _by_record(operation, verb, collection, record)


def name_effect(operation: str) -> str:
    """The effect of a method no Discovery document has, by the verb of its last part
    (`google.cloud.sql.v1.SqlInstancesService.Stop`, `PurgeProducts`, `DestroyCryptoKeyVersion`)."""
    last = operation.rsplit(".", 1)[-1]
    return effect_of(last[:1].upper() + last[1:])


def _grpc_verb(operation: str) -> list[str]:
    """A gRPC-style name whose verb destroys or stops (`PurgeProducts`, `StopInstance`)."""
    last = operation.rsplit(".", 1)[-1]
    if not last[:1].isupper():
        return []  # Discovery-style lower-case names are read above
    _verb, obj = verb_and_object(last)
    effect = name_effect(operation)
    if effect == "delete":
        return ["cloud_delete"]
    if effect == "stop" and (not obj or obj[-1] in _STOPPABLE_OBJECTS):
        return ["service_stop"]
    return []


def _by_record(operation: str, verb: str, collection: str, record: dict[str, Any]) -> list[str]:
    """Calls whose request decides: KMS state, flow logs, versioning, SQL statements."""
    if not needs_record(operation):
        return []
    payload = _payload(record)
    if verb == "updatecryptokeyversion":
        state = str(_find(payload, "state") or "")
        return ["backup_destroy"] if state.upper() in _KMS_OFF else []
    if collection == "subnetworks" and verb == "patch":
        log_config = _find(payload, "logconfig")
        logs_off = isinstance(log_config, dict) and log_config.get("enable") is False
        return ["audit_tamper"] if logs_off or _find(payload, "enableflowlogs") is False else []
    if collection == "buckets" and verb in ("update", "patch"):
        versioning = _find(payload, "versioning")
        return (
            ["backup_destroy"]
            if isinstance(versioning, dict) and versioning.get("enabled") is False
            else []
        )
    sql = _database_statement(payload)
    if sql:  # a database's own audit record (Cloud SQL pgAudit): the statement it ran
        return statement_categories(sql)
    statement = str(_find(payload, "statementtype") or "").upper()
    if (
        statement in _DESTRUCTIVE_STATEMENTS
        or _find(payload, "tabledeletion")
        or _find(payload, "datasetdeletion")
    ):
        return ["cloud_delete"]
    if statement in _OVERWRITE_STATEMENTS:
        return ["data_overwrite"]
    return []


def _database_statement(payload: Any) -> str | None:
    """The SQL text of a database audit entry (`google.cloud.sql.audit.v1.PgAuditEntry` and
    its kin carry it as `request.statement`, MySQL's as `request.query`)."""
    request = payload.get("request") if isinstance(payload, dict) else None
    if not isinstance(request, dict) or "auditentry" not in str(request.get("@type", "")).lower():
        return None
    sql = request.get("statement") or request.get("query")
    return sql if isinstance(sql, str) and sql.strip() else None


def _payload(record: dict[str, Any]) -> Any:
    for key, value in record.items():
        if re.sub(r"[_@]", "", key).lower() in ("protopayload", "protopayloadauditlog"):
            return value
    return record


def _find(value: Any, wanted: str, depth: int = 0) -> Any:
    """The first value under a key named `wanted` (case and `_` ignored), JSON text included."""
    if depth > 12:
        return None
    if isinstance(value, str) and value[:1] in "{[" and depth:
        try:
            value = json.loads(value)  # BigQuery export keeps metadata as JSON text
        except ValueError:
            return None
    if isinstance(value, dict):
        for key, item in value.items():
            if key.replace("_", "").lower() == wanted:
                return item
        for item in value.values():
            found = _find(item, wanted, depth + 1)
            if found is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _find(item, wanted, depth + 1)
            if found is not None:
                return found
    return None
