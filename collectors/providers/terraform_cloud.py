"""HCP Terraform (Terraform Cloud) audit trail: `GET /api/v2/organization/audit-trail` pages.

The accessor (`auth.accessor_id`: a user, team or token id) is the actor; a token-authenticated
call also names its token there, and an impersonated one names the impersonator. The trail has
no IP or user agent. The operation is `<resource type>.<action>` (`workspace.destroy`).
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

_TOKEN_PREFIXES = ("at-", "ot-", "tt-")  # authentication, organization and team tokens


class TerraformCloudAuditTrail(PlatformAuditLog):
    name = "terraform-cloud.audit"
    source = "terraform-cloud.audit"
    version = "1"
    description = "HCP Terraform / Terraform Cloud audit trail pages"
    vendor = "terraform-cloud"
    list_keys = ("data",)

    def sniff(self, path: Path, head: bytes) -> bool:
        head = head_text(head)
        return b'"accessor_id"' in head and b'"resource"' in head

    def fields(self, record: dict[str, Any]) -> Fields | str:
        auth, resource = mapping(record.get("auth")), mapping(record.get("resource"))
        if not auth or not resource:
            return "not an HCP Terraform audit-trail record (no auth or resource)"
        accessor = text(auth.get("accessor_id"))
        kind, action = text(resource.get("type")), text(resource.get("action"))
        meta = mapping(resource.get("meta"))
        return Fields(
            key=text(record.get("id")),
            time=epoch_or_text_time(record.get("timestamp")),
            operation=f"{kind}.{action}" if kind and action else action or kind,
            actor=text(auth.get("description"), accessor),
            credential_id=accessor
            if (accessor or "").startswith(_TOKEN_PREFIXES)
            else text(auth.get("impersonator_id")),
            target=text(resource.get("id")),
            env_ids=[
                ("tfc_organization", text(auth.get("organization_id"))),
                ("tfc_workspace", text(meta.get("workspace_id"), meta.get("workspace"))),
            ],
            env_names=[text(meta.get("workspace_name"))],
            operation_id=text(mapping(record.get("request")).get("id")),
        )
