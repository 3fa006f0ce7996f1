"""Delivery through apprise; every attempt is a row in `deliveries`."""

from __future__ import annotations

import re
from typing import Any

import apprise

from agentaudit.schema import stable_id
from agentaudit.store import Store, now

_URL_SECRET = re.compile(r"(?<=://)[^/@]+@")


def redact_url(url: str) -> str:
    """Apprise URLs carry tokens (slack://T/B/C, user:pass@): never store them in clear."""
    return _URL_SECRET.sub("***@", url.split("?", 1)[0])


def deliver_pending(store: Store, urls: list[str]) -> list[dict[str, Any]]:
    """Send every alert not yet notified in its current state to each URL."""
    pending = store.rows("SELECT * FROM alerts WHERE notified_at IS NULL ORDER BY first_seen")
    results = []
    for alert in pending:
        outcomes = [_send(store, alert, url) for url in urls]
        if outcomes and all(o["ok"] for o in outcomes):
            store.con.execute(
                "UPDATE alerts SET notified_at = ? WHERE alert_id = ?", [now(), alert["alert_id"]]
            )
        results += outcomes
    return results


def _send(store: Store, alert: dict[str, Any], url: str) -> dict[str, Any]:
    attempt = 1 + int(
        store.con.execute(
            "SELECT count(*) FROM deliveries WHERE alert_id = ? AND target = ?",
            [alert["alert_id"], redact_url(url)],
        ).fetchall()[0][0]
    )
    notifier = apprise.Apprise()
    detail = None
    if not notifier.add(url):
        ok, detail = False, "apprise does not accept this URL"
    else:
        notify_type = (
            apprise.NotifyType.FAILURE
            if alert["severity"] in ("critical", "high")
            else apprise.NotifyType.WARNING
        )
        ok = bool(
            notifier.notify(body=alert["body"], title=alert["title"], notify_type=notify_type)
        )
        detail = "delivered" if ok else "apprise reported failure"
    row = {
        "delivery_id": stable_id(alert["alert_id"], url, attempt),
        "alert_id": alert["alert_id"],
        "target": redact_url(url),
        "attempt": attempt,
        "ok": ok,
        "detail": detail,
        "attempted_at": now(),
    }
    store.con.execute("INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?, ?)", list(row.values()))
    return row
