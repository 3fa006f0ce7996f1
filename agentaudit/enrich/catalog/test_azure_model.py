"""The Azure catalog with the ARM operations the azure-mgmt SDKs define: every operation has a
verdict, the checked-in table is what the installed SDKs give, the destructive list is
reviewed, and the corpus' operation names keep their verdicts."""

from __future__ import annotations

import difflib
import json
import sysconfig
from pathlib import Path

import pytest

from agentaudit.enrich import catalog
from agentaudit.enrich.catalog import azure, azure_model

DATA = Path(azure.__file__).with_name("data")


def destructive_lines() -> list[str]:
    return sorted(
        f"{name} {','.join(found)}"
        for name in azure_model.load()
        if (found := azure.classify(name, {}))
    )


def test_regenerating_the_table_from_the_installed_sdks_gives_the_checked_in_one():
    if not (Path(sysconfig.get_paths()["purelib"]) / "azure" / "mgmt").is_dir():
        pytest.skip("pip install 'agentaudit[models]' to regenerate")
    built = azure_model.dumps(azure_model.build())
    checked_in = azure_model.TABLE.read_text(encoding="utf-8")
    diff = list(difflib.unified_diff(checked_in.splitlines(), built.splitlines(), lineterm=""))
    assert not diff, "review and regenerate data/azure_operations.json:\n" + "\n".join(diff[:80])


def test_every_sdk_operation_has_a_verdict_and_the_destructive_ones_are_reviewed():
    table = azure_model.load()
    assert len(table) > 2500
    assert {azure.verdict(name)[0] for name in table} == {"read", "write", "delete", "action"}
    reviewed = (DATA / "azure_destructive.txt").read_text(encoding="utf-8").splitlines()
    diff = list(difflib.unified_diff(reviewed, destructive_lines(), lineterm=""))
    assert not diff, "review, then rewrite data/azure_destructive.txt:\n" + "\n".join(diff[:80])


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("Microsoft.Sql/servers/delete", ["cloud_delete"]),
        ("MICROSOFT.RESOURCES/SUBSCRIPTIONS/RESOURCEGROUPS/DELETE", ["cloud_delete"]),
        ("microsoft.keyvault/locations/deletedvaults/purge/action", ["backup_destroy"]),
        ("Microsoft.Storage/storageAccounts/regenerateKey/action", ["credential_reset"]),
        ("Microsoft.Compute/virtualMachines/deallocate/action", ["service_stop"]),
        ("Microsoft.Automation/automationAccounts/jobs/stop/action", []),
        ("Microsoft.Compute/virtualMachines/read", []),
        ("Microsoft.Insights/diagnosticSettings/delete", ["audit_tamper"]),
    ],
)
def test_operations(operation, expected):
    assert catalog.classify("azure", operation, {}) == expected


def test_every_corpus_operation_gets_a_verdict(corpus):
    names = set()
    for path in sorted((corpus / "azure").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line) if line.strip() else {}
            record = record.get("log", record)
            name = record.get("operationName") or record.get("operation_name")
            if isinstance(name, dict):
                name = name.get("value")
            if name:
                names.add(str(name))
    assert len(names) > 40
    verdicts = {name: azure.verdict(name) for name in names}
    assert all(effect in {"read", "write", "delete", "action"} for effect, _ in verdicts.values())
    from_model = [name for name, (_effect, source) in verdicts.items() if source == "model"]
    assert len(from_model) >= 25, sorted(names - set(from_model))
