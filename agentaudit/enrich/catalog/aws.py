"""AWS CloudTrail `eventName`s that destroy data, backups or audit trails (reference Appendix A).

Unconditional names are listed by category; a few calls are destructive only with certain
parameters (`CONDITIONAL`): a DeleteDBInstance that skips the final snapshot or deletes the
automated backups destroys the data *and* its backups; PutBucketVersioning with versioning
suspended or MFA delete disabled, a lifecycle rule that expires objects, ModifyDBInstance with
a backup retention of 0 or deletion protection off, a snapshot's create-volume permission
removed, a GuardDuty detector disabled.
"""

from __future__ import annotations

from typing import Any

DATA = ("cloud_delete",)
DATA_AND_BACKUP = ("cloud_delete", "backup_destroy")
BACKUP = ("backup_destroy",)
AUDIT = ("audit_tamper",)
IDENTITY = ("identity_delete",)
NETWORK = ("network_delete",)
STOP = ("service_stop",)

_NAMES = {
    DATA: """DeleteDBCluster DeleteGlobalCluster DeleteBucket DeleteObject DeleteObjects
        DeleteObjectVersion DeleteVolume DeleteFileSystem DeleteMountTarget DeleteTable
        TerminateInstances DeleteFunction DeleteFunction20150331 DeleteSecret DeleteParameter
        DeleteParameters DeleteRepository DeleteStack DeleteCluster DeregisterImage DeleteStream
        DeleteQueue PurgeQueue DeleteDomain DeleteCacheCluster DeleteReplicationGroup
        DeleteServerlessCache DeleteDBProxy DeleteItem DeleteBackupSelection DeleteVault
        DeleteArchive DeleteGuardrail""",
    BACKUP: """DeleteSnapshot DeleteDBSnapshot DeleteDBClusterSnapshot DeleteDBInstanceAutomatedBackup
        DeleteDBClusterAutomatedBackup DeleteRecoveryPoint DeleteBackupVault
        DeleteBackupVaultLockConfiguration DeleteBackupPlan DeleteBackup DeleteBucketLifecycle
        ScheduleKeyDeletion DisableKey DeleteImportedKeyMaterial DeleteSnapshotSchedule
        DeleteClusterSnapshot DeleteBucketReplication""",
    AUDIT: """StopLogging DeleteTrail UpdateTrail PutEventSelectors DeleteFlowLogs DeleteDetector
        DeleteConfigurationRecorder StopConfigurationRecorder DeleteDeliveryChannel
        DeleteResolverQueryLogConfig DeleteLogGroup DeleteLogStream LeaveOrganization
        DeleteEventDataStore StopEventDataStoreIngestion PutRetentionPolicy DisableSecurityHub
        DeleteModelInvocationLoggingConfiguration""",
    IDENTITY: """DeleteUser DeleteAccessKey DeleteRole DeleteLoginProfile DeletePolicy
        DeleteSAMLProvider DeleteGroup DeactivateMFADevice DeleteVirtualMFADevice
        DeleteInstanceProfile DeleteRolePolicy DeleteUserPolicy""",
    NETWORK: """DeleteVpc DeleteSubnet DeleteSecurityGroup DeleteInternetGateway DeleteNatGateway
        DeleteRouteTable DeleteRoute DeleteNetworkAcl DeleteNetworkInterface DeleteLoadBalancer
        DeleteTargetGroup DeleteHostedZone""",
    STOP: "StopInstances StopDBInstance StopDBCluster",
}
EVENT_NAMES: dict[str, tuple[str, ...]] = {
    name: categories for categories, names in _NAMES.items() for name in names.split()
}

CONDITIONAL = {
    "DeleteDBInstance",
    "PutBucketVersioning",
    "PutBucketLifecycle",
    "PutBucketLifecycleConfiguration",
    "ModifyDBInstance",
    "ModifyDBCluster",
    "ModifySnapshotAttribute",
    "UpdateDetector",
}


def needs_record(operation: str) -> bool:
    return operation in CONDITIONAL


def classify(operation: str, record: dict[str, Any]) -> list[str]:
    if operation in EVENT_NAMES:
        return list(EVENT_NAMES[operation])
    if operation not in CONDITIONAL:
        return []
    params = record.get("requestParameters")
    params = params if isinstance(params, dict) else {}
    if operation == "DeleteDBInstance":
        backups_gone = (
            params.get("skipFinalSnapshot") is True or params.get("deleteAutomatedBackups") is True
        )
        return list(DATA_AND_BACKUP if backups_gone else DATA)
    if operation == "PutBucketVersioning":
        config = params.get("VersioningConfiguration") or {}
        suspended = str(config.get("Status", "")).lower() == "suspended"
        mfa_off = str(config.get("MfaDelete", "")).lower() == "disabled"
        return list(BACKUP) if suspended or mfa_off else []
    if operation.startswith("PutBucketLifecycle"):
        return list(BACKUP) if _expires(params.get("LifecycleConfiguration")) else []
    if operation in ("ModifyDBInstance", "ModifyDBCluster"):
        found: list[str] = []
        if params.get("backupRetentionPeriod") in (0, "0"):
            found.append("backup_destroy")
        if params.get("deletionProtection") is False:
            found.append("protection_disable")
        return found
    if operation == "ModifySnapshotAttribute":
        removed = (params.get("createVolumePermission") or {}).get("remove")
        return list(BACKUP) if removed else []
    if operation == "UpdateDetector":
        return list(AUDIT) if params.get("enable") is False else []
    return []


SHORT_EXPIRATION_DAYS = 90  # "short Expiration" (reference); a 2-year retention rule is policy


def _expires(config: Any) -> bool:
    """An enabled lifecycle rule that expires objects within SHORT_EXPIRATION_DAYS."""
    rules = config.get("Rule") if isinstance(config, dict) else None
    rules = rules if isinstance(rules, list) else [rules]
    for rule in rules:
        if not isinstance(rule, dict) or str(rule.get("Status", "Enabled")) != "Enabled":
            continue
        expiration = rule.get("Expiration")
        if not isinstance(expiration, dict):
            continue
        try:
            days = int(expiration.get("Days", 0))
        except (TypeError, ValueError):
            days = 0
        if days < SHORT_EXPIRATION_DAYS or "Date" in expiration:
            return True
    return False
