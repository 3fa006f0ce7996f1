"""Supabase Auth audit events through the Management API's Logs Explorer endpoint:
`GET https://api.supabase.com/v1/projects/{ref}/analytics/endpoints/logs.all` with `sql`,
`iso_timestamp_start` and `iso_timestamp_end` (a personal access token as Bearer; OAuth scope
`analytics:read`). The answer is `{"result": [...], "error": ...}`; a window may be at most
24 hours and is rounded to the minute by the server, so the pull walks 24-hour windows from
the cursor's minute (rounded down: rounding up could skip events) to now, and pages inside a
window with `LIMIT`/`OFFSET` on a stable order. It reads the `auth_logs` source (GoTrue's log
lines), keeping the lines that carry an `auth_audit_event`: each row (`id`, `timestamp` in
epoch microseconds, `event_message` = the GoTrue JSON line) is read by the Supabase collector.
The endpoint is marked deprecated in favour of `.../logs` (ClickHouse SQL); `logs.all` still
answers in the BigQuery dialect used here. The Management API documents no export of the
platform (organization) audit log: it is in the dashboard and Audit Log Drains only.
How far back: the project's log retention (Free 1 day, Pro 7, Team 28, Enterprise 90).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from agentaudit.receivers.pull.rest import Platform, iso

WINDOW = timedelta(hours=24)  # the endpoint's widest range
FIRST_PULL = timedelta(days=7)  # Pro's log retention; older windows are empty
LONGEST_RETENTION = timedelta(days=90)  # Enterprise: a cursor older than this reads from here
MAX_ROWS = 1000  # a page never asks for more rows than this
# BigQuery dialect; `{limit}`/`{offset}` page inside one time window.
SQL = (
    "select id, timestamp, event_message from auth_logs"
    " where regexp_contains(event_message, 'auth_audit_event|auth_event')"
    " order by timestamp asc, id asc limit {limit} offset {offset}"
)


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(when: datetime) -> str:
    """The API's form: `2026-04-24T14:03:00Z` (whole minutes, UTC)."""
    return when.astimezone(UTC).replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _window(start: datetime, limit: int, offset: int) -> dict[str, str]:
    start = start.replace(second=0, microsecond=0)
    end = min(start + WINDOW, _now().replace(second=0, microsecond=0) + timedelta(minutes=1))
    return {
        "sql": SQL.format(limit=limit, offset=offset),
        "iso_timestamp_start": _stamp(start),
        "iso_timestamp_end": _stamp(end),  # whole minutes: never more than 24 hours
    }


def _paging(params: dict[str, str]) -> tuple[int, int]:
    """The page's LIMIT and OFFSET, read back from its SQL (the API takes no other parameter)."""
    found = re.search(r"limit (\d+) offset (\d+)$", params["sql"])
    return (int(found[1]), int(found[2])) if found else (MAX_ROWS, 0)


def _start(params: dict[str, str]) -> datetime:
    return datetime.fromisoformat(params["iso_timestamp_start"].replace("Z", "+00:00"))


def _first(cursor: str | None, size: int) -> dict[str, str]:
    start = datetime.fromisoformat(cursor) if cursor else _now() - FIRST_PULL
    start = max(start, _now() - LONGEST_RETENTION)  # older windows are empty everywhere
    return _window(start, min(size, MAX_ROWS), 0)


def _next(page: Any, headers: Any, request: tuple[str, dict[str, str]]):
    url, params = request
    limit, offset = _paging(params)
    if len(_rows(page)) >= limit:  # a full page: the same window goes on
        return (url, _window(_start(params), limit, offset + limit))
    following = _start(params) + WINDOW
    return (url, _window(following, limit, 0)) if following < _now() else None


def _rows(page: Any) -> list[Any]:
    return (page.get("result") or []) if isinstance(page, dict) else []


def _error(page: Any) -> str | None:
    """The API answers some failures (a bad query, a closed project) with 200 and `error`."""
    error = page.get("error") if isinstance(page, dict) else None
    if not error:
        return None
    message = error.get("message") if isinstance(error, dict) else error
    return " ".join(str(message).split())[:300]


def _time(record: dict[str, Any]) -> str | None:
    value = record.get("timestamp")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 10**14:
        return datetime.fromtimestamp(value / 1_000_000, tz=UTC).isoformat()  # microseconds
    return iso(value)


PLATFORM = Platform(
    name="supabase",
    title="Supabase",
    collector="supabase.auth_audit",
    endpoint="https://api.supabase.com/v1/projects/{account}/analytics/endpoints/logs.all",
    token_env="SUPABASE_ACCESS_TOKEN",
    auth=lambda token: {"Authorization": f"Bearer {token}"},
    first=_first,
    next=_next,
    records=_rows,
    time_of=_time,
    account_help="project ref",
    walks_days=True,  # an empty window does not end the pull
    page_error=_error,
)
