"""An incident's timeline across agent, shell and provider sources, with T+ offsets in ms."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from agentaudit.store import Store


@dataclass(frozen=True, slots=True)
class TimelineRow:
    offset_ms: int  # an untimed row (Codex exec, Claude Desktop) keeps the offset before it
    time: datetime | None
    source: str
    kind: str
    what: str
    detail: str
    target: str | None
    target_env: str | None
    status: str | None
    destructive: bool
    event_id: str
    call_key: str
    fired: tuple[str, ...]  # findings that fire at this row
    origin: str | None = None  # agent, shell, provider, agentaudit (the source's collector says)
    decided_by: str | None = None  # who let an agent's call run (taxonomy.DECIDERS)

    def as_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row["time"] = self.time.isoformat(timespec="milliseconds") if self.time else None
        return row


def session_timeline(
    store: Store, session_id: str, start: datetime | None = None, end: datetime | None = None
) -> list[TimelineRow]:
    """Every event of the session, and every event linked to it, in order (optionally a window)."""
    events = store.rows(
        """SELECT * FROM event_sessions
           WHERE session_key = ? AND step_time >= coalesce(?, step_time)
             AND step_time <= coalesce(?, step_time)
           ORDER BY step_time, time, seq, source""",
        [session_id, start, end],
    )
    return _rows(events, _firing_points(store, session_id) if events else {})


def window_timeline(
    store: Store, start: datetime, end: datetime, host: str | None = None, limit: int = 5000
) -> list[TimelineRow]:
    """Every event between two instants (all sessions and sources), optionally on one host."""
    events = store.rows(
        """SELECT * FROM event_sessions
           WHERE step_time BETWEEN ? AND ? AND (? IS NULL OR host = ?)
           ORDER BY step_time, time, seq, source LIMIT ?""",
        [start, end, host, host, limit],
    )
    return _rows(events, _firing_points_among(store, [e["event_id"] for e in events]))


def _rows(events: list[dict[str, Any]], fired: dict[str, list[str]]) -> list[TimelineRow]:
    if not events:
        return []
    first = next((e["step_time"] for e in events if e["step_time"] is not None), None)
    offsets, offset = [], 0
    for e in events:  # a row without a time stays where it is, at the offset before it
        if e["step_time"] is not None and first is not None:
            offset = round((e["step_time"] - first).total_seconds() * 1000)
        offsets.append(offset)
    return [
        TimelineRow(
            offset_ms=offsets[i],
            time=e["step_time"],
            source=e["source"],
            kind=e["kind"],
            what=e["operation"] or e["kind"],
            detail=_detail(e),
            target=e["target"],
            target_env=e["target_env"],
            status=e["status"],
            destructive=bool(e["destructive"]),
            event_id=e["event_id"],
            call_key=e["call_key"],
            fired=tuple(fired.get(e["event_id"], ())),
            origin=e.get("origin"),
            decided_by=e.get("decided_by"),
        )
        for i, e in enumerate(events)
    ]


def incident_timeline(store: Store, alert_id: str) -> list[TimelineRow]:
    """Every session of the alert (agent or inferred shell), plus the sessionless rows its
    findings rest on, from the first event any of its findings rests on to the last.

    Empty when no finding rests on an event with a session (the caller then shows the window).
    """
    [head] = store.rows(
        "SELECT sessions, started, ended FROM incidents WHERE incident_id = ?", [alert_id]
    )
    if not head["sessions"]:
        return []
    evidence = [
        r["eid"]
        for r in store.rows(
            """SELECT DISTINCT v.eid FROM alerts a, unnest(a.finding_ids) AS u(fid)
               JOIN findings f ON f.finding_id = u.fid, unnest(f.event_ids) AS v(eid)
               WHERE a.alert_id = ?""",
            [alert_id],
        )
    ]
    events = store.rows(
        """SELECT * FROM event_sessions
           WHERE (list_contains(?::VARCHAR[], session_key)
                  OR (session_key IS NULL AND list_contains(?::VARCHAR[], event_id)))
             AND coalesce(step_time BETWEEN ? AND ?, list_contains(?::VARCHAR[], event_id))
           ORDER BY step_time, time, seq, source""",
        [head["sessions"], evidence, head["started"], head["ended"], evidence],
    )
    return _rows(events, _alert_firing_points(store, alert_id))


def _alert_firing_points(store: Store, alert_id: str) -> dict[str, list[str]]:
    """As `_firing_points`, for the alert's own findings."""
    rows = store.rows(
        """SELECT f.rule_id,
                  coalesce(min_by(e.event_id, e.time) FILTER (WHERE e.destructive),
                           max_by(e.event_id, e.time)) AS at_event
           FROM alerts a, unnest(a.finding_ids) AS x(fid)
           JOIN findings f ON f.finding_id = x.fid, unnest(f.event_ids) AS u(eid)
           JOIN events e ON e.event_id = u.eid
           WHERE a.alert_id = ? GROUP BY f.finding_id, f.rule_id
           ORDER BY f.rule_id, f.finding_id""",
        [alert_id],
    )
    return _marks(rows)


def _firing_points(store: Store, session_id: str) -> dict[str, list[str]]:
    """Each finding is marked at its first destructive event (else its last event)."""
    rows = store.rows(
        """SELECT f.rule_id,
                  coalesce(min_by(e.event_id, e.time) FILTER (WHERE e.destructive),
                           max_by(e.event_id, e.time)) AS at_event
           FROM findings f, unnest(f.event_ids) AS u(eid)
           JOIN events e ON e.event_id = u.eid
           WHERE f.session_id = ? GROUP BY f.finding_id, f.rule_id
           ORDER BY f.rule_id, f.finding_id""",
        [session_id],
    )
    return _marks(rows)


def _firing_points_among(store: Store, event_ids: list[str]) -> dict[str, list[str]]:
    """As `_firing_points`, for the findings resting on any of these events (any session)."""
    if not event_ids:
        return {}
    rows = store.rows(
        """SELECT f.rule_id,
                  coalesce(min_by(e.event_id, e.time) FILTER (WHERE e.destructive),
                           max_by(e.event_id, e.time)) AS at_event
           FROM (SELECT * FROM findings WHERE list_has_any(event_ids, ?::VARCHAR[])) f,
                unnest(f.event_ids) AS u(eid)
           JOIN events e ON e.event_id = u.eid
           GROUP BY f.finding_id, f.rule_id ORDER BY f.rule_id, f.finding_id""",
        [event_ids],
    )
    return _marks(rows)


def _marks(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    marks: dict[str, list[str]] = {}
    for row in rows:
        marks.setdefault(row["at_event"], []).append(row["rule_id"])
    return marks


def _detail(event: dict[str, Any]) -> str:
    if event["kind"] == "process" and event["command"]:
        text = " ".join(event["command"].replace("\\\n", " ").split())
    elif event["kind"] == "file":
        text = ", ".join(event["paths"] or []) or (event["target"] or "")
    elif event["kind"] == "message":
        text = event["text"] or ""
    else:
        text = event["target"] or ""
    return text if len(text) <= 160 else text[:157] + "..."
