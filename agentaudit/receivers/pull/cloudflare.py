"""Cloudflare account audit logs v2: `GET /accounts/{account}/logs/audit`, `since`/`before`
(both required), `direction=asc`, pages by `result_info.cursor`; Bearer API token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agentaudit.receivers.pull.rest import Platform, iso

FIRST_PULL = timedelta(days=90)  # what the v2 dashboard shows; the API keeps 18 months


def _first(cursor: str | None, size: int) -> dict[str, str]:
    now = datetime.now(UTC)
    since = cursor or (now - FIRST_PULL).isoformat()
    return {"since": since, "before": now.isoformat(), "limit": str(size), "direction": "asc"}


def _next(page: Any, headers: Any, request: tuple[str, dict[str, str]]):
    cursor = (page.get("result_info") or {}).get("cursor") if isinstance(page, dict) else None
    return (request[0], {**request[1], "cursor": cursor}) if cursor else None


PLATFORM = Platform(
    name="cloudflare",
    title="Cloudflare",
    collector="cloudflare.audit",
    endpoint="https://api.cloudflare.com/client/v4/accounts/{account}/logs/audit",
    token_env="CLOUDFLARE_API_TOKEN",
    auth=lambda token: {"Authorization": f"Bearer {token}"},
    first=_first,
    next=_next,
    records=lambda page: page.get("result") or [] if isinstance(page, dict) else [],
    time_of=lambda record: iso((record.get("action") or {}).get("time")),
)
