"""Vercel activity log: `GET https://api.vercel.com/v3/events?teamId=...`, newest first;
`since` (epoch ms) from the cursor, then `until` = the oldest `createdAt` of the page until a
page is empty or short. Bearer token; a 429 says when to come back in `X-RateLimit-Reset`."""

from __future__ import annotations

from typing import Any

from agentaudit.receivers.pull.rest import Platform, iso


def _ms(text: str) -> str:
    from datetime import datetime

    return str(int(datetime.fromisoformat(text).timestamp() * 1000))


def _first(cursor: str | None, size: int) -> dict[str, str]:
    params = {"limit": str(size), "withPayload": "true"}
    return {**params, "since": _ms(cursor)} if cursor else params


def _next(page: Any, headers: Any, request: tuple[str, dict[str, str]]):
    events = page.get("events") or [] if isinstance(page, dict) else []
    times = [
        e["createdAt"]
        for e in events
        if isinstance(e, dict) and isinstance(e.get("createdAt"), int)
    ]
    if not times or len(events) < int(request[1].get("limit", "0")):
        return None
    return (request[0], {**request[1], "until": str(min(times))})


PLATFORM = Platform(
    name="vercel",
    title="Vercel",
    collector="vercel.audit",
    endpoint="https://api.vercel.com/v3/events?teamId={account}",
    token_env="VERCEL_TOKEN",
    auth=lambda token: {"Authorization": f"Bearer {token}"},
    first=_first,
    next=_next,
    records=lambda page: page.get("events") or [] if isinstance(page, dict) else [],
    time_of=lambda record: iso(record.get("createdAt")),
    account_help="team id",
    rate_reset_header="X-RateLimit-Reset",
)
