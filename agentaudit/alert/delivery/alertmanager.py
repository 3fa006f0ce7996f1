"""Forwarding to a team's own Alertmanager: POST /api/v2/alerts (API v2, as Prometheus does).

Each alert goes with its labels (a label with several values joined by commas), startsAt (the
first evidence), endsAt (the alert's end: last finding + resolve_timeout while it fires, the
time it resolved after) and annotations naming the finding and the agentaudit incident. That
Alertmanager then groups, inhibits, silences and routes them by its own configuration.
200 = accepted; 5xx, 429 and network errors are retried by the outbox; a 400 is reported.
"""

from __future__ import annotations

import json
from typing import Any

from agentaudit.alert.config import AlertmanagerTarget
from agentaudit.alert.labels import label_value
from agentaudit.alert.suppression import labels_from_json
from agentaudit.retry import Outcome, outcome_for_status

API_PATH = "/api/v2/alerts"
ACTION = "forward"  # outbox action: each alert's endsAt says firing or resolved


def merge(bodies: list[dict[str, Any]]) -> dict[str, Any]:
    """Several bodies as one: each alert (label set) once, as the latest body has it."""
    latest = {}
    for body in bodies:
        for alert in body["alerts"]:
            latest[json.dumps(alert["labels"], sort_keys=True)] = alert
    return {"alerts": list(latest.values())}


def alerts_body(alerts: list[dict[str, Any]], findings: dict[str, dict[str, Any]]) -> dict:
    """`alerts`: alert_members rows (with `status`); `findings`: their findings by id."""
    out = []
    for alert in alerts:
        labels = {k: label_value(v) for k, v in labels_from_json(alert["labels"]).items()}
        titles = [findings[f]["title"] for f in alert["finding_ids"] or [] if f in findings]
        out.append(
            {
                "labels": labels,
                "annotations": {
                    "summary": titles[0] if titles else labels.get("alertname", ""),
                    "agentaudit_incident": alert["alert_id"],
                    "agentaudit_findings": ",".join(sorted(alert["finding_ids"] or [])),
                },
                "startsAt": (alert["first_seen"] or alert["starts_at"]).isoformat(),
                "endsAt": alert["ends_at"].isoformat(),
            }
        )
    return {"alerts": out}


def send_alerts(target: AlertmanagerTarget, payload: dict[str, Any], timeout: float) -> Outcome:
    import requests  # here: the engine builds bodies without loading the HTTP stack

    try:
        response = requests.post(
            target.url + API_PATH,
            json=payload["alerts"],
            timeout=min(timeout, target.timeout) or target.timeout,
        )
    except requests.Timeout:
        return Outcome(False, None, True, "timeout")
    except requests.RequestException as exc:
        return Outcome(False, None, True, f"network error: {type(exc).__name__}")
    return outcome_for_status(response.status_code, response.text.strip()[:200])
