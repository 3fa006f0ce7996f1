"""Anthropic Compliance API activity types: guard and audit settings changed are tamper
(listed in `platform_actions.yaml`); the rest by verb (`*_deleted`, `*_revoked`, `*_archived`)."""

from __future__ import annotations

from typing import Any

from agentaudit.enrich.catalog._actions import classify_platform_action


def classify(operation: str, record: dict[str, Any]) -> list[str]:
    return classify_platform_action("anthropic", operation)
