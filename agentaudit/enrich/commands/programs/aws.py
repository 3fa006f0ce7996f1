"""The AWS CLI, resolved with the service models botocore publishes.

`aws [global options] <service> <operation> [parameters]`: the service and operation names
come from botocore (every service, every operation, as the CLI spells them), so a global
option's value is never read as the operation and an unknown word is never classified. The
operation's API name (`DeleteDBInstance`) is the CloudTrail eventName: the provider catalog
(`catalog/aws.py`) classifies the ones it knows, the verb and noun of the name the rest. The
target is the value of the operation's first required parameter (what CloudTrail records).
The CLI's own high-level commands (`s3 rm`, `s3 rb`, ...) stay in the cloud pack.
"""

from __future__ import annotations

import re
from functools import lru_cache

from agentaudit.enrich.catalog import aws as aws_catalog
from agentaudit.enrich.commands import packs
from agentaudit.enrich.commands.argv import invocation
from agentaudit.enrich.commands.model import Finding
from agentaudit.enrich.commands.parse import SimpleCommand
from agentaudit.enrich.commands.programs.base import Context

# botocore service name -> the CLI's command name, where the CLI renames it
_CLI_NAMES = {"s3": "s3api", "config": "configservice"}
_CATALOG_CATEGORY = {"network_delete": "cloud_delete", "service_stop": "service_disrupt"}
_SEVERITY = {"backup_destroy": "critical", "audit_tamper": "critical", "cloud_delete": "high",
             "identity_delete": "high", "service_disrupt": "medium", "db_destroy": "high"}  # fmt: skip
_VERB = re.compile(r"^(Delete|Terminate|Purge|Destroy|Drop|Erase|Wipe|Empty|Flush|Truncate|"
                   r"Remove|Deregister|Release|Revoke|Detach|Disable|Stop|Schedule\w*Deletion|"
                   r"Deactivate|Unsubscribe)")  # fmt: skip
_ROUTINE = re.compile(r"(Tags?|Attachment)$|^(Stop|Disable)\w*(Job|"
                      r"Task|Execution|Query|Build|Run|Session|Transcription|Evaluation)")  # fmt: skip
_BACKUP = re.compile(r"(Snapshot|Backup|RecoveryPoint|BackupVault|BackupPlan|Replication)")
_AUDIT = re.compile(r"(Trail|Detector|LogGroup|LogStream|FlowLogs|ConfigurationRecorder|"
                    r"DeliveryChannel|EventDataStore|Logging|SecurityHub|AuditManager|Macie)")  # fmt: skip
_IDENTITY = re.compile(r"(User|Role|Group|AccessKey|LoginProfile|MFADevice|SAMLProvider|"
                       r"OpenIDConnectProvider|InstanceProfile|IdentityProvider|Account)$")  # fmt: skip
_DATA = re.compile(r"(DB|Database|Cluster|Table|Bucket|Volume|FileSystem|Stack|Repository|"
                   r"Instances?|Key|Secret|Domain|Index|Collection|Graph|Keyspace|Queue|Stream|"
                   r"Function|Catalog|Ledger|ReplicationGroup|CacheCluster|Environment|"
                   r"Application|Project|Workgroup|HostedZone|Distribution|Api|RestApi|Registry|"
                   r"Broker|Vault|Archive|Image|Parameters?|Certificate)s?$")  # fmt: skip


@lru_cache(maxsize=1)
def _loader():
    from botocore.loaders import create_loader  # heavy: only when an aws command is seen

    return create_loader()


@lru_cache(maxsize=1)
def services() -> dict[str, str]:
    """CLI service name -> botocore service name, for every service botocore ships."""
    names = _loader().list_available_services("service-2")
    return {_CLI_NAMES.get(n, n): n for n in names}


