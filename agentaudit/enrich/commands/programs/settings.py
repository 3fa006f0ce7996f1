"""Destruction without a delete verb: settings whose new value loses data or service.

Read from option names and values, whatever the CLI: a replica or instance count set to 0
(`kubectl scale --replicas=0`, `--desired-count 0`, `fly scale count 0`, `ps:scale web=0`),
backups turned off or their retention cut (`--backup-retention-period 0`, `--no-backup`,
`PointInTimeRecoveryEnabled=false`, versioning `Suspended`, soft delete off, lifecycle rules
that expire objects), log retention cut to days (an audit trail lost), restores that drop
the live data first (`pg_restore --clean`, `mongorestore --drop`).
"""

from __future__ import annotations

import json
import re

from agentaudit.enrich.commands.argv import Invocation, invocation
from agentaudit.enrich.commands.model import Finding
from agentaudit.enrich.commands.parse import SimpleCommand
from agentaudit.enrich.commands.programs.base import Context

_COUNT_OPTION = re.compile(
    r"^--?(replicas|desired-count|desired-capacity|max-size|max-instances|max-capacity|"
    r"num-nodes|node-count|instance-count|count|scale|max-replicas|min-instances-and-max)$"
)
_RETENTION_OPTION = re.compile(r"^--?[\w-]*retention[\w-]*$")
_BACKUP_OFF_FLAG = re.compile(
    r"^--(no-backups?|no-enable-point-in-time-recovery|no-enable-backup|clear-soft-delete|"
    r"disable-backups?|no-automated-backups|skip-backups?|no-enable-bin-log|"
    r"clear-retention-policy|no-versioning|disable-soft-delete|no-deletion-protection-backup)$"
)
_BACKUP_OFF_OPTION = re.compile(
    r"^--(enable-(delete-retention|versioning|soft-delete|backups?|point-in-time-recovery|"
    r"container-delete-retention)|backup|backups|automated-backups|versioning)$"
)
_OFF_VALUES = {"false", "0", "no", "off", "disabled", "disable", "suspended", "none"}
_KEY_VALUE_OFF = re.compile(
    r"(?i)(PointInTimeRecoveryEnabled|BackupEnabled|Enabled|versioning|MfaDelete|"
    r"\"?Status\"?)\s*[=:]\s*\"?(false|suspended|disabled)\b"
)
_LOG_CONTEXT = re.compile(r"(?i)(^|[\s/_-])(logs?|logging|cloudtrail|trail|audit|monitor|"
                          r"diagnostic|sinks?|journal|siem|workspace|insights)([\s/_-]|$)")  # fmt: skip
_SHORT_RETENTION_DAYS = 7


def _finding(rule: str, category: str, severity: str, reason: str, inv: Invocation) -> Finding:
    operation = " ".join([inv.program, *inv.words[:3]])
    target = next((w for w in inv.words[2:4] if not w.isdigit()), None)
    return Finding(f"settings.{rule}", category, severity, reason, operation=operation,
                   target=target, scope="remote")  # fmt: skip


