"""GitLab audit `event_type`s: the names listed in `platform_actions.yaml`
(docs.gitlab.com/user/compliance/audit_event_types), then the verb reading for the rest."""

from __future__ import annotations

from typing import Any

from agentaudit.enrich.catalog._actions import classify_platform_action


def classify(operation: str, record: dict[str, Any]) -> list[str]:
    return classify_platform_action("gitlab", operation)
