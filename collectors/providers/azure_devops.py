"""Azure DevOps audit log: `_apis/audit/auditlog` pages (`decoratedAuditLogEntries`) and streamed
entries (the same entry objects).

The action is `actionId` (`Git.RepositoryDestroyed`); a service principal or managed identity
acts through `actorClientId` (the zero GUID for users). The log names how the caller
authenticated (`authenticationMechanism`: PAT, OAuth...), not which token: that kind is kept in
`tool_name`. `correlationId` ties the cascade of one operation (a project deletion) together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentaudit.collectors.providers._platform import (
    Fields,
    PlatformAuditLog,
    epoch_or_text_time,
    mapping,
    text,
)
from agentaudit.collectors.providers._shared import head_text
from agentaudit.schema import parse_time

_NO_CLIENT = "00000000-0000-0000-0000-000000000000"


class AzureDevOpsAuditLog(PlatformAuditLog):
    name = "azure-devops.audit"
    source = "azure-devops.audit"
    version = "1"
    description = "Azure DevOps audit log (query pages or streamed entries)"
    vendor = "azure-devops"
    list_keys = ("decoratedAuditLogEntries",)

    def sniff(self, path: Path, head: bytes) -> bool:
        head = head_text(head)
        return b'"decoratedAuditLogEntries"' in head or (
            b'"actionId"' in head and b'"scopeType"' in head
        )

    def fields(self, record: dict[str, Any]) -> Fields | str:
        action = text(record.get("actionId"))
        if not action:
            return "not an Azure DevOps audit entry (no actionId)"
        data = mapping(record.get("data"))
        client = text(record.get("actorClientId"))
        if client == _NO_CLIENT:
            client = None
        mechanism = text(record.get("authenticationMechanism"))
        stamp = record.get("timestamp")
        return Fields(
            key=text(record.get("id")),
            time=_time(stamp),
            operation=action,
            actor=text(
                record.get("actorUPN"),
                record.get("actorDisplayName"),
                client,
                record.get("actorUserId"),
            ),
            credential_id=text(data.get("TokenId"), data.get("AuthorizationId")),
            source_ip=text(record.get("ipAddress")),
            user_agent=text(record.get("userAgent")),
            target=text(
                data.get("RepoName"),
                data.get("PipelineName"),
                data.get("ProjectName"),
                data.get("DisplayName"),
                record.get("projectName"),
                record.get("scopeDisplayName"),
            ),
            env_ids=[("ado_project", text(record.get("projectId")))],
            env_names=[text(record.get("projectName"))],
            status="failure" if action.endswith("Failed") else "success",
            operation_id=text(record.get("correlationId")),
            tool_name=f"azure-devops {mechanism}" if mechanism else None,
        )


def _time(value: Any) -> Any:
    """Azure writes seven fractional digits (`.1234567Z`); Python reads at most six."""
    if isinstance(value, str) and "." in value:
        head, _, rest = value.partition(".")
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        return parse_time(f"{head}.{digits[:6]}{zone}")
    return epoch_or_text_time(value)
