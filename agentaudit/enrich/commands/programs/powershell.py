"""PowerShell cmdlets (`Verb-Noun`) and Windows package managers.

A cmdlet's verb says what it does and its noun what it hits, and the noun's module prefix says
where: `Remove-AzResourceGroup` (Az) and `Remove-S3Bucket` (AWS Tools) delete cloud resources,
`Remove-Item` deletes files (analysed as `rm`), `Clear-EventLog` erases an audit trail, while
`Remove-PsrlDuplicateHistory` or `Remove-Module` touch only the session or a local helper object
and destroy nothing. `winget uninstall` removes an installed program, not data.
"""

from __future__ import annotations

import dataclasses
import re

from agentaudit.enrich.commands.model import Finding
from agentaudit.enrich.commands.parse import SimpleCommand
from agentaudit.enrich.commands.programs import fs, hygiene
from agentaudit.enrich.commands.programs.base import Analyser, Context

# Approved PowerShell verbs that destroy or stop (Get-Verb); the others read or create.
_DESTROYING_VERBS = {"remove", "clear", "uninstall", "stop", "disable", "format", "reset"}
_CMDLET = re.compile(r"^([A-Za-z]+)-([A-Za-z][A-Za-z0-9]*)$")
# Module noun prefixes of the cloud modules -> provider (Az, AWS Tools, Google Cloud Tools).
_CLOUD_PREFIXES = (
    ("Az", "azure"), ("AzureRm", "azure"), ("Mg", "azure"),
    ("S3", "aws"), ("EC2", "aws"), ("RDS", "aws"), ("IAM", "aws"), ("CT", "aws"),
    ("CWL", "aws"), ("KMS", "aws"), ("SEC", "aws"), ("SSM", "aws"), ("DDB", "aws"),
    ("LM", "aws"), ("ECS", "aws"), ("EKS", "aws"), ("CFN", "aws"), ("R53", "aws"),
    ("ELB2", "aws"), ("BAK", "aws"), ("GD", "aws"),
    ("Gcs", "gcp"), ("Gce", "gcp"), ("GcSql", "gcp"), ("Gc", "gcp"),
)  # fmt: skip
_BACKUP_NOUNS = re.compile(r"Snapshot|Backup|RecoveryPoint|RecoveryServices|Vault", re.I)
_AUDIT_NOUNS = re.compile(r"Log|Trail|Diagnostic|Audit|Alert|Monitor", re.I)
_IDENTITY_NOUNS = re.compile(  # at the noun's start: ResourceGroup is not a group of people
    r"(AD|IAM|Mg)?(User|Group|Role|ServicePrincipal|Application|AccessKey|LoginProfile|Credential)",
    re.I,
)
# PSReadLine's history file, where PowerShell keeps what was typed (the shell's audit trail).
_PS_HISTORY = re.compile(
    r"ConsoleHost_history|HistorySavePath|Get-PSReadLineOption|PSReadLine[/\\]", re.I
)
# Local objects whose removal destroys data or a trail.
_LOCAL = {
    ("clear", "eventlog"): ("audit_tamper", "high", "erases a Windows event log"),
    ("remove", "eventlog"): ("audit_tamper", "high", "deletes a Windows event log"),
    ("clear", "recyclebin"): ("fs_delete", "medium", "empties the recycle bin for good"),
    ("clear", "content"): ("data_overwrite", "medium", "empties a file in place"),
    ("format", "volume"): ("disk_wipe", "critical", "formats a volume"),
    ("clear", "disk"): ("disk_wipe", "critical", "wipes a disk"),
    ("remove", "partition"): ("disk_wipe", "critical", "deletes a partition"),
    ("remove", "localuser"): ("identity_delete", "high", "deletes a local user"),
    ("remove", "aduser"): ("identity_delete", "high", "deletes a directory user"),
    ("remove", "adgroup"): ("identity_delete", "high", "deletes a directory group"),
    ("remove", "adcomputer"): ("identity_delete", "high", "deletes a directory computer account"),
    ("stop", "computer"): ("service_disrupt", "medium", "shuts the machine down"),
    ("remove", "vm"): ("cloud_delete", "high", "deletes a Hyper-V virtual machine"),
    ("remove", "vmsnapshot"): ("backup_destroy", "high", "deletes a Hyper-V checkpoint"),
    ("remove", "vmhdd"): ("cloud_delete", "high", "removes a Hyper-V virtual disk"),
}
_ITEM_NOUNS = {"item"}  # Remove-Item and its aliases: files and folders
_ITEM_ALIASES = {"ri", "del", "erase", "rd"}  # (rm, rmdir: the POSIX programs' analysers)
_PATH_OPTIONS = {"-path", "-literalpath", "-lp", "-pspath"}


