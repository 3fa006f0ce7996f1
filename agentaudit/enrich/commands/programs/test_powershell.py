"""PowerShell cmdlets by verb and noun: a local helper's `Remove-` destroys nothing, a cloud
module's `Remove-` deletes a cloud resource, `Remove-Item` is judged as `rm`, and uninstalling
software is not a delete."""

from __future__ import annotations

import pytest

from agentaudit.enrich.commands.analysis import analyze_command
from agentaudit.taxonomy import severity_rank


@pytest.mark.parametrize(
    "command",
    [
        "Remove-PsrlDuplicateHistory",
        "Add-PsrlHistoryCommon; Remove-PsrlDuplicateHistory; Edit-PsrlHistory",
        "winget uninstall --source winget --exact --id Microsoft.DotNet.SDK.8",
        "choco uninstall nodejs -y",
        "Uninstall-Module Az",
        "Remove-Module PSReadLine",
        "Remove-Variable foo",
        "Clear-History",
        "Get-ChildItem -Recurse",
    ],
)
def test_local_objects_and_software_are_not_deletes(command):
    found = analyze_command(command)
    assert not found.destructive and "cloud_delete" not in found.categories, found.reasons


@pytest.mark.parametrize(
    ("command", "category", "provider"),
    [
        ("Remove-AzResourceGroup -Name prod-rg -Force", "cloud_delete", "azure"),
        ("remove-azstorageaccount -Name prodstore", "cloud_delete", "azure"),
        ("Remove-AzRecoveryServicesVault -Vault $v", "backup_destroy", "azure"),
        ("Remove-AzRoleAssignment -ObjectId abc", "identity_delete", "azure"),
        ("Stop-AzVM -Name web1 -ResourceGroupName prod", "service_disrupt", "azure"),
        ("Remove-S3Bucket -BucketName prod-data -DeleteBucketContent", "cloud_delete", "aws"),
        ("Remove-EC2Snapshot -SnapshotId snap-1", "backup_destroy", "aws"),
        ("Remove-IAMUser -UserName bob", "identity_delete", "aws"),
        ("Remove-GcsBucket -Name prod", "cloud_delete", "gcp"),
    ],
)
def test_cloud_module_cmdlets_by_noun(command, category, provider):
    found = analyze_command(command)
    assert category in found.categories and found.provider == provider, found


@pytest.mark.parametrize(
    ("command", "category", "severity"),
    [
        ("Clear-EventLog -LogName Security", "audit_tamper", "high"),
        ("Format-Volume -DriveLetter D", "disk_wipe", "critical"),
        ("Remove-LocalUser -Name svc", "identity_delete", "high"),
        ("Clear-Content app.db", "data_overwrite", "medium"),
    ],
)
def test_local_cmdlets_that_destroy(command, category, severity):
    found = analyze_command(command)
    assert category in found.categories and found.severity == severity, found


def test_remove_item_is_judged_as_rm():
    recursive_home = analyze_command("Remove-Item -Recurse -Force ~/project", cwd="/home/dev/x")
    temp = analyze_command("Remove-Item -Recurse -Force /tmp/build-cache")
    assert recursive_home.categories == ("fs_delete",) and temp.categories == ("fs_delete",)
    assert severity_rank(recursive_home.severity) > severity_rank(temp.severity)
    assert analyze_command("ri -Path ./dist -Recurse").categories == ("fs_delete",)


@pytest.mark.parametrize(
    "command",
    [
        "Remove-Item (Get-PSReadLineOption).HistorySavePath",
        "Remove-Item ~/.local/share/powershell/PSReadLine/ConsoleHost_history.txt",
    ],
)
def test_deleting_the_powershell_history_is_audit_tamper(command):
    assert "audit_tamper" in analyze_command(command).categories


def test_the_corpus_history_has_no_cloud_delete_from_local_cmdlets(corpus):
    path = corpus / "powershell/psprofiles-ConsoleHost_history.txt"
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    flagged = {
        line: analyze_command(line).categories
        for line in lines
        if line and not line.startswith("#") and "cloud_delete" in analyze_command(line).categories
    }
    assert not any("Psrl" in line or line.startswith("winget") for line in flagged), flagged
