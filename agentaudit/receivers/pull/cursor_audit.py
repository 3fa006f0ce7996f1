"""Cursor Enterprise audit log: `GET https://api.cursor.com/teams/audit-logs`, `startDate`
from the cursor, page numbers while `pagination.hasNextPage`; the Admin API key as the HTTP
Basic user name. The Admin API keeps 30 days."""

from __future__ import annotations

import base64
from typing import Any

from agentaudit.receivers.pull.rest import Platform, iso


def _first(cursor: str | None, size: int) -> dict[str, str]:
    params = {"page": "1", "pageSize": str(size)}
    return {**params, "startDate": cursor} if cursor else params


def _next(page: Any, headers: Any, request: tuple[str, dict[str, str]]):
    paging = page.get("pagination") or {} if isinstance(page, dict) else {}
    if not paging.get("hasNextPage"):
        return None
    return (request[0], {**request[1], "page": str(int(request[1].get("page", "1")) + 1)})


PLATFORM = Platform(
    name="cursor",
    title="Cursor",
    collector="cursor.audit",
    endpoint="https://api.cursor.com/teams/audit-logs",
    token_env="CURSOR_ADMIN_API_KEY",
    auth=lambda token: {
        "Authorization": "Basic " + base64.b64encode(f"{token}:".encode()).decode()
    },
    first=_first,
    next=_next,
    records=lambda page: page.get("events") or [] if isinstance(page, dict) else [],
    time_of=lambda record: iso(record.get("timestamp")),
    account_help="team name (labels the stored cursor)",
)
