"""Cloudflare audit actions: `<product or resource type>.<action type>` as the collector builds
them (`dns_records.delete`, `dns_record.rec_del`). v2's `action.type` is create, update,
delete or view, so a delete on any product destroys; the product says which category."""

from __future__ import annotations

from typing import Any

from agentaudit.enrich.catalog._actions import by_verb

_PRODUCTS = {  # product or resource type -> category of its deletion
    "audit_tamper": "logpush logpush_jobs audit_logs",
    "identity_delete": "tokens api_tokens members",
    "network_delete": "dns_records dns_record zones zone firewall_rules",
}
_PRODUCT = {name: category for category, names in _PRODUCTS.items() for name in names.split()}

_DELETE_VERBS = ["delete", "purge"]  # v2 action types; v1 types are read by verb (rec_del)


def classify(operation: str, record: dict[str, Any]) -> list[str]:
    product, _, verb = operation.rpartition(".")
    if verb not in _DELETE_VERBS and not by_verb(verb):
        return []
    return [_PRODUCT.get(product) or by_verb(f"{product}_delete")[0]]
