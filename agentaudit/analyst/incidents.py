"""Incidents: an alert group seen whole, for on-call and the post-mortem.

An incident is one alert (one group key). Its window runs from the first to the last event its
findings rest on; within it (and its sessions) we report the first destructive call, the blast
radius (targets destroyed, by environment), the credentials involved (fingerprints only), the
sessions and the findings. Everything is SQL over the analyst views (agentaudit/views.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentaudit.analyst.filters import INCIDENT_SORTS, Filters, Page, incident_where
from agentaudit.store import Store


class IncidentNotFound(LookupError):
    pass


@dataclass
class Incident:
    incident_id: str
    title: str
    severity: str
    status: str
    started: datetime | None  # None when every event it rests on is untimed
    ended: datetime | None
    duration_ms: int
    sessions: list[str]
    findings: list[dict[str, Any]] = field(default_factory=list)
    first_destructive: dict[str, Any] | None = None
    blast_radius: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    credentials: list[dict[str, Any]] = field(default_factory=list)
    destructive_steps: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "title": self.title,
            "severity": self.severity,
            "status": self.status,
            "started": _jsonable(self.started),
            "ended": _jsonable(self.ended),
            "duration_ms": self.duration_ms,
            "sessions": self.sessions,
            "first_destructive": _jsonable(self.first_destructive),
            "blast_radius": _jsonable(self.blast_radius),
            "credentials": _jsonable(self.credentials),
            "destructive_steps": _jsonable(self.destructive_steps),
            "findings": _jsonable(self.findings),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def list_incidents(store: Store, status: str | None = None) -> list[dict[str, Any]]:
    """Every incident, newest first (one row each, from the `incidents` view)."""
    return find_incidents(store, Filters(status=status, limit=None)).rows


def find_incidents(store: Store, filters: Filters) -> Page[dict[str, Any]]:
    """The incidents the filters keep, in their order, up to their limit, and how many in all."""
    where, params = incident_where(filters)
    total = store.rows(f"SELECT count(*) AS n FROM incidents WHERE {where}", params)[0]["n"]
    limit = "" if filters.limit is None else f"LIMIT {int(filters.limit)}"
    rows = store.rows(
        f"""SELECT incident_id, title, severity, status, started, ended, duration_ms, findings,
                   sessions, actors, credentials, sources, environments, agents
            FROM incidents WHERE {where}
            ORDER BY {INCIDENT_SORTS[filters.sort]} {limit}""",
        params,
    )
    return Page(rows, int(total), filters)


def incident_facets(store: Store) -> dict[str, list[str]]:
    """The values the incidents have, for a filter's choices: actors, sources, environments,
    statuses, and the actors with a critical incident (most such incidents first)."""

    def values(column: str, listed: bool = True) -> list[str]:
        item = f"unnest({column})" if listed else column
        rows = store.rows(
            f"SELECT DISTINCT v FROM (SELECT {item} AS v FROM incidents) WHERE v IS NOT NULL "
            "ORDER BY v"
        )
        return [r["v"] for r in rows]

    critical = store.rows(
        """SELECT actor, count(*) AS n FROM (
               SELECT unnest(actors) AS actor FROM incidents WHERE severity = 'critical')
           GROUP BY actor ORDER BY n DESC, actor"""
    )
    return {
        "actors": values("actors"),
        "sources": values("sources"),
        "environments": values("environments"),
        "statuses": values("status", listed=False),
        "critical_by_actor": [r["actor"] for r in critical],
    }


def resolve_id(store: Store, prefix: str) -> str:
    """A full incident id from an unambiguous prefix (like git's short hashes)."""
    matches = store.rows(
        "SELECT alert_id FROM alerts WHERE starts_with(alert_id, ?) ORDER BY alert_id LIMIT 3",
        [prefix.strip().lower()],
    )
    if not matches:
        raise IncidentNotFound(f"no incident with id {prefix!r}; see `agentaudit incidents list`")
    if len(matches) > 1 and matches[0]["alert_id"] != prefix:
        raise IncidentNotFound(f"incident id {prefix!r} is ambiguous; give more characters")
    return matches[0]["alert_id"]


def get_incident(store: Store, incident_id: str) -> Incident:
    full_id = resolve_id(store, incident_id)
    head = store.rows("SELECT * FROM incidents WHERE incident_id = ?", [full_id])[0]
    sessions = head["sessions"] or ([head["session_id"]] if head["session_id"] else [])
    evidence = incident_event_ids(store, full_id)
    # the incident's sessions (agent or inferred shell ones) within its window, plus the
    # sessionless rows its findings rest on; an incident with no session at all (provider
    # records alone) takes every sessionless row of its window
    window = [sessions, sessions, evidence, head["started"], head["ended"], evidence]
    steps = store.rows(
        f"""SELECT time, operation, command, target, target_env, credential_fp, credential,
                  actor, source_ip, status,
                  agent_call, provider_confirmed, provider_time, sources, session_id,
                  session_kind, call_key
           FROM destructive_events
           WHERE {_scope("list_has_any(event_ids, ?::VARCHAR[])")}
           ORDER BY time, call_key""",
        window,
    )
    incident = Incident(
        incident_id=full_id,
        title=head["title"],
        severity=head["severity"],
        status=head["status"],
        started=head["started"],
        ended=head["ended"],
        duration_ms=int(head["duration_ms"] or 0),
        sessions=sessions,
        destructive_steps=steps,
    )
    calls = [s for s in steps if s["agent_call"]]
    incident.first_destructive = calls[0] if calls else (steps[0] if steps else None)
    incident.blast_radius = blast_radius(steps)
    incident.credentials = store.rows(
        f"""SELECT fingerprint,
                  list(DISTINCT operation ORDER BY operation) FILTER (WHERE how = 'used')
                      AS used_by,
                  list(DISTINCT coalesce(target, operation) ORDER BY coalesce(target, operation))
                      FILTER (WHERE how = 'seen') AS seen_in,
                  min(time) AS first_seen,
                  min(time) FILTER (WHERE how = 'used') AS first_used,
                  bool_or(how = 'used' AND destructive) AS used_destructively
           FROM credential_uses
           WHERE {_scope("list_contains(?::VARCHAR[], event_id)")}
           GROUP BY fingerprint ORDER BY first_seen""",
        window,
    )
    # a key id the provider logged (no fingerprint: the secret never passed through here)
    known = {c["fingerprint"] for c in incident.credentials}
    for key in dict.fromkeys(s["credential"] for s in steps if s["credential"]):
        if key not in known:
            used = [s for s in steps if s["credential"] == key]
            incident.credentials.append(
                {
                    "fingerprint": f"key id {key}",
                    "used_by": sorted({s["operation"] or "?" for s in used}),
                    "seen_in": [],
                    "first_seen": used[0]["time"],
                    "first_used": used[0]["time"],
                    "used_destructively": True,
                }
            )
    incident.findings = store.rows(
        """SELECT f.finding_id, f.rule_id, f.severity, f.title, f.first_seen, f.status, f.event_ids
           FROM alerts a, unnest(a.finding_ids) AS u(fid) JOIN findings f ON f.finding_id = u.fid
           WHERE a.alert_id = ? ORDER BY f.first_seen, f.rule_id""",
        [full_id],
    )
    return incident


def _scope(is_evidence: str) -> str:
    """SQL: in one of the sessions (or, sessionless, evidence), within the window."""
    return f"""CASE WHEN len(?::VARCHAR[]) > 0
                    THEN list_contains(?::VARCHAR[], session_id)
                         OR (session_id IS NULL AND {is_evidence})
                    ELSE session_id IS NULL END
               -- an untimed row (or window) counts when a finding rests on it
               AND coalesce(time BETWEEN ? AND ?, {is_evidence})"""


def incident_event_ids(store: Store, incident_id: str) -> list[str]:
    """Every event the incident's findings rest on."""
    rows = store.rows(
        """SELECT DISTINCT v.eid AS event_id
           FROM alerts a, unnest(a.finding_ids) AS u(fid)
           JOIN findings f ON f.finding_id = u.fid, unnest(f.event_ids) AS v(eid)
           WHERE a.alert_id = ? ORDER BY event_id""",
        [incident_id],
    )
    return [r["event_id"] for r in rows]


def blast_radius(steps: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Targets destroyed, by environment: destructive steps that were not refused."""
    by_env: dict[str, dict[str, dict[str, Any]]] = {}
    for step in steps:
        if step["status"] in ("failure", "denied") or not step["target"]:
            continue
        targets = by_env.setdefault(step["target_env"] or "unknown", {})
        entry = targets.setdefault(
            step["target"],
            {"target": step["target"], "operations": [], "provider_confirmed": False},
        )
        if step["operation"] not in entry["operations"]:
            entry["operations"].append(step["operation"])
        entry["provider_confirmed"] = entry["provider_confirmed"] or step["provider_confirmed"]
    return {env: list(targets.values()) for env, targets in sorted(by_env.items())}
