"""HCP Terraform audit trail: `GET https://app.terraform.io/api/v2/organization/audit-trail`,
`since` from the cursor, `page[number]` while `pagination.next_page`; an organization or
audit-trail token as Bearer. Kept 14 days."""

from __future__ import annotations

from typing import Any

from agentaudit.receivers.pull.rest import Platform, iso


def _first(cursor: str | None, size: int) -> dict[str, str]:
    params = {"page[number]": "1", "page[size]": str(size)}
    return {**params, "since": cursor} if cursor else params


def _next(page: Any, headers: Any, request: tuple[str, dict[str, str]]):
    following = (page.get("pagination") or {}).get("next_page") if isinstance(page, dict) else None
    return (request[0], {**request[1], "page[number]": str(following)}) if following else None


PLATFORM = Platform(
    name="terraform-cloud",
    title="HCP Terraform",
    collector="terraform-cloud.audit",
    endpoint="https://app.terraform.io/api/v2/organization/audit-trail",
    token_env="TFC_AUDIT_TOKEN",
    auth=lambda token: {"Authorization": f"Bearer {token}"},
    first=_first,
    next=_next,
    records=lambda page: page.get("data") or [] if isinstance(page, dict) else [],
    time_of=lambda record: iso(record.get("timestamp")),
    account_help="organization (labels the stored cursor)",
)
