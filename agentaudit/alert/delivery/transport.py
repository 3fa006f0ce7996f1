"""apprise delivery of one notification to one URL, with the HTTP status when there is one.

apprise reports only success or failure; the status code is read from its per-attempt log
("... error=500."), which tells a retryable 429/5xx from a 4xx that will never succeed.
A fresh Apprise object per send avoids apprise's per-instance throttle. The idempotency key
goes out as an `Idempotency-Key` header where apprise can set headers (its json, xml and form
targets: `+Header=value` URL parameters); other services get the page without one.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import apprise

from agentaudit.retry import Outcome, outcome_for_status

HEADER_SCHEMES = ("json", "jsons", "xml", "xmls", "form", "forms")
_STATUS = re.compile(r"error=(\d{3})")
_NOTIFY_TYPES = {
    "info": apprise.NotifyType.INFO,
    "success": apprise.NotifyType.SUCCESS,
    "warning": apprise.NotifyType.WARNING,
    "failure": apprise.NotifyType.FAILURE,
}


def with_timeouts(url: str, timeout: float) -> str:
    """Add apprise's connect/read timeouts unless the URL sets its own."""
    if "cto=" in url or "rto=" in url:
        return url
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}cto={timeout:g}&rto={timeout:g}"


def with_idempotency_key(url: str, key: str) -> str:
    if url.split("://", 1)[0].lower() not in HEADER_SCHEMES:
        return url
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}+Idempotency-Key={quote(key, safe='')}"


def send_apprise(
    url: str,
    title: str,
    body: str,
    notify_type: str,
    timeout: float,
    *,
    idempotency_key: str | None = None,
) -> Outcome:
    asset = apprise.AppriseAsset(storage_mode=apprise.PersistentStoreMode.MEMORY)
    notifier = apprise.Apprise(asset=asset)
    if idempotency_key:
        url = with_idempotency_key(url, idempotency_key)
    if not notifier.add(with_timeouts(url, timeout)):
        return Outcome(False, None, False, "apprise does not accept this URL")
    result = notifier.notify(
        body=body, title=title, notify_type=_NOTIFY_TYPES.get(notify_type, apprise.NotifyType.INFO)
    )
    if bool(result):
        return Outcome(True, None, False, "delivered")
    messages = [
        entry.message for service in result for attempt in service for entry in attempt.logs
    ]
    codes = [int(c) for m in messages for c in _STATUS.findall(m)]
    if codes:
        return outcome_for_status(codes[-1], messages[-1][:200])
    timed_out = result.status == apprise.AppriseResultStatus.TIMEOUT
    detail = "timeout" if timed_out else (messages[-1][:200] if messages else "apprise failure")
    # no HTTP status: a network error or timeout, worth retrying
    return Outcome(False, None, True, detail)
