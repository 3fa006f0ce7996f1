"""Splunk HTTP Event Collector: envelopes around the OCSF object, to a file or POSTed.

Body = stacked JSON objects (newline separated, not an array); `time` in epoch seconds with
milliseconds; `fields` are flat indexed strings. Token in `Authorization: Splunk <token>`,
read from the environment, never stored. 429 and 5xx are retried with backoff; other 4xx
stop the run (the cursor then stays before the rejected batch).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import requests

from agentaudit.retry import Outcome, call_with_retries, outcome_for_status

TOKEN_ENV = "AGENTAUDIT_HEC_TOKEN"
SOURCETYPE = "agentaudit:ocsf"


def hec_envelope(record: dict[str, Any], *, index: str | None = None) -> dict[str, Any]:
    host = (record.get("device") or {}).get("hostname") or (record.get("src_endpoint") or {}).get(
        "hostname"
    )
    if not host:
        host = next(
            (o["value"] for o in record.get("observables") or [] if o["type_id"] == 1), None
        )
    fields = {
        "class_uid": str(record["class_uid"]),
        "type_uid": str(record["type_uid"]),
        "severity_id": str(record["severity_id"]),
    }
    if record["class_uid"] == 2004:
        fields["finding_uid"] = record["finding_info"]["uid"]
        fields["rule_id"] = record["finding_info"].get("analytic", {}).get("uid", "")
    session = ((record.get("actor") or {}).get("session") or {}).get("uid")
    if session:
        fields["session_id"] = session
    envelope: dict[str, Any] = {
        "time": round(record["time"] / 1000, 3),
        "host": host or "agentaudit",
        "source": "agentaudit",
        "sourcetype": SOURCETYPE,
        "event": record,
        "fields": fields,
    }
    if index:
        envelope["index"] = index
    return envelope


def post_batch(
    url: str,
    token: str,
    envelopes: list[dict[str, Any]],
    *,
    timeout: float = 10.0,
    retries: int = 4,
    base_delay: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    body = "\n".join(json.dumps(e, ensure_ascii=False, sort_keys=True) for e in envelopes)
    headers = {"Authorization": f"Splunk {token}", "Content-Type": "application/json"}

    def send() -> Outcome:
        try:
            response = requests.post(
                url, data=body.encode("utf-8"), headers=headers, timeout=timeout
            )
        except requests.Timeout:
            return Outcome(False, None, True, "timeout")
        except requests.RequestException as exc:
            return Outcome(False, None, True, f"network error: {type(exc).__name__}")
        return outcome_for_status(response.status_code, response.text[:200])

    return call_with_retries(send, attempts=retries + 1, base_delay=base_delay, sleep=sleep)
