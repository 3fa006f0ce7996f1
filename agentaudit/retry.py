"""The outcome of one delivery attempt, and which HTTP statuses are worth retrying.

Decided per status (a page must not be lost to a transient answer):
- 2xx: delivered.
- retried: 404 (a route not deployed yet, a proxy in front of a restarting receiver), 408,
  409, 421, 423, 425, 429, 401 and 403 (a credential can be fixed on the receiver's side
  without touching ours), every 5xx except 501 and 505.
- final (the target says this request never will be accepted): 400, 405, 410 Gone, 411,
  413, 414, 415, 422, 501 and 505, and any other status not listed above.
Retried answers go on until delivered or expired (the outbox's `max_attempts`/`expire_after`).

The one retry layer: the backoff (`backoff_delay`: base * 2^(n-1), capped, times U[0.5, 1],
or the server's Retry-After) is shared by the outbox, whose retries span processes (each
attempt is a row, so they survive a restart), and by `call_with_retries` (tenacity), the
in-process loop of one request for the HEC export and the pullers.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

RETRIED_4XX = frozenset({401, 403, 404, 408, 409, 421, 423, 425, 429})
FINAL_5XX = frozenset({501, 505})


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    status_code: int | None
    retryable: bool
    detail: str
    value: Any = None  # what a successful call returned (a parsed page)
    retry_after: float | None = None  # seconds the server asked us to wait (Retry-After)


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds before retry `attempt` + 1: exponential, capped, with jitter in [0.5, 1]."""
    raw = min(base * (2 ** max(0, attempt - 1)), cap)
    return raw * (rng or random).uniform(0.5, 1.0)


def call_with_retries(
    send: Callable[[], Outcome],
    *,
    attempts: int,
    base_delay: float,
    max_delay: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Call `send` until it succeeds, answers something final, or `attempts` calls were made;
    the last outcome either way (a failure is an outcome to report, not an exception)."""
    import tenacity  # only the commands that post in a loop need it

    def wait(state: tenacity.RetryCallState) -> float:
        outcome: Outcome = (
            state.outcome.result() if state.outcome else Outcome(False, None, True, "")
        )
        if outcome.retry_after is not None:
            return min(outcome.retry_after, max_delay)
        return backoff_delay(state.attempt_number, base_delay, max_delay)

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts),
        wait=wait,
        retry=tenacity.retry_if_result(lambda o: not o.ok and o.retryable),
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        sleep=sleep,
    )
    return retrying(send)


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
