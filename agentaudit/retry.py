"""The outcome of one delivery attempt, and which HTTP statuses are worth retrying."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    status_code: int | None
    retryable: bool
    detail: str


def outcome_for_status(status: int, message: str = "") -> Outcome:
    """2xx delivered; 429 and 5xx retried; any other status reported, not retried."""
    suffix = f": {message}" if message else ""
    if 200 <= status < 300:
        return Outcome(True, status, False, f"HTTP {status}{suffix}")
    retryable = status == 429 or status >= 500
    return Outcome(False, status, retryable, f"HTTP {status}{suffix}")
