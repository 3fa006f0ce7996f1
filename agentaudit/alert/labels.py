"""A finding's labels (what routes, groups, silences and inhibition match on) and fingerprint.

Labels (`LABEL_NAMES`): alertname and rule_id (the detector), rule_family, severity, kind,
session_id, agent, user, host, environment (of the destructive target), source (every source
of the evidence). A label with an empty value is left out, as Prometheus does: to Alertmanager
a missing label and an empty one are the same. The fingerprint is a hash of the label set, as
in Alertmanager: two findings with the same labels are one alert.
"""

from __future__ import annotations

import json
from typing import Any

from agentaudit.alert.evidence import rows_by_event_ids
from agentaudit.alert.matchers import Labels, LabelValue
from agentaudit.schema import stable_id
from agentaudit.store import Store
from agentaudit.taxonomy import ENVIRONMENTS, environment_rank

LABEL_NAMES = (
    "alertname",
    "rule_id",
    "rule_family",
    "severity",
    "kind",
    "session_id",
    "agent",
    "user",
    "host",
    "environment",
    "source",
)
DEFAULT_GROUP_BY = ("session_id", "rule_family")  # one page (and one incident) per session's family
DESTRUCTION_FAMILY = "destruction"


def open_finding_events(
    store: Store,
    finding_ids: list[str] | None = None,
    findings: list[dict[str, Any]] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """The evidence events of every open finding (or of these), in one query:
    finding_id -> events. `findings` (their rows) lets the lookup skip old row groups."""
    only = "" if finding_ids is None else "AND f.finding_id IN (SELECT unnest(?::VARCHAR[]))"
    sql = f"""WITH wanted AS (
               SELECT f.finding_id, u.eid FROM findings f, unnest(f.event_ids) AS u(eid)
               WHERE f.status <> 'resolved' {only})
           SELECT w.finding_id, e.event_id, e.source, e.destructive, e.target_env, e.agent,
                  e.actor, e.os_user, e.host
           FROM wanted w JOIN events e ON e.event_id = w.eid {{span}}
           ORDER BY w.finding_id, e.time, e.seq"""
    params = [] if finding_ids is None else [finding_ids]
    if finding_ids is not None and findings:
        wanted = set(finding_ids)
        ids = [e for f in findings if f["finding_id"] in wanted for e in f["event_ids"]]
        rows = rows_by_event_ids(
            store, sql, params, ids, [f for f in findings if f["finding_id"] in wanted], "e.time"
        )
    else:
        rows = store.rows(sql.format(span=""), params)
    by_finding: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_finding.setdefault(row["finding_id"], []).append(row)
    return by_finding


def rule_family(finding: dict[str, Any], events: list[dict[str, Any]], overrides: dict) -> str:
    """Configured family, else `destruction` when the evidence destroys something (ATT&CK
    TA0040 Impact, as in the OCSF export), else the rule itself."""
    if finding["rule_id"] in overrides:
        return overrides[finding["rule_id"]]
    if any(e.get("destructive") for e in events):
        return DESTRUCTION_FAMILY
    return finding["rule_id"]


def finding_labels(
    finding: dict[str, Any], events: list[dict[str, Any]], families: dict[str, str]
) -> Labels:
    def first(column: str) -> str:
        return next((str(e[column]) for e in events if e.get(column)), "")

    envs = {e.get("target_env") for e in events if e.get("destructive") and e.get("target_env")}
    environment = min((e for e in envs if e in ENVIRONMENTS), key=environment_rank, default="")
    agents = [e["agent"] for e in events if e.get("agent") not in (None, "", "unknown")]
    labels: Labels = {
        "alertname": finding["rule_id"],
        "rule_id": finding["rule_id"],
        "rule_family": rule_family(finding, events, families),
        "severity": finding["severity"],
        "kind": finding["kind"],
        "session_id": finding["session_id"] or finding["group_key"],
        "agent": agents[0] if agents else "",
        "user": first("actor") or first("os_user"),
        "host": first("host"),
        "environment": environment,
        "source": tuple(sorted({e["source"] for e in events if e.get("source")})),
    }
    return {k: v for k, v in labels.items() if v not in ("", ())}


def fingerprint(labels: Labels) -> str:
    parts = [f"{k}={','.join(v) if isinstance(v, tuple) else v}" for k, v in sorted(labels.items())]
    return stable_id("fingerprint", *parts)[:16]


def label_value(value: LabelValue) -> str:
    """One string per label (a multi-valued label joined by commas), as sent to Alertmanager."""
    return ",".join(value) if isinstance(value, tuple) else value


def label_string(labels: dict[str, str]) -> str:
    """Prometheus' LabelSet form, `{a="x", b="y"}`: sorted pairs, the value Go-quoted."""
    pairs = sorted(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in labels.items())
    return "{" + ", ".join(pairs) + "}"
