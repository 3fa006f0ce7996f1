"""Vercel audit actions (drain `action`, REST `type`). Vercel publishes no list of the strings
(the activity-log page describes events in prose): names seen in its docs and drains are in
`platform_actions.yaml`, the rest read by verb and object (`project.deleted`, `domain-delete`)."""

from __future__ import annotations

from typing import Any

from agentaudit.enrich.catalog._actions import classify_platform_action


def classify(operation: str, record: dict[str, Any]) -> list[str]:
    return classify_platform_action("vercel", operation)
