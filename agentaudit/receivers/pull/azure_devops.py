"""Azure DevOps audit log: `GET https://auditservice.dev.azure.com/{account}/_apis/audit/auditlog`
(`api-version=7.1-preview.1`), `startTime` from the cursor, `continuationToken` while
`hasMore`; a PAT as HTTP Basic with an empty user name."""

from __future__ import annotations

import base64
from typing import Any

from agentaudit.receivers.pull.rest import Platform, iso


def _first(cursor: str | None, size: int) -> dict[str, str]:
    params = {"api-version": "7.1-preview.1", "batchSize": str(size), "skipAggregation": "true"}
    return {**params, "startTime": cursor} if cursor else params


def _next(page: Any, headers: Any, request: tuple[str, dict[str, str]]):
    if not isinstance(page, dict) or not page.get("hasMore") or not page.get("continuationToken"):
        return None
    return (request[0], {**request[1], "continuationToken": page["continuationToken"]})


PLATFORM = Platform(
    name="azure-devops",
    title="Azure DevOps",
    collector="azure-devops.audit",
    endpoint="https://auditservice.dev.azure.com/{account}/_apis/audit/auditlog",
    token_env="AZURE_DEVOPS_PAT",
    auth=lambda token: {
        "Authorization": "Basic " + base64.b64encode(f":{token}".encode()).decode()
    },
    first=_first,
    next=_next,
    records=lambda page: (
        page.get("decoratedAuditLogEntries") or [] if isinstance(page, dict) else []
    ),
    time_of=lambda record: iso(record.get("timestamp")),
    account_help="organization",
)
