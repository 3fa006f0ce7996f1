"""The platform catalogs of issue 19: listed names, the verb reading for unlisted ones, and
names that must stay safe."""

from __future__ import annotations

import pytest
import yaml

from agentaudit import taxonomy
from agentaudit.enrich import catalog
from agentaudit.enrich.catalog._actions import _NAMES_FILE, by_verb


def test_every_listed_category_is_registered_and_destructive():
    listed = yaml.safe_load(_NAMES_FILE.read_text(encoding="utf-8"))
    for platform, categories in listed.items():
        assert platform in taxonomy.PROVIDERS and platform in catalog._PROVIDERS, platform
        for category in set(categories) - {"safe"}:
            assert category in taxonomy.CATEGORIES, (platform, category)
            assert taxonomy.is_destructive([category]), (platform, category)


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("project.deleted", ["cloud_delete"]),
        ("Git.RepositoryDestroyed", ["cloud_delete"]),
        ("personal_access_token_revoked", ["identity_delete"]),
        ("log-drain-removed", ["audit_tamper"]),
        ("AuditLog.StreamDisabledByUser", ["audit_tamper"]),
        ("snapshot_deleted", ["backup_destroy"]),
        ("env_variable_deleted", ["config_delete"]),
        ("dns_record.rec_del", ["network_delete"]),
        ("branch_protection_bypassed", ["protection_disable"]),
        ("project.created", []),
        ("deployment.promoted", []),
        ("user.login", []),
        ("team_settings.update", []),
    ],
)
def test_unlisted_actions_are_read_by_verb_and_object(action, expected):
    assert by_verb(action) == expected


@pytest.mark.parametrize(
    ("provider", "operation", "record", "expected"),
    [
        ("supabase", "token_revoked", {}, []),  # every refresh revokes the old token
        ("supabase", "user_deleted", {}, ["identity_delete"]),
        ("cloudflare", "dns_records.view", {}, []),
        ("cloudflare", "logpush.delete", {}, ["audit_tamper"]),
        ("cloudflare", "workers.delete", {}, ["cloud_delete"]),
        ("terraform-cloud", "run.apply", {"resource": {"meta": {"is_destroy": True}}}, ["infra_destroy"]),
        ("terraform-cloud", "run.apply", {"resource": {"meta": {}}}, []),
        ("terraform-cloud", "state_version.destroy", {}, ["backup_destroy"]),
        ("cursor", "team_hook.update", {"event_data": {"is_active": False}}, ["protection_disable"]),
        ("cursor", "team_hook.update", {"event_data": {"is_active": True}}, []),
        ("cursor", "remove_user", {}, ["identity_delete"]),
        ("heroku", "addon.destroy", {}, ["cloud_delete", "backup_destroy"]),
        ("postgresql", "DELETE", {"statement": "DELETE FROM orders;"}, ["db_destroy"]),
        ("postgresql", "DELETE", {"statement": "DELETE FROM orders WHERE id = 1;"}, []),
        ("mysql", "DROP TABLE", {"general_data": {"query": "DROP TABLE tmp_import"}}, []),
    ],
)  # fmt: skip
def test_platform_classification(provider, operation, record, expected):
    assert catalog.classify(provider, operation, record) == expected