def destructive_settings(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    inv = invocation(cmd.program, cmd.argv[1:])
    if not inv.options and "scale" not in " ".join(inv.words[:3]):
        return []
    findings: list[Finding] = []
    context = " ".join([inv.program, *inv.words[:4]])
    for name, value in inv.values:
        low = value.strip().lower()
        if _COUNT_OPTION.match(name) and low == "0":
            findings.append(_finding("scale-zero", "service_disrupt", "high",
                                     f"{name}=0 stops every replica or instance", inv))  # fmt: skip
        elif _RETENTION_OPTION.match(name) and _short_days(low) is not None:
            audit = bool(_LOG_CONTEXT.search(context)) and "backup" not in name
            findings.append(
                _finding("retention-cut", "audit_tamper" if audit else "backup_destroy",
                         "critical" if audit else "high",
                         f"{name} {value}: {'logs' if audit else 'backups'} kept {low} day(s) at most",
                         inv)
            )  # fmt: skip
        elif _BACKUP_OFF_OPTION.match(name) and low in _OFF_VALUES:
            findings.append(_finding("backups-off", "backup_destroy", "high",
                                     f"{name} {value} turns backups, versioning or soft delete off",
                                     inv))  # fmt: skip
        elif _KEY_VALUE_OFF.search(value) and re.search(
            r"(?i)version|recovery|backup", name + value
        ):
            findings.append(_finding("backups-off", "backup_destroy", "high",
                                     f"{name} turns versioning or point-in-time recovery off", inv))  # fmt: skip
        elif _JSON_RETENTION.search(value) and _short_json_days(value):
            findings.append(_finding("retention-cut", "backup_destroy", "high",
                                     f"{name} keeps backups or objects {_short_json_days(value)} day(s) at most",
                                     inv))  # fmt: skip
        elif "lifecycle" in name and _expires(value):
            findings.append(_finding("lifecycle-expire", "backup_destroy", "high",
                                     "a lifecycle rule expires (deletes) objects", inv))  # fmt: skip
    if (
        inv.program == "az"
        and "deployment" in inv.words[:1]
        and (inv.value("--mode") or "").lower() == "complete"
    ):
        findings.append(_finding("complete-mode", "cloud_delete", "high",
                                 "a Complete-mode deployment deletes every resource of the group "
                                 "that the template does not name", inv))  # fmt: skip
    module = (inv.value("-m", "--module-name") or "").rsplit(".", 1)[-1]
    module_args = " ".join(inv.all_values("-a", "--args"))
    if inv.program == "ansible" and module == "file" and "state=absent" in module_args:
        path = re.search(r"(?:path|dest|name)=(\S+)", module_args)
        where = path.group(1) if path else None
        findings.append(Finding("settings.ansible-absent", "fs_delete", "high",
                                f"the file module with state=absent deletes {where or 'a path'} "
                                "on every host of the pattern", operation="ansible -m file state=absent",
                                target=where, scope="remote"))  # fmt: skip
    if _LOG_CONTEXT.search(context) and inv.has("--disabled", "--disable", "--no-enable-logging"):
        findings.append(_finding("audit-off", "audit_tamper", "critical",
                                 "turns a log or audit export off", inv))  # fmt: skip
    pieces = {p for w in inv.words[:3] for p in re.split(r"[:._-]", w.lower())}
    if pieces & {"backup", "backups", "pitr", "snapshot", "snapshots"} and pieces & {
        "unschedule",
        "disable",
        "off",
        "stop",
        "cancel",
        "suspend",
    }:
        findings.append(_finding("backups-off", "backup_destroy", "high",
                                 f"{' '.join(inv.words[:2])} stops scheduled backups", inv))  # fmt: skip
    for flag in inv.options:
        if _BACKUP_OFF_FLAG.match(flag):
            findings.append(_finding("backups-off", "backup_destroy", "high",
                                     f"{flag} turns backups or soft delete off", inv))  # fmt: skip
    findings += _scale_words(inv)
    return findings


_JSON_RETENTION = re.compile(
    r"(?i)\"?(DeleteAfterDays|ExpireAfterDays|RetentionDays|RetentionInDays|RetentionPeriod|"
    r"BackupRetentionPeriod|NoncurrentDays|Days)\"?\s*[:=]\s*(\d+)"
)


def _short_json_days(value: str) -> str | None:
    """A JSON or shorthand setting that keeps backups or objects under a week."""
    for match in _JSON_RETENTION.finditer(value):
        if int(match.group(2)) < _SHORT_RETENTION_DAYS and (
            match.group(1).lower() != "days" or re.search(r"(?i)expir", value)
        ):
            return match.group(2)
    return None


def _short_days(value: str) -> int | None:
    match = re.fullmatch(r"(\d+)\s*(d|days?)?", value)
    if not match:
        return None
    days = int(match.group(1))
    return days if days < _SHORT_RETENTION_DAYS else None


def _expires(value: str) -> bool:
    try:
        data = json.loads(value)
    except ValueError:
        return bool(re.search(r"(?i)expiration|\"?age\"?\s*[:=]\s*\d", value))
    rules = data.get("Rules") or data.get("rule") or data.get("lifecycle", {}).get("rule", [])
    return any(
        isinstance(r, dict)
        and (
            "Expiration" in r
            or "NoncurrentVersionExpiration" in r
            or "delete" in str(r.get("action", "")).lower()
        )
        and str(r.get("Status", "Enabled")) == "Enabled"
        for r in (rules if isinstance(rules, list) else [])
    )


def _scale_words(inv: Invocation) -> list[Finding]:
    """`fly scale count 0`, `heroku ps:scale web=0`, `docker compose up --scale web=0`."""
    words = [w.lower() for w in inv.words[:6]]
    scaling = any(w.endswith("scale") for w in words) or inv.has("--scale")
    if not scaling:
        return []
    counts = [w for w in words if re.fullmatch(r"[\w-]+=0", w)]
    counts += [v for v in inv.all_values("--scale") if v.endswith("=0")]
    if "count" in words and words[words.index("count") + 1 : words.index("count") + 2] == ["0"]:
        counts.append("count 0")
    if not counts:
        return []
    return [_finding("scale-zero", "service_disrupt", "high",
                     f"scales to zero ({', '.join(counts)}): the service stops", inv)]  # fmt: skip


def restore_over_live(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    """pg_restore --clean / mongorestore --drop: live objects dropped before the old copy."""
    inv = invocation(cmd.program, cmd.argv[1:])
    dropping = inv.has("--clean", "-c") if cmd.program == "pg_restore" else inv.has("--drop")
    if not dropping:
        return []
    target = inv.value("-d", "--dbname", "--uri", "--db", "--host", "-h")
    return [Finding(f"db.{cmd.program}-drop", "data_overwrite", "high",
                    f"{cmd.program} drops the live database objects before restoring an old copy",
                    operation=f"{cmd.program} {'--clean' if cmd.program == 'pg_restore' else '--drop'}",
                    target=target)]  # fmt: skip


PROGRAMS = {"pg_restore": restore_over_live, "mongorestore": restore_over_live}
