"""Catalogs of destructive provider operations, one module per provider.

`classify(provider, operation, record)` answers which destruction categories an operation
belongs to (empty when it destroys nothing). Adding a provider is adding a module with a
`classify(operation, record)` function and listing it in `_PROVIDERS`.
"""

from __future__ import annotations

from typing import Any

from agentaudit.catalog import railway

_PROVIDERS = {"railway": railway.classify}


def classify(
    provider: str, operation: str | None, record: dict[str, Any] | None = None
) -> list[str]:
    handler = _PROVIDERS.get(provider)
    if handler is None or not operation:
        return []
    return handler(operation, record or {})


def provider_of_source(source: str) -> str:
    """`railway.audit` -> `railway`."""
    return source.split(".", 1)[0]
