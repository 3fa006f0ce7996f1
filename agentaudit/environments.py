"""Naming environments: production, staging, development, unknown, from names and text."""

from __future__ import annotations

import re

_WORDS = (
    ("production", r"prod|production|prd|live"),
    ("staging", r"staging|stage|stg|preview|uat"),
    ("development", r"dev|development|local|sandbox"),
)
_NAME_RES = [
    (env, re.compile(rf"(?i)(?:^|[^a-z0-9])(?:{words})(?:$|[^a-z0-9])")) for env, words in _WORDS
]


def normalize_env_name(name: str | None) -> str | None:
    """An environment's own name ("prod-eu", "Staging") to its canonical class."""
    if not name:
        return None
    for env, pattern in _NAME_RES:
        if pattern.search(name):
            return env
    return "unknown"


def infer_env_from_text(text: str | None) -> tuple[str, str] | None:
    """(environment, evidence) when a resource name or command names one environment only."""
    if not text:
        return None
    hits = {
        env: m.group(0).strip("-_./ ") for env, pattern in _NAME_RES if (m := pattern.search(text))
    }
    if len(hits) == 1:
        env, word = next(iter(hits.items()))
        return env, f"name contains {word!r}"
    return None
