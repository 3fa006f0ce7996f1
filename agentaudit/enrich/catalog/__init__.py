"""Catalogs of destructive provider operations, one module per provider.

`classify(provider, operation, record)` answers which destruction categories an operation
belongs to (empty when it destroys nothing). Adding a provider is adding a module with a
`classify(operation, record)` function and listing it in `_PROVIDERS`. A module may define
`needs_record(operation)`: only for those operations is the stored `raw` JSON parsed, so the
common case (an operation name alone decides) costs no JSON decoding.
"""

from __future__ import annotations

import json
from typing import Any

from agentaudit.enrich.catalog import (  # issue 19's platforms
    anthropic,
    aws,
    azure,
    azure_devops,
    cloudflare,
    cursor,
    database,
    gcp,
    github,
    gitlab,
    heroku,
    k8s,
    railway,
    supabase,
    terraform_cloud,
    vercel,
)

_PROVIDERS = {
    "railway": railway,
    "aws": aws,
    "gcp": gcp,
    "azure": azure,
    "k8s": k8s,
    "github": github,
    "vercel": vercel,
    "cloudflare": cloudflare,
    "gitlab": gitlab,
    "heroku": heroku,
    "supabase": supabase,
    "terraform-cloud": terraform_cloud,
    "azure-devops": azure_devops,
    "cursor": cursor,
    "anthropic": anthropic,
    "postgresql": database,  # database audit records by their SQL (pgAudit, MySQL/MariaDB audit)
    "mysql": database,
    "database": database,  # database audit records (pgAudit, MySQL/MariaDB audit, RDS DAS)
}


def classify(
    provider: str | None,
    operation: str | None,
    record: dict[str, Any] | None = None,
    raw: str | None = None,
) -> list[str]:
    """Categories of one provider operation; `raw` (the record as JSON) is read only if needed."""
    module = _PROVIDERS.get(provider or "")
    if module is None or not operation:
        return []
    needs_record = getattr(module, "needs_record", None)
    if record is None and raw and needs_record is not None and needs_record(operation):
        try:
            record = json.loads(raw)
        except ValueError:
            record = {}
    return module.classify(operation, record if isinstance(record, dict) else {})
