"""Supabase Auth audit actions (supabase/auth `internal/models/audit_log_entry.go`), listed in
`platform_actions.yaml`. `token_revoked` is safe: every refresh logs it."""

from __future__ import annotations

from typing import Any

from agentaudit.enrich.catalog._actions import classify_platform_action


def classify(operation: str, record: dict[str, Any]) -> list[str]:
    return classify_platform_action("supabase", operation)
