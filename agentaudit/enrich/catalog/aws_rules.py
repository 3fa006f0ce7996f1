"""The rules that turn one botocore operation (service, name, input members) into a verdict.

Run by the table generator (aws_model.py) over every operation of every service model; the
result is checked in (data/aws_operations.json) and reviewed exceptions live in
data/aws_overrides.toml. A verdict is (effect, categories, conditions): the effect comes from
the verb (verbs.py), the category from the service and the object words, and conditions name
input members whose value makes a call destructive (`SkipFinalSnapshot=true>backup_destroy`).
"""

from __future__ import annotations

import re

from agentaudit.enrich.catalog.verbs import EFFECTS, verb_and_object

Verdict = tuple[str, tuple[str, ...], tuple[str, ...]]

# Services whose whole purpose is the audit trail or security monitoring: removing or turning
# off anything in them blinds the defenders.
_AUDIT_SERVICES = {
    "cloudtrail", "guardduty", "securityhub", "config", "macie2", "inspector2", "detective",
    "logs", "securitylake", "auditmanager", "accessanalyzer", "cloudtrail-data",
}  # fmt: skip
_AUDIT_WORDS = {"Trail", "Trails", "Logging", "Log", "Logs", "Recorder", "Alarm", "Alarms"}
_AUDIT_PHRASES = ("DeliveryChannel", "EventDataStore", "FlowLogs", "QueryLogConfig")
_BACKUP_SERVICES = {"backup", "dlm", "kms", "backup-gateway"}  # keys: data encrypted with them
_BACKUP_WORDS = {"Snapshot", "Snapshots", "Backup", "Backups", "Recovery", "Versioning"}
_IDENTITY_SERVICES = {
    "iam", "identitystore", "sso-admin", "sso", "cognito-identity", "cognito-idp",
    "rolesanywhere",
}  # fmt: skip
_IDENTITY_WORDS = {
    "User", "Users", "Role", "Roles", "AccessKey", "Key", "LoginProfile", "MFA", "SAML",
    "OpenID", "Credential", "Credentials", "PermissionSet", "ServiceAccount", "Password",
}  # fmt: skip
_NETWORK_SERVICES = {
    "elb", "elbv2", "route53", "route53resolver", "network-firewall", "directconnect",
    "globalaccelerator", "networkmanager", "cloudfront",
}  # fmt: skip
_NETWORK_WORDS = {"Vpc", "Vpcs", "Subnet", "Subnets", "Vpn", "Dhcp", "Peering", "Firewall"}
_EC2_NETWORK_WORDS = {"Gateway", "Route", "Routes", "Acl", "Interface", "Address", "Endpoint"}
_NETWORK_PHRASES = ("SecurityGroup", "LoadBalancer", "TargetGroup", "HostedZone", "Listener")
_STOPPABLE = {
    "Instance", "Instances", "Cluster", "Server", "Environment", "Application", "Database",
    "Fleet", "Workspaces", "Service", "App", "Notebook",
}  # fmt: skip
_PROTECTION_WORDS = {"Protection", "Lock", "Encryption", "Versioning"}
_HARMLESS_OBJECTS = {"Tag", "Tags", "Label", "Labels", "Message", "Messages", "Session"}
_CONFIG_WORDS = {
    "Policy", "Policies", "Configuration", "Config", "Settings", "Setting", "Template",
    "Hook", "Notification", "Alias", "Attribute", "Attributes", "Permission", "Permissions",
    "Dashboard", "Dashboards", "Variable", "Variables",
}  # fmt: skip

_STARTS_A_DELETE = {"Schedule", "Start", "Initiate", "Request", "Create"}

# Input members whose value makes a call destructive; (pattern, member type, value, category).
_CONDITIONS = (
    (r"Skip\w*Final\w*Snapshot|Skip\w*Final\w*Backup", "boolean", "true", "backup_destroy"),
    (r"Delete\w*(Backup|Snapshot)s?", "boolean", "true", "backup_destroy"),
    (r"Retain\w*(Backup|Snapshot)s?", "boolean", "false", "backup_destroy"),
    (r"ForceDeleteWithoutRecovery", "boolean", "true", "backup_destroy"),
    (r"\w*BackupRetentionPeriod\w*|\w*SnapshotRetentionPeriod", "integer", "0", "backup_destroy"),
    (r"DeletionProtection(Enabled)?|\w*TerminationProtection\w*", "boolean", "false",
     "protection_disable"),
    (r"(Force|allow|should)?Overwrite\w*", "boolean", "true", "data_overwrite"),
    (r"DesiredCount|DesiredCapacity|MaxSize|MaxCapacity|Replicas", "integer", "0",
     "service_stop"),
)  # fmt: skip


