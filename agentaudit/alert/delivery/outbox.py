"""The outbox: a notification is a row before it is a request, so no page is ever lost.

Detection only enqueues (a few inserts); `deliver_due` sends what is due. A row stays
`pending` until a receiver accepts it; timeouts, network errors and the statuses `retry.py`
lists as transient (404, 429, 5xx, ...) are retried with exponential backoff and jitter
(base * 2^(n-1), capped, times a random factor in [0.5, 1]); a final status marks it `failed`
(reported, not retried); `expired` once `max_attempts` were made or `expire_after` has passed
since it was queued (reported loudly). Before each send the row's next attempt is pushed into
the future, so a crash mid-send retries later instead of losing the page. Every attempt is a
row in `deliveries`. The outbox id is the delivery's idempotency key: every retry of one page
carries the same key (an `Idempotency-Key` header for apprise json/xml/form targets;
PagerDuty deduplicates on `dedup_key`), so a receiver that was only slow takes it once.
The store holds the target's id and a redacted URL, never the URL or routing key itself; the
targets of pending pages are kept in a private file (`kept.py`) so a configuration change or
a `--notify` run followed by a plain `alert run` still delivers them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import re
import time
from datetime import datetime, timedelta
from typing import Any

from agentaudit.alert.clock import Clock, SystemClock
from agentaudit.alert.config import (
    AlertingConfig,
    AlertmanagerTarget,
    DeliveryPolicy,
    PagerDutyTarget,
    Target,
)
from agentaudit.alert.delivery import kept
from agentaudit.enrich.secrets import scrub
from agentaudit.retry import Outcome, backoff_delay
from agentaudit.schema import stable_id
from agentaudit.store import Store

log = logging.getLogger(__name__)
_URL_SECRET = re.compile(r"(?<=://)[^/@]+@")


def redact_url(url: str) -> str:
    """Apprise URLs carry tokens (slack://T/B/C, user:pass@): keep scheme, host and path shape."""
    base = _URL_SECRET.sub("***@", url.split("?", 1)[0])
    scheme, _, rest = base.partition("://")
    host, _, path = rest.partition("/")
    return f"{scheme}://{host}/{'…' if path else ''}"


def describe(target: Target) -> str:
    if isinstance(target, PagerDutyTarget):
        return f"pagerduty {redact_url(target.url)}"
    if isinstance(target, AlertmanagerTarget):
        return f"alertmanager {redact_url(target.url)}"
    return redact_url(target.url)


def enqueue(
    store: Store,
    alert_id: str,
    receiver: str,
    target: Target,
    action: str,
    payload: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """Queue one notification; an older undelivered one of the same kind is superseded."""
    kept.remember([target])
    store.con.execute(
        """UPDATE outbox SET status = 'superseded', updated_at = ?
           WHERE alert_id = ? AND target_id = ? AND action = ? AND status = 'pending'""",
        [now, alert_id, target.target_id, action],
    )
    row = {
        "outbox_id": stable_id("outbox", alert_id, target.target_id, action, now.isoformat()),
        "alert_id": alert_id,
        "receiver": receiver,
        "target_id": target.target_id,
        "target": describe(target),
        "action": action,
        # not scrubbed whole: its texts are (message.py), and its ids must reach the receiver
        "payload": json.dumps(payload, sort_keys=True, ensure_ascii=False),
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
        "last_error": None,
    }
    store.con.execute(
        "INSERT OR REPLACE INTO outbox VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        list(row.values()),
    )
    return row


def backoff(attempt: int, policy: DeliveryPolicy, rng: random.Random) -> timedelta:
    """Exponential backoff with jitter: base * 2^(attempt-1), capped, times U[0.5, 1]."""
    seconds = backoff_delay(
        attempt, policy.backoff_base.total_seconds(), policy.backoff_max.total_seconds(), rng
    )
    return timedelta(seconds=seconds)


def deliver_due(
    store: Store,
    config: AlertingConfig,
    clock: Clock | None = None,
    *,
    rng: random.Random | None = None,
    limit: int = 100,
    budget_seconds: float | None = None,
) -> list[dict[str, Any]]:
    """Send every due outbox row once; return the attempts made (rows of `deliveries`).

    With `budget_seconds`, no new attempt starts after that much wall time: the rest stays
    due for the next run (detection runs pass a budget so a hanging receiver cannot stall them).
    """
    started = time.monotonic()
    clock = clock or SystemClock()
    rng = rng or random.Random()
    due = store.rows(
        """SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?
           ORDER BY created_at, outbox_id LIMIT ?""",
        [clock.now(), limit],
    )
    # read only when something is due: watch calls this every pass
    targets = {**kept.load(), **_targets(config)} if due else {}  # the config's own wins
    attempts = []
    for row in due:
        if budget_seconds is not None and time.monotonic() - started > budget_seconds:
            break
        attempts.append(_attempt(store, config, row, targets.get(row["target_id"]), clock, rng))
    if due:
        pending = store.rows("SELECT DISTINCT target_id FROM outbox WHERE status = 'pending'")
        kept.keep_only({r["target_id"] for r in pending})
    return attempts


def _attempt(
    store: Store,
    config: AlertingConfig,
    row: dict[str, Any],
    target: Target | None,
    clock: Clock,
    rng: random.Random,
) -> dict[str, Any]:
    policy = config.delivery
    attempt = row["attempts"] + 1
    started = clock.now()
    if started - row["created_at"] >= policy.expire_after:
        return _expire(store, row, started, f"expired: not delivered within {policy.expire_after}")
    retry_at = started + backoff(attempt, policy, rng)
    # claim the attempt first: a crash during the send leaves a retry, not a lost page
    store.con.execute(
        "UPDATE outbox SET attempts = ?, next_attempt_at = ?, updated_at = ? WHERE outbox_id = ?",
        [attempt, retry_at, started, row["outbox_id"]],
    )
    if target is None:  # queued before kept targets existed, or the kept file was lost
        outcome = Outcome(False, None, False, "target is not in the alerting config")
    else:
        try:
            outcome = _send(target, row, policy)
        except Exception as exc:  # a transport bug must not stop the other deliveries
            outcome = Outcome(False, None, True, f"{type(exc).__name__}: {exc}"[:200])
    # a receiver's reply may echo what it was sent
    outcome = dataclasses.replace(outcome, detail=scrub(outcome.detail) or "")
    if outcome.ok:
        status = "delivered"
    elif not outcome.retryable:
        status = "failed"
    elif attempt >= policy.max_attempts:
        status = "expired"
        outcome = dataclasses.replace(
            outcome, detail=f"expired after {attempt} attempts: {outcome.detail}"
        )
    else:
        status = "pending"
    store.con.execute(
        "UPDATE outbox SET status = ?, last_error = ?, updated_at = ? WHERE outbox_id = ?",
        [status, None if outcome.ok else outcome.detail, clock.now(), row["outbox_id"]],
    )
    if status == "expired":
        _say_expired(row, outcome.detail)
    delivery = {
        "delivery_id": stable_id(row["outbox_id"], attempt),
        "alert_id": row["alert_id"],
        "target": row["target"],
        "attempt": attempt,
        "ok": outcome.ok,
        "detail": outcome.detail,
        "attempted_at": started,
        "outbox_id": row["outbox_id"],
        "receiver": row["receiver"],
        "action": row["action"],
        "status_code": outcome.status_code,
        "retryable": outcome.retryable,
    }
    store.con.execute(
        "INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        list(delivery.values()),
    )
    return {**delivery, "outbox_status": status, "next_attempt_at": retry_at}


def _expire(store: Store, row: dict[str, Any], now: datetime, reason: str) -> dict[str, Any]:
    """Give up on a page without another send."""
    store.con.execute(
        "UPDATE outbox SET status = 'expired', last_error = ?, updated_at = ? WHERE outbox_id = ?",
        [reason, now, row["outbox_id"]],
    )
    _say_expired(row, reason)
    return {
        "delivery_id": None,
        "alert_id": row["alert_id"],
        "target": row["target"],
        "attempt": row["attempts"],
        "ok": False,
        "detail": reason,
        "attempted_at": now,
        "outbox_id": row["outbox_id"],
        "receiver": row["receiver"],
        "action": row["action"],
        "status_code": None,
        "retryable": False,
        "outbox_status": "expired",
        "next_attempt_at": None,
    }


def _say_expired(row: dict[str, Any], reason: str) -> None:
    log.error(
        "page LOST: %s for alert %s to %s (receiver %s) expired undelivered: %s",
        row["action"], row["alert_id"][:12], row["target"], row["receiver"], reason,
    )  # fmt: skip


def _send(target: Target, row: dict[str, Any], policy: DeliveryPolicy) -> Outcome:
    # imported here: the transports pull in apprise/requests only when something is sent
    from agentaudit.alert.delivery.alertmanager import send_alerts
    from agentaudit.alert.delivery.pagerduty import send_event
    from agentaudit.alert.delivery.transport import send_apprise

    payload = json.loads(row["payload"])
    timeout = policy.timeout.total_seconds()
    if isinstance(target, PagerDutyTarget):
        return send_event(target, payload, timeout)
    if isinstance(target, AlertmanagerTarget):
        return send_alerts(target, payload, timeout)
    return send_apprise(
        target.url,
        payload["title"],
        payload["body"],
        payload["notify_type"],
        timeout,
        idempotency_key=row["outbox_id"],
    )


def _targets(config: AlertingConfig) -> dict[str, Target]:
    return {t.target_id: t for r in config.receivers.values() for t in r.targets()}
