"""Heroku audit-trail actions, `<type>.<action>` (devcenter.heroku.com/articles/audit-trail),
listed in `platform_actions.yaml`; the rest by verb."""

from __future__ import annotations

from typing import Any

from agentaudit.enrich.catalog._actions import classify_platform_action


def classify(operation: str, record: dict[str, Any]) -> list[str]:
    if operation == "addon.destroy":  # a Postgres add-on takes its backups with it
        return ["cloud_delete", "backup_destroy"]
    return classify_platform_action("heroku", operation)