def _has(name: str, phrases: tuple[str, ...]) -> bool:
    return any(phrase in name for phrase in phrases)


def _is_audit(service: str, name: str, obj: set[str]) -> bool:
    return service in _AUDIT_SERVICES or bool(obj & _AUDIT_WORDS) or _has(name, _AUDIT_PHRASES)


def _is_network(service: str, name: str, obj: set[str]) -> bool:
    return (
        service in _NETWORK_SERVICES
        or bool(obj & _NETWORK_WORDS)
        or _has(name, _NETWORK_PHRASES)
        or (service == "ec2" and bool(obj & _EC2_NETWORK_WORDS))
    )


def _is_identity(service: str, name: str, obj: set[str]) -> bool:
    joined = "".join(sorted(obj))
    return service in _IDENTITY_SERVICES or bool(obj & _IDENTITY_WORDS) or "AccessKey" in joined


def _delete_category(service: str, name: str, obj: set[str]) -> str:
    if _is_audit(service, name, obj):
        return "audit_tamper"
    if service in _BACKUP_SERVICES or obj & _BACKUP_WORDS:
        return "backup_destroy"
    if _is_network(service, name, obj):
        return "network_delete"
    if _is_identity(service, name, obj):
        return "identity_delete"
    if obj & _CONFIG_WORDS:
        return "config_delete"
    return "cloud_delete"


def categories_of(service: str, name: str, effect: str, obj: list[str]) -> tuple[str, ...]:
    """Destruction categories of an operation by its effect, service and object words."""
    words = set(obj)
    if effect in ("read", "write", "expire") or words & _HARMLESS_OBJECTS:
        return ()
    if effect == "delete":
        return (_delete_category(service, name, words),)
    if effect == "stop":
        if _is_audit(service, name, words):
            return ("audit_tamper",)
        return ("service_stop",) if obj and obj[-1] in _STOPPABLE else ()
    if effect == "disable":
        if _is_audit(service, name, words):
            return ("audit_tamper",)
        if service in _BACKUP_SERVICES:
            return ("backup_destroy",)
        if service in _IDENTITY_SERVICES and words & _IDENTITY_WORDS:
            return ("identity_delete",)
        return ("protection_disable",) if words & _PROTECTION_WORDS else ()
    if effect == "reset":
        return ("credential_reset",) if words & {"Password", "Credential", "Key"} else ()
    return ()  # detach, revoke: access changes, destroying nothing (a reviewed override may)


# Verbs that make something new: their settings (no backups, no deletion protection, zero
# replicas) change nothing that exists, except an overwrite.
_CREATING = {
    "Create", "Restore", "Copy", "Import", "Register", "Run", "Launch", "Clone", "Allocate",
    "Purchase", "Request", "Provision", "Add", "Start", "Upload", "Send", "Publish", "Invoke",
}  # fmt: skip


def conditions_of(members: dict[str, str], creating: bool = False) -> tuple[str, ...]:
    """`Member=value>category` for each input member that can make the call destructive."""
    found = []
    for member, member_type in sorted(members.items()):
        for pattern, wanted_type, value, category in _CONDITIONS:
            if creating and category != "data_overwrite":
                continue
            if member_type == wanted_type and re.fullmatch(pattern, member, re.IGNORECASE):
                found.append(f"{member}={value}>{category}")
                break
    return tuple(found)


def derive(service: str, name: str, members: dict[str, str]) -> Verdict:
    """The verdict of one operation from its model: effect, categories, conditions."""
    verb, obj = verb_and_object(name)
    effect = EFFECTS.get(verb, "write")
    if verb in _STARTS_A_DELETE and {"Deletion", "Delete"} & set(obj) and "Protection" not in obj:
        effect = "delete"  # ScheduleKeyDeletion, StartRemoteDelete (not CancelKeyDeletion)
    categories = categories_of(service, name, effect, obj)
    conditions = () if effect == "read" else conditions_of(members, verb in _CREATING)
    return effect, categories, conditions
