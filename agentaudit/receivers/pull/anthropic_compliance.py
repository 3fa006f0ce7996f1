"""Anthropic Compliance API activities: `GET https://api.anthropic.com/v1/compliance/activities`,
newest first; `created_at[gt]` from the cursor, `after_id=<last_id>` while `has_more`;
`x-api-key` (a Compliance Access Key)."""

from __future__ import annotations

from typing import Any

from agentaudit.receivers.pull.rest import Platform, iso


def _first(cursor: str | None, size: int) -> dict[str, str]:
    params = {"limit": str(size)}
    return {**params, "created_at[gt]": cursor} if cursor else params


def _next(page: Any, headers: Any, request: tuple[str, dict[str, str]]):
    if not isinstance(page, dict) or not page.get("has_more") or not page.get("last_id"):
        return None
    return (request[0], {**request[1], "after_id": page["last_id"]})


PLATFORM = Platform(
    name="anthropic",
    title="Anthropic Compliance API",
    collector="anthropic.compliance",
    endpoint="https://api.anthropic.com/v1/compliance/activities",
    token_env="ANTHROPIC_COMPLIANCE_KEY",
    auth=lambda token: {"x-api-key": token, "anthropic-version": "2023-06-01"},
    first=_first,
    next=_next,
    records=lambda page: page.get("data") or [] if isinstance(page, dict) else [],
    time_of=lambda record: iso(record.get("created_at")),
    account_help="organization (labels the stored cursor)",
)
