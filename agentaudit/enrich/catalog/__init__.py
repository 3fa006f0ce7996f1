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

from agentaudit.enrich.catalog import aws, azure, database, gcp, github, k8s, railway

_PROVIDERS = {
    "railway": railway,
    "aws": aws,
    "gcp": gcp,
    "azure": azure,
    "k8s": k8s,
    "github": github,
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
