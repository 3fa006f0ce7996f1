"""GitLab group audit events: `GET /api/v4/groups/{account}/audit_events`, keyset pagination
(`pagination=keyset`, the `Link: rel="next"` header), `created_after` from the cursor;
`PRIVATE-TOKEN` header. For the instance endpoint pass `--endpoint .../api/v4/audit_events`."""

from __future__ import annotations

from typing import Any

from agentaudit.receivers.pull.rest import Platform, iso, link_next


def _first(cursor: str | None, size: int) -> dict[str, str]:
    params = {"pagination": "keyset", "order_by": "id", "sort": "asc", "per_page": str(size)}
    return {**params, "created_after": cursor} if cursor else params


def _next(page: Any, headers: Any, request: tuple[str, dict[str, str]]):
    url = link_next(headers)
    return (url, {}) if url else None


PLATFORM = Platform(
    name="gitlab",
    title="GitLab",
    collector="gitlab.audit",
    endpoint="https://gitlab.com/api/v4/groups/{account}/audit_events",
    token_env="GITLAB_TOKEN",
    auth=lambda token: {"PRIVATE-TOKEN": token},
    first=_first,
    next=_next,
    records=lambda page: page if isinstance(page, list) else [],
    time_of=lambda record: iso(record.get("created_at")),
    account_help="group id or URL-encoded path",
)
