"""The outcome of one delivery attempt, and which HTTP statuses are worth retrying.

Decided per status (a page must not be lost to a transient answer):
- 2xx: delivered.
- retried: 404 (a route not deployed yet, a proxy in front of a restarting receiver), 408,
  409, 421, 423, 425, 429, 401 and 403 (a credential can be fixed on the receiver's side
  without touching ours), every 5xx except 501 and 505.
- final (the target says this request never will be accepted): 400, 405, 410 Gone, 411,
  413, 414, 415, 422, 501 and 505, and any other status not listed above.
Retried answers go on until delivered or expired (the outbox's `max_attempts`/`expire_after`).
"""

from __future__ import annotations

from dataclasses import dataclass

RETRIED_4XX = frozenset({401, 403, 404, 408, 409, 421, 423, 425, 429})
FINAL_5XX = frozenset({501, 505})


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    status_code: int | None
    retryable: bool
    detail: str


def is_retryable_status(status: int) -> bool:
    if 500 <= status < 600:
        return status not in FINAL_5XX
    return status in RETRIED_4XX


def outcome_for_status(status: int, message: str = "") -> Outcome:
    """2xx delivered; see the module doc for which other statuses are retried."""
    suffix = f": {message}" if message else ""
    if 200 <= status < 300:
        return Outcome(True, status, False, f"HTTP {status}{suffix}")
    return Outcome(False, status, is_retryable_status(status), f"HTTP {status}{suffix}")