@lru_cache(maxsize=512)
def operations(service: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """CLI operation name -> (API name, CLI names of its required parameters)."""
    from botocore import xform_name

    model = _loader().load_service_model(service, "service-2")
    shapes = model.get("shapes", {})
    found = {}
    for api, spec in model.get("operations", {}).items():
        shape = shapes.get((spec.get("input") or {}).get("shape", ""), {})
        required = tuple("--" + xform_name(m, "-") for m in shape.get("required", []))
        found[xform_name(api, "-")] = (api, required)
    return found


def resolve(words: tuple[str, ...]) -> tuple[str, str, tuple[str, ...]] | None:
    """(botocore service, API operation, required parameters) of `aws <service> <op>`."""
    if len(words) < 2:
        return None
    service = services().get(words[0])
    if service is None:
        return None
    found = operations(service).get(words[1])
    return (service, *found) if found else None


def classify_operation(api: str) -> list[tuple[str, str]]:
    """[(category, severity)] of one API operation: the catalog first, then its verb and noun."""
    categories = aws_catalog.EVENT_NAMES.get(api)
    if categories and not api.startswith(("Put", "Update")):  # settings: judged by their values
        return [(_CATALOG_CATEGORY.get(c, c), _SEVERITY.get(_CATALOG_CATEGORY.get(c, c), "high"))
                for c in categories]  # fmt: skip
    api = api.removeprefix("Batch")  # BatchDeleteImage deletes as DeleteImage does
    verb = _VERB.match(api)
    if not verb or _ROUTINE.search(api):
        return []
    noun = api[verb.end() :]
    if verb.group(1).startswith("Schedule"):
        return [("backup_destroy", "high")]
    if _AUDIT.search(noun):
        return [("audit_tamper", "critical")]
    if verb.group(1) in ("Stop", "Disable", "Deactivate", "Detach", "Revoke"):
        return [("service_disrupt", "medium")]
    if _BACKUP.search(noun):
        return [("backup_destroy", "critical")]
    if _IDENTITY.search(noun):
        return [("identity_delete", "high")]
    return [("cloud_delete", "high" if _DATA.search(noun) else "medium")]


def aws(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    inv = invocation(cmd.program, cmd.argv[1:])
    try:
        resolved = resolve(inv.words)
    except ImportError:  # botocore is a base dependency; a broken install falls back to packs
        resolved = None
    if resolved is None:
        return [_with_provider(f) for f in packs.match(cmd)]
    service, api, required = resolved
    target = next((inv.value(p) for p in required if inv.value(p)), None)
    operation = f"aws {inv.words[0]} {inv.words[1]}"
    findings = [
        Finding(f"aws.{api}", category, severity, f"{operation} ({service}:{api}) {_WHAT[category]}",
                operation=operation, target=target, scope="remote", provider="aws")
        for category, severity in classify_operation(api)
    ]  # fmt: skip
    if api in ("DeleteDBInstance", "DeleteDBCluster") and inv.has(
        "--skip-final-snapshot", "--delete-automated-backups"
    ):
        findings.append(Finding(f"aws.{api}", "backup_destroy", "critical",
                                f"{operation} without a final snapshot destroys the backups too",
                                operation=operation, target=target, scope="remote", provider="aws"))  # fmt: skip
    known = {f.category for f in findings}
    extra = [_with_provider(f) for f in packs.match(cmd, generic=False)]
    return findings + [f for f in extra if f.category not in known or not findings]


_WHAT = {
    "cloud_delete": "deletes or terminates a resource",
    "backup_destroy": "destroys backups or makes data unrecoverable",
    "audit_tamper": "stops or deletes an audit trail",
    "identity_delete": "deletes an identity or its credentials",
    "service_disrupt": "stops or disables a running service",
    "db_destroy": "destroys a database",
}


def _with_provider(finding: Finding) -> Finding:
    from dataclasses import replace

    return replace(finding, provider="aws", scope=finding.scope or "remote")


PROGRAMS = {"aws": aws}
