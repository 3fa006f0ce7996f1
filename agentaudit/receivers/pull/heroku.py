"""Heroku Enterprise audit trail: `GET https://api.heroku.com/enterprise-accounts/{account}/events`
answers one day per request (`day=YYYY-MM-DD`, data up to midnight UTC); the pull walks the
days from the cursor's day (or `FIRST_PULL_DAYS` ago) to today. Bearer token, Platform API v3.
Older months are in the monthly archives (`.../archives`), read with `agentaudit ingest`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from agentaudit.receivers.pull.rest import Platform, iso

FIRST_PULL_DAYS = 30


def _first(cursor: str | None, size: int) -> dict[str, str]:
    start = (
        datetime.fromisoformat(cursor).date() if cursor else _today() - timedelta(FIRST_PULL_DAYS)
    )
    return {"day": start.isoformat()}


def _next(page: Any, headers: Any, request: tuple[str, dict[str, str]]):
    following = date.fromisoformat(request[1]["day"]) + timedelta(days=1)
    return (request[0], {"day": following.isoformat()}) if following <= _today() else None


def _today() -> date:
    return datetime.now(UTC).date()


PLATFORM = Platform(
    name="heroku",
    title="Heroku",
    collector="heroku.audit",
    endpoint="https://api.heroku.com/enterprise-accounts/{account}/events",
    token_env="HEROKU_API_KEY",
    auth=lambda token: {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.heroku+json; version=3",
    },
    first=_first,
    next=_next,
    records=lambda page: page if isinstance(page, list) else [],
    time_of=lambda record: iso(record.get("created_at")),
    account_help="enterprise account id or name",
    walks_days=True,
)