def _provider(noun: str) -> tuple[str, str] | None:
    """(provider, noun without its module prefix) of a cloud module's noun."""
    for prefix, provider in _CLOUD_PREFIXES:  # cmdlet names are case-insensitive
        rest = noun[len(prefix) :]
        if (
            noun.lower().startswith(prefix.lower())
            and rest
            and (rest[0].isupper() or noun.islower())
        ):
            return provider, rest
    return None


def _cloud_category(verb: str, noun: str) -> str | None:
    if verb == "stop":
        return "service_disrupt"
    if verb not in ("remove", "clear", "disable", "reset"):
        return None
    if _BACKUP_NOUNS.search(noun):
        return "backup_destroy"
    if _AUDIT_NOUNS.search(noun):
        return "audit_tamper"
    if _IDENTITY_NOUNS.match(noun):
        return "identity_delete"
    if verb == "remove":
        return "cloud_delete"
    return None


def _remove_item(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    """`Remove-Item -Recurse -Force path` is `rm -rf path`: the file analysers judge it."""
    paths: list[str] = []
    recursive = False
    args = cmd.argv[1:]
    skip = False
    for index, arg in enumerate(args):
        if skip:
            skip = False
            continue
        lower = arg.lower()
        if lower in _PATH_OPTIONS and index + 1 < len(args):
            paths.append(args[index + 1])
            skip = True
        elif lower in ("-recurse", "-r"):
            recursive = True
        elif not arg.startswith("-"):
            paths.append(arg)
    if not paths:
        return []
    as_rm = dataclasses.replace(cmd, argv=["rm", "-f" + ("r" if recursive else ""), *paths])
    found = fs.rm(as_rm, ctx) + hygiene.audit_tamper(as_rm, ctx)
    operation = " ".join(cmd.argv[:1] + (["-Recurse"] if recursive else []))
    history = next((p for p in paths if _PS_HISTORY.search(p)), None)
    if history and not any(f.category == "audit_tamper" for f in found):
        found.append(Finding("powershell.history-delete", "audit_tamper", "high",
                             f"{cmd.program} deletes the PowerShell history file",
                             target=history))  # fmt: skip
    return [dataclasses.replace(f, operation=operation) for f in found]


def cmdlet(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    match = _CMDLET.match(cmd.program)
    if match is None:
        return _remove_item(cmd, ctx)  # an alias of Remove-Item
    verb, noun = match.group(1).lower(), match.group(2)
    if verb == "remove" and noun.lower() in _ITEM_NOUNS:
        return _remove_item(cmd, ctx)
    target = next((a for a in cmd.argv[1:] if not a.startswith("-")), None)
    local = _LOCAL.get((verb, noun.lower()))
    if local:
        category, severity, what = local
        return [
            Finding(f"powershell.{cmd.program}", category, severity, f"{cmd.program} {what}",
                    operation=cmd.program, target=target)
        ]  # fmt: skip
    cloud = _provider(noun)
    category = _cloud_category(verb, cloud[1]) if cloud else None
    if cloud is None or category is None:
        return []  # a session, module, history or helper object: nothing is destroyed
    severity = "critical" if category in ("backup_destroy", "audit_tamper") else "high"
    if category == "service_disrupt":
        severity = "medium"
    return [
        Finding(f"powershell.{cmd.program}", category, severity,
                f"{cmd.program} {'stops' if verb == 'stop' else 'removes'} a {cloud[0]} resource",
                operation=cmd.program, target=target, scope="remote", provider=cloud[0])
    ]  # fmt: skip


def package_manager(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    """`winget uninstall`, `choco uninstall`, `scoop uninstall`: software, not data."""
    return []


def handler_for(program: str) -> Analyser | None:
    """The analyser of a cmdlet name (`Remove-AzVM`) or a Remove-Item alias, else None."""
    match = _CMDLET.match(program)
    if match and match.group(1).lower() in _DESTROYING_VERBS:
        return cmdlet
    if program.lower() in _ITEM_ALIASES:
        return cmdlet
    return None


PROGRAMS: dict[str, Analyser] = {
    "winget": package_manager,
    "winget.exe": package_manager,
    "choco": package_manager,
    "scoop": package_manager,
}
