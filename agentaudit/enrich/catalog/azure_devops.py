"""Azure DevOps audit `actionId`s: the names listed in `platform_actions.yaml`
(MicrosoftDocs azure-devops-docs `auditing-events.md`), then the verb reading."""

from __future__ import annotations

from typing import Any

from agentaudit.enrich.catalog._actions import classify_platform_action


def classify(operation: str, record: dict[str, Any]) -> list[str]:
    return classify_platform_action("azure-devops", operation)
