"""PagerDuty Events API v2, posted by us (not apprise's plugin: its dedup key is a static URL
parameter, it needs a REST API key the Events API does not, omits `timestamp` and throttles).

`dedup_key` is the alert id (sha256 of the group key, = OCSF finding_info.uid), the same for
trigger, acknowledge and resolve. 202 = accepted; 429, 5xx and network errors are retried by
the outbox; any other 4xx is reported and not retried.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from agentaudit.alert.config import PagerDutyTarget
from agentaudit.retry import Outcome, outcome_for_status
from agentaudit.taxonomy import severity_rank

PD_SEVERITY = {"critical": "critical", "high": "error", "medium": "warning"}
SUMMARY_LIMIT = 1024


def event_body(
    alert: dict[str, Any],
    findings: list[dict[str, Any]],
    *,
    action: str,
    summary: str,
    body: str,
    source: str,
) -> dict[str, Any]:
    """The Events v2 body without `routing_key` (added at send time; never stored)."""
    event: dict[str, Any] = {"event_action": action, "dedup_key": alert["alert_id"]}
    if action != "trigger":
        return event
    labels = json.loads(alert.get("group_labels") or "{}")
    severity = max((f["severity"] for f in findings), key=severity_rank, default=alert["severity"])
    event["payload"] = {
        "summary": summary[:SUMMARY_LIMIT],
        "source": source,
        "severity": PD_SEVERITY.get(severity, "info"),
        "timestamp": alert["first_seen"].isoformat(timespec="milliseconds"),
        "component": labels.get("rule_family") or "agentaudit",
        "group": alert.get("session_id") or "",
        "class": ",".join(sorted({f["rule_id"] for f in findings})),
        "custom_details": {
            "alert_id": alert["alert_id"],
            "group_key": alert["group_key"],
            "details": body,
        },
    }
    event["client"] = "agentaudit"
    return event


def send_event(target: PagerDutyTarget, event: dict[str, Any], timeout: float) -> Outcome:
    body = {"routing_key": target.routing_key, **event}
    try:
        response = requests.post(
            target.url, json=body, timeout=min(timeout, target.timeout) or target.timeout
        )
    except requests.Timeout:
        return Outcome(False, None, True, "timeout")
    except requests.RequestException as exc:
        return Outcome(False, None, True, f"network error: {type(exc).__name__}")
    return outcome_for_status(response.status_code, _message(response))


def _message(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    return str(data.get("message") or data.get("status") or "")[:200]
