"""GitHub audit log (organisation or enterprise), which carries the Copilot coding agent's
events: `GET https://api.github.com/orgs/{org}/audit-log` or `/enterprises/{enterprise}/audit-log`
with `order=asc`, `per_page` (at most 100), `include=web|git|all` and, from the cursor,
`phrase=created:>=<time>` (GitHub's search syntax, to the second: the overlap is deduplicated
by `_document_id`); pages continue through the `Link: rel="next"` URL (its `after` cursor).
Bearer token (`read:audit_log`, or `admin:org`/`admin:enterprise`) with `X-GitHub-Api-Version`.
Rate limits answer 429 or 403: a 403 that carries `Retry-After` or `x-ratelimit-remaining: 0`
is a limit (waited out: `Retry-After`, else `x-ratelimit-reset`), any other 403 a refusal.
GitHub keeps web events 180 days and Git events 7 days (agentaudit/health/pulls.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from agentaudit.receivers.pull.rest import Platform, iso, link_next

API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
INCLUDE = ("web", "git", "all")
MAX_PAGE = 100  # the endpoint's largest per_page


def endpoint(api_url: str = API_URL, *, enterprise: str | None = None, include: str = "all") -> str:
    """The audit-log URL at `api_url` (GitHub.com, `https://api.<subdomain>.ghe.com` for data
    residency, or a test server): an organisation's (`{account}`, filled in by the engine),
    or the named enterprise's."""
    if include not in INCLUDE:
        raise ValueError(f"--include must be one of {', '.join(INCLUDE)}, not {include!r}")
    owner = f"enterprises/{quote(enterprise, safe='')}" if enterprise else "orgs/{account}"
    return f"{api_url.rstrip('/')}/{owner}/audit-log?include={include}"


def cursor_label(account: str, *, enterprise: bool) -> str:
    """The account its cursor and health are kept under: an enterprise never shares an
    organisation's cursor, even under the same slug."""
    return f"enterprise-{account}" if enterprise else account


def _first(cursor: str | None, size: int) -> dict[str, str]:
    params = {"order": "asc", "per_page": str(min(size, MAX_PAGE))}
    return {**params, "phrase": f"created:>={since(cursor)}"} if cursor else params


def since(cursor: str) -> str:
    """The cursor as the `created` qualifier writes a time: UTC, rounded down to the second
    (rounding up could skip an event)."""
    when = datetime.fromisoformat(cursor).astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _next(page: Any, headers: Any, request: tuple[str, dict[str, str]]):
    url = link_next(headers)
    return (url, {}) if url else None


def rate_limited(headers: Mapping[str, str]) -> bool:
    """GitHub answers a primary or secondary rate limit with 403 as well as 429."""
    return headers.get("Retry-After") is not None or headers.get("x-ratelimit-remaining") == "0"


def _time(record: dict[str, Any]) -> str | None:
    return iso(record.get("@timestamp", record.get("created_at")))


PLATFORM = Platform(
    name="github",
    title="GitHub",
    collector="github.audit",
    endpoint=endpoint(),
    token_env="GITHUB_TOKEN",
    auth=lambda token: {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
    },
    first=_first,
    next=_next,
    records=lambda page: page if isinstance(page, list) else [],
    time_of=_time,
    account_help="organization (or enterprise slug with --enterprise)",
    rate_reset_header="x-ratelimit-reset",
    throttled_403=rate_limited,
)
